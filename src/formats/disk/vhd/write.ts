/**
 * Writing VHDs from a raw image, streaming: never more than a few blocks in memory.
 *
 * Fixed: the raw bytes, then the footer. Azure accepts only fixed VHDs whose virtual size is a
 * whole number of MiB, so fixed disks are rounded up to one (the caller says so to the user).
 * When the raw image is not kept, `fixedVhdInPlace` turns it into the VHD by extending the file
 * and appending the 512-byte footer: the cost does not grow with the disk. Otherwise the copy
 * writes only blocks holding data and leaves holes for the rest.
 *
 * Dynamic: footer copy, dynamic header ("cxsparse"), block allocation table, then for each 2 MiB
 * block holding data its sector bitmap and data, and the footer; all-zero blocks are not stored.
 */
import { open, stat } from 'node:fs/promises';
import type { ImageIdentity } from '../identity.js';
import { dataBlocks, writeFully, writevFully, zeroBytes, type BlockReadOptions } from '../blocks.js';
import { copyData } from '../sparse-copy.js';
import { buildFooter, DISK_TYPE_DYNAMIC, DISK_TYPE_FIXED, SECTOR, vhdChecksum } from './footer.js';

export const MIB = 1 << 20;
export const DEFAULT_BLOCK_SIZE = 2 * MIB;
/** Where kiln puts the dynamic header and the BAT, as the spec's examples and qemu-img do. */
const HEADER_OFFSET = 512;
const HEADER_SIZE = 1024;
const BAT_OFFSET = HEADER_OFFSET + HEADER_SIZE;

export interface VhdWriteOptions extends BlockReadOptions {
  identity: ImageIdentity;
}

export function roundUp(n: number, unit: number): number {
  return Math.ceil(n / unit) * unit;
}

/** The virtual size of a fixed VHD made from `rawSize` bytes: whole MiB, at least one. */
export function fixedVhdSize(rawSize: number): number {
  return Math.max(MIB, roundUp(rawSize, MIB));
}

/** The virtual size of a dynamic VHD made from `rawSize` bytes: whole sectors, at least one. */
export function dynamicVhdSize(rawSize: number): number {
  return Math.max(SECTOR, roundUp(rawSize, SECTOR));
}

/**
 * Makes the raw image at `path` a fixed VHD of `size` bytes (≥ its length) where it lies: the file
 * grows to `size` (a hole, nothing written) and gets the footer. On failure the file is cut back
 * to its original length, so the raw image is as it was.
 */
export async function fixedVhdInPlace(path: string, size: number, opts: VhdWriteOptions): Promise<void> {
  const fh = await open(path, 'r+');
  const original = (await fh.stat()).size;
  try {
    if (size < original) throw new Error(`internal: VHD size ${size} is smaller than the image (${original} bytes)`);
    await fh.truncate(size);
    await writeFully(fh, buildFooter({ diskType: DISK_TYPE_FIXED, currentSize: size, identity: opts.identity }), size);
  } catch (err) {
    await fh.truncate(original).catch(() => undefined);
    throw err;
  } finally {
    await fh.close();
  }
}

/** Writes a fixed VHD of `size` bytes at `out` from the raw image at `raw`, leaving holes where the raw holds zeros. */
export async function writeFixedVhd(raw: string, out: string, size: number, opts: VhdWriteOptions): Promise<void> {
  const rawSize = (await stat(raw)).size;
  const src = await open(raw, 'r');
  const dst = await open(out, 'wx', 0o644);
  try {
    await copyData(src, raw, rawSize, dst, opts);
    await dst.truncate(size);
    await writeFully(dst, buildFooter({ diskType: DISK_TYPE_FIXED, currentSize: size, identity: opts.identity }), size);
  } finally {
    await Promise.all([src.close(), dst.close()]);
  }
}

/** Writes a dynamic VHD of `size` bytes at `out` from the raw image at `raw`; all-zero blocks are not stored. */
export async function writeDynamicVhd(raw: string, out: string, size: number, opts: VhdWriteOptions & { blockSize?: number }): Promise<void> {
  const blockSize = opts.blockSize ?? DEFAULT_BLOCK_SIZE;
  if (blockSize % SECTOR !== 0 || blockSize < SECTOR) throw new Error(`internal: VHD block size must be whole sectors, not ${blockSize}`);
  const rawSize = (await stat(raw)).size;
  const entries = Math.ceil(size / blockSize);
  const bat = Buffer.alloc(roundUp(entries * 4, SECTOR), 0xff);
  // One bit per sector, rounded up to whole sectors; every stored sector is marked present.
  const bitmap = Buffer.alloc(roundUp(blockSize / SECTOR / 8, SECTOR), 0xff);
  let next = BAT_OFFSET + bat.length;

  const src = await open(raw, 'r');
  const dst = await open(out, 'wx', 0o644);
  try {
    // Each block is written before the next is read: one reused read buffer is enough.
    for await (const b of dataBlocks(src, raw, rawSize, blockSize, { ...opts, ring: 1 })) {
      bat.writeUInt32BE(next / SECTOR, b.index * 4);
      const parts = [bitmap, b.data];
      if (b.data.length < blockSize) parts.push(zeroBytes(blockSize - b.data.length));
      await writevFully(dst, parts, next);
      next += bitmap.length + blockSize;
    }
    const footer = buildFooter({ diskType: DISK_TYPE_DYNAMIC, currentSize: size, dataOffset: HEADER_OFFSET, identity: opts.identity });
    await writeFully(dst, footer, next);
    await writeFully(dst, footer, 0);
    await writeFully(dst, dynamicHeader(entries, blockSize), HEADER_OFFSET);
    await writeFully(dst, bat, BAT_OFFSET);
  } finally {
    await Promise.all([src.close(), dst.close()]);
  }
}

/** The dynamic disk header ("Dynamic Disk Header Format"): no parent, BAT right after it. */
function dynamicHeader(entries: number, blockSize: number): Buffer {
  const h = Buffer.alloc(HEADER_SIZE);
  h.write('cxsparse', 0, 'ascii');
  h.writeBigUInt64BE(0xffff_ffff_ffff_ffffn, 8);
  h.writeBigUInt64BE(BigInt(BAT_OFFSET), 16);
  h.writeUInt32BE(0x0001_0000, 24);
  h.writeUInt32BE(entries, 28);
  h.writeUInt32BE(blockSize, 32);
  h.writeUInt32BE(vhdChecksum(h, 36), 36);
  return h;
}
