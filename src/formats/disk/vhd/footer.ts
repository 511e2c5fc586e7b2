/**
 * The VHD footer ("Hard Disk Footer Format" in Microsoft's Virtual Hard Disk Image Format
 * Specification 1.0): 512 big-endian bytes at the end of every VHD, and copied at the start of a
 * dynamic one.
 *
 *   0 cookie "conectix"   8 features (2 = reserved bit, always set)   12 version 0x00010000
 *  16 data offset (fixed: all ones; dynamic: where the dynamic header is)   24 time stamp (s since 2000-01-01 UTC)
 *  28 creator application   32 creator version   36 creator host OS   40 original size   48 current size
 *  56 geometry (cylinders u16, heads u8, sectors/track u8)   60 disk type (2 fixed, 3 dynamic)
 *  64 checksum (one's complement of the byte sum, this field counted as zero)   68 unique id (16)
 *  84 saved state   85 reserved (427 zero bytes)
 *
 * The creator application is written as "win " (Hyper-V). Readers decide from it whether the disk
 * size is the footer's current size or the CHS geometry's product, which cannot express most
 * sizes: qemu, Hyper-V and Azure take the current size for "win ", so the disk is exactly the
 * size written. (qemu reads an unknown creator's disk as its geometry size, cutting off the end.)
 */
import type { ImageIdentity } from '../identity.js';

export const SECTOR = 512;
export const FOOTER_SIZE = 512;
export const COOKIE = 'conectix';
export const DISK_TYPE_FIXED = 2;
export const DISK_TYPE_DYNAMIC = 3;
/** Seconds from the Unix epoch to the VHD epoch, 2000-01-01 00:00:00 UTC. */
export const VHD_EPOCH = 946_684_800;
const NO_DATA_OFFSET = 0xffff_ffff_ffff_ffffn;
const CREATOR_APP = 'win ';
/** Hyper-V's creator version 10.0, which goes with "win ". */
const CREATOR_VERSION = 0x000a_0000;
/** "Wi2k": a Windows host, per the spec's creator host OS values. */
const CREATOR_HOST_OS = 0x5769_326b;

export interface Geometry {
  cylinders: number;
  heads: number;
  sectorsPerTrack: number;
}

export interface VhdFooter {
  diskType: number;
  /** Where the dynamic disk header is; undefined for a fixed disk. */
  dataOffset: number | undefined;
  currentSize: number;
  originalSize: number;
  geometry: Geometry;
  /** Seconds since the Unix epoch. */
  timestamp: number;
  creatorApp: string;
  uniqueId: Buffer;
}

/**
 * CHS geometry by the algorithm in the specification's appendix ("CHS Calculation"). Disks larger
 * than 65535 × 16 × 255 sectors (≈ 127 GiB) get the maximum geometry.
 */
export function chsGeometry(totalSectors: number): Geometry {
  const sectors = Math.min(totalSectors, 65535 * 16 * 255);
  let sectorsPerTrack: number;
  let heads: number;
  let cylinderTimesHeads: number;
  if (sectors >= 65535 * 16 * 63) {
    sectorsPerTrack = 255;
    heads = 16;
    cylinderTimesHeads = Math.floor(sectors / sectorsPerTrack);
  } else {
    sectorsPerTrack = 17;
    cylinderTimesHeads = Math.floor(sectors / sectorsPerTrack);
    heads = Math.floor((cylinderTimesHeads + 1023) / 1024);
    if (heads < 4) heads = 4;
    if (cylinderTimesHeads >= heads * 1024 || heads > 16) {
      sectorsPerTrack = 31;
      heads = 16;
      cylinderTimesHeads = Math.floor(sectors / sectorsPerTrack);
    }
    if (cylinderTimesHeads >= heads * 1024) {
      sectorsPerTrack = 63;
      heads = 16;
      cylinderTimesHeads = Math.floor(sectors / sectorsPerTrack);
    }
  }
  return { cylinders: Math.floor(cylinderTimesHeads / heads), heads, sectorsPerTrack };
}

/** One's complement of the sum of all bytes, with the 4 checksum bytes at `at` counted as zero. */
export function vhdChecksum(buf: Buffer, at: number): number {
  let sum = 0;
  for (let i = 0; i < buf.length; i++) if (i < at || i >= at + 4) sum += buf[i]!;
  return ~sum >>> 0;
}

export interface FooterOptions {
  diskType: typeof DISK_TYPE_FIXED | typeof DISK_TYPE_DYNAMIC;
  currentSize: number;
  /** For a dynamic disk: the dynamic header's offset. */
  dataOffset?: number;
  identity: ImageIdentity;
}

export function buildFooter(o: FooterOptions): Buffer {
  if (o.currentSize % SECTOR !== 0) throw new Error(`internal: a VHD's size must be whole sectors, not ${o.currentSize} bytes`);
  const f = Buffer.alloc(FOOTER_SIZE);
  f.write(COOKIE, 0, 'ascii');
  f.writeUInt32BE(2, 8);
  f.writeUInt32BE(0x0001_0000, 12);
  f.writeBigUInt64BE(o.dataOffset === undefined ? NO_DATA_OFFSET : BigInt(o.dataOffset), 16);
  f.writeUInt32BE(Math.max(0, o.identity.unixTime - VHD_EPOCH) >>> 0, 24);
  f.write(CREATOR_APP, 28, 'ascii');
  f.writeUInt32BE(CREATOR_VERSION, 32);
  f.writeUInt32BE(CREATOR_HOST_OS, 36);
  f.writeBigUInt64BE(BigInt(o.currentSize), 40);
  f.writeBigUInt64BE(BigInt(o.currentSize), 48);
  const g = chsGeometry(o.currentSize / SECTOR);
  f.writeUInt16BE(g.cylinders, 56);
  f.writeUInt8(g.heads, 58);
  f.writeUInt8(g.sectorsPerTrack, 59);
  f.writeUInt32BE(o.diskType, 60);
  o.identity.uuid('vhd-unique-id').copy(f, 68);
  f.writeUInt32BE(vhdChecksum(f, 64), 64);
  return f;
}

export class VhdFormatError extends Error {
  override name = 'VhdFormatError';
}

/** Reads and checks a footer; `where` names it in errors. */
export function parseFooter(f: Buffer, where: string): VhdFooter {
  if (f.length < FOOTER_SIZE || f.toString('ascii', 0, 8) !== COOKIE) throw new VhdFormatError(`${where}: no VHD footer (cookie "conectix" missing)`);
  const sum = f.readUInt32BE(64);
  if (sum !== vhdChecksum(f.subarray(0, FOOTER_SIZE), 64)) throw new VhdFormatError(`${where}: VHD footer checksum mismatch`);
  const dataOffset = f.readBigUInt64BE(16);
  return {
    diskType: f.readUInt32BE(60),
    dataOffset: dataOffset === NO_DATA_OFFSET ? undefined : Number(dataOffset),
    originalSize: Number(f.readBigUInt64BE(40)),
    currentSize: Number(f.readBigUInt64BE(48)),
    geometry: { cylinders: f.readUInt16BE(56), heads: f.readUInt8(58), sectorsPerTrack: f.readUInt8(59) },
    timestamp: f.readUInt32BE(24) + VHD_EPOCH,
    creatorApp: f.toString('latin1', 28, 32),
    uniqueId: Buffer.from(f.subarray(68, 84)),
  };
}
