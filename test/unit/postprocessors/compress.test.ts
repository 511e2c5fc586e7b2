import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import plugin, { BUILDER_ID } from '../../../plugins/postprocessor-compress/index.js';
import { detectFormat } from '../../../plugins/postprocessor-compress/format.js';
import { ParallelGzip } from '../../../plugins/postprocessor-compress/parallel-gzip.js';
import { encodeTarHeader, paxRecord } from '../../../src/sdk/images.js';
import type { PostProcessorPlugin } from '../../../src/sdk/plugin.js';
import { zstdBackend } from '../../../src/formats/zstd.js';
import { skipWithout, ZSTD } from '../../helpers/components.js';
import { fileArtifact, runPostProcessor } from '../../helpers/postprocessor-context.js';
import { readTar } from '../../helpers/tar-read.js';

const compress = plugin.postProcessors[0] as PostProcessorPlugin<unknown>;

let dir: string;
let cwd: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-compress-test-'));
  cwd = process.cwd();
  process.chdir(dir);
});
afterEach(() => {
  process.chdir(cwd);
  rmSync(dir, { recursive: true, force: true });
});

function x(raw: Record<string, unknown>, files: string[], signal?: AbortSignal) {
  return runPostProcessor(compress, raw, fileArtifact(files), { sourceName: 'x', builderType: 'file', ...(signal && { signal }) });
}

/** Nothing but `expected` in the directory: no partial archive left behind. */
function onlyFiles(...expected: string[]) {
  expect(readdirSync('.').sort()).toEqual(expected.sort());
}

describe('format detection (Packer 1.6.6 rules)', () => {
  it.each([
    ['packer_{{.BuildName}}_{{.BuilderType}}', 'tar', 'gzip'],
    ['out.tar.gz', 'tar', 'gzip'],
    ['out.tgz', 'tar', 'gzip'],
    ['out.img', 'tar', 'gzip'],
    ['out.TAR.GZ', 'tar', 'gzip'],
    ['out.tar', 'tar', 'none'],
    ['out.gz', 'none', 'gzip'],
    ['disk.raw.gz', 'none', 'gzip'],
    ['v1.2/out.tar.gz', 'tar', 'gzip'],
  ])('%s → %s + %s', (output, archive, algorithm) => {
    expect(detectFormat(output)).toEqual({ archive, algorithm });
  });

  it('honours format as an extra extension', () => {
    expect(detectFormat('out', 'tar.gz')).toEqual({ archive: 'tar', algorithm: 'gzip' });
    expect(detectFormat('out', 'gz')).toEqual({ archive: 'none', algorithm: 'gzip' });
  });

  it.each(['out.zip', 'out.tar.lz4', 'out.lz4', 'out.bgzf', 'out.tar.xz'])('%s is reported as not supported, listing what is', (output) => {
    expect(detectFormat(output)).toMatch(/does not support; it writes \.tar\.gz .*\.tar, \.gz, \.tar\.zst and \.zst/);
  });

  it.skipIf(skipWithout(ZSTD))('zstd: written with node:zlib or else the zstd command; with neither, an error naming the package', () => {
    expect(detectFormat('out.tar.zst')).toEqual({ archive: 'tar', algorithm: 'zstd' });
    expect(detectFormat('disk.img.zst')).toEqual({ archive: 'none', algorithm: 'zstd' });
    const path = process.env.PATH;
    process.env.PATH = dir; // a folder with no zstd in it
    try {
      const f = detectFormat('out.tar.zst');
      if (zstdBackend() === 'zlib') expect(f).toEqual({ archive: 'tar', algorithm: 'zstd' });
      else expect(f).toBe(`"out.tar.zst" needs zstd: node:zlib has it from Node.js 22.15 (or 23.8) on, and this is Node.js ${process.version}; on older Node.js kiln runs the zstd command, which is not on PATH. Install it (Debian/Ubuntu: apt-get install zstd), use gzip, or run kiln on a newer Node.js`);
    } finally {
      process.env.PATH = path;
    }
  });

  it('rejects unsupported formats and unknown options when the config is checked', () => {
    const r = compress.schema.safeParse({ output: 'a.zip' });
    expect(r.error?.issues[0]).toMatchObject({ path: ['output'], message: expect.stringMatching(/zip archives/) });
    expect(compress.schema.safeParse({ output: 'a', format: 'lz4' }).error?.issues[0]?.path).toEqual(['format']);
    expect(compress.schema.safeParse({ outptu: 'a.tar' }).error?.issues[0]?.code).toBe('unrecognized_keys');
    expect(compress.schema.safeParse({ compression_level: -2 }).success).toBe(false);
    expect(compress.schema.safeParse({ compression_level: 1.5 }).success).toBe(false);
    expect(compress.schema.parse({ compression_level: '9' })).toMatchObject({ compression_level: 9 });
  });
});

describe('tar writer', () => {
  it('writes PAX records whose length prefix counts the whole record', () => {
    for (const v of ['', 'x', 'x'.repeat(90), 'é'.repeat(500)]) {
      const r = paxRecord('path', v);
      expect(Buffer.byteLength(r)).toBe(Number(r.slice(0, r.indexOf(' '))));
    }
  });

  it('uses PAX for sizes of 8 GiB and more, ids too large and long owner names', () => {
    const size = 9 * 1024 ** 3;
    const blocks = encodeTarHeader({ name: 'disk.raw', type: 'file', mode: 0o644, uid: 3_000_000, gid: 7, size, mtime: 0, uname: 'u'.repeat(40), gname: 'g' });
    const [entry] = readTar(Buffer.concat([blocks, Buffer.alloc(1024)]));
    expect(entry).toMatchObject({ name: 'disk.raw', size, uid: 3_000_000, gid: 7, uname: 'u'.repeat(40), gname: 'g' });
    expect(entry!.pax).toEqual({ size: String(size), uid: '3000000', uname: 'u'.repeat(40) });
  });
});

describe('parallel gzip', () => {
  const MiB = 1 << 20;
  const compressible = (n: number) => Buffer.from(Array.from({ length: Math.ceil(n / 40) }, (_, i) => `line ${i} of some text.\n`.padEnd(40, '.')).join('')).subarray(0, n);

  it.each([
    ['empty', Buffer.alloc(0)],
    ['one byte', Buffer.from('x')],
    ['exactly one block', compressible(MiB)],
    ['several blocks of text, odd size', compressible(3 * MiB + 12345)],
    ['random bytes', randomBytes(2 * MiB + 1)],
  ])('%s: one gzip member that gunzip reads back', async (_name, data) => {
    // Uneven chunks, as a tar stream gives them.
    const chunks: Buffer[] = [];
    for (let i = 0, n = 1; i < data.length; i += n, n = (n * 7) % 300_001 || 1) chunks.push(data.subarray(i, i + n));
    const gz = await buffer(Readable.from(chunks).pipe(new ParallelGzip(6, 3)));
    expect(gz.subarray(0, 3)).toEqual(Buffer.from([0x1f, 0x8b, 0x08]));
    expect(gunzipSync(gz).equals(data)).toBe(true);
  });

  it('compresses text about as well as single-threaded gzip (the dictionary carries over blocks)', async () => {
    const data = compressible(4 * MiB);
    const parallel = await buffer(Readable.from([data]).pipe(new ParallelGzip(6, 3)));
    expect(parallel.length).toBeLessThan(zlib.gzipSync(data, { level: 6 }).length * 1.02);
  });
});

describe('compress post-processor', () => {
  it("defaults to a gzipped tarball named packer_<source>_<builder type> with Packer's entries", async () => {
    writeFileSync('out.txt', 'hello');
    chmodSync('out.txt', 0o640);
    const { result, recorded } = await x({}, ['out.txt']);
    expect(recorded.ui.map((u) => u.text)).toEqual([expect.stringMatching(/^Using gzip compression with \d+ cores? for packer_x_file$/), 'Tarring packer_x_file with gzip', 'Archive packer_x_file completed']);
    expect(result).toMatchObject({ keepInput: false, artifact: { builderId: BUILDER_ID, id: '', files: ['packer_x_file'], description: 'compressed artifacts in: packer_x_file' } });
    const entries = readTar(gunzipSync(readFileSync('packer_x_file')));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ name: 'out.txt', mode: 0o640, size: 5, mtime: 0, type: '0', magic: 'ustar\u000000', uid: process.getuid!(), pax: {} });
    expect(entries[0]!.data.toString()).toBe('hello');
    expect(recorded.resources).toEqual([{ kind: 'compress.partial', data: { path: expect.stringMatching(/\.packer_x_file\.kiln-[0-9a-f]+\.part$/) }, released: true }]);
    onlyFiles('out.txt', 'packer_x_file');
  });

  it('archives several files by base name, with PAX names for long and non-ASCII ones', async () => {
    const long = `${'l'.repeat(150)}.img`;
    writeFileSync(long, randomBytes(70_000));
    writeFileSync('ünïcödé.txt', 'u');
    writeFileSync('empty', '');
    const { result } = await x({ output: 'out/{{.BuildName}}-{{.BuilderType}}.tar' }, [join(dir, long), 'ünïcödé.txt', 'empty']);
    expect(result.artifact.files).toEqual(['out/x-file.tar']);
    const entries = readTar(readFileSync('out/x-file.tar'));
    expect(entries.map((e) => [e.name, e.size])).toEqual([
      [long, 70_000],
      ['ünïcödé.txt', 1],
      ['empty', 0],
    ]);
    expect(entries[0]!.data.equals(readFileSync(long))).toBe(true);
    expect(entries[0]!.pax.path).toBe(long);
  });

  it('compresses one file with .gz, at the requested level (levels above 9 mean 9)', async () => {
    const data = Buffer.from('abc'.repeat(100_000));
    writeFileSync('disk.raw', data);
    const { recorded } = await x({ output: 'disk.raw.gz', compression_level: 99 }, ['disk.raw']);
    expect(gunzipSync(readFileSync('disk.raw.gz')).equals(data)).toBe(true);
    expect(recorded.ui.map((u) => u.text)).toContain('Archiving disk.raw with gzip');
  });

  it('refuses several files for a single-file format, as Packer does', async () => {
    writeFileSync('a', 'a');
    writeFileSync('b', 'b');
    await expect(x({ output: 'out.gz' }, ['a', 'b'])).rejects.toThrow('Can only have 1 input file when not using tar (output "out.gz"). Found 2 files: a, b');
    onlyFiles('a', 'b');
  });

  it('removes the partial archive when an input is missing', async () => {
    writeFileSync('a', 'a');
    await expect(x({ output: 'out.tar.gz' }, ['a', 'missing'])).rejects.toThrow(/Unable to create archive out.tar.gz: .*missing/);
    onlyFiles('a');
  });

  it('removes the partial archive when cancelled, and reports the cancellation', async () => {
    writeFileSync('big.bin', randomBytes(48 * 1024 * 1024));
    const ac = new AbortController();
    const pending = x({ output: 'big.tar.gz', compression_level: 9 }, ['big.bin'], ac.signal);
    setTimeout(() => ac.abort(new Error('Build was cancelled.')), 100);
    await expect(pending).rejects.toThrow('Build was cancelled.');
    onlyFiles('big.bin');
  });

  it.skipIf(skipWithout(ZSTD))('.zst and .tar.zst: zstd -d gives the input back', async () => {
    const data = Buffer.concat([randomBytes(3 << 20), Buffer.alloc(3 << 20, 'kiln ')]);
    writeFileSync('disk.img', data);
    writeFileSync('b.txt', 'second file\n');
    const { recorded } = await x({ output: 'disk.img.zst', compression_level: 19 }, ['disk.img']);
    const threads = zstdBackend() === 'command' ? availableParallelism() : 1;
    expect(recorded.ui.map((u) => u.text)).toEqual([`Using zstd compression with ${threads} ${threads === 1 ? 'core' : 'cores'} for disk.img.zst`, 'Archiving disk.img with zstd', 'Archive disk.img.zst completed']);
    expect(execFileSync('zstd', ['-q', '-d', '-c', 'disk.img.zst'], { maxBuffer: 1 << 25 }).equals(data)).toBe(true);
    await x({ output: 'all.tar.zst' }, ['disk.img', 'b.txt']);
    const entries = readTar(execFileSync('zstd', ['-q', '-d', '-c', 'all.tar.zst'], { maxBuffer: 1 << 25 }));
    expect(entries.map((e) => e.name)).toEqual(['disk.img', 'b.txt']);
    expect(entries[0]!.data.equals(data)).toBe(true);
    expect(entries[1]!.data.toString()).toBe('second file\n');
    onlyFiles('disk.img', 'b.txt', 'disk.img.zst', 'all.tar.zst');
  });

  it.skipIf(skipWithout(ZSTD))('a cancelled .zst leaves no partial archive and no zstd process', async () => {
    writeFileSync('big.bin', randomBytes(64 << 20));
    const ac = new AbortController();
    const pending = x({ output: 'big.bin.zst', compression_level: 19 }, ['big.bin'], ac.signal);
    setTimeout(() => ac.abort(new Error('Build was cancelled.')), 300);
    await expect(pending).rejects.toThrow('Build was cancelled.');
    onlyFiles('big.bin');
    const children = (): string => {
      try {
        return execFileSync('pgrep', ['-P', String(process.pid), '-x', 'zstd'], { encoding: 'utf8' }).trim();
      } catch {
        return ''; // pgrep exits 1 when nothing matches
      }
    };
    for (let i = 0; i < 50 && children() !== ''; i++) await new Promise((r) => setTimeout(r, 20));
    expect(children()).toBe('');
  });

  it('destroying its artifact removes the archive', async () => {
    writeFileSync('a', 'a');
    const { result } = await x({ output: 'a.tar' }, ['a']);
    await result.artifact.destroy?.();
    expect(existsSync('a.tar')).toBe(false);
  });

  it('the reaper removes only partial archives', async () => {
    const reap = plugin.reapers['compress.partial']!;
    const part = join(dir, '.x.tar.gz.kiln-0a1b2c3d.part');
    writeFileSync(part, 'partial');
    await reap({ path: part }, new AbortController().signal);
    expect(existsSync(part)).toBe(false);
    writeFileSync('keep.tar.gz', 'real');
    await expect(reap({ path: join(dir, 'keep.tar.gz') }, new AbortController().signal)).rejects.toThrow(/refusing/);
    expect(existsSync('keep.tar.gz')).toBe(true);
  });
});
