/**
 * Copying a (sparse) file by its data only: holes in the source are never read, all-zero 64 KiB
 * blocks are not written, and the copy ends up as sparse as `cp --sparse=always` makes it, with
 * the same bytes.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { dataBlocks, writevFully, type BlockReadOptions, type DataBlock } from './blocks.js';

/** Granularity of hole detection: as fine as the filesystems' usual allocation, coarse enough to be fast. */
export const COPY_BLOCK = 64 << 10;

/** Writes the non-zero blocks of the first `size` bytes of `src` at the same offsets in `dst`. */
export async function copyData(src: FileHandle, srcPath: string, size: number, dst: FileHandle, opts: BlockReadOptions = {}): Promise<void> {
  // Adjacent blocks of a batch go out in one call, so a dense file costs few system calls; a
  // write runs while the next batch is read into another of three reused buffers (each write
  // holds its buffer until it is done).
  let parts: DataBlock[] = [];
  let start = 0;
  let end = 0;
  let writing: Promise<void> = Promise.resolve();
  const flush = async (): Promise<void> => {
    await writing;
    if (parts.length > 0) {
      writing = writevFully(dst, parts.map((p) => p.data), start);
      // Its failure (a full disk) surfaces at the next await of `writing`, not as an unhandled rejection meanwhile.
      writing.catch(() => undefined);
      for (const p of parts) p.hold(writing);
    }
    parts = [];
  };
  for await (const b of dataBlocks(src, srcPath, size, COPY_BLOCK, { ...opts, ring: 3 })) {
    if (parts.length > 0 && (b.offset !== end || b.batch !== parts[0]!.batch)) await flush();
    if (parts.length === 0) start = end = b.offset;
    parts.push(b);
    end += b.data.length;
  }
  await flush();
  await writing;
}

/** Copies `src` to `dst` (created with `mode`; must not exist), keeping holes. */
export async function copySparse(src: string, dst: string, opts: BlockReadOptions & { mode?: number } = {}): Promise<void> {
  const from = await open(src, 'r');
  try {
    const size = (await from.stat()).size;
    const to = await open(dst, 'wx', opts.mode ?? 0o644);
    try {
      await copyData(from, src, size, to, opts);
      await to.truncate(size);
    } finally {
      await to.close();
    }
  } finally {
    await from.close();
  }
}
