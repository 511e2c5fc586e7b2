/** Cancellation helpers: sleeping and waiting that end early when a build is cancelled. */
import { formatDuration } from '../template/duration.js';

// The sleep and the error that plugins use too live in the SDK.
export { CancelledError, sleep } from '../sdk/cancel.js';

/** A signal that aborts when the parent does, or after `ms`, with a TimeoutError reason. */
export function withTimeout(parent: AbortSignal, ms: number | undefined): { signal: AbortSignal; dispose(): void } {
  if (ms === undefined || ms <= 0) return { signal: parent, dispose: () => undefined };
  const c = new AbortController();
  const onAbort = (): void => c.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  const t = setTimeout(() => c.abort(new TimeoutError(ms)), ms);
  return {
    signal: c.signal,
    dispose: () => {
      clearTimeout(t);
      parent.removeEventListener('abort', onAbort);
    },
  };
}

/** Longest wait between two provisioner attempts, however many have failed. */
export const MAX_RETRY_BACKOFF_MS = 120_000;

/**
 * The wait after failed attempt `attempt` (1-based): `firstMs`, doubling with each failure, at
 * most MAX_RETRY_BACKOFF_MS, so a flaky step is retried soon and a broken one is not hammered.
 */
export function retryBackoff(firstMs: number, attempt: number): number {
  return Math.min(firstMs * 2 ** Math.max(0, attempt - 1), MAX_RETRY_BACKOFF_MS);
}

export class TimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`timed out after ${formatDuration(ms)}`);
    this.name = 'TimeoutError';
  }
}
