import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../../src/core/orchestrator.js';
import type { Artifact } from '../../../src/sdk/artifact.js';
import type { BuilderPlugin, PostProcessorPlugin, ProvisionerPlugin } from '../../../src/sdk/plugin.js';
import { NoneCommunicator } from '../../../src/communicator/none.js';
import { anyConfig, job, ppStep, provisionerStep, testEnv } from '../../helpers/jobs.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function runsDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kiln-runner-test-'));
  dirs.push(d);
  return d;
}

function artifact(id: string, log: string[]): Artifact {
  return { builderId: 'test', id, files: [], description: `artifact ${id}`, state: {}, destroy: async () => void log.push(`destroy ${id}`) };
}

/** A builder that registers cleanups, makes a temp dir, provisions, and returns an artifact. */
function recordingBuilder(log: string[], fail?: string): BuilderPlugin<unknown> {
  return {
    type: 'rec',
    schema: anyConfig,
    async run(ctx) {
      ctx.cleanup.push('first', () => void log.push('cleanup first'));
      const dir = await ctx.tempDir();
      log.push(`tempdir ${existsSync(dir)}`);
      ctx.cleanup.push('second', () => void log.push('cleanup second'));
      await ctx.step('provision', () => ctx.provision(new NoneCommunicator()));
      if (fail) throw new Error(fail);
      return artifact('B', log);
    },
  };
}

function provisioner(log: string[], name: string, behaviour: 'ok' | 'fail' | 'flaky' = 'ok'): ProvisionerPlugin<unknown> {
  let calls = 0;
  return {
    type: name,
    schema: anyConfig,
    async provision() {
      calls++;
      log.push(`provision ${name} #${calls}`);
      if (behaviour === 'fail' || (behaviour === 'flaky' && calls < 3)) throw new Error(`${name} broke`);
    },
  };
}

function pp(log: string[], name: string, keepInput: boolean, fail = false): PostProcessorPlugin<unknown> {
  return {
    type: name,
    schema: anyConfig,
    async process(_ctx, input) {
      log.push(`pp ${name} <- ${input.id}`);
      if (fail) throw new Error(`${name} failed`);
      return { artifact: artifact(`${name}(${input.id})`, log), keepInput };
    },
  };
}

describe('runner', () => {
  it('runs provisioners in order, then cleans up in reverse order, removing temp dirs', async () => {
    const log: string[] = [];
    const { env } = testEnv(runsDir());
    const r = await startRun([job('rec.a', recordingBuilder(log), { provisioners: [provisionerStep(provisioner(log, 'p1')), provisionerStep(provisioner(log, 'p2'))] })], env, 0).done;
    expect(r.exitCode).toBe(0);
    expect(log).toEqual(['tempdir true', 'provision p1 #1', 'provision p2 #1', 'cleanup second', 'cleanup first']);
    expect(env.ledger.openResources()).toEqual([]);
  });

  it('on a provisioner failure runs the error-cleanup-provisioner, then every cleanup, and fails the build', async () => {
    const log: string[] = [];
    const { env, events } = testEnv(runsDir());
    const r = await startRun(
      [job('rec.a', recordingBuilder(log), { provisioners: [provisionerStep(provisioner(log, 'bad', 'fail'))], errorCleanupProvisioner: provisionerStep(provisioner(log, 'ecp')) })],
      env,
      0,
    ).done;
    expect(r.exitCode).toBe(1);
    expect(log).toEqual(['tempdir true', 'provision bad #1', 'provision ecp #1', 'cleanup second', 'cleanup first']);
    const fin = events.find((e) => e.type === 'build.finished');
    expect(fin).toMatchObject({ ok: false, error: 'bad broke' });
  });

  it('-on-error=abort leaves cleanups undone and the resources in the ledger', async () => {
    const log: string[] = [];
    const { env } = testEnv(runsDir(), { onError: 'abort' });
    const r = await startRun([job('rec.a', recordingBuilder(log), { provisioners: [provisionerStep(provisioner(log, 'bad', 'fail'))], errorCleanupProvisioner: provisionerStep(provisioner(log, 'ecp')) })], env, 0).done;
    expect(r.exitCode).toBe(1);
    expect(r.leftResources).toBe(true);
    expect(log).toEqual(['tempdir true', 'provision bad #1']);
    expect(env.ledger.openResources().map((x) => x.kind)).toEqual(['tempdir']);
  });

  it('-on-error=run-cleanup-provisioner runs the error-cleanup-provisioner but no cleanup', async () => {
    const log: string[] = [];
    const { env } = testEnv(runsDir(), { onError: 'run-cleanup-provisioner' });
    await startRun([job('rec.a', recordingBuilder(log), { provisioners: [provisionerStep(provisioner(log, 'bad', 'fail'))], errorCleanupProvisioner: provisionerStep(provisioner(log, 'ecp')) })], env, 0).done;
    expect(log).toEqual(['tempdir true', 'provision bad #1', 'provision ecp #1']);
  });

  for (const where of ['in a step', 'outside any step'] as const) {
    it(`-on-error=run-cleanup-provisioner: a builder failure ${where} after provisioning runs the error-cleanup-provisioner and leaves every other cleanup undone`, async () => {
      const log: string[] = [];
      const failing: BuilderPlugin<unknown> = {
        type: 'rec',
        schema: anyConfig,
        async run(ctx) {
          ctx.cleanup.push('first', () => void log.push('cleanup first'));
          await ctx.tempDir();
          await ctx.step('provision', () => ctx.provision(new NoneCommunicator()));
          if (where === 'in a step') await ctx.step('snapshot', () => Promise.reject(new Error('snapshot broke')));
          throw new Error('snapshot broke');
        },
      };
      const { env, events } = testEnv(runsDir(), { onError: 'run-cleanup-provisioner' });
      const r = await startRun([job('rec.a', failing, { provisioners: [provisionerStep(provisioner(log, 'ok'))], errorCleanupProvisioner: provisionerStep(provisioner(log, 'ecp')) })], env, 0).done;
      expect(r.exitCode).toBe(1);
      expect(r.leftResources).toBe(true);
      expect(log).toEqual(['provision ok #1', 'provision ecp #1']);
      expect(env.ledger.openResources().map((x) => x.kind)).toEqual(['tempdir']);
      const said = events.filter((e) => e.type === 'error').map((e) => (e as { message: string }).message);
      expect(said.join('\n')).toContain('Step failed and -on-error=run-cleanup-provisioner: leaving 2 cleanup action(s) undone.');
    });
  }

  it('a builder failure after provisioning runs the error-cleanup-provisioner before the cleanups of earlier steps', async () => {
    const log: string[] = [];
    const { env } = testEnv(runsDir());
    const r = await startRun([job('rec.a', recordingBuilder(log, 'snapshot broke'), { provisioners: [provisionerStep(provisioner(log, 'ok'))], errorCleanupProvisioner: provisionerStep(provisioner(log, 'ecp')) })], env, 0).done;
    expect(r.outcomes[0]!.error).toBe('snapshot broke');
    expect(log).toEqual(['tempdir true', 'provision ok #1', 'provision ecp #1', 'cleanup second', 'cleanup first']);
  });

  it('the error-cleanup-provisioner runs only when the build failed, and its own failure is told as Packer tells it', async () => {
    const log: string[] = [];
    const { env } = testEnv(runsDir());
    const ok = await startRun([job('rec.a', recordingBuilder(log), { provisioners: [provisionerStep(provisioner(log, 'ok'))], errorCleanupProvisioner: provisionerStep(provisioner(log, 'ecp')) })], env, 0).done;
    expect(ok.exitCode).toBe(0);
    expect(log).not.toContain('provision ecp #1');
    const { env: env2 } = testEnv(runsDir());
    const r = await startRun([job('rec.a', recordingBuilder(log), { provisioners: [provisionerStep(provisioner(log, 'bad', 'fail'))], errorCleanupProvisioner: provisionerStep(provisioner(log, 'ecp', 'fail')) })], env2, 0).done;
    expect(r.outcomes[0]!.error).toBe('Cleanup failed: ecp broke. Original Provisioning error: bad broke');
    expect(env2.ledger.openResources()).toEqual([]);
  });

  it('-on-error does not apply to post-processors: a failed one still lets every cleanup run', async () => {
    for (const onError of ['abort', 'run-cleanup-provisioner'] as const) {
      const log: string[] = [];
      const { env } = testEnv(runsDir(), { onError });
      const r = await startRun([job('rec.a', recordingBuilder(log), { postProcessors: [[ppStep(pp(log, 'broken', false, true))]] })], env, 0).done;
      expect(r.exitCode).toBe(1);
      expect(r.leftResources).toBe(false);
      expect(log).toEqual(['tempdir true', 'pp broken <- B', 'destroy B', 'cleanup second', 'cleanup first']);
      expect(env.ledger.openResources()).toEqual([]);
    }
  });

  it('retries a provisioner max_retries times', async () => {
    const log: string[] = [];
    const { env } = testEnv(runsDir());
    const r = await startRun([job('rec.a', recordingBuilder(log), { provisioners: [provisionerStep(provisioner(log, 'flaky', 'flaky'), { maxRetries: 2 })] })], env, 0).done;
    expect(r.exitCode).toBe(0);
    expect(log.filter((l) => l.startsWith('provision'))).toEqual(['provision flaky #1', 'provision flaky #2', 'provision flaky #3']);
  });

  it('waits longer after each failed attempt, and says so', async () => {
    const log: string[] = [];
    const starts: number[] = [];
    let calls = 0;
    const flaky: ProvisionerPlugin<unknown> = {
      type: 'flaky',
      schema: anyConfig,
      async provision() {
        starts.push(Date.now());
        if (++calls < 4) throw new Error('not yet');
      },
    };
    const { env, events } = testEnv(runsDir(), { retryBackoffMs: 40 });
    const r = await startRun([job('rec.a', recordingBuilder(log), { provisioners: [provisionerStep(flaky, { maxRetries: 3 })] })], env, 0).done;
    expect(r.exitCode).toBe(0);
    const said = events.flatMap((e) => (e.type === 'error' ? [e.message] : []));
    expect(said).toEqual([
      'flaky failed (attempt 1 of 4): not yet. Retrying in 40ms...',
      'flaky failed (attempt 2 of 4): not yet. Retrying in 80ms...',
      'flaky failed (attempt 3 of 4): not yet. Retrying in 160ms...',
    ]);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    [40, 80, 160].forEach((min, i) => expect(gaps[i]).toBeGreaterThanOrEqual(min - 5));
  });

  it('pause_before waits before the provisioner starts, and says how long', async () => {
    const log: string[] = [];
    const at: number[] = [];
    const stamp = (name: string): ProvisionerPlugin<unknown> => ({ type: name, schema: anyConfig, provision: async () => void at.push(Date.now()) });
    const { env, events } = testEnv(runsDir());
    const r = await startRun([job('rec.a', recordingBuilder(log), { provisioners: [provisionerStep(stamp('p1')), provisionerStep(stamp('p2'), { pauseBefore: 300 })] })], env, 0).done;
    expect(r.exitCode).toBe(0);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(295);
    expect(events.some((e) => e.type === 'say' && e.message === 'Pausing 300ms before the next provisioner...')).toBe(true);
  });

  it('a cancel during pause_before ends the wait at once', async () => {
    const log: string[] = [];
    const { env } = testEnv(runsDir());
    const run = startRun([job('rec.a', recordingBuilder(log), { provisioners: [provisionerStep(provisioner(log, 'late'), { pauseBefore: 60_000 })] })], env, 0);
    await new Promise((res) => setTimeout(res, 50));
    const t0 = Date.now();
    run.cancel('SIGINT');
    const r = await run.done;
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(r.exitCode).toBe(130);
    expect(log).not.toContain('provision late #1');
    expect(log).toContain('cleanup first');
  });

  it('ends a provisioner at its timeout', async () => {
    const log: string[] = [];
    const { env } = testEnv(runsDir());
    const slow: ProvisionerPlugin<unknown> = {
      type: 'slow',
      schema: anyConfig,
      provision: (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('stopped')))),
    };
    const r = await startRun([job('rec.a', recordingBuilder(log), { provisioners: [provisionerStep(slow, { timeout: 50 })] })], env, 0).done;
    expect(r.exitCode).toBe(1);
    expect(r.outcomes[0]!.error).toMatch(/timed out after 50ms/);
    expect(log).toContain('cleanup first');
  });

  it('runs post-processor chains as Packer does: each from the builder artifact, destroying what nobody keeps', async () => {
    const log: string[] = [];
    const { env } = testEnv(runsDir());
    const chains = [
      [ppStep(pp(log, 'compress', false)), ppStep(pp(log, 'upload', false))],
      [ppStep(pp(log, 'manifest', true))],
    ];
    const r = await startRun([job('rec.a', recordingBuilder(log), { postProcessors: chains })], env, 0).done;
    expect(r.exitCode).toBe(0);
    expect(log.filter((l) => l.startsWith('pp') || l.startsWith('destroy'))).toEqual([
      'pp compress <- B',
      'pp upload <- compress(B)',
      'destroy compress(B)',
      'pp manifest <- B',
    ]);
    expect(r.outcomes[0]!.artifacts.map((a) => a.id)).toEqual(['B', 'upload(compress(B))', 'manifest(B)']);
  });

  it('destroys the builder artifact when no chain keeps it, and keep_input_artifact overrides', async () => {
    const log: string[] = [];
    const { env } = testEnv(runsDir());
    await startRun([job('rec.a', recordingBuilder(log), { postProcessors: [[ppStep(pp(log, 'compress', false))]] })], env, 0).done;
    expect(log).toContain('destroy B');
    const log2: string[] = [];
    const { env: env2 } = testEnv(runsDir());
    const r = await startRun([job('rec.a', recordingBuilder(log2), { postProcessors: [[ppStep(pp(log2, 'compress', false), { keepInputArtifact: true })]] })], env2, 0).done;
    expect(log2).not.toContain('destroy B');
    expect(r.outcomes[0]!.artifacts.map((a) => a.id)).toEqual(['B', 'compress(B)']);
  });

  it('tells a post-processor when nothing reads its input afterwards (inputDisposable)', async () => {
    const log: string[] = [];
    const seen: string[] = [];
    const probe = (name: string, keepInput: boolean): PostProcessorPlugin<unknown> => ({
      type: name,
      schema: anyConfig,
      async process(ctx, input) {
        seen.push(`${name} <- ${input.id}: ${String(ctx.inputDisposable)}`);
        return { artifact: artifact(`${name}(${input.id})`, log), keepInput };
      },
    });
    const { env } = testEnv(runsDir());
    const chains = [
      [ppStep(probe('first', false)), ppStep(probe('then', false))],
      [ppStep(probe('kept', false), { keepInputArtifact: true })],
      [ppStep(probe('last', false))],
    ];
    await startRun([job('rec.a', recordingBuilder(log), { postProcessors: chains })], env, 0).done;
    expect(seen).toEqual([
      // Later chains still start from B.
      'first <- B: false',
      'then <- first(B): true',
      'kept <- B: false',
      // The last chain would be the only reader, but an earlier chain kept B.
      'last <- B: false',
    ]);
    seen.length = 0;
    const { env: env2 } = testEnv(runsDir());
    await startRun([job('rec.a', recordingBuilder(log), { postProcessors: [[ppStep(probe('a', false))], [ppStep(probe('b', false))]] })], env2, 0).done;
    expect(seen).toEqual(['a <- B: false', 'b <- B: true']);
  });

  it('emits an artifact event for the builder\'s artifact and for each post-processor\'s, in order', async () => {
    const log: string[] = [];
    const { env, events } = testEnv(runsDir());
    const chains = [[ppStep(pp(log, 'x', false)), ppStep(pp(log, 'y', false))], [ppStep(pp(log, 'broken', false, true))]];
    await startRun([job('rec.a', recordingBuilder(log), { postProcessors: chains })], env, 0).done;
    const made = events.flatMap((e) => (e.type === 'artifact' ? [`${e.index} ${e.from}: ${e.artifact.id}`] : []));
    expect(made).toEqual(['0 builder rec: B', '1 post-processor x: x(B)', '2 post-processor y: y(x(B))']);
  });

  it('a failed chain stops only itself; the build is reported failed', async () => {
    const log: string[] = [];
    const { env } = testEnv(runsDir());
    const chains = [[ppStep(pp(log, 'broken', false, true)), ppStep(pp(log, 'never', false))], [ppStep(pp(log, 'manifest', true))]];
    const r = await startRun([job('rec.a', recordingBuilder(log), { postProcessors: chains })], env, 0).done;
    expect(r.exitCode).toBe(1);
    expect(log).toContain('pp manifest <- B');
    expect(log).not.toContain('pp never <- broken(B)');
  });

  it('runs builds in parallel up to -parallel-builds', async () => {
    let running = 0;
    let peak = 0;
    const slow: BuilderPlugin<unknown> = {
      type: 'slow',
      schema: anyConfig,
      async run() {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 30));
        running--;
        return undefined;
      },
    };
    const { env } = testEnv(runsDir());
    await startRun(Array.from({ length: 6 }, (_, i) => job(`slow.b${i}`, slow)), env, 2).done;
    expect(peak).toBe(2);
    const { env: env2 } = testEnv(runsDir());
    peak = 0;
    await startRun(Array.from({ length: 6 }, (_, i) => job(`slow.b${i}`, slow)), env2, 0).done;
    expect(peak).toBe(6);
  });

  it('cancellation aborts running builds, starts no new ones, and still cleans up (exit 130)', async () => {
    const log: string[] = [];
    const waiting: BuilderPlugin<unknown> = {
      type: 'wait',
      schema: anyConfig,
      async run(ctx) {
        ctx.cleanup.push('undo', () => void log.push(`cleanup ${ctx.buildName}`));
        log.push(`start ${ctx.buildName}`);
        await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))));
        return undefined;
      },
    };
    const { env, events } = testEnv(runsDir());
    const run = startRun([job('wait.a', waiting), job('wait.b', waiting)], env, 1);
    await new Promise((r) => setTimeout(r, 20));
    run.cancel('SIGINT');
    const r = await run.done;
    expect(r.exitCode).toBe(130);
    expect(log).toEqual(['start wait.a', 'cleanup wait.a']);
    expect(events.find((e) => e.type === 'build.finished')).toMatchObject({ cancelled: true });
  });

  it('redacts secrets from everything a plugin says', async () => {
    const loud: BuilderPlugin<unknown> = {
      type: 'loud',
      schema: anyConfig,
      async run(ctx) {
        ctx.ui.say('password is s3cr3t-value');
        ctx.ui.output('stdout', 'echo s3cr3t-value');
        return undefined;
      },
    };
    const { env, events } = testEnv(runsDir());
    await startRun([job('loud.a', loud)], env, 0).done;
    const text = JSON.stringify(events);
    expect(text).not.toContain('s3cr3t-value');
    expect(text).toContain('password is <sensitive>');
  });

  it('keeps the data a reaper needs exact in the ledger, and shows the resource redacted', async () => {
    const holder: BuilderPlugin<unknown> = {
      type: 'holder',
      schema: anyConfig,
      async run(ctx) {
        const h = await ctx.resources.record('thing', 'bucket for s3cr3t-value', { region: 'eu' });
        await h.update({ name: 'bucket-s3cr3t-value' });
        return undefined;
      },
    };
    const { env, events } = testEnv(runsDir());
    await startRun([job('holder.a', holder)], env, 0).done;
    expect(events.find((e) => e.type === 'resource.created')).toMatchObject({ description: 'bucket for <sensitive>' });
    expect(JSON.stringify(events)).not.toContain('s3cr3t-value');
    const [left] = env.ledger.openResources();
    expect(left).toMatchObject({ description: 'bucket for <sensitive>', data: { region: 'eu', name: 'bucket-s3cr3t-value' }, sensitive: ['s3cr3t-value'] });
  });
});

describe('-on-error=ask and -debug', () => {
  function prompter(answers: string[], log: string[]) {
    return {
      interactive: true,
      choose: async (q: string) => {
        log.push(`asked: ${q.includes('[r] retry') ? 'c/a/r' : q}`);
        return answers.shift() ?? 'c';
      },
      pause: async (m: string) => void log.push(`pause: ${m.replace(/^==> [^:]+: /, '')}`),
    };
  }

  it('retries the failed provisioner when the user answers r', async () => {
    const log: string[] = [];
    const { env } = testEnv(runsDir(), { onError: 'ask', prompter: prompter(['r', 'r'], log) });
    const r = await startRun([job('rec.a', recordingBuilder(log), { provisioners: [provisionerStep(provisioner(log, 'flaky', 'flaky'))] })], env, 0).done;
    expect(r.exitCode).toBe(0);
    expect(log.filter((l) => l.startsWith('provision') || l.startsWith('asked'))).toEqual([
      'provision flaky #1',
      'asked: c/a/r',
      'provision flaky #2',
      'asked: c/a/r',
      'provision flaky #3',
    ]);
  });

  it('aborts without cleanup when the user answers a, and cleans up on c', async () => {
    const log: string[] = [];
    const { env } = testEnv(runsDir(), { onError: 'ask', prompter: prompter(['a'], log) });
    const r = await startRun([job('rec.a', recordingBuilder(log), { provisioners: [provisionerStep(provisioner(log, 'bad', 'fail'))] })], env, 0).done;
    expect(r.leftResources).toBe(true);
    expect(log).not.toContain('cleanup first');
    const log2: string[] = [];
    const { env: env2 } = testEnv(runsDir(), { onError: 'ask', prompter: prompter(['c'], log2) });
    const r2 = await startRun([job('rec.a', recordingBuilder(log2), { provisioners: [provisionerStep(provisioner(log2, 'bad', 'fail'))] })], env2, 0).done;
    expect(r2.exitCode).toBe(1);
    expect(r2.leftResources).toBe(false);
    expect(log2).toContain('cleanup first');
  });

  it('-debug pauses before every step', async () => {
    const log: string[] = [];
    const { env } = testEnv(runsDir(), { debug: true, prompter: prompter([], log) });
    await startRun([job('rec.a', recordingBuilder(log), { provisioners: [provisionerStep(provisioner(log, 'p1'))] })], env, 0).done;
    expect(log.filter((l) => l.startsWith('pause') || l.startsWith('provision'))).toEqual([
      'pause: Pausing before step "provision". Press enter to continue.',
      'pause: Pausing before step "provisioner p1". Press enter to continue.',
      'provision p1 #1',
    ]);
  });
});
