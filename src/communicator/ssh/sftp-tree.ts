/**
 * Directory trees over SFTP with bounded parallelism on one connection: several SFTP channels
 * (each its own sftp-server on the far side), a few files in flight on each, and for a small
 * file the write, chmod and close sent together so a file costs two round trips, not four.
 * Directory modes are applied last, so a read-only directory can still be filled.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { mkdir as mkdirLocal, chmod as chmodLocal } from 'node:fs/promises';
import { join } from 'node:path';
import type { TreeEntry } from './local-tree.js';
import { CHUNK, chmod, getFile, mkdir, mkdirAll, putStream, readdir, sftpCode, stat, type Sftp } from './sftp.js';

/** Files up to this size are read in one go and sent with one write. */
const SMALL_FILE = 64 * 1024;
/** Files in flight per SFTP channel. */
const FILES_PER_CHANNEL = 16;

export function remoteJoin(root: string, rel: string): string {
  if (rel === '') return root;
  return root.endsWith('/') ? root + rel : `${root}/${rel}`;
}

/** Runs `work` over `items` with `channels.length × perChannel` workers, each bound to one channel. */
async function pool<T>(channels: readonly Sftp[], perChannel: number, items: readonly T[], work: (sftp: Sftp, item: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (sftp: Sftp): Promise<void> => {
    while (!failed && next < items.length) {
      if (signal?.aborted) throw new Error('cancelled');
      const item = items[next++]!;
      try {
        await work(sftp, item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const workers = channels.flatMap((c) => Array.from({ length: perChannel }, () => worker(c)));
  // Wait for every worker, so nothing is still writing when the caller reports the error.
  const results = await Promise.allSettled(workers);
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/** A small file in two round trips: open, then write + chmod + close together. */
async function putSmall(sftp: Sftp, data: Buffer, dst: string, mode: number): Promise<void> {
  const handle = await new Promise<Buffer>((resolve, reject) => sftp.open(dst, 'w', { mode }, (err, h) => (err ? reject(err) : resolve(h))));
  const ops: Promise<void>[] = [];
  if (data.length > 0) ops.push(new Promise((resolve, reject) => sftp.write(handle, data, 0, data.length, 0, (err) => (err ? reject(err) : resolve()))));
  ops.push(new Promise((resolve, reject) => sftp.fchmod(handle, mode, (err) => (err ? reject(err) : resolve()))));
  ops.push(new Promise((resolve, reject) => sftp.close(handle, (err) => (err ? reject(err) : resolve()))));
  await Promise.all(ops);
}

function describe(err: unknown, path: string): Error {
  const e = err as Error;
  const code = sftpCode(err);
  const why = code === 2 ? 'no such file or directory' : code === 3 ? 'permission denied' : e.message;
  return new Error(`${path}: ${why}`);
}

/**
 * Uploads `entries` (from walkLocal) under `dstRoot`, creating it and its parents. The root
 * takes the source directory's mode only when it is the copy of that directory (`applyRootMode`),
 * not when the contents went into an existing destination (Packer's trailing-slash case).
 */
export async function uploadTree(channels: readonly Sftp[], entries: readonly TreeEntry[], dstRoot: string, applyRootMode: boolean, onBytes: (n: number) => void, signal?: AbortSignal): Promise<void> {
  const first = channels[0]!;
  await mkdirAll(first, dstRoot).catch((err: unknown) => {
    throw describe(err, dstRoot);
  });
  const dirs = entries.filter((e) => e.kind === 'dir' && e.rel !== '');
  const byDepth = new Map<number, TreeEntry[]>();
  for (const d of dirs) {
    const depth = d.rel.split('/').length;
    byDepth.set(depth, [...(byDepth.get(depth) ?? []), d]);
  }
  // Parents before children; siblings in parallel.
  for (const level of [...byDepth.keys()].sort((a, b) => a - b)) {
    await pool(channels, FILES_PER_CHANNEL, byDepth.get(level)!, (sftp, d) => mkdir(sftp, remoteJoin(dstRoot, d.rel), 0o700 | d.mode), signal);
  }
  const files = entries.filter((e) => e.kind === 'file');
  await pool(
    channels,
    FILES_PER_CHANNEL,
    files,
    async (sftp, f) => {
      const dst = remoteJoin(dstRoot, f.rel);
      try {
        if (f.size <= SMALL_FILE) {
          // A synchronous read of a few KiB costs microseconds; the promise API's open/stat/read/
          // close round trips through the thread pool cost more than the upload of such a file.
          const data = readFileSync(f.abs);
          await putSmall(sftp, data, dst, f.mode);
          onBytes(data.length);
        } else {
          await putStream(sftp, createReadStream(f.abs, { highWaterMark: CHUNK }), dst, f.mode, onBytes, signal);
        }
      } catch (err) {
        throw describe(err, dst);
      }
    },
    signal,
  );
  // Deepest first, so a directory made read-only does not stop the one above from changing.
  const depth = (rel: string): number => (rel === '' ? 0 : rel.split('/').length);
  const modes = entries.filter((e) => e.kind === 'dir' && (applyRootMode || e.rel !== '')).sort((a, b) => depth(b.rel) - depth(a.rel));
  for (const d of modes) await chmod(first, remoteJoin(dstRoot, d.rel), d.mode);
}

interface RemoteEntry {
  rel: string;
  kind: 'dir' | 'file';
  mode: number;
  size: number;
}

/** The remote tree under `root` (symlinks followed, loops refused), parents before children. */
async function walkRemote(channels: readonly Sftp[], root: string, signal?: AbortSignal): Promise<RemoteEntry[]> {
  const top = await stat(channels[0]!, root);
  if (!top) throw new Error(`${root}: no such file or directory on the remote machine`);
  if (!top.isDirectory) return [{ rel: '', kind: 'file', mode: top.mode, size: top.size }];
  const out: RemoteEntry[] = [{ rel: '', kind: 'dir', mode: top.mode, size: 0 }];
  let level: string[] = [''];
  let depth = 0;
  while (level.length > 0) {
    if (++depth > 64) throw new Error(`${root}: the tree is deeper than 64 levels (a symbolic link loop?)`);
    const nextLevel: string[] = [];
    await pool(
      channels,
      FILES_PER_CHANNEL,
      level,
      async (sftp, rel) => {
        const dir = remoteJoin(root, rel);
        for (const e of (await readdir(sftp, dir)).sort((a, b) => (a.name < b.name ? -1 : 1))) {
          const r = rel === '' ? e.name : `${rel}/${e.name}`;
          const s = e.stat.isSymlink ? await stat(sftp, remoteJoin(root, r)) : e.stat;
          if (!s) throw new Error(`${remoteJoin(root, r)} is a symbolic link to a file that does not exist`);
          if (s.isDirectory) {
            out.push({ rel: r, kind: 'dir', mode: s.mode, size: 0 });
            nextLevel.push(r);
          } else if (s.isFile) out.push({ rel: r, kind: 'file', mode: s.mode, size: s.size });
        }
      },
      signal,
    );
    level = nextLevel;
  }
  return out;
}

/** Downloads the remote tree at `srcRoot` into the local directory `dstRoot`; returns the total size. */
export async function downloadTree(channels: readonly Sftp[], srcRoot: string, dstRoot: string, onTotal: (bytes: number) => void, onBytes: (n: number) => void, signal?: AbortSignal): Promise<void> {
  const entries = await walkRemote(channels, srcRoot, signal);
  onTotal(entries.reduce((n, e) => n + e.size, 0));
  const dirs = entries.filter((e) => e.kind === 'dir');
  for (const d of dirs) await mkdirLocal(join(dstRoot, d.rel), { recursive: true, mode: 0o700 });
  await pool(
    channels,
    FILES_PER_CHANNEL,
    entries.filter((e) => e.kind === 'file'),
    async (sftp, f) => {
      await getFile(sftp, remoteJoin(srcRoot, f.rel), join(dstRoot, f.rel), onBytes, signal).catch((err: unknown) => {
        throw describe(err, remoteJoin(srcRoot, f.rel));
      });
    },
    signal,
  );
  for (const d of dirs.reverse()) await chmodLocal(join(dstRoot, d.rel), d.mode);
}
