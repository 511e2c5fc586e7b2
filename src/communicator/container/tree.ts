/**
 * The local side of a directory upload into a container or image: every directory and file
 * under `src`, parents first, names in order, with Packer's trailing-slash rule deciding whether
 * the folder itself or only its contents arrive. Symlinks are followed, as Packer's uploads do.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import picomatch from 'picomatch';

export interface LocalEntry {
  /** Path below the destination, `/`-separated ('' is the destination itself). */
  rel: string;
  abs: string;
  kind: 'dir' | 'file';
  mode: number;
  size: number;
  /** Modification time, whole seconds. */
  mtime: number;
}

/** What `uploadDir(src, …)` sends: `src/` sends the contents, `src` the folder named like it. */
export async function uploadTree(src: string, exclude: readonly string[] = []): Promise<LocalEntry[]> {
  const contentsOnly = src.endsWith('/');
  const root = contentsOnly ? src.replace(/\/+$/, '') || '/' : src;
  const prefix = contentsOnly ? '' : basename(root);
  const excluded = exclude.length > 0 ? picomatch(exclude as string[], { dot: true }) : () => false;
  const out: LocalEntry[] = [];
  const visit = async (abs: string, rel: string, within: string, ancestors: ReadonlySet<string>): Promise<void> => {
    const s = await stat(abs).catch((err: NodeJS.ErrnoException) => {
      throw new Error(err.code === 'ENOENT' ? `${abs} does not exist (or is a dangling symbolic link)` : `cannot read ${abs}: ${err.message}`);
    });
    if (s.isFile()) {
      out.push({ rel, abs, kind: 'file', mode: s.mode & 0o7777, size: s.size, mtime: Math.floor(s.mtimeMs / 1000) });
      return;
    }
    if (!s.isDirectory()) throw new Error(`${abs} is neither a file nor a directory (a socket, FIFO or device cannot be uploaded)`);
    const id = `${s.dev}:${s.ino}`;
    if (ancestors.has(id)) throw new Error(`${abs} is a symbolic link to one of its own parent directories`);
    if (rel !== '') out.push({ rel, abs, kind: 'dir', mode: s.mode & 0o7777, size: 0, mtime: Math.floor(s.mtimeMs / 1000) });
    const inner = new Set(ancestors).add(id);
    for (const name of (await readdir(abs)).sort()) {
      const inSrc = within === '' ? name : `${within}/${name}`;
      if (excluded(inSrc)) continue;
      await visit(join(abs, name), rel === '' ? name : `${rel}/${name}`, inSrc, inner);
    }
  };
  const s = await stat(root).catch(() => undefined);
  if (!s?.isDirectory()) throw new Error(`${src} is not a directory`);
  // The folder itself arrives (as `prefix`) unless `src` ends with a slash.
  await visit(root, prefix, '', new Set());
  return out;
}
