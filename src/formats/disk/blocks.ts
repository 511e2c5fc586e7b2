/**
 * Reading a raw disk image as fixed-size blocks, skipping what holds no data: holes (known from
 * the data map, never read) and blocks that read as all zeros. Reads are batched (4 MiB unless
 * asked otherwise) and every batch gets its own buffer, so a consumer may keep a block while it
 * compresses or writes it; a kept block keeps its whole batch alive, so memory is bounded by
 * blocks in flight × batch size.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { dataRegions, type Region } from './data-map.js';

export interface DataBlock {
  /** Block number: `offset / blockSize`. */
  index: number;
  offset: number;
  /** Which read the block came from (0, 1, …): blocks of one batch share a buffer. */
  batch: number;
  /** With a ring of buffers: `data` stays valid until `p` settles, even after moving on. */
  hold(p: Promise<unknown>): void;
  /** `blockSize` bytes, fewer for the last block of an image that does not end on a block boundary. */
  data: Buffer;
}

export interface BlockReadOptions {
  signal?: AbortSignal;
  /** Called with the number of bytes of the image covered so far (holes included). */
  onProgress?: (done: number) => void;
}

const BATCH = 4 << 20;
let zeros = Buffer.alloc(BATCH);

/** Whether `buf` holds only zero bytes (memcmp against a shared zero buffer). */
export function isZero(buf: Buffer): boolean {
  if (buf.length > zeros.length) zeros = Buffer.alloc(buf.length);
  return buf.equals(zeros.subarray(0, buf.length));
}

/** Shared zero bytes for writers that must emit zeros; never written to. */
export function zeroBytes(length: number): Buffer {
  if (length > zeros.length) zeros = Buffer.alloc(length);
  return zeros.subarray(0, length);
}

/** Block index ranges [start, end) that overlap any region, merged. */
export function blockRanges(regions: readonly Region[], blockSize: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const r of regions) {
    const start = Math.floor(r.offset / blockSize);
    const end = Math.ceil((r.offset + r.length) / blockSize);
    const last = ranges.at(-1);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else ranges.push([start, end]);
  }
  return ranges;
}

export interface DataBlockOptions extends BlockReadOptions {
  /** Defaults to the file's data map. */
  regions?: readonly Region[];
  /** Bytes per read (4 MiB by default). */
  batchBytes?: number;
  /**
   * Reuse this many read buffers in turn instead of allocating one per read, so memory stays flat
   * rather than waiting for the garbage collector. A buffer is read into again only when the
   * consumer has moved past its blocks and every promise given to `hold` for them has settled.
   */
  ring?: number;
}

/** The blocks of the first `size` bytes of `file` that hold any non-zero byte, in order. */
export async function* dataBlocks(file: FileHandle, path: string, size: number, blockSize: number, opts: DataBlockOptions = {}): AsyncGenerator<DataBlock> {
  const regions = opts.regions ?? (await dataRegions(path, size));
  const perBatch = Math.max(1, Math.floor((opts.batchBytes ?? BATCH) / blockSize));
  const ring: Buffer[] = [];
  const holds: Array<Array<Promise<unknown>>> = [];
  let batch = 0;
  for (const [start, end] of blockRanges(regions, blockSize)) {
    for (let b = start; b < end; b += perBatch) {
      opts.signal?.throwIfAborted();
      const count = Math.min(perBatch, end - b);
      const offset = b * blockSize;
      const length = Math.min(count * blockSize, size - offset);
      if (length <= 0) break;
      let buf: Buffer;
      let pending: Array<Promise<unknown>> | undefined;
      if (opts.ring) {
        const slot = batch % opts.ring;
        // Whatever still uses this buffer (a write, a compression) must finish first.
        await Promise.allSettled(holds[slot] ?? []);
        pending = holds[slot] = [];
        ring[slot] ??= Buffer.allocUnsafe(perBatch * blockSize);
        buf = ring[slot].subarray(0, length);
      } else buf = Buffer.allocUnsafe(length);
      await readFully(file, buf, offset);
      const hold = (p: Promise<unknown>): void => void pending?.push(p);
      for (let i = 0; i < count; i++) {
        const from = i * blockSize;
        if (from >= length) break;
        const data = buf.subarray(from, Math.min(from + blockSize, length));
        if (!isZero(data)) yield { index: b + i, offset: offset + from, batch, data, hold };
      }
      batch++;
      opts.onProgress?.(offset + length);
    }
  }
  opts.onProgress?.(size);
}

/**
 * The whole content of the first `size` bytes of `file`, in order, as chunks of at most 4 MiB:
 * data read from the file, holes as shared zero buffers that are never read from disk. For
 * consumers that need every byte (a compressor) but should not pay for reading holes.
 */
export async function* sparseChunks(file: FileHandle, path: string, size: number, opts: BlockReadOptions = {}): AsyncGenerator<Buffer> {
  const regions = await dataRegions(path, size);
  let pos = 0;
  const zerosUntil = function* (end: number): Generator<Buffer> {
    while (pos < end) {
      const n = Math.min(BATCH, end - pos);
      pos += n;
      yield zeroBytes(n);
    }
  };
  for (const r of regions) {
    yield* zerosUntil(r.offset);
    const end = r.offset + r.length;
    while (pos < end) {
      opts.signal?.throwIfAborted();
      const n = Math.min(BATCH, end - pos);
      const buf = Buffer.allocUnsafe(n);
      await readFully(file, buf, pos);
      pos += n;
      opts.onProgress?.(pos);
      yield buf;
    }
  }
  yield* zerosUntil(size);
  opts.onProgress?.(size);
}

/** `sparseChunks` of the first `size` bytes of the file at `path`, opening and closing it. */
export async function* sparseFileChunks(path: string, size: number, opts: BlockReadOptions = {}): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    yield* sparseChunks(fh, path, size, opts);
  } finally {
    await fh.close();
  }
}

/** Reads exactly buf.length bytes at `position`; a short file is an error (it changed under us). */
export async function readFully(file: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await file.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${position + done}: the image shrank while it was read`);
    done += bytesRead;
  }
}

/** Writes `parts` one after another from `position` (one writev call when the kernel takes it all). */
export async function writevFully(fh: FileHandle, parts: Buffer[], position: number): Promise<void> {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const { bytesWritten } = await fh.writev(parts, position);
  if (bytesWritten < total) await writeFully(fh, Buffer.concat(parts).subarray(bytesWritten), position + bytesWritten);
}

/** Writes all of buf at `position`. */
export async function writeFully(file: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await file.write(buf, done, buf.length - done, position + done);
    done += bytesWritten;
  }
}
