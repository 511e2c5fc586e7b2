/**
 * Writing a layer: entries → tar bytes → (diff id digest) → compression → (blob digest) → a blob
 * in a layout. File bytes are read straight into 1 MiB output buffers, so a layer of any size
 * streams through a few MiB of memory, and both digests are known when the last byte is written.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { encodeHeader, END_OF_ARCHIVE, padding } from '../tar/header.js';
import { zstdBackend, zstdCommandToFile } from '../zstd.js';
import { BufferPool } from './buffer-pool.js';
import { compress, type Compression } from './compression.js';
import { Digester, tap } from './digest.js';
import type { LayerEntry } from './fs-diff.js';
import type { OciLayout } from './layout.js';
import { MEDIA, type Descriptor } from './media.js';

const OUT = 1 << 20;
/** Files up to this size are read with one blocking call: cheaper than a thread-pool round trip. */
const SMALL_FILE = 64 * 1024;

/**
 * Where the 1 MiB output buffers come from: `reuse` has one serve the whole archive (the
 * consumer must be done with a chunk before it asks for the next, true of the gzip and
 * uncompressed paths), a pool takes them back once the consumer has written them (the zstd
 * path, whose pipe queues several), and `fresh` gives each chunk its own memory.
 */
export type TarBuffers = 'reuse' | 'fresh' | BufferPool;

/** Gathers header and data bytes into 1 MiB buffers, each handed on once full. */
class OutputBuffer {
  buf: Buffer;
  fill = 0;
  constructor(private readonly buffers: TarBuffers) {
    this.buf = this.next();
  }
  private next(): Buffer {
    return this.buffers instanceof BufferPool ? this.buffers.take() : Buffer.allocUnsafe(OUT);
  }
  get free(): number {
    return OUT - this.fill;
  }
  *write(b: Buffer): Generator<Buffer> {
    let off = 0;
    while (off < b.length) {
      const n = Math.min(this.free, b.length - off);
      b.copy(this.buf, this.fill, off, off + n);
      this.fill += n;
      off += n;
      if (this.fill === OUT) yield this.take();
    }
  }
  take(): Buffer {
    const out = this.buf.subarray(0, this.fill);
    if (this.buffers !== 'reuse') this.buf = this.next();
    this.fill = 0;
    return out;
  }
}

function shrank(path: string, size: number, got: number): Error {
  return new Error(`${path} changed size while the layer was written (${size} bytes expected, ${got} read)`);
}

/**
 * The tar archive of `entries`, as a stream of buffers. With `reuse`, each buffer is only valid
 * until the next one is asked for; with a pool, until the consumer gives it back.
 */
export async function* tarBytes(entries: AsyncIterable<LayerEntry>, signal?: AbortSignal, buffers: TarBuffers = 'fresh'): AsyncGenerator<Buffer> {
  const out = new OutputBuffer(buffers);
  for await (const e of entries) {
    signal?.throwIfAborted();
    yield* out.write(encodeHeader(e));
    if (e.type !== 'file' || e.size === 0 || !e.source) continue;
    if (e.size <= SMALL_FILE) {
      const fd = openSync(e.source, 'r');
      try {
        let got = 0;
        while (got < e.size) {
          if (out.free === 0) yield out.take();
          const n = readSync(fd, out.buf, out.fill, Math.min(out.free, e.size - got), got);
          if (n === 0) throw shrank(e.source, e.size, got);
          out.fill += n;
          got += n;
        }
      } finally {
        closeSync(fd);
      }
    } else {
      const fh = await open(e.source, 'r');
      try {
        let got = 0;
        while (got < e.size) {
          if (out.free === 0) yield out.take();
          const { bytesRead } = await fh.read(out.buf, out.fill, Math.min(out.free, e.size - got), got);
          if (bytesRead === 0) throw shrank(e.source, e.size, got);
          out.fill += bytesRead;
          got += bytesRead;
        }
      } finally {
        await fh.close();
      }
    }
    if (out.free === 0) yield out.take();
    yield* out.write(padding(e.size));
  }
  yield* out.write(END_OF_ARCHIVE);
  if (out.fill > 0) yield out.take();
}

export interface WrittenLayer {
  descriptor: Descriptor;
  /** Digest of the uncompressed tar: the config's rootfs.diff_ids entry. */
  diffId: string;
}

export function layerMediaType(c: Compression): string {
  return c === 'gzip' ? MEDIA.ociLayerGzip : c === 'zstd' ? MEDIA.ociLayerZstd : MEDIA.ociLayer;
}

/** Writes `entries` as one compressed layer blob into `layout`. */
export async function writeLayer(
  layout: OciLayout,
  entries: AsyncIterable<LayerEntry>,
  opts: { compression: Compression; level?: number; signal?: AbortSignal; onProgress?: (uncompressed: number) => void },
): Promise<WrittenLayer> {
  const diff = new Digester();
  // The zstd command writes the blob itself (only its digest is computed here), and its pipe
  // queues chunks: their buffers come back once written. node:zlib's zstd stream says nothing of
  // when it is done with a chunk, so it gets fresh ones; gzip and none are done at once.
  const pool = opts.compression === 'zstd' && zstdBackend() === 'command' ? new BufferPool(OUT) : undefined;
  const raw = tap(tarBytes(entries, opts.signal, pool ?? (opts.compression === 'zstd' ? 'fresh' : 'reuse')), diff);
  const counted = opts.onProgress ? progress(raw, diff, opts.onProgress) : raw;
  const blob = pool
    ? await layout.putBlobWrittenBy(async (tmp) => {
        const d = new Digester();
        await zstdCommandToFile(counted, tmp, { level: opts.level, written: (b) => pool.give(b), onOutput: (c) => d.update(c), signal: opts.signal });
        return { digest: d.digest(), size: d.size };
      })
    : await layout.putBlob(compress(counted, opts.compression, opts.level), { signal: opts.signal });
  return { descriptor: { mediaType: layerMediaType(opts.compression), digest: blob.digest, size: blob.size }, diffId: diff.digest() };
}

async function* progress(src: AsyncIterable<Buffer>, d: Digester, report: (n: number) => void): AsyncGenerator<Buffer> {
  let last = 0;
  for await (const c of src) {
    if (d.size - last >= 16 * OUT) {
      last = d.size;
      report(d.size);
    }
    yield c;
  }
  report(d.size);
}
