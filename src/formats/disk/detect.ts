/**
 * What format a disk image file is in, from its magic bytes (never from its name): qemu-img
 * warns against guessing raw, and a post-processor must not feed a qcow2 to a writer that
 * expects raw bytes.
 */
import { open } from 'node:fs/promises';
import { readFully } from './blocks.js';

export type ImageFormat = 'raw' | 'qcow2' | 'vhd' | 'vhdx' | 'vmdk';

export async function detectImageFormat(path: string): Promise<ImageFormat> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(Math.min(512, size));
    await readFully(fh, head, 0);
    if (head.subarray(0, 4).equals(Buffer.from([0x51, 0x46, 0x49, 0xfb]))) return 'qcow2';
    if (head.toString('latin1', 0, 4) === 'KDMV' || head.toString('latin1', 0, 21) === '# Disk DescriptorFile') return 'vmdk';
    if (head.toString('latin1', 0, 8) === 'vhdxfile') return 'vhdx';
    if (size >= 512 && size % 512 === 0) {
      const tail = Buffer.alloc(512);
      await readFully(fh, tail, size - 512);
      if (tail.toString('latin1', 0, 8) === 'conectix') return 'vhd';
    }
    return 'raw';
  } finally {
    await fh.close();
  }
}
