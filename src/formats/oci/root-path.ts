/**
 * Paths inside a root filesystem. Symbolic links in an image point at image paths
 * ("/usr/lib/…"), so they are followed relative to the root, and nothing resolves outside it —
 * the same rule as runc's securejoin. Used when unpacking layers and when provisioners write files.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

const MAX_LINKS = 255;

function parts(p: string): string[] {
  return p.split('/').filter((x) => x !== '' && x !== '.');
}

/** `rel` inside `root`, every symlink on the way resolved within the root. */
export function resolveInRoot(root: string, rel: string): string {
  const todo = parts(rel);
  const done: string[] = [];
  let links = 0;
  while (todo.length > 0) {
    const p = todo.shift()!;
    if (p === '..') {
      done.pop();
      continue;
    }
    const here = join(root, ...done, p);
    let isLink = false;
    try {
      isLink = lstatSync(here).isSymbolicLink();
    } catch {
      // Does not exist (yet): the rest is taken literally.
    }
    if (!isLink) {
      done.push(p);
      continue;
    }
    if (++links > MAX_LINKS) throw new Error(`too many levels of symbolic links resolving ${rel} in the image`);
    const target = readlinkSync(here);
    if (target.startsWith('/')) done.length = 0;
    todo.unshift(...parts(target));
  }
  return join(root, ...done);
}

/** The parent resolved within the root, the last component kept as is (it is about to be replaced). */
export function resolveParentInRoot(root: string, rel: string): { dir: string; name: string; path: string } {
  const ps = parts(rel);
  const name = ps.pop();
  if (name === undefined || name === '..') throw new Error(`"${rel}" does not name an entry`);
  const dir = resolveInRoot(root, ps.join('/'));
  return { dir, name, path: join(dir, name) };
}

/** A layer entry's name normalized ("./a/b/" → "a/b"); throws on one that climbs out with "..". */
export function cleanEntryName(name: string): string {
  const out: string[] = [];
  for (const p of parts(name)) {
    if (p === '..') {
      if (out.length === 0) throw new Error(`layer entry "${name}" points outside the image`);
      out.pop();
    } else out.push(p);
  }
  return out.join('/');
}
