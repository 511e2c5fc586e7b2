/**
 * Reading a stream-optimized VMDK: the footer (when the header says the grain directory is at
 * the end), its markers, the grain directory and tables (loaded table by table as reads need
 * them), and the grains, each checked to carry its own LBA and to inflate to a whole grain.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';
import { readFully } from '../blocks.js';
import type { DiskReader } from '../reader.js';
import { GD_AT_END, MARKER_FOOTER, MARKER_GD, parseHeader, SECTOR, VmdkFormatError, type SparseHeader } from './layout.js';

export interface VmdkInfo {
  header: SparseHeader;
  descriptor: string;
  gdOffset: number;
}

export async function openStreamOptimizedVmdk(path: string): Promise<DiskReader & { info: VmdkInfo }> {
  const fh = await open(path, 'r');
  try {
    return await reader(fh, path);
  } catch (err) {
    await fh.close();
    throw err;
  }
}

async function reader(fh: FileHandle, path: string): Promise<DiskReader & { info: VmdkInfo }> {
  const fileSize = (await fh.stat()).size;
  const sector = async (n: number): Promise<Buffer> => {
    const b = Buffer.alloc(SECTOR);
    await readFully(fh, b, n * SECTOR);
    return b;
  };
  let header = parseHeader(await sector(0), path);
  if (!(header.flags & 0x10000) || header.compressAlgorithm !== 1) throw new VmdkFormatError(`${path}: grains are not deflate-compressed: not a stream-optimized VMDK`);
  if (!(header.flags & 0x20000)) throw new VmdkFormatError(`${path}: no grain markers: not a stream-optimized VMDK`);
  if (header.gdOffset === GD_AT_END) {
    // The stream ends with: footer marker, footer, end-of-stream marker (an all-zero sector).
    const last = fileSize / SECTOR;
    if (!Number.isInteger(last) || last < 4) throw new VmdkFormatError(`${path}: file size ${fileSize} is not whole sectors`);
    const eos = await sector(last - 1);
    if (!eos.equals(Buffer.alloc(SECTOR))) throw new VmdkFormatError(`${path}: no end-of-stream marker in the last sector`);
    const fm = await sector(last - 3);
    if (fm.readUInt32LE(12) !== MARKER_FOOTER || fm.readUInt32LE(8) !== 0) throw new VmdkFormatError(`${path}: no footer marker before the footer`);
    header = parseHeader(await sector(last - 2), `${path} (footer)`);
    if (header.gdOffset === GD_AT_END) throw new VmdkFormatError(`${path}: the footer does not say where the grain directory is`);
  }
  const gdOffset = Number(header.gdOffset);
  const grainBytes = header.grainSize * SECTOR;
  if (header.grainSize === 0 || header.numGTEsPerGT === 0) throw new VmdkFormatError(`${path}: grain size or grain table size is zero`);
  const grains = Math.ceil(header.capacity / header.grainSize);
  const tables = Math.ceil(grains / header.numGTEsPerGT);
  const gdMarker = await sector(gdOffset - 1);
  if (gdMarker.readUInt32LE(12) !== MARKER_GD) throw new VmdkFormatError(`${path}: no grain directory marker before sector ${gdOffset}`);
  const gd = Buffer.alloc(tables * 4);
  await readFully(fh, gd, gdOffset * SECTOR);
  const descriptorBytes = Buffer.alloc(header.descriptorSize * SECTOR);
  await readFully(fh, descriptorBytes, header.descriptorOffset * SECTOR);
  const descriptor = descriptorBytes.toString('utf8').replace(/\0+$/, '');

  const tableCache = new Map<number, Buffer>();
  const gtOf = async (t: number): Promise<Buffer | undefined> => {
    const at = gd.readUInt32LE(t * 4);
    if (at === 0) return undefined;
    let gt = tableCache.get(t);
    if (!gt) {
      gt = Buffer.alloc(header.numGTEsPerGT * 4);
      await readFully(fh, gt, at * SECTOR);
      if (tableCache.size > 64) tableCache.clear();
      tableCache.set(t, gt);
    }
    return gt;
  };
  let lastGrain: { index: number; data: Buffer } | undefined;
  const grainData = async (index: number): Promise<Buffer | undefined> => {
    if (lastGrain?.index === index) return lastGrain.data;
    const gt = await gtOf(Math.floor(index / header.numGTEsPerGT));
    const at = gt?.readUInt32LE((index % header.numGTEsPerGT) * 4) ?? 0;
    if (at === 0) return undefined;
    if (at === 1) return Buffer.alloc(grainBytes);
    const head = await sector(at);
    const lba = Number(head.readBigUInt64LE(0));
    if (lba !== index * header.grainSize) throw new VmdkFormatError(`${path}: grain ${index} at sector ${at} says it is LBA ${lba}`);
    const size = head.readUInt32LE(8);
    if (size === 0 || at * SECTOR + 12 + size > fileSize) throw new VmdkFormatError(`${path}: grain ${index} has a bad size (${size})`);
    const compressed = Buffer.alloc(size);
    await readFully(fh, compressed, at * SECTOR + 12);
    let data: Buffer;
    try {
      data = inflateSync(compressed);
    } catch (err) {
      throw new VmdkFormatError(`${path}: grain ${index} does not inflate: ${(err as Error).message}`);
    }
    if (data.length !== grainBytes) throw new VmdkFormatError(`${path}: grain ${index} inflates to ${data.length} bytes, not ${grainBytes}`);
    lastGrain = { index, data };
    return data;
  };

  const size = header.capacity * SECTOR;
  return {
    format: 'vmdk-stream-optimized',
    size,
    info: { header, descriptor, gdOffset },
    async read(buf, position) {
      if (position < 0 || position + buf.length > size) throw new RangeError(`read of ${buf.length} bytes at ${position} is outside the disk (${size} bytes)`);
      let done = 0;
      while (done < buf.length) {
        const pos = position + done;
        const index = Math.floor(pos / grainBytes);
        const within = pos % grainBytes;
        const n = Math.min(buf.length - done, grainBytes - within);
        const data = await grainData(index);
        if (data) data.copy(buf, done, within, within + n);
        else buf.fill(0, done, done + n);
        done += n;
      }
    },
    close: () => fh.close(),
  };
}
