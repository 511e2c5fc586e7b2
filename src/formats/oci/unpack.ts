/**
 * Applying layers to a root filesystem, as runtimes do: entries in order, whiteouts delete what
 * lower layers had, an opaque marker empties a directory of lower-layer content, parents are
 * resolved inside the root (never through a symlink out of it), directory times are set last.
 * Without root, ownership is left to the calling user and device nodes are skipped (counted in
 * the result), as rootless unpackers do.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { readTar } from '../tar/reader.js';
import { decompress, type Compression } from './compression.js';
import { cleanEntryName, resolveParentInRoot } from './root-path.js';

export interface UnpackResult {
  entries: number;
  /** Device nodes not created because this process is not root. */
  skippedDevices: number;
}

const privileged = process.getuid?.() === 0;

function removeExisting(path: string, keepDir: boolean): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (st.isDirectory() && keepDir) return;
  rmSync(path, { recursive: true, force: true });
}

function own(path: string, uid: number, gid: number, link = false): void {
  if (!privileged) return;
  if (link) lchownSync(path, uid, gid);
  else chownSync(path, uid, gid);
}

/** Applies one (compressed) layer stream to `root`. */
export async function applyLayer(root: string, blob: AsyncIterable<Buffer>, compression: Compression, signal?: AbortSignal): Promise<UnpackResult> {
  const created = new Set<string>();
  const dirTimes: Array<[string, number]> = [];
  const result: UnpackResult = { entries: 0, skippedDevices: 0 };
  for await (const e of readTar(decompress(blob, compression))) {
    signal?.throwIfAborted();
    const rel = cleanEntryName(e.name);
    if (rel === '') continue;
    result.entries++;
    const { dir, name, path } = resolveParentInRoot(root, rel);
    mkdirSync(dir, { recursive: true });
    if (name === '.wh..wh..opq') {
      const parentRel = rel.slice(0, rel.lastIndexOf('/') + 1);
      for (const child of readdirSync(dir)) if (!created.has(`${parentRel}${child}`)) rmSync(join(dir, child), { recursive: true, force: true });
      continue;
    }
    if (name.startsWith('.wh.')) {
      rmSync(join(dir, name.slice(4)), { recursive: true, force: true });
      continue;
    }
    created.add(rel);
    const mode = e.mode & 0o7777;
    switch (e.type) {
      case 'dir':
        removeExisting(path, true);
        mkdirSync(path, { recursive: true });
        own(path, e.uid, e.gid);
        chmodSync(path, mode);
        dirTimes.push([path, e.mtime]);
        break;
      case 'file': {
        removeExisting(path, false);
        if (e.size <= 1 << 20) {
          const parts: Buffer[] = [];
          for await (const c of e.body()) parts.push(c);
          writeFileSync(path, Buffer.concat(parts), { flag: 'wx', mode: 0o600 });
        } else {
          const fh = await open(path, 'wx', 0o600);
          try {
            for await (const c of e.body()) {
              let off = 0;
              while (off < c.length) off += (await fh.write(c, off, c.length - off)).bytesWritten;
            }
          } finally {
            await fh.close();
          }
        }
        own(path, e.uid, e.gid);
        // After chown, which clears set-id bits.
        chmodSync(path, mode);
        utimesSync(path, e.mtime, e.mtime);
        break;
      }
      case 'symlink':
        removeExisting(path, false);
        symlinkSync(e.linkname, path);
        own(path, e.uid, e.gid, true);
        lutimesSync(path, e.mtime, e.mtime);
        break;
      case 'hardlink': {
        removeExisting(path, false);
        // The link names the entry itself: a hard link to a symlink is a link to the symlink
        // (link(2) does not follow it), so only the parent directories are resolved.
        linkSync(resolveParentInRoot(root, cleanEntryName(e.linkname)).path, path);
        break;
      }
      case 'char':
      case 'block':
      case 'fifo': {
        if (!privileged && e.type !== 'fifo') {
          result.skippedDevices++;
          break;
        }
        removeExisting(path, false);
        const args = e.type === 'fifo' ? ['-m', mode.toString(8), path, 'p'] : ['-m', mode.toString(8), path, e.type === 'char' ? 'c' : 'b', String(e.devmajor), String(e.devminor)];
        const r = spawnSync('mknod', args, { stdio: 'pipe' });
        if (r.status !== 0) throw new Error(`could not create device ${rel}: ${String(r.stderr).trim() || r.error?.message}`);
        own(path, e.uid, e.gid);
        break;
      }
      default:
        // Unknown entry kinds (GNU sparse, …) are not part of what image layers use.
        break;
    }
  }
  // Deepest first, so setting a child's time does not disturb its parent's afterwards.
  for (const [p, t] of dirTimes.reverse()) utimesSync(p, t, t);
  return result;
}
