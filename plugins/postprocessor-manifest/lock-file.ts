/**
 * A lock file shared with other processes (a second kiln, or Packer, which also creates
 * `<manifest>.lock` with O_EXCL). The file names its holder: host, PID and the PID's start time,
 * so a lock left by a process that died is recognised and broken, while a live holder is waited
 * for with backoff. Cancellation (the build's signal) stops the wait.
 */
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { isSameProcessAlive, processStartTime } from '../../src/sdk/index.js';

interface LockOwner {
  host: string;
  pid: number;
  /** Clock ticks since boot (Linux /proc); absent where that is unknown. */
  start?: string;
  /** Unique per acquisition, so release never removes a lock someone else took since. */
  token: string;
  created: string;
}

export interface LockOptions {
  signal?: AbortSignal;
  /** Give up after this long while a live process holds the lock. */
  timeoutMs?: number;
  /**
   * An unreadable lock (empty: Packer's, or one whose writer died between create and write) is
   * considered abandoned once its file is this old.
   */
  unreadableStaleMs?: number;
  /** Told once when the wait becomes noticeable, to say who holds the lock. */
  onWait?: (holder: string) => void;
  /** This acquisition's token, when the caller recorded it (in the ledger) beforehand. */
  token?: string;
}

export class LockTimeoutError extends Error {
  override name = 'LockTimeoutError';
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.token === 'string') return o as LockOwner;
  } catch {
    // Not ours, or half written: the caller goes by the file's age.
  }
  return undefined;
}

function describe(owner: LockOwner | undefined): string {
  return owner ? `process ${owner.pid} on ${owner.host} (since ${owner.created})` : 'an unknown process';
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/** Whether the lock as read (`text`) belongs to nobody alive any more. */
async function isStale(path: string, text: string, unreadableStaleMs: number): Promise<boolean> {
  const owner = parseOwner(text);
  if (!owner) {
    const st = await stat(path).catch(() => undefined);
    return st !== undefined && Date.now() - st.mtimeMs > unreadableStaleMs;
  }
  // A PID means nothing on another host (a shared file system): wait for that one, never break it.
  if (owner.host !== hostname()) return false;
  return !isSameProcessAlive(owner.pid, owner.start);
}

/**
 * Removes a stale lock without removing a fresh one that replaced it in the meantime: move it
 * aside atomically, check it is the one judged stale, and put it back if it is not.
 */
async function breakStale(path: string, seen: string): Promise<void> {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (err) {
    if (errno(err) === 'ENOENT') return; // someone else broke it first
    throw err;
  }
  try {
    const moved = await readFile(aside, 'utf8').catch(() => '');
    if (moved !== seen) await link(aside, path).catch(() => undefined);
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

/** Creates the lock, waiting while a live process holds it; returns the release function. */
export async function acquireLock(path: string, opts: LockOptions = {}): Promise<() => Promise<void>> {
  const { timeoutMs = 120_000, unreadableStaleMs = 10_000 } = opts;
  const owner: LockOwner = {
    host: hostname(),
    pid: process.pid,
    token: opts.token ?? randomBytes(8).toString('hex'),
    created: new Date().toISOString(),
  };
  const start = processStartTime(process.pid);
  if (start !== undefined) owner.start = start;
  // The lock appears with its owner already in it (written beside it, then hard-linked into
  // place, which fails if the lock exists, as O_EXCL does): a process killed at any moment never
  // leaves an empty lock that nobody could tell is its own.
  const fresh = freshLockName(path, owner.token);
  await writeExclusive(fresh, JSON.stringify(owner));
  try {
    return await acquireWith(path, fresh, owner.token, { ...opts, timeoutMs, unreadableStaleMs });
  } finally {
    await unlink(fresh).catch(() => undefined);
  }
}

/** The file a lock's content is written to before it becomes the lock. */
export function freshLockName(path: string, token: string): string {
  return `${path}.${token}.new`;
}

async function writeExclusive(path: string, content: string): Promise<void> {
  const fh = await open(path, 'wx', 0o600);
  try {
    await fh.writeFile(content);
  } finally {
    await fh.close();
  }
}

async function acquireWith(path: string, fresh: string, token: string, opts: LockOptions & { timeoutMs: number; unreadableStaleMs: number }): Promise<() => Promise<void>> {
  const { signal, timeoutMs, unreadableStaleMs, onWait } = opts;
  const began = Date.now();
  let delay = 2;
  let told = false;
  for (;;) {
    signal?.throwIfAborted();
    try {
      await link(fresh, path);
      return () => releaseLock(path, token);
    } catch (err) {
      if (errno(err) !== 'EEXIST') throw err;
    }
    const text = await readFile(path, 'utf8').catch((err: unknown) => (errno(err) === 'ENOENT' ? undefined : ''));
    if (text === undefined) continue; // released just now: try again at once
    if (await isStale(path, text, unreadableStaleMs)) {
      await breakStale(path, text);
      continue;
    }
    const waited = Date.now() - began;
    if (waited > timeoutMs) {
      throw new LockTimeoutError(`${path} has been held by ${describe(parseOwner(text))} for over ${Math.round(timeoutMs / 1000)}s; if no kiln or packer is using it, remove the file`);
    }
    if (!told && waited > 2_000) {
      told = true;
      onWait?.(describe(parseOwner(text)));
    }
    // Jitter keeps several waiting processes from retrying in lockstep.
    await sleep(delay + Math.random() * delay, undefined, { signal }).catch((err: unknown) => {
      signal?.throwIfAborted(); // the build's reason (cancel, timeout), not a bare AbortError
      throw err;
    });
    delay = Math.min(delay * 2, 100);
  }
}

/** Removes the lock if it is still the one the acquisition with `token` created. */
export async function releaseLock(path: string, token: string): Promise<void> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined || parseOwner(text)?.token !== token) return;
  await unlink(path).catch((err: unknown) => {
    if (errno(err) !== 'ENOENT') throw err;
  });
}

/** Runs `fn` holding the lock file; the lock is removed however `fn` ends. */
export async function withLockFile<T>(path: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const release = await acquireLock(path, opts);
  try {
    return await fn();
  } finally {
    await release();
  }
}
