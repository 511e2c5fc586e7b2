/**
 * Copying a (sparse) file by its data only: holes in the source are never read, all-zero 64 KiB
 * blocks are not written, and the copy ends up as sparse as `cp --sparse=always` makes it, with
 * the same bytes.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { dataBlocks, writevFully, type BlockReadOptions } from './blocks.js';

/** Granularity of hole detection: as fine as the filesystems' usual allocation, coarse enough to be fast. */
export const COPY_BLOCK = 64 << 10;
const MAX_WRITE = 4 << 20;

/** Writes the non-zero blocks of the first `size` bytes of `src` at the same offsets in `dst`. */
export async function copyData(src: FileHandle, srcPath: string, size: number, dst: FileHandle, opts: BlockReadOptions = {}): Promise<void> {
  // Adjacent blocks go out in one call (up to 4 MiB), so a dense file costs few system calls.
  let parts: Buffer[] = [];
  let start = 0;
  let end = 0;
  const flush = async (): Promise<void> => {
    if (parts.length > 0) await writevFully(dst, parts, start);
    parts = [];
  };
  for await (const b of dataBlocks(src, srcPath, size, COPY_BLOCK, opts)) {
    if (parts.length > 0 && (b.offset !== end || end - start >= MAX_WRITE)) await flush();
    if (parts.length === 0) start = end = b.offset;
    parts.push(b.data);
    end += b.data.length;
  }
  await flush();
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
