/**
 * kiln's zstd streams (node:zlib where it has zstd, else the zstd command), checked against the
 * real zstd command: what kiln writes decompresses with `zstd -d`, the bytes do not depend on how
 * the input arrives or on zstd's thread count, a reader that stops reading holds the writer back,
 * and an abandoned stream leaves no zstd process behind.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable, type Duplex } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdBackend, zstdCommandToFile, zstdCompressStream, zstdDecompressStream } from '../../../src/formats/zstd.js';
import { skipWithout, ZSTD } from '../../helpers/components.js';

const missing = skipWithout(ZSTD);

/** 24 MiB, half random and half text: several of zstd's multi-threading jobs at level 3. */
const INPUT = (() => {
  const parts: Buffer[] = [];
  for (let i = 0; i < 24; i++) parts.push(i % 2 === 0 ? randomBytes(1 << 20) : Buffer.from(`line ${i} of a layer\n`.repeat(60000).slice(0, 1 << 20)));
  return Buffer.concat(parts);
})();

function chunks(data: Buffer, size: number): Readable {
  const out: Buffer[] = [];
  for (let off = 0; off < data.length; off += size) out.push(data.subarray(off, off + size));
  return Readable.from(out);
}

async function through(data: Readable, stream: Duplex): Promise<Buffer> {
  const [, out] = await Promise.all([pipeline(data, stream), buffer(stream)]);
  return out;
}

/** zstd processes started by this test process. */
function zstdChildren(): string {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-x', 'zstd'], { encoding: 'utf8' }).trim();
  } catch {
    return ''; // pgrep exits 1 when nothing matches
  }
}

describe.skipIf(missing)('zstd streams', () => {
  it('compress: zstd -d gives the input back, and kiln reads it back too', async () => {
    const z = await through(chunks(INPUT, 1 << 16), zstdCompressStream());
    expect(z.subarray(0, 4).toString('hex')).toBe('28b52ffd');
    expect(execFileSync('zstd', ['-q', '-d', '-c'], { input: z, maxBuffer: 1 << 26 }).equals(INPUT)).toBe(true);
    expect((await through(chunks(z, 4096), zstdDecompressStream())).equals(INPUT)).toBe(true);
  });

  it('gives the same bytes however the input is cut, at any zstd thread count', async () => {
    const a = await through(chunks(INPUT, 1 << 20), zstdCompressStream(3));
    const b = await through(chunks(INPUT, 7777), zstdCompressStream(3));
    expect(b.equals(a)).toBe(true);
    // The command's multi-threaded mode cuts jobs by level, not by thread count: -T1 … -T8 agree.
    const cli = (threads: string) => execFileSync('zstd', ['-q', '-c', '-3', threads], { input: INPUT, maxBuffer: 1 << 26 });
    const t1 = cli('-T1');
    expect(cli('-T2').equals(t1)).toBe(true);
    expect(cli('-T8').equals(t1)).toBe(true);
    // kiln runs that command (with -T set to the core count) when node:zlib has no zstd.
    if (zstdBackend() === 'command') expect(a.equals(t1)).toBe(true);
  });

  it('higher levels (with --ultra past 19) still round trip', async () => {
    const small = INPUT.subarray(0, 1 << 20);
    const z = await through(chunks(small, 1 << 16), zstdCompressStream(20));
    expect(execFileSync('zstd', ['-q', '-d', '-c'], { input: z }).equals(small)).toBe(true);
  });

  it('corrupt input fails decompression with zstd\'s own words', async () => {
    const z = await through(chunks(INPUT.subarray(0, 1 << 20), 1 << 16), zstdCompressStream());
    z.fill(0x55, 100, 4000);
    const failed = through(chunks(z, 1 << 16), zstdDecompressStream());
    if (zstdBackend() === 'command') await expect(failed).rejects.toThrow(/^zstd decompression: zstd exited with status 1: .*(Corrupted|Data corruption|error)/is);
    else await expect(failed).rejects.toThrow();
  });

  it('a reader that stops reading holds the writer back', async () => {
    const block = randomBytes(1 << 20); // incompressible: the output is as large as the input
    let produced = 0;
    async function* endless(): AsyncGenerator<Buffer> {
      for (;;) {
        produced += block.length;
        yield block;
      }
    }
    const stream = zstdCompressStream(1);
    const src = Readable.from(endless());
    src.pipe(stream);
    await sleep(1500);
    // Pipe buffers and zstd's jobs in flight, nothing like the gigabytes an unbounded writer queues.
    expect(produced).toBeLessThan(32 << 20);
    stream.destroy();
    src.destroy();
  });

  it('an abandoned stream leaves no zstd process behind', async () => {
    const stream = zstdCompressStream();
    const failed = new Promise<Error>((resolve) => stream.on('error', resolve));
    stream.write(INPUT.subarray(0, 1 << 20));
    await sleep(200);
    if (zstdBackend() === 'command') expect(zstdChildren()).not.toBe('');
    stream.destroy(new Error('Build was cancelled.'));
    expect((await failed).message).toBe('Build was cancelled.');
    for (let i = 0; i < 50 && zstdChildren() !== ''; i++) await sleep(20);
    expect(zstdChildren()).toBe('');
  });
});

describe.skipIf(missing)('zstd command writing a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-zstd-file-'));
  const sourceOf = async function* (data: Buffer, size: number, fail?: Error): AsyncGenerator<Buffer> {
    for (let off = 0; off < data.length; off += size) {
      if (fail && off >= data.length / 2) throw fail;
      yield data.subarray(off, off + size);
      await sleep(0);
    }
  };

  it('writes what the stream would, hands every byte of the file to onOutput, and gives each chunk back', async () => {
    const path = join(dir, 'out.zst');
    const seen: Buffer[] = [];
    let given = 0;
    const size = await zstdCommandToFile(sourceOf(INPUT, 1 << 20), path, { onOutput: (c) => seen.push(Buffer.from(c)), written: () => given++ });
    const file = readFileSync(path);
    expect(size).toBe(file.length);
    expect(Buffer.concat(seen).equals(file)).toBe(true);
    expect(file.equals(await through(chunks(INPUT, 1 << 20), zstdCompressStream()))).toBe(true);
    expect(execFileSync('zstd', ['-q', '-d', '-c', path], { maxBuffer: 1 << 26 }).equals(INPUT)).toBe(true);
    expect(given).toBe(24);
  });

  it('a failing source fails with its own error, and an abort stops it: no zstd process is left either way', async () => {
    await expect(zstdCommandToFile(sourceOf(INPUT, 1 << 20, new Error('cannot read etc/shadow')), join(dir, 'a.zst'), { onOutput: () => undefined })).rejects.toThrow('cannot read etc/shadow');
    expect(zstdChildren()).toBe('');
    const ac = new AbortController();
    const endless = async function* (): AsyncGenerator<Buffer> {
      for (;;) {
        yield INPUT.subarray(0, 1 << 20);
        await sleep(5);
      }
    };
    const run = zstdCommandToFile(endless(), join(dir, 'b.zst'), { onOutput: () => undefined, signal: ac.signal });
    await sleep(200);
    expect(zstdChildren()).not.toBe('');
    ac.abort(new Error('Build was cancelled.'));
    await expect(run).rejects.toThrow('Build was cancelled.');
    expect(zstdChildren()).toBe('');
    rmSync(dir, { recursive: true, force: true });
  });
});
