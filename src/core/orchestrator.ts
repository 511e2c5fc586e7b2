/**
 * Runs a run's jobs in parallel on a queue (`-parallel-builds`, 0 = unlimited). Cancellation:
 * no new build starts, running builds see their AbortSignal fire, every cleanup still runs.
 * The summary at the end lists the artifacts of successful builds, as Packer does.
 */
import { setMaxListeners } from 'node:events';
import PQueue from 'p-queue';
import { BuildRun, artifactInfo, type BuildOutcome, type Job, type RunEnv } from './runner.js';

export interface RunResult {
  outcomes: BuildOutcome[];
  /** 0 all good, 1 a build failed, 130/143 interrupted by SIGINT/SIGTERM. */
  exitCode: number;
  leftResources: boolean;
}

export interface Orchestrator {
  /** Stops new builds and cancels running ones; `why` picks the exit code. */
  cancel(why: 'SIGINT' | 'SIGTERM'): void;
  /** Cleanup actions still to run or running, per build (for the second Ctrl-C). */
  pendingCleanups(): Array<{ build: string; steps: string[] }>;
  done: Promise<RunResult>;
}

export function startRun(jobs: readonly Job[], env: RunEnv, parallelBuilds: number): Orchestrator {
  const controller = new AbortController();
  // Every running build listens on this one signal; hundreds of them are expected, not a leak.
  setMaxListeners(0, controller.signal);
  let interrupted: 'SIGINT' | 'SIGTERM' | undefined;
  const started = Date.now();
  const running = new Set<BuildRun>();
  const queue = new PQueue({ concurrency: parallelBuilds > 0 ? parallelBuilds : Infinity });
  env.bus.emit({ type: 'run.started', runId: env.runId, builds: jobs.map((j) => j.build.name) });

  const outcomes: Array<BuildOutcome | undefined> = jobs.map(() => undefined);
  jobs.forEach((job, i) => {
    void queue.add(async () => {
      if (controller.signal.aborted) return;
      const br = new BuildRun(job, env, controller.signal);
      running.add(br);
      try {
        outcomes[i] = await br.run();
      } finally {
        running.delete(br);
      }
    });
  });

  const done = queue.onIdle().then((): RunResult => {
    const finished = outcomes.filter((o): o is BuildOutcome => o !== undefined);
    const failed = finished.some((o) => !o.ok) || finished.length < jobs.length;
    const exitCode = interrupted === 'SIGINT' ? 130 : interrupted === 'SIGTERM' ? 143 : failed ? 1 : 0;
    env.bus.emit({
      type: 'run.finished',
      runId: env.runId,
      exitCode,
      durationMs: Date.now() - started,
      artifacts: finished.filter((o) => o.ok && o.artifacts.length > 0).map((o) => ({ build: o.name, artifacts: o.artifacts.map(artifactInfo) })),
      ...(interrupted && { interrupted }),
    });
    return { outcomes: finished, exitCode, leftResources: finished.some((o) => o.leftResources) };
  });

  return {
    cancel(why) {
      if (interrupted) return;
      interrupted = why;
      queue.clear();
      controller.abort(new Error(why));
    },
    pendingCleanups() {
      return [...running].map((r) => ({ build: r.name, steps: r.cleanups.pending() })).filter((p) => p.steps.length > 0);
    },
    done,
  };
}
