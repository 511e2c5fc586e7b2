/**
 * What changed in a root filesystem since a snapshot, as layer entries. A snapshot keeps, per
 * path, the inode and the change time (ctime, which no user-space call can set back): a path
 * whose inode differs was replaced, one whose ctime moved was modified, one that is gone gets a
 * whiteout, and a directory that was deleted and made again becomes opaque. Without a snapshot
 * (a `scratch` base) every path is new. Directories are read in bytewise name order, so the same
 * tree always gives the same entries in the same order.
 */
import { lstatSync, readdirSync, readlinkSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import type { TarHeader } from '../tar/header.js';

interface SnapMeta {
  ino: bigint;
  ctimeNs: bigint;
  isDir: boolean;
}

export interface FsSnapshot {
  readonly entries: ReadonlyMap<string, SnapMeta>;
  /** Names in each snapshotted directory, for finding deletions. */
  readonly children: ReadonlyMap<string, readonly string[]>;
}

export interface LayerEntry extends TarHeader {
  /** Host file holding the entry's bytes (regular files only). */
  source?: string;
}

export interface DiffOptions {
  /** Modification times later than this (seconds) are written as this: SOURCE_DATE_EPOCH. */
  clampMtime?: number;
  /** Owner written for files this (unprivileged) process owns: 0, as a user namespace maps it. */
  ownUid?: number;
  ownGid?: number;
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

function sortedNames(names: Iterable<string>): string[] {
  return [...names].map((n) => [n, Buffer.from(n)] as const).sort((a, b) => Buffer.compare(a[1], b[1])).map((x) => x[0]);
}

function relJoin(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/** Records the tree under `root` (the root itself included, as ""). */
export function snapshot(root: string): FsSnapshot {
  const entries = new Map<string, SnapMeta>();
  const children = new Map<string, string[]>();
  const visit = (rel: string): void => {
    const st = lstatSync(join(root, rel), { bigint: true });
    entries.set(rel, { ino: st.ino, ctimeNs: st.ctimeNs, isDir: st.isDirectory() });
    if (!st.isDirectory()) return;
    const names = readdirSync(join(root, rel));
    children.set(rel, names);
    for (const n of names) visit(relJoin(rel, n));
  };
  visit('');
  return { entries, children };
}

/** The layer entries that turn the snapshotted tree into the current one (everything, without a snapshot). */
export async function* diffTree(root: string, base: FsSnapshot | undefined, opts: DiffOptions = {}): AsyncGenerator<LayerEntry> {
  const hardlinks = new Map<string, string>();
  const clamp = (mtimeNs: bigint): number => {
    const s = Number(mtimeNs / 1_000_000_000n);
    return opts.clampMtime !== undefined && s > opts.clampMtime ? opts.clampMtime : s;
  };
  const owner = (id: number, own: number | undefined): number => (own !== undefined && id === own ? 0 : id);

  const entryOf = (rel: string, st: BigIntStats): LayerEntry | undefined => {
    const abs = join(root, rel);
    const base: Omit<LayerEntry, 'type' | 'name'> = {
      mode: Number(st.mode & 0o7777n),
      uid: owner(Number(st.uid), opts.ownUid),
      gid: owner(Number(st.gid), opts.ownGid),
      size: 0,
      mtime: clamp(st.mtimeNs),
    };
    if (st.isDirectory()) return { ...base, name: `${rel}/`, type: 'dir' };
    if (st.isSymbolicLink()) return { ...base, name: rel, type: 'symlink', linkname: readlinkSync(abs) };
    if (st.isFile()) {
      if (st.nlink > 1n) {
        const key = `${st.dev}:${st.ino}`;
        const first = hardlinks.get(key);
        if (first !== undefined) return { ...base, name: rel, type: 'hardlink', linkname: first };
        hardlinks.set(key, rel);
      }
      return { ...base, name: rel, type: 'file', size: Number(st.size), source: abs };
    }
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      const rdev = st.rdev;
      const devmajor = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
      const devminor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
      return { ...base, name: rel, type: st.isCharacterDevice() ? 'char' : 'block', devmajor, devminor };
    }
    if (st.isFIFO()) return { ...base, name: rel, type: 'fifo' };
    return undefined; // sockets cannot be stored in a layer (Docker skips them too)
  };

  const whiteout = (rel: string): LayerEntry => ({ name: rel, type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: opts.clampMtime ?? 0 });

  // Synchronous all the way down: every call in it blocks anyway, and nested async generators
  // would cost one promise hop per directory level for every entry of a deep tree.
  function* walk(dir: string, all: boolean): Generator<LayerEntry> {
    const current = readdirSync(join(root, dir));
    const present = new Set(current);
    const gone = all || !base ? [] : (base.children.get(dir) ?? []).filter((n) => !present.has(n));
    const goneByWhiteout = new Map(gone.map((n) => [`${WHITEOUT}${n}`, n]));
    for (const name of sortedNames([...current, ...goneByWhiteout.keys()])) {
      const rel = relJoin(dir, name);
      if (goneByWhiteout.has(name)) {
        yield whiteout(rel);
        continue;
      }
      const st = lstatSync(join(root, rel), { bigint: true });
      const before = all ? undefined : base?.entries.get(rel);
      const entry = entryOf(rel, st);
      if (!entry) continue;
      if (!before) {
        yield entry;
        if (st.isDirectory()) yield* walk(rel, true);
      } else if (before.ino !== st.ino || before.isDir !== st.isDirectory()) {
        yield entry;
        if (st.isDirectory()) {
          // Deleted and made again: nothing of the old directory may show through.
          if (before.isDir) yield whiteout(`${rel}/${OPAQUE}`);
          yield* walk(rel, true);
        }
      } else {
        if (before.ctimeNs !== st.ctimeNs) yield entry;
        if (st.isDirectory()) yield* walk(rel, false);
      }
    }
  }
  for (const entry of walk('', !base)) yield entry;
}
