/**
 * Packer's start_retry_timeout: an operation that fails to start (the machine is rebooting, the
 * connection dropped) is tried again, with growing pauses, until the time is up.
 */
import { PermanentCommunicatorError, sleep } from '../../src/sdk/index.js';

const FIRST_PAUSE_MS = 1000;
const MAX_PAUSE_MS = 10_000;

export async function retryStart<T>(timeoutMs: number, signal: AbortSignal, onRetry: (err: Error, pauseMs: number) => void, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let pause = FIRST_PAUSE_MS;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (signal.aborted || err instanceof PermanentCommunicatorError || Date.now() + pause > deadline) throw err;
      onRetry(err as Error, pause);
      await sleep(pause, signal);
      pause = Math.min(pause * 2, MAX_PAUSE_MS);
    }
  }
}
