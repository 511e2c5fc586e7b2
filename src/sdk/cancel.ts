/** Cancellation as plugins and the core see it: one error for a cancelled build, one sleep that ends with it. */

export class CancelledError extends Error {
  constructor(message = 'Build was cancelled.') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** Waits `ms`, or rejects with a CancelledError as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new CancelledError());
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new CancelledError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
