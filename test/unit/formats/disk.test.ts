/**
 * The disk formats kiln writes itself, checked three ways: kiln's own readers (every byte equals
 * the source), qemu-img (info, check, compare) as an independent reader, and the structures
 * against the specifications (footer fields, geometry, sparse allocation).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sparseFileChunks } from '../../../src/formats/disk/blocks.js';
import { dataRegions } from '../../../src/formats/disk/data-map.js';
import { detectImageFormat } from '../../../src/formats/disk/detect.js';
import { writeAtomically } from '../../../src/formats/disk/output.js';
import { imageIdentity } from '../../../src/formats/disk/identity.js';
import { openDiskImage } from '../../../src/formats/disk/open.js';
import { readAll, type DiskReader } from '../../../src/formats/disk/reader.js';
import { copySparse } from '../../../src/formats/disk/sparse-copy.js';
import { chsGeometry, parseFooter, VhdFormatError } from '../../../src/formats/disk/vhd/footer.js';
import { openVhd } from '../../../src/formats/disk/vhd/read.js';
import { dynamicVhdSize, fixedVhdInPlace, fixedVhdSize, writeDynamicVhd, writeFixedVhd } from '../../../src/formats/disk/vhd/write.js';
import { openStreamOptimizedVmdk } from '../../../src/formats/disk/vmdk/read.js';
import { writeStreamOptimizedVmdk } from '../../../src/formats/disk/vmdk/write.js';
import { QEMU_IMG, skipWithout } from '../../helpers/components.js';

const MIB = 1 << 20;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-disk-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A sparse raw image of `size` bytes with data at the given offsets (random, text and a short tail). */
function sparseRaw(name: string, size: number, pieces: Array<[number, Buffer]>): string {
  const path = join(dir, name);
  rmSync(path, { force: true });
  const fd = openSync(path, 'w');
  for (const [at, data] of pieces) writeSync(fd, data, 0, data.length, at);
  closeSync(fd);
  truncateSync(path, size);
  return path;
}

/** Compares a reader's whole disk with `raw` (zero padded to the reader's size). */
async function expectSameDisk(reader: DiskReader, raw: string): Promise<void> {
  const src = readFileSync(raw);
  expect(reader.size).toBeGreaterThanOrEqual(src.length);
  let pos = 0;
  for await (const chunk of readAll(reader, 3 * MIB + 512)) {
    const expected = Buffer.alloc(chunk.length);
    if (pos < src.length) src.copy(expected, 0, pos, Math.min(src.length, pos + chunk.length));
    if (!chunk.equals(expected)) throw new Error(`disk differs from ${raw} in the chunk at ${pos}`);
    pos += chunk.length;
  }
  await reader.close();
}

function qemuImg(args: string[]): string {
  return execFileSync('qemu-img', args, { encoding: 'utf8' });
}

const identity = imageIdentity({ seed: 'test', sourceDateEpoch: '1700000000' });
// Not a whole MiB, data at the start, across block and grain boundaries, and in the last sector.
const ODD_SIZE = 9 * MIB + 3 * 512;
const PIECES: Array<[number, Buffer]> = [
  [0, Buffer.from('boot sector\n'.repeat(40))],
  [2 * MIB - 100, randomBytes(300)],
  [5 * MIB, randomBytes(MIB + 4096)],
  [ODD_SIZE - 512, Buffer.alloc(512, 0xab)],
];

describe('VHD footer', () => {
  it('computes CHS geometry by the specification algorithm', () => {
    // Values from the spec's algorithm, cross-checked with qemu-img's footers below.
    expect(chsGeometry(20480)).toEqual({ cylinders: 301, heads: 4, sectorsPerTrack: 17 });
    expect(chsGeometry((1 << 30) / 512)).toEqual({ cylinders: 2080, heads: 16, sectorsPerTrack: 63 });
    expect(chsGeometry(65535 * 16 * 255 + 1000)).toEqual({ cylinders: 65535, heads: 16, sectorsPerTrack: 255 });
  });

  // Without force_size qemu-img sizes the disk by its geometry, computed by the same algorithm.
  it('matches the geometry qemu-img writes for several sizes', () => {
    if (skipWithout(QEMU_IMG)) return;
    for (const mib of [1, 10, 127, 500, 4096, 130_000]) {
      const p = join(dir, `g${mib}.vhd`);
      rmSync(p, { force: true });
      qemuImg(['create', '-q', '-f', 'vpc', '-o', 'subformat=dynamic', p, `${mib}M`]);
      const buf = readFileSync(p);
      const footer = parseFooter(buf.subarray(buf.length - 512), p);
      expect(chsGeometry(footer.currentSize / 512)).toEqual(footer.geometry);
    }
  });

  it('rejects a footer whose checksum does not match', async () => {
    const raw = sparseRaw('cs.raw', MIB, [[0, Buffer.from('x')]]);
    const out = join(dir, 'cs.vhd');
    rmSync(out, { force: true });
    await writeFixedVhd(raw, out, MIB, { identity });
    const fd = openSync(out, 'r+');
    writeSync(fd, Buffer.from([0x7f]), 0, 1, MIB + 50);
    closeSync(fd);
    await expect(openVhd(out)).rejects.toThrow(VhdFormatError);
    await expect(openVhd(out)).rejects.toThrow(/checksum mismatch/);
  });
});

describe('fixed VHD', () => {
  it('holds the raw data, rounds the size up to a whole MiB and stays sparse', async () => {
    const raw = sparseRaw('odd.raw', ODD_SIZE, PIECES);
    const out = join(dir, 'odd.vhd');
    rmSync(out, { force: true });
    const size = fixedVhdSize(ODD_SIZE);
    expect(size).toBe(10 * MIB);
    await writeFixedVhd(raw, out, size, { identity });
    const st = statSync(out);
    expect(st.size).toBe(10 * MIB + 512);
    // Only the data is allocated (plus filesystem slack), not 10 MiB.
    expect(st.blocks * 512).toBeLessThan(3 * MIB);
    const r = await openVhd(out);
    expect(r.format).toBe('vhd-fixed');
    expect(r.info.footer.creatorApp).toBe('win ');
    expect(r.info.footer.timestamp).toBe(1700000000);
    await expectSameDisk(r, raw);
    expect(await detectImageFormat(out)).toBe('vhd');
  });

  it('is read by qemu-img with the same size and contents', async () => {
    if (skipWithout(QEMU_IMG)) return;
    const raw = sparseRaw('q.raw', 10 * MIB, PIECES.slice(0, 3));
    const out = join(dir, 'q.vhd');
    rmSync(out, { force: true });
    await writeFixedVhd(raw, out, fixedVhdSize(10 * MIB), { identity });
    const info = JSON.parse(qemuImg(['info', '--output=json', '-f', 'vpc', out])) as { 'virtual-size': number };
    expect(info['virtual-size']).toBe(10 * MIB);
    expect(qemuImg(['compare', '-f', 'raw', '-F', 'vpc', raw, out])).toContain('Images are identical');
  });

  it('turns a raw image into a fixed VHD in place by appending the footer', async () => {
    const raw = sparseRaw('inplace.raw', ODD_SIZE, PIECES);
    const keep = join(dir, 'inplace-copy.raw');
    copyFileSync(raw, keep);
    const size = fixedVhdSize(ODD_SIZE);
    await fixedVhdInPlace(raw, size, { identity });
    expect(statSync(raw).size).toBe(size + 512);
    const r = await openVhd(raw);
    await expectSameDisk(r, keep);
  });

  it('gives byte-identical files for the same seed and SOURCE_DATE_EPOCH, different ones otherwise', async () => {
    const raw = sparseRaw('repro.raw', 2 * MIB, [[0, Buffer.from('same')]]);
    const outs = ['r1.vhd', 'r2.vhd', 'r3.vhd'].map((n) => join(dir, n));
    for (const o of outs) rmSync(o, { force: true });
    await writeFixedVhd(raw, outs[0]!, 2 * MIB, { identity: imageIdentity({ seed: 's', sourceDateEpoch: '1' }) });
    await writeFixedVhd(raw, outs[1]!, 2 * MIB, { identity: imageIdentity({ seed: 's', sourceDateEpoch: '1' }) });
    await writeFixedVhd(raw, outs[2]!, 2 * MIB, { identity: imageIdentity({ sourceDateEpoch: '1' }) });
    expect(readFileSync(outs[0]!).equals(readFileSync(outs[1]!))).toBe(true);
    expect(readFileSync(outs[0]!).equals(readFileSync(outs[2]!))).toBe(false);
  });
});

describe('dynamic VHD', () => {
  it('stores only blocks with data, and reads back every byte', async () => {
    const raw = sparseRaw('dyn.raw', ODD_SIZE, PIECES);
    const out = join(dir, 'dyn.vhd');
    rmSync(out, { force: true });
    await writeDynamicVhd(raw, out, dynamicVhdSize(ODD_SIZE), { identity });
    const r = await openVhd(out);
    expect(r.format).toBe('vhd-dynamic');
    expect(r.info.blockSize).toBe(2 * MIB);
    // Blocks 0, 1 (the piece across the 2 MiB boundary), 2, 3 (5–6 MiB+) and 4 (last sector): not all five are empty.
    const stored = (statSync(out).size - 512 - 1024 - 512 - 512) / (2 * MIB + 512);
    expect(stored).toBe(5);
    await expectSameDisk(r, raw);
  });

  it('leaves out all-zero blocks even where the file has no holes', async () => {
    const path = join(dir, 'dense.raw');
    const data = Buffer.alloc(8 * MIB);
    data.write('only here', 3 * MIB);
    writeWhole(path, data);
    const out = join(dir, 'dense.vhd');
    rmSync(out, { force: true });
    await writeDynamicVhd(path, out, 8 * MIB, { identity });
    const r = await openVhd(out);
    expect(statSync(out).size).toBeLessThan(2 * MIB + 64 * 1024);
    await expectSameDisk(r, path);
  });

  // qemu-img has no check for vpc: its info and compare read the structures instead.
  it('is read by qemu-img with the same size and contents', async () => {
    if (skipWithout(QEMU_IMG)) return;
    const raw = sparseRaw('dq.raw', 12 * MIB, PIECES.slice(0, 3));
    const out = join(dir, 'dq.vhd');
    rmSync(out, { force: true });
    await writeDynamicVhd(raw, out, 12 * MIB, { identity });
    const info = JSON.parse(qemuImg(['info', '--output=json', '-f', 'vpc', out])) as { 'virtual-size': number; 'format-specific'?: unknown };
    expect(info['virtual-size']).toBe(12 * MIB);
    expect(qemuImg(['compare', '-f', 'raw', '-F', 'vpc', raw, out])).toContain('Images are identical');
  });
});

describe('stream-optimized VMDK', () => {
  it('has deflated grains, tables, directory, footer and end-of-stream marker, and reads back', async () => {
    const raw = sparseRaw('s.raw', ODD_SIZE, PIECES);
    const out = join(dir, 's.vmdk');
    rmSync(out, { force: true });
    await writeStreamOptimizedVmdk(raw, out, { identity });
    const r = await openStreamOptimizedVmdk(out);
    expect(r.info.header.version).toBe(3);
    expect(r.info.header.flags).toBe(0x30001);
    expect(r.info.descriptor).toContain('createType="streamOptimized"');
    expect(r.info.descriptor).toContain(`RW ${ODD_SIZE / 512} SPARSE "s.vmdk"`);
    // The header at the start leaves the grain directory to the footer.
    expect(readFileSync(out).readBigUInt64LE(56)).toBe(0xffff_ffff_ffff_ffffn);
    // Text compresses: the file is much smaller than the data.
    expect(statSync(out).size).toBeLessThan(3 * MIB);
    await expectSameDisk(r, raw);
  });

  it('passes qemu-img check and compare, and qemu-img sees the stream-optimized type', async () => {
    if (skipWithout(QEMU_IMG)) return;
    const raw = sparseRaw('sq.raw', 40 * MIB, [...PIECES.slice(0, 3), [33 * MIB, randomBytes(70_000)]]);
    const out = join(dir, 'sq.vmdk');
    rmSync(out, { force: true });
    await writeStreamOptimizedVmdk(raw, out, { identity, compressionLevel: 1 });
    const info = JSON.parse(qemuImg(['info', '--output=json', out])) as { format: string; 'virtual-size': number; 'format-specific': { data: { 'create-type': string } } };
    expect(info.format).toBe('vmdk');
    expect(info['virtual-size']).toBe(40 * MIB);
    expect(info['format-specific'].data['create-type']).toBe('streamOptimized');
    expect(qemuImg(['check', out])).toContain('No errors');
    expect(qemuImg(['compare', '-f', 'raw', '-F', 'vmdk', raw, out])).toContain('Images are identical');
  });

  it('is reproducible with a seed and SOURCE_DATE_EPOCH', async () => {
    const raw = sparseRaw('sr.raw', 3 * MIB, [[MIB, Buffer.from('x'.repeat(10_000))]]);
    const a = join(dir, 'a.vmdk');
    const b = join(dir, 'b.vmdk');
    for (const o of [a, b]) {
      rmSync(o, { force: true });
      await writeStreamOptimizedVmdk(raw, o, { identity: imageIdentity({ seed: 'k', sourceDateEpoch: '5' }), extentName: 'disk.vmdk' });
    }
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
  });
});

describe('sparse input', () => {
  /** The filesystem type of `path` as `stat -f` names it (ext2/ext3 covers ext4). */
  const fsType = (path: string): string => execFileSync('stat', ['-f', '-c', '%T', path], { encoding: 'utf8' }).trim();
  // Where the kernel can say where data is (SEEK_DATA on ext4 and tmpfs), the map must hold the
  // written pieces and nothing else: reading a hole as zeros would not fail any other test.
  const places = [dir, '/dev/shm'].filter((d) => existsSync(d) && ['ext2/ext3', 'tmpfs'].includes(fsType(d)));

  it('finds data regions without reading holes (ext4 and tmpfs: exactly the written extents)', async () => {
    expect(places.length, `no ext4 or tmpfs directory here (${dir} is ${fsType(dir)})`).toBeGreaterThan(0);
    for (const place of places) {
      const raw = join(place, `kiln-map-${process.pid}.raw`);
      rmSync(raw, { force: true });
      const fd = openSync(raw, 'w');
      writeSync(fd, Buffer.alloc(4096, 1), 0, 4096, MIB);
      writeSync(fd, Buffer.alloc(8192, 2), 0, 8192, 40 * MIB);
      closeSync(fd);
      truncateSync(raw, 64 * MIB);
      try {
        expect(await dataRegions(raw, 64 * MIB), `${place} (${fsType(place)})`).toEqual([
          { offset: MIB, length: 4096 },
          { offset: 40 * MIB, length: 8192 },
        ]);
        // Data at the very end, and a map asked for less than the file holds.
        writeFileSync(raw, Buffer.alloc(512, 3), { flag: 'r+' });
        expect(await dataRegions(raw, 2 * MIB)).toEqual([
          { offset: 0, length: 4096 },
          { offset: MIB, length: 4096 },
        ]);
      } finally {
        rmSync(raw, { force: true });
      }
    }
  });

  it('finds no regions in a file that is all hole', async () => {
    const raw = sparseRaw('hole.raw', 8 * MIB, []);
    expect(await dataRegions(raw, 8 * MIB)).toEqual([]);
  });

  it('copies a sparse file keeping its holes and its bytes', async () => {
    const raw = sparseRaw('copy-src.raw', 32 * MIB, PIECES.slice(0, 3));
    const dst = join(dir, 'copy-dst.raw');
    rmSync(dst, { force: true });
    await copySparse(raw, dst, { mode: 0o600 });
    expect(statSync(dst).size).toBe(32 * MIB);
    expect(statSync(dst).mode & 0o777).toBe(0o600);
    expect(statSync(dst).blocks * 512).toBeLessThan(4 * MIB);
    expect(readFileSync(dst).equals(readFileSync(raw))).toBe(true);
  });

  it('copies many batches exactly while writes overlap reads (reused buffers)', async () => {
    // Data, all-zero stretches (batches that yield nothing) and holes, over 24 read batches.
    const pieces: Array<[number, Buffer]> = [];
    for (let i = 0; i < 96; i++) if (i % 5 !== 0) pieces.push([i * MIB + (i % 3) * 4096, i % 7 === 0 ? Buffer.alloc(MIB) : randomBytes(MIB - 8192)]);
    const raw = sparseRaw('overlap-src.raw', 96 * MIB, pieces);
    for (const [name, write] of [
      ['overlap-dst.raw', (o: string) => copySparse(raw, o)],
      ['overlap.vhd', (o: string) => writeFixedVhd(raw, o, 96 * MIB, { identity })],
      ['overlap-dyn.vhd', (o: string) => writeDynamicVhd(raw, o, 96 * MIB, { identity })],
      ['overlap.vmdk', (o: string) => writeStreamOptimizedVmdk(raw, o, { identity, compressionLevel: 1 })],
    ] as const) {
      const out = join(dir, name);
      rmSync(out, { force: true });
      await write(out);
      await expectSameDisk(await openDiskImage(out), raw);
    }
  });

  it('streams every byte of a sparse file, holes as zeros', async () => {
    const raw = sparseRaw('chunks.raw', 20 * MIB + 1000, PIECES.slice(0, 3));
    const parts: Buffer[] = [];
    for await (const c of sparseFileChunks(raw, 20 * MIB + 1000)) parts.push(Buffer.from(c));
    expect(Buffer.concat(parts).equals(readFileSync(raw))).toBe(true);
  });

  it('opens each format through openDiskImage', async () => {
    const raw = sparseRaw('any.raw', 4 * MIB, [[0, Buffer.from('hello')]]);
    const vhd = join(dir, 'any.vhd');
    const vmdk = join(dir, 'any.vmdk');
    for (const o of [vhd, vmdk]) rmSync(o, { force: true });
    await writeDynamicVhd(raw, vhd, 4 * MIB, { identity });
    await writeStreamOptimizedVmdk(raw, vmdk, { identity });
    for (const p of [raw, vhd, vmdk]) await expectSameDisk(await openDiskImage(p), raw);
  });
});

describe('writing an output', () => {
  it('a write stopped by a quota says so, naming the output, and leaves no partial file', async () => {
    const out = mkdtempSync(join(dir, 'quota-'));
    const target = join(out, 'disk.vhd');
    const quota = Object.assign(new Error('EDQUOT: disk quota exceeded, write'), { code: 'EDQUOT' });
    const written = writeAtomically(target, async (part) => {
      writeFileSync(part, 'half a disk');
      throw quota;
    });
    await expect(written).rejects.toThrow(`could not write ${target}: the disk quota for ${out} is used up (the partial output was removed); free some space or write elsewhere`);
    expect(readdirSync(out)).toEqual([]);
  });
});

function writeWhole(path: string, data: Buffer): void {
  const fd = openSync(path, 'w');
  writeSync(fd, data);
  closeSync(fd);
}
