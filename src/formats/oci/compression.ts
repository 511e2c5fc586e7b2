/**
 * Layer compression. gzip is written the way pigz writes it: the stream is cut into fixed 1 MiB
 * blocks, each block is deflated on libuv's thread pool (several at once) with the previous
 * 32 KiB as its dictionary and ends on a sync flush, and the pieces are joined into one deflate
 * stream behind a fixed 10-byte header (no name, mtime 0, OS "unknown"). Block boundaries depend
 * on the bytes only, so the output is identical run after run and machine after machine.
 * zstd comes from node:zlib (Node 22.15+/23.8+) or else the zstd command (../zstd.ts).
 */
import * as zlib from 'node:zlib';
import { Readable, type Duplex } from 'node:stream';
import { promisify } from 'node:util';
import { zstdCompressStream, zstdDecompressStream } from '../zstd.js';

export { zstdAvailable, zstdMissingMessage } from '../zstd.js';

export type Compression = 'gzip' | 'zstd' | 'none';

const BLOCK = 1 << 20;
const WINDOW = 32 * 1024;
/** Blocks in flight: enough to keep the thread pool (4 threads by default) busy. */
const IN_FLIGHT = 4;
/** Magic, deflate, no flags, mtime 0, no extra flags, OS 255 (unknown): the same everywhere. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);

const deflateRaw = promisify(zlib.deflateRaw) as (buf: Buffer, opts: zlib.ZlibOptions) => Promise<Buffer>;

/**
 * Default gzip level for layers. Measured on a 473 MB rootfs (BENCHMARKS.md): level 3 costs
 * 7.5 CPU-seconds against 12.5 for level 6, for a layer 5 % larger; umoci's Go gzip needs
 * 8.8 CPU-seconds for a layer 3 % larger than kiln's level 6.
 */
export const DEFAULT_GZIP_LEVEL = 3;

/** gzip of `src`, compressed in parallel, deterministic. Level 1–9. */
export async function* parallelGzip(src: AsyncIterable<Buffer> | Iterable<Buffer>, level = DEFAULT_GZIP_LEVEL): AsyncGenerator<Buffer> {
  yield GZIP_HEADER;
  let crc = 0;
  let total = 0;
  let dict: Buffer | undefined;
  const inFlight: Array<Promise<Buffer>> = [];
  // Input blocks are reused once deflated: fresh 1 MiB buffers for every block would pile up as
  // external memory between garbage collections (tens of MB of peak RSS on a 1 GB layer).
  const spare: Buffer[] = [];
  const submit = (data: Buffer, last: boolean): void => {
    // One output chunk per block: the default 16 KiB chunks would cost a main-thread round trip each.
    const opts: zlib.ZlibOptions = { level, chunkSize: BLOCK + (BLOCK >> 3), finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH };
    if (dict) opts.dictionary = dict;
    const p = deflateRaw(data, opts).then((out) => {
      if (data.length === BLOCK) spare.push(data);
      return out;
    });
    p.catch(() => undefined); // awaited in order below; this keeps a later block's failure from going unhandled
    inFlight.push(p);
    // A copy: the block itself goes back to the spares once deflated.
    dict = Buffer.from(data.length >= WINDOW ? data.subarray(data.length - WINDOW) : Buffer.concat([dict ?? Buffer.alloc(0), data]).subarray(-WINDOW));
  };
  let pending: Buffer = Buffer.allocUnsafe(BLOCK);
  let fill = 0;
  for await (const chunk of src) {
    crc = zlib.crc32(chunk, crc);
    total += chunk.length;
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(BLOCK - fill, chunk.length - off);
      chunk.copy(pending, fill, off, off + n);
      fill += n;
      off += n;
      if (fill === BLOCK) {
        submit(pending, false);
        pending = spare.pop() ?? Buffer.allocUnsafe(BLOCK);
        fill = 0;
        while (inFlight.length >= IN_FLIGHT) yield await inFlight.shift()!;
      }
    }
  }
  submit(pending.subarray(0, fill), true);
  while (inFlight.length > 0) yield await inFlight.shift()!;
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(total % 2 ** 32, 4);
  yield trailer;
}

/** `src` through the stream `make` returns, made on first read (the zstd command starts only then). */
async function* through(src: AsyncIterable<Buffer>, make: () => Duplex): AsyncGenerator<Buffer> {
  const t = make();
  const input = Readable.from(src);
  input.on('error', (e) => t.destroy(e));
  // A consumer that stops early (a failed write, an abort) destroys t; the source then stops too,
  // so its files are closed and, for the zstd command, the process is gone.
  t.on('close', () => input.destroy());
  input.pipe(t);
  for await (const chunk of t as AsyncIterable<Buffer>) yield chunk;
}

/** The compressed form of `src`. */
export function compress(src: AsyncIterable<Buffer>, algorithm: Compression, level?: number): AsyncIterable<Buffer> {
  switch (algorithm) {
    case 'none':
      return src;
    case 'gzip':
      return parallelGzip(src, level);
    case 'zstd':
      return through(src, () => zstdCompressStream(level));
  }
}

/** The decompressed form of `src`. */
export function decompress(src: AsyncIterable<Buffer>, algorithm: Compression): AsyncIterable<Buffer> {
  switch (algorithm) {
    case 'none':
      return src;
    case 'gzip':
      return through(src, () => zlib.createGunzip({ chunkSize: 1 << 16 }));
    case 'zstd':
      return through(src, () => zstdDecompressStream());
  }
}
