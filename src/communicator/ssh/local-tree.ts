/**
 * The local side of a directory upload: every directory and file under a root, with modes and
 * sizes. Symlinks are followed, as Packer's uploads follow them (a link to a file uploads its
 * content, a link to a directory its tree); a dangling link or a loop is an error naming it.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import picomatch from 'picomatch';

export interface TreeEntry {
  /** Path relative to the root, with `/` separators; '' is the root itself. */
  rel: string;
  abs: string;
  kind: 'dir' | 'file';
  mode: number;
  size: number;
}

/** Directories come before their contents (parents first), files after all directories. */
export async function walkLocal(root: string, exclude: readonly string[] = []): Promise<TreeEntry[]> {
  const excluded = exclude.length > 0 ? picomatch(exclude as string[], { dot: true }) : () => false;
  const dirs: TreeEntry[] = [];
  const files: TreeEntry[] = [];
  await visit(root, '', new Set(), excluded, dirs, files);
  return [...dirs, ...files];
}

/** Appends `abs` (and, for a directory, its contents in name order) to `dirs` and `files`. */
async function visit(abs: string, rel: string, ancestors: ReadonlySet<string>, excluded: (rel: string) => boolean, dirs: TreeEntry[], files: TreeEntry[]): Promise<void> {
  let s;
  try {
    s = await stat(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' && rel !== '' ? `${abs} is a symbolic link to a file that does not exist` : `cannot read ${abs}: ${(err as Error).message}`);
  }
  if (s.isFile()) {
    files.push({ rel, abs, kind: 'file', mode: s.mode & 0o7777, size: s.size });
    return;
  }
  if (!s.isDirectory()) throw new Error(`${abs} is neither a file nor a directory (a socket, FIFO or device cannot be uploaded)`);
  const id = `${s.dev}:${s.ino}`;
  if (ancestors.has(id)) throw new Error(`${abs} is a symbolic link to one of its own parent directories: the tree would never end`);
  dirs.push({ rel, abs, kind: 'dir', mode: s.mode & 0o7777, size: 0 });
  const inner = new Set(ancestors).add(id);
  const names = (await readdir(abs)).sort().filter((name) => !excluded(rel === '' ? name : `${rel}/${name}`));
  // Children are examined in parallel (thousands of stats), then appended in name order.
  const parts = await Promise.all(
    names.map(async (name) => {
      const d: TreeEntry[] = [];
      const f: TreeEntry[] = [];
      await visit(join(abs, name), rel === '' ? name : `${rel}/${name}`, inner, excluded, d, f);
      return { d, f };
    }),
  );
  for (const p of parts) {
    dirs.push(...p.d);
    files.push(...p.f);
  }
}
