/**
 * Replaces a file so that readers see the old content or the new, never a mix, and a crash
 * leaves one of the two on disk: write a temp file in the same directory, fsync it, rename it
 * over the target, fsync the directory.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A temp file name beside `path` (`.<name>.<pid>.<hex>.tmp`), new each call. */
export function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Whether `candidate` is a name tempNameFor(path) makes: the reaper removes nothing else. */
export function isTempNameFor(path: string, candidate: string): boolean {
  const prefix = `.${basename(path)}.`;
  const name = basename(candidate);
  return dirname(candidate) === dirname(path) && name.startsWith(prefix) && /^\d+\.[0-9a-f]{8}\.tmp$/.test(name.slice(prefix.length));
}

async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some platforms and file systems cannot fsync a directory; the rename is still atomic.
  }
}

/**
 * Writes `data` to `path` atomically. A new file gets `mode` (less the umask, as Packer's
 * 0664); an existing one keeps its mode, as it would if it were rewritten in place.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o664, tmp = tempNameFor(path)): Promise<void> {
  const existing = await stat(path).catch(() => undefined);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      if (existing) await fh.chmod(existing.mode & 0o7777);
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dirname(path));
}
