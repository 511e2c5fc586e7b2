/**
 * The on-disk structures of a VMDK stream-optimized sparse extent (VMware "Virtual Disk Format"
 * 1.1/5.0, section "Stream-Optimized Compressed Sparse Extents"), little-endian:
 *
 * SparseExtentHeader (one sector): 0 magic "KDMV"  4 version (3)  8 flags  12 capacity (sectors)
 *   20 grain size (sectors)  28 descriptor offset  36 descriptor size  44 GTEs per GT (512)
 *   48 redundant GD offset (0: none)  56 GD offset (GD_AT_END in the header, the real one in the
 *   footer)  64 overhead (sectors before the first grain)  72 unclean shutdown  73–76 newline
 *   detection "\n \r\n"  77 compression algorithm (1: deflate).
 *
 * After the header and the embedded descriptor come the grains, each a marker (lba u64, compressed
 * size u32) and zlib data padded to a sector; then each grain table behind a GT marker, the grain
 * directory behind a GD marker, a footer (a header copy with the GD offset) behind a footer marker,
 * and an end-of-stream marker. Metadata markers are one sector: val u64 (sectors that follow),
 * size u32 (0), type u32.
 */

export const SECTOR = 512;
export const MAGIC = 0x564d444b;
export const VERSION = 3;
/** Valid newline detection (bit 0), compressed grains (bit 16), markers (bit 17). */
export const FLAGS = 0x0000_0001 | 0x0001_0000 | 0x0002_0000;
export const GRAIN_SECTORS = 128;
export const GRAIN_SIZE = GRAIN_SECTORS * SECTOR;
export const GTES_PER_GT = 512;
export const GT_SECTORS = (GTES_PER_GT * 4) / SECTOR;
export const GD_AT_END = 0xffff_ffff_ffff_ffffn;
export const COMPRESSION_DEFLATE = 1;

export const MARKER_EOS = 0;
export const MARKER_GT = 1;
export const MARKER_GD = 2;
export const MARKER_FOOTER = 3;

export interface SparseHeader {
  version: number;
  flags: number;
  capacity: number;
  grainSize: number;
  descriptorOffset: number;
  descriptorSize: number;
  numGTEsPerGT: number;
  gdOffset: bigint;
  overHead: number;
  compressAlgorithm: number;
}

export function buildHeader(h: Omit<SparseHeader, 'version' | 'flags' | 'numGTEsPerGT' | 'compressAlgorithm'>): Buffer {
  const b = Buffer.alloc(SECTOR);
  b.writeUInt32LE(MAGIC, 0);
  b.writeUInt32LE(VERSION, 4);
  b.writeUInt32LE(FLAGS, 8);
  b.writeBigUInt64LE(BigInt(h.capacity), 12);
  b.writeBigUInt64LE(BigInt(h.grainSize), 20);
  b.writeBigUInt64LE(BigInt(h.descriptorOffset), 28);
  b.writeBigUInt64LE(BigInt(h.descriptorSize), 36);
  b.writeUInt32LE(GTES_PER_GT, 44);
  b.writeBigUInt64LE(0n, 48);
  b.writeBigUInt64LE(h.gdOffset, 56);
  b.writeBigUInt64LE(BigInt(h.overHead), 64);
  b[72] = 0;
  b.write('\n \r\n', 73, 'latin1');
  b.writeUInt16LE(COMPRESSION_DEFLATE, 77);
  return b;
}

export class VmdkFormatError extends Error {
  override name = 'VmdkFormatError';
}

export function parseHeader(b: Buffer, where: string): SparseHeader {
  if (b.length < SECTOR || b.readUInt32LE(0) !== MAGIC) throw new VmdkFormatError(`${where}: not a VMDK sparse extent (magic "KDMV" missing)`);
  const flags = b.readUInt32LE(8);
  if (flags & 1 && b.toString('latin1', 73, 77) !== '\n \r\n') throw new VmdkFormatError(`${where}: newline detection bytes damaged (file transferred in text mode?)`);
  return {
    version: b.readUInt32LE(4),
    flags,
    capacity: Number(b.readBigUInt64LE(12)),
    grainSize: Number(b.readBigUInt64LE(20)),
    descriptorOffset: Number(b.readBigUInt64LE(28)),
    descriptorSize: Number(b.readBigUInt64LE(36)),
    numGTEsPerGT: b.readUInt32LE(44),
    gdOffset: b.readBigUInt64LE(56),
    overHead: Number(b.readBigUInt64LE(64)),
    compressAlgorithm: b.readUInt16LE(77),
  };
}

export function metadataMarker(type: number, sectors: number): Buffer {
  const m = Buffer.alloc(SECTOR);
  m.writeBigUInt64LE(BigInt(sectors), 0);
  m.writeUInt32LE(0, 8);
  m.writeUInt32LE(type, 12);
  return m;
}

export interface DescriptorOptions {
  cid: number;
  capacitySectors: number;
  extentFile: string;
  adapterType: string;
  hardwareVersion: number;
}

/** The embedded descriptor, as VMware's own stream-optimized writers lay it out. */
export function descriptorText(o: DescriptorOptions): string {
  // ide disks use 16 heads, SCSI ones 255 (what VMware's tools write).
  const heads = o.adapterType === 'ide' ? 16 : 255;
  const cylinders = Math.min(65535, Math.ceil(o.capacitySectors / (heads * 63)));
  return [
    '# Disk DescriptorFile',
    'version=1',
    'encoding="UTF-8"',
    `CID=${o.cid.toString(16).padStart(8, '0')}`,
    'parentCID=ffffffff',
    'createType="streamOptimized"',
    '',
    '# Extent description',
    `RW ${o.capacitySectors} SPARSE "${o.extentFile.replace(/"/g, '_')}"`,
    '',
    '# The Disk Data Base',
    '#DDB',
    '',
    `ddb.virtualHWVersion = "${o.hardwareVersion}"`,
    `ddb.geometry.cylinders = "${cylinders}"`,
    `ddb.geometry.heads = "${heads}"`,
    'ddb.geometry.sectors = "63"',
    `ddb.adapterType = "${o.adapterType}"`,
    '',
  ].join('\n');
}
