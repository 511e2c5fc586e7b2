/**
 * Adding one build to a manifest file: read, append, write back, under an in-process mutex and
 * a cross-process lock file, with an atomic replace. Many builds (of one run, or of several
 * kiln processes) finishing at once therefore never tear the file or lose an entry.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { ResourceTracker } from '../../src/sdk/index.js';
import { tempNameFor, writeFileAtomic } from './atomic-write.js';
import { formatManifest, ManifestParseError, parseManifest, type ManifestBuild } from './format.js';
import { withLockFile, type LockOptions } from './lock-file.js';
import { withMutex } from './mutex.js';

export interface AppendOptions extends Pick<LockOptions, 'timeoutMs' | 'onWait'> {
  signal?: AbortSignal;
  /** `-force`: entries of earlier runs are dropped (those of this run are kept), as Packer does. */
  force?: boolean;
  /** Where the lock and temp file of a write are recorded, so `kiln cleanup` can remove them. */
  resources?: ResourceTracker;
}

/** The ledger record of one write: what a run killed mid-write leaves beside the manifest. */
export const WRITE_RESOURCE = 'manifest-write';
export interface WriteRecord {
  manifest: string;
  lock: string;
  token: string;
  temp: string;
}

async function readExisting(path: string, shown: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new Error(`Unable to open ${shown} for reading: ${(err as Error).message}`);
  }
}

interface Pending {
  build: ManifestBuild;
  runId: string;
  opts: AppendOptions;
  resolve: () => void;
  reject: (e: Error) => void;
  /** Its build was cancelled before the entry was written: it is left out. */
  cancelled: boolean;
  /** Being written, or written: a cancellation now comes too late to leave it out. */
  committed: boolean;
  settled: boolean;
}

/** Builds waiting to be written, per manifest path. */
const queues = new Map<string, Pending[]>();

/**
 * Appends `build` to the manifest at `output` and records `runId` as the last run. Entries of
 * this run and of older runs are kept, as Packer keeps them (older runs' are dropped under
 * -force). Builds that finish while a write is under way are written together by the next one
 * (group commit): a hundred parallel builds cost a few rewrites of the file, not a hundred.
 * A file that is not a manifest is left untouched and reported.
 */
export function appendBuild(output: string, build: ManifestBuild, runId: string, opts: AppendOptions = {}): Promise<void> {
  const path = resolve(output);
  return new Promise<void>((resolvePromise, reject) => {
    const entry: Pending = { build, runId, opts, resolve: resolvePromise, reject, cancelled: false, committed: false, settled: false };
    const { signal } = opts;
    if (signal?.aborted) return reject(signalReason(signal));
    signal?.addEventListener(
      'abort',
      () => {
        if (entry.committed || entry.settled) return;
        entry.cancelled = true;
        entry.settled = true;
        reject(signalReason(signal));
      },
      { once: true },
    );
    const queue = queues.get(path);
    if (queue) {
      queue.push(entry);
      return;
    }
    queues.set(path, [entry]);
    void flush(path, output);
  });
}

async function flush(path: string, output: string): Promise<void> {
  for (;;) {
    const batch = (queues.get(path) ?? []).filter((e) => !e.cancelled);
    if (batch.length === 0) {
      queues.delete(path);
      return;
    }
    // Entries arriving from here on wait for the next round.
    queues.set(path, []);
    // Waiting for another process's lock stops once every build in the batch is cancelled.
    const signals = batch.map((e) => e.opts.signal);
    const signal = signals.every((x): x is AbortSignal => x !== undefined) ? allAborted(signals) : undefined;
    try {
      await writeBatch(path, output, batch, { ...batch[0]!.opts, signal });
      for (const e of batch) settle(e, undefined);
    } catch (err) {
      for (const e of batch) settle(e, err as Error);
    }
  }
}

function settle(e: Pending, err: Error | undefined): void {
  if (e.settled) return;
  e.settled = true;
  if (err) e.reject(err);
  else e.resolve();
}

/** A signal that aborts once all of `signals` have. */
function allAborted(signals: readonly AbortSignal[]): AbortSignal {
  const c = new AbortController();
  const check = (): void => {
    if (signals.every((s) => s.aborted)) c.abort(signals[0]!.reason);
  };
  for (const s of signals) s.addEventListener('abort', check, { once: true });
  check();
  return c.signal;
}

function signalReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new Error('cancelled');
}

async function writeBatch(path: string, output: string, batch: readonly Pending[], opts: AppendOptions): Promise<void> {
  const { resources, ...lockOpts } = opts;
  await withMutex(path, undefined, async () => {
    await mkdir(dirname(path), { recursive: true });
    const rec: WriteRecord = { manifest: path, lock: `${path}.lock`, token: randomBytes(8).toString('hex'), temp: tempNameFor(path) };
    // Recorded before the lock exists and released after it is gone: a SIGKILL in between
    // leaves the ledger naming both files (one group-committed record per batch, not per build).
    const handle = await resources?.record(WRITE_RESOURCE, `lock and temporary file of ${output}`, { ...rec });
    try {
      await writeLocked(path, output, batch, { ...lockOpts, token: rec.token }, rec.temp);
    } finally {
      await handle?.release();
    }
  });
}

async function writeLocked(path: string, output: string, batch: readonly Pending[], lockOpts: LockOptions, temp: string): Promise<void> {
  await withLockFile(`${path}.lock`, lockOpts, async () => {
    const text = await readExisting(path, output);
    let manifest;
    try {
      manifest = parseManifest(text);
    } catch (err) {
      if (err instanceof ManifestParseError) {
        throw new Error(`Unable to parse manifest ${output}: ${err.message}. It was left as it is: fix or remove it, or set "output" to another file.`);
      }
      throw err;
    }
    const live = batch.filter((e) => !e.cancelled);
    if (live.length === 0) return;
    for (const e of live) e.committed = true;
    let builds = manifest.builds ?? [];
    for (const e of live) {
      if (e.opts.force) builds = builds.filter((b) => b.packer_run_uuid === e.runId);
      builds = [...builds, e.build];
      manifest.last_run_uuid = e.runId;
    }
    manifest.builds = builds;
    await writeFileAtomic(path, formatManifest(manifest), undefined, temp);
  });
}
