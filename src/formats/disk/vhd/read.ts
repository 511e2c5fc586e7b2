/**
 * Reading fixed and dynamic VHDs, checking their structures as it goes: footer and header
 * cookies and checksums, BAT entries inside the file, and the sector bitmaps (a sector whose bit
 * is clear reads as zeros, as the spec says for disks without a parent).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { readFully } from '../blocks.js';
import type { DiskReader } from '../reader.js';
import { DISK_TYPE_DYNAMIC, DISK_TYPE_FIXED, FOOTER_SIZE, parseFooter, SECTOR, vhdChecksum, VhdFormatError, type VhdFooter } from './footer.js';

export interface VhdInfo {
  footer: VhdFooter;
  /** Dynamic disks only. */
  blockSize?: number;
  maxTableEntries?: number;
  tableOffset?: number;
}

export async function openVhd(path: string): Promise<DiskReader & { info: VhdInfo }> {
  const fh = await open(path, 'r');
  try {
    const fileSize = (await fh.stat()).size;
    if (fileSize < FOOTER_SIZE) throw new VhdFormatError(`${path}: too small to be a VHD (${fileSize} bytes)`);
    const tail = Buffer.alloc(FOOTER_SIZE);
    await readFully(fh, tail, fileSize - FOOTER_SIZE);
    const footer = parseFooter(tail, path);
    if (footer.currentSize % SECTOR !== 0) throw new VhdFormatError(`${path}: disk size ${footer.currentSize} is not whole sectors`);
    if (footer.diskType === DISK_TYPE_FIXED) {
      if (fileSize !== footer.currentSize + FOOTER_SIZE) {
        throw new VhdFormatError(`${path}: fixed VHD of ${footer.currentSize} bytes should be ${footer.currentSize + FOOTER_SIZE} bytes long, is ${fileSize}`);
      }
      return fixedReader(fh, footer);
    }
    if (footer.diskType === DISK_TYPE_DYNAMIC) return await dynamicReader(fh, path, fileSize, footer, tail);
    throw new VhdFormatError(`${path}: VHD disk type ${footer.diskType} is not supported (2 fixed and 3 dynamic are)`);
  } catch (err) {
    await fh.close();
    throw err;
  }
}

function fixedReader(fh: FileHandle, footer: VhdFooter): DiskReader & { info: VhdInfo } {
  return {
    format: 'vhd-fixed',
    size: footer.currentSize,
    info: { footer },
    async read(buf, position) {
      checkRange(position, buf.length, footer.currentSize);
      await readFully(fh, buf, position);
    },
    close: () => fh.close(),
  };
}

async function dynamicReader(fh: FileHandle, path: string, fileSize: number, footer: VhdFooter, tail: Buffer): Promise<DiskReader & { info: VhdInfo }> {
  // The head of a dynamic VHD is a byte-for-byte copy of the footer.
  const head = Buffer.alloc(FOOTER_SIZE);
  await readFully(fh, head, 0);
  if (!head.equals(tail)) throw new VhdFormatError(`${path}: the footer copy at the start differs from the footer`);
  const offset = footer.dataOffset;
  if (offset === undefined || offset + 1024 > fileSize) throw new VhdFormatError(`${path}: dynamic header offset ${String(offset)} is outside the file`);
  const h = Buffer.alloc(1024);
  await readFully(fh, h, offset);
  if (h.toString('ascii', 0, 8) !== 'cxsparse') throw new VhdFormatError(`${path}: no dynamic disk header (cookie "cxsparse" missing)`);
  if (h.readUInt32BE(36) !== vhdChecksum(h, 36)) throw new VhdFormatError(`${path}: dynamic header checksum mismatch`);
  const tableOffset = Number(h.readBigUInt64BE(16));
  const maxTableEntries = h.readUInt32BE(28);
  const blockSize = h.readUInt32BE(32);
  if (blockSize === 0 || blockSize % SECTOR !== 0) throw new VhdFormatError(`${path}: block size ${blockSize} is not whole sectors`);
  if (maxTableEntries * blockSize < footer.currentSize) throw new VhdFormatError(`${path}: ${maxTableEntries} BAT entries of ${blockSize} bytes cannot hold ${footer.currentSize} bytes`);
  const bat = Buffer.alloc(maxTableEntries * 4);
  if (tableOffset + bat.length > fileSize) throw new VhdFormatError(`${path}: the BAT runs past the end of the file`);
  await readFully(fh, bat, tableOffset);
  const bitmapSize = Math.ceil(blockSize / SECTOR / 8 / SECTOR) * SECTOR;
  for (let i = 0; i < maxTableEntries; i++) {
    const s = bat.readUInt32BE(i * 4);
    if (s !== 0xffff_ffff && s * SECTOR + bitmapSize + blockSize > fileSize - FOOTER_SIZE) {
      throw new VhdFormatError(`${path}: block ${i} at sector ${s} runs past the data area`);
    }
  }
  let cachedBitmap: { block: number; bits: Buffer } | undefined;
  const bitmapOf = async (block: number, sector: number): Promise<Buffer> => {
    if (cachedBitmap?.block !== block) {
      const bits = Buffer.alloc(bitmapSize);
      await readFully(fh, bits, sector * SECTOR);
      cachedBitmap = { block, bits };
    }
    return cachedBitmap.bits;
  };
  return {
    format: 'vhd-dynamic',
    size: footer.currentSize,
    info: { footer, blockSize, maxTableEntries, tableOffset },
    async read(buf, position) {
      checkRange(position, buf.length, footer.currentSize);
      let done = 0;
      while (done < buf.length) {
        const pos = position + done;
        const block = Math.floor(pos / blockSize);
        const within = pos % blockSize;
        const n = Math.min(buf.length - done, blockSize - within);
        const s = bat.readUInt32BE(block * 4);
        const out = buf.subarray(done, done + n);
        if (s === 0xffff_ffff) out.fill(0);
        else {
          await readFully(fh, out, s * SECTOR + bitmapSize + within);
          const bits = await bitmapOf(block, s);
          // Sectors marked absent read as zeros.
          for (let sec = Math.floor(within / SECTOR); sec * SECTOR < within + n; sec++) {
            if ((bits[sec >> 3]! & (0x80 >> (sec & 7))) === 0) {
              const a = Math.max(sec * SECTOR, within) - within;
              const b = Math.min((sec + 1) * SECTOR, within + n) - within;
              out.fill(0, a, b);
            }
          }
        }
        done += n;
      }
    },
    close: () => fh.close(),
  };
}

function checkRange(position: number, length: number, size: number): void {
  if (position < 0 || position + length > size) throw new RangeError(`read of ${length} bytes at ${position} is outside the disk (${size} bytes)`);
}
