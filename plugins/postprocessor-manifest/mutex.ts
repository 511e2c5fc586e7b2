/**
 * One async mutex per key (a manifest's absolute path) inside this process. Builds of one run
 * share a process, so they queue here instead of spinning on the lock file against each other.
 */

const tails = new Map<string, Promise<void>>();

function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new Error('cancelled');
}

/** Resolves when `p` settles, or rejects when `signal` aborts first. */
function untilAborted(p: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    void p.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

/** Runs `fn` once every earlier holder of `key` is done; a cancelled waiter leaves the queue intact. */
export async function withMutex<T>(key: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  const prev = tails.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  // The next waiter runs after both the previous holder and us, even if we give up waiting.
  const tail = prev.then(() => mine);
  tails.set(key, tail);
  try {
    await untilAborted(prev, signal);
    return await fn();
  } finally {
    release();
    if (tails.get(key) === tail) tails.delete(key);
  }
}
