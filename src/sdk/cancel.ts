/** Cancellation as plugins and the core see it: one error for a cancelled build, one sleep that ends with it. */

export class CancelledError extends Error {
  constructor(message = 'Build was cancelled.') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** Why `signal` ended a wait: its own timeout says so; anything else is a cancelled build. */
function abortError(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error && r.name === 'TimeoutError' ? r : new CancelledError();
}

/** Waits `ms`, or rejects as soon as `signal` aborts (a CancelledError, or the signal's TimeoutError). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal));
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(abortError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
