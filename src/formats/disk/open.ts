/** Opens any image kiln reads itself (raw, VHD, stream-optimized VMDK) as a DiskReader. */
import { open } from 'node:fs/promises';
import { readFully } from './blocks.js';
import { detectImageFormat } from './detect.js';
import type { DiskReader } from './reader.js';
import { openVhd } from './vhd/read.js';
import { openStreamOptimizedVmdk } from './vmdk/read.js';

export async function openDiskImage(path: string): Promise<DiskReader> {
  const format = await detectImageFormat(path);
  switch (format) {
    case 'raw':
      return openRaw(path);
    case 'vhd':
      return openVhd(path);
    case 'vmdk':
      return openStreamOptimizedVmdk(path);
    default:
      throw new Error(`${path} is a ${format} image, which kiln reads only through qemu-img`);
  }
}

async function openRaw(path: string): Promise<DiskReader> {
  const fh = await open(path, 'r');
  const size = (await fh.stat()).size;
  return {
    format: 'raw',
    size,
    async read(buf, position) {
      if (position < 0 || position + buf.length > size) throw new RangeError(`read of ${buf.length} bytes at ${position} is outside the disk (${size} bytes)`);
      await readFully(fh, buf, position);
    },
    close: () => fh.close(),
  };
}
