/**
 * Runs one build job: the builder (whose steps call back into provisioning), then the
 * post-processor chains, then every cleanup in reverse order — on success, failure and
 * cancellation alike, unless `-on-error=abort` asked to leave things for inspection.
 */
import { mkdir, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Artifact } from '../sdk/artifact.js';
import type { Communicator } from '../sdk/communicator.js';
import type {
  BuildContext,
  BuilderPlugin,
  ComponentContext,
  PostProcessorPlugin,
  ProvisionerPlugin,
  ResourceTracker,
} from '../sdk/plugin.js';
import type { PlannedBuild, PlannedStep } from '../template/plan.js';
import { CancelledError, TimeoutError, retryBackoff, sleep, withTimeout } from './abort.js';
import { formatDuration } from '../template/duration.js';
import { Cleanups } from './cleanup-stack.js';
import { checkConfig } from './config.js';
import type { ArtifactInfo, EventBus } from './events.js';
import type { Ledger } from '../state/ledger.js';
import type { Prompter } from './prompt.js';
import type { Redactor } from './redact.js';
import { buildUi } from './ui.js';
import type { ComponentKind } from './registry.js';

export type OnError = 'cleanup' | 'abort' | 'ask' | 'run-cleanup-provisioner';

/** The cleanup action that runs the error-cleanup-provisioner (a second Ctrl-C lists it so). */
const ERROR_CLEANUP = 'error-cleanup-provisioner, if the build failed';

export interface Resolved<P> {
  planned: PlannedStep;
  plugin: P;
}

export interface Job {
  build: PlannedBuild;
  builder: BuilderPlugin<unknown>;
  builderConfig: unknown;
  provisioners: Resolved<ProvisionerPlugin<unknown>>[];
  errorCleanupProvisioner?: Resolved<ProvisionerPlugin<unknown>>;
  postProcessors: Resolved<PostProcessorPlugin<unknown>>[][];
}

export interface RunEnv {
  runId: string;
  bus: EventBus;
  ledger: Ledger;
  redactor: Redactor;
  onError: OnError;
  debug: boolean;
  force: boolean;
  prompter: Prompter;
  /** First wait between provisioner retries; doubles each time up to a limit (Packer: 2s). */
  retryBackoffMs: number;
  /** The module a third-party component was loaded from, so `kiln cleanup` can find its reapers. */
  pluginModule?: (kind: ComponentKind, type: string) => string | undefined;
}

export interface BuildOutcome {
  name: string;
  ok: boolean;
  cancelled: boolean;
  error?: string;
  artifacts: Artifact[];
  /** Resources deliberately left behind (-on-error=abort): `kiln cleanup` removes them. */
  leftResources: boolean;
  durationMs: number;
}

/** Ends the build without cleanup, as -on-error=abort asks. */
class AbortBuild extends Error {
  constructor(readonly failure: Error) {
    super(failure.message);
    this.name = 'AbortBuild';
  }
}

export function artifactInfo(a: Artifact): ArtifactInfo {
  return { builderId: a.builderId, id: a.id, files: [...a.files], description: a.description };
}

export class BuildRun {
  readonly cleanups = new Cleanups();
  private readonly ui;
  private readonly generatedData = new Map<string, string>();
  private failureHandled = false;
  /** The builder's failure once it is known: the error-cleanup-provisioner runs only then. */
  private builderFailure: Error | undefined;
  private errorCleanupFailure: Error | undefined;
  private provisioningStarted = false;
  private artifactsMade = 0;

  constructor(
    private readonly job: Job,
    private readonly env: RunEnv,
    private readonly signal: AbortSignal,
  ) {
    this.ui = buildUi(env.bus, job.build.name);
  }

  get name(): string {
    return this.job.build.name;
  }

  async run(): Promise<BuildOutcome> {
    const started = Date.now();
    const { bus } = this.env;
    const name = this.name;
    bus.emit({ type: 'build.started', build: name });
    let artifacts: Artifact[] = [];
    let error: Error | undefined;
    let abort = false;
    // -on-error governs the builder's steps only: Packer runs post-processors once the builder
    // is done, so a failed post-processor never leaves the build's resources in place.
    let postProcessorFailed = false;
    try {
      const builderArtifact = await this.job.builder.run(this.buildContext());
      if (this.signal.aborted) throw new CancelledError();
      if (builderArtifact) this.announce(builderArtifact, `builder ${this.job.build.type}`);
      const pp = await this.postProcess(builderArtifact);
      artifacts = pp.artifacts;
      if (pp.errors.length > 0) {
        error = new Error(pp.errors.join('; '));
        postProcessorFailed = true;
      }
    } catch (err) {
      if (err instanceof AbortBuild) {
        abort = true;
        error = err.failure;
      } else error = err as Error;
    }
    // Once the run is cancelled, whatever error a plugin reports is the cancellation's echo.
    const cancelled = this.signal.aborted && error !== undefined;
    if (error && !cancelled && !this.failureHandled && !postProcessorFailed) {
      // A builder failure outside its named steps: decide as -on-error says.
      abort = (await this.decide(error, 'build')) === 'abort';
    }
    const onCleanupError = (what: string, err: Error): void => this.ui.error(`Error cleaning up (${what}): ${err.message}`);
    if (error && !cancelled && !postProcessorFailed) this.builderFailure = error;
    if (abort) {
      if (this.env.onError === 'run-cleanup-provisioner') await this.cleanups.runOnly(ERROR_CLEANUP, onCleanupError);
      this.ui.error(`Step failed and -on-error=${this.env.onError}: leaving ${this.cleanups.size} cleanup action(s) undone. Run "kiln cleanup --run ${this.env.runId}" to remove what was left.`);
    } else {
      await this.cleanups.unwind(onCleanupError);
    }
    // Packer's words when the error-cleanup-provisioner fails too.
    if (error && this.errorCleanupFailure) error = new Error(`Cleanup failed: ${this.errorCleanupFailure.message}. Original Provisioning error: ${error.message}`);
    const durationMs = Date.now() - started;
    const outcome: BuildOutcome = {
      name,
      ok: error === undefined,
      cancelled,
      artifacts,
      leftResources: abort,
      durationMs,
      ...(error && { error: cancelled ? 'Build was cancelled.' : error.message }),
    };
    bus.emit({
      type: 'build.finished',
      build: name,
      ok: outcome.ok,
      durationMs,
      artifacts: artifacts.map(artifactInfo),
      ...(outcome.error !== undefined && { error: outcome.error }),
      ...(cancelled && { cancelled: true }),
    });
    return outcome;
  }

  private tracker(kind: ComponentKind, type: string): ResourceTracker {
    const { ledger, bus, redactor } = this.env;
    const build = this.name;
    const module = this.env.pluginModule?.(kind, type);
    const owner = { kind, type, ...(module !== undefined && { module }) };
    return {
      record: async (resourceKind, rawDescription, rawData) => {
        // The description is what people see (events, logs, `kiln cleanup`), so it is redacted.
        // The data is what the reaper needs to find the resource: redacting a secret that happens
        // to be part of a path or a name there would leave the resource unreapable, so it is kept
        // exact, in a ledger only the user can read, with the secrets it holds listed for
        // `kiln cleanup` to hide in what it prints.
        const description = redactor.text(rawDescription);
        const data = { ...rawData, owner };
        const h = await ledger.record(resourceKind, description, data, build, redactor.secretsIn(data));
        bus.emit({ type: 'resource.created', build, id: h.id, kind: resourceKind, description });
        return {
          id: h.id,
          update: (more) => h.update(more, redactor.secretsIn(more)),
          release: async () => {
            await h.release();
            bus.emit({ type: 'resource.deleted', build, id: h.id, kind: resourceKind, description });
          },
        };
      },
    };
  }

  private componentContext<C>(config: C, kind: ComponentKind, type: string, signal: AbortSignal = this.signal): ComponentContext<C> {
    const resources = this.tracker(kind, type);
    return {
      config,
      buildName: this.name,
      builderType: this.job.build.type,
      sourceName: this.job.build.sourceRef.slice(this.job.build.type.length + 1),
      runId: this.env.runId,
      signal,
      ui: this.ui,
      cleanup: this.cleanups,
      resources,
      generatedData: this.generatedData,
      redact: (t) => this.env.redactor.text(t),
      force: this.env.force,
      pause: async (message) => {
        if (!this.env.prompter.interactive) throw new Error(`${message}: waiting for Enter needs a terminal, and standard input is not one`);
        await this.env.prompter.pause(`==> ${this.name}: ${message} Press enter to continue.`);
      },
      tempDir: (prefix = 'kiln-') => this.tempDir(prefix, resources),
    };
  }

  /** A 0700 directory recorded in the ledger before it exists, removed at cleanup. */
  private async tempDir(prefix: string, resources: ResourceTracker): Promise<string> {
    const path = join(tmpdir(), `${prefix}${this.env.runId.slice(0, 8)}-${randomBytes(6).toString('hex')}`);
    const h = await resources.record('tempdir', `temporary directory ${path}`, { path });
    await mkdir(path, { mode: 0o700 });
    this.cleanups.push(`remove ${path}`, async () => {
      await rm(path, { recursive: true, force: true });
      await h.release();
    });
    return path;
  }

  private buildContext(): BuildContext<unknown> {
    const base = this.componentContext(this.job.builderConfig, 'builder', this.job.build.type);
    return {
      ...base,
      generatedData: this.generatedData,
      provision: (comm) => this.provision(comm),
      step: (name, fn) => this.step(name, fn),
    };
  }

  /** A builder step: on failure, -on-error decides (and `ask` may retry it). */
  private async step<T>(stepName: string, fn: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await this.timedStep(stepName, fn);
      } catch (err) {
        if (err instanceof AbortBuild || this.signal.aborted || this.failureHandled) throw err;
        const choice = await this.decide(err as Error, stepName);
        if (choice === 'retry') continue;
        this.failureHandled = true;
        throw choice === 'abort' ? new AbortBuild(err as Error) : err;
      }
    }
  }

  /** Emits step events around `fn`, pausing first under -debug. */
  private async timedStep<T>(stepName: string, fn: () => Promise<T>): Promise<T> {
    const { bus } = this.env;
    if (this.signal.aborted) throw new CancelledError();
    if (this.env.debug) await this.env.prompter.pause(`==> ${this.name}: Pausing before step "${stepName}". Press enter to continue.`);
    const t0 = Date.now();
    bus.emit({ type: 'step.started', build: this.name, step: stepName });
    let ok = false;
    try {
      const r = await fn();
      ok = true;
      return r;
    } finally {
      bus.emit({ type: 'step.finished', build: this.name, step: stepName, ok, durationMs: Date.now() - t0 });
    }
  }

  /**
   * What to do after a builder step failed, per -on-error: clean up (default), abort (leave
   * everything), or ask the person at the terminal (who may also retry the failed step).
   * run-cleanup-provisioner is abort as Packer means it: every step's cleanup is skipped but the
   * provisioning step's, which runs the error-cleanup-provisioner.
   */
  private async decide(err: Error, where: string): Promise<'cleanup' | 'abort' | 'retry'> {
    const mode = this.env.onError;
    if (mode === 'abort' || mode === 'run-cleanup-provisioner') return 'abort';
    if (mode !== 'ask') return 'cleanup';
    this.ui.error(`Step "${where}" failed: ${err.message}`);
    const a = await this.env.prompter.choose(`==> ${this.name}: [c] Clean up and exit, [a] abort without cleanup, or [r] retry step (build may fail even if retry succeeds)?`, ['c', 'a', 'r']);
    return a === 'a' ? 'abort' : a === 'r' ? 'retry' : 'cleanup';
  }

  private async provision(comm: Communicator): Promise<void> {
    if (!this.provisioningStarted) {
      this.provisioningStarted = true;
      // Packer's provisioning step has this as its cleanup: it runs after the cleanups of
      // every later step and before the earlier ones (so the communicator is still open), and
      // only when the build failed, in provisioning or in any step after it.
      this.cleanups.push(ERROR_CLEANUP, () => this.runErrorCleanupProvisioner(comm));
    }
    for (let i = 0; i < this.job.provisioners.length; i++) {
      const p = this.job.provisioners[i]!;
      for (;;) {
        try {
          await this.runProvisioner(p, comm);
          break;
        } catch (err) {
          if (this.signal.aborted) throw new CancelledError();
          const e = err as Error;
          const choice = await this.decide(e, `provisioner ${p.planned.type}`);
          if (choice === 'retry') continue;
          this.failureHandled = true;
          throw choice === 'abort' ? new AbortBuild(e) : e;
        }
      }
    }
  }

  private async runErrorCleanupProvisioner(comm: Communicator): Promise<void> {
    if (!this.builderFailure) return;
    // Packer says this whether or not there is one.
    this.ui.say('Provisioning step had errors: Running the cleanup provisioner, if present...');
    const p = this.job.errorCleanupProvisioner;
    if (!p) return;
    try {
      await this.runProvisioner(p, comm);
    } catch (err) {
      this.errorCleanupFailure = err as Error;
    }
  }

  private async runProvisioner(p: Resolved<ProvisionerPlugin<unknown>>, comm: Communicator): Promise<void> {
    const { planned, plugin } = p;
    if (planned.pauseBefore) {
      this.ui.say(`Pausing ${formatDuration(planned.pauseBefore)} before the next provisioner...`);
      await sleep(planned.pauseBefore, this.signal);
    }
    const config = this.runtimeConfig(planned, plugin.schema, 'provisioner');
    const attempts = (planned.maxRetries ?? 0) + 1;
    for (let attempt = 1; ; attempt++) {
      const t = withTimeout(this.signal, planned.timeout);
      try {
        const label = `provisioner ${planned.type}${planned.name ? ` (${planned.name})` : ''}`;
        await this.timedStep(label, async () => {
          try {
            await plugin.provision(this.componentContext(config, 'provisioner', planned.type, t.signal), comm);
          } catch (err) {
            if (t.signal.reason instanceof TimeoutError) throw new Error(`${label} ${t.signal.reason.message} (timeout = "${formatDuration(planned.timeout ?? 0)}")`);
            throw err;
          }
          if (t.signal.reason instanceof TimeoutError) throw new Error(`${label} ${t.signal.reason.message}`);
        });
        return;
      } catch (err) {
        if (this.signal.aborted || attempt >= attempts || err instanceof AbortBuild) throw err;
        const backoff = retryBackoff(this.env.retryBackoffMs, attempt);
        this.ui.error(`${planned.type} failed (attempt ${attempt} of ${attempts}): ${(err as Error).message}. Retrying in ${formatDuration(backoff)}...`);
        await sleep(backoff, this.signal);
      } finally {
        t.dispose();
      }
    }
  }

  /** The step's config evaluated again with the builder's `build.*` values, and checked. */
  private runtimeConfig(planned: PlannedStep, schema: ProvisionerPlugin<unknown>['schema'], what: string): unknown {
    const r = planned.evaluateWith(this.generatedData);
    const errors = r.diags.filter((d) => d.severity === 'error');
    if (errors.length === 0) {
      const c = checkConfig(schema, r.value, r.origins, `${what} "${planned.type}"`, planned.defRange);
      if (c.config !== undefined || c.diags.length === 0) return c.config;
      errors.push(...c.diags);
    }
    const d = errors[0]!;
    throw new Error(`${what} "${planned.type}": ${d.summary}${d.detail ? `: ${d.detail}` : ''}${d.subject ? ` (${d.subject.filename}:${d.subject.start.line}:${d.subject.start.column})` : ''}`);
  }

  /**
   * Post-processor chains as Packer runs them: each chain starts from the builder's artifact;
   * a step's result feeds the next; an intermediate artifact is destroyed unless kept; the
   * builder's artifact is kept if any chain's first step keeps it (or there are no chains).
   * A failed chain stops only itself; after a cancel no chain runs.
   */
  private async postProcess(builderArtifact: Artifact | undefined): Promise<{ artifacts: Artifact[]; errors: string[] }> {
    if (!builderArtifact) return { artifacts: [], errors: [] };
    const chains = this.job.postProcessors;
    const results: Artifact[] = [];
    const errors: string[] = [];
    let keepBuilderArtifact = chains.length === 0;
    chains: for (const [c, chain] of chains.entries()) {
      let prior = builderArtifact;
      for (let i = 0; i < chain.length; i++) {
        if (this.signal.aborted) throw new CancelledError();
        const { planned, plugin } = chain[i]!;
        this.ui.say(`Running post-processor: ${planned.name ?? ''} (type ${planned.type})`);
        let out;
        try {
          const config = this.runtimeConfig(planned, plugin.schema, 'post-processor');
          // The builder's artifact is still needed by later chains, or kept by an earlier one.
          const sharedLater = i === 0 && (c < chains.length - 1 || keepBuilderArtifact);
          const inputDisposable = planned.keepInputArtifact !== true && !sharedLater;
          const ctx = { ...this.componentContext(config, 'post-processor', planned.type), inputDisposable };
          out = await this.timedStep(`post-processor ${planned.type}`, () => plugin.process(ctx, prior));
          this.announce(out.artifact, `post-processor ${planned.type}`);
        } catch (err) {
          if (this.signal.aborted || err instanceof AbortBuild) throw err;
          errors.push(`Post-processor failed: ${(err as Error).message}`);
          this.ui.error(`Post-processor ${planned.type} failed: ${(err as Error).message}`);
          continue chains;
        }
        let keep = out.keepInput;
        if (planned.keepInputArtifact !== undefined && !(out.keepInput && out.forceOverride && !planned.keepInputArtifact)) keep = planned.keepInputArtifact;
        if (i === 0) keepBuilderArtifact ||= keep;
        else if (keep) results.push(prior);
        else await this.destroy(prior, errors);
        prior = out.artifact;
      }
      results.push(prior);
    }
    if (keepBuilderArtifact) results.unshift(builderArtifact);
    else await this.destroy(builderArtifact, errors);
    return { artifacts: results, errors };
  }

  /** Every artifact reaches the event stream as it is made (log files, --json), kept or not. */
  private announce(a: Artifact, from: string): void {
    this.env.bus.emit({ type: 'artifact', build: this.name, index: this.artifactsMade++, from, artifact: artifactInfo(a) });
  }

  private async destroy(a: Artifact, errors: string[]): Promise<void> {
    try {
      await a.destroy?.();
    } catch (err) {
      errors.push(`Failed to remove artifact ${a.id}: ${(err as Error).message}`);
    }
  }
}
