/**
 * gzip on several cores, as pigz does and as Packer's pgzip does: the input is cut into blocks,
 * each block is deflated on libuv's thread pool (zlib's async API) with the previous block's
 * last 32 KiB as its dictionary, non-final blocks end in a sync flush (byte-aligned), so the
 * pieces concatenate into one ordinary deflate stream inside one gzip member. Any gunzip reads
 * it. Single-threaded zlib is about three times slower than Packer on a 2-core machine.
 */
import { Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import { promisify } from 'node:util';

const deflateRaw = promisify(zlib.deflateRaw) as (buf: Buffer, options: zlib.ZlibOptions) => Promise<Buffer>;

const BLOCK = 1 << 20;
const WINDOW = 32 * 1024;
/** gzip header: magic, deflate, no flags, mtime 0, no extra flags, OS unix (what zlib writes). */
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03]);

export function parallelGzipAvailable(): boolean {
  return typeof zlib.crc32 === 'function';
}

export class ParallelGzip extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private dictionary: Buffer | undefined;
  /** Blocks being compressed, oldest first; output keeps input order. */
  private readonly inFlight: Array<Promise<Buffer>> = [];
  private crc = 0;
  private size = 0;
  private headerSent = false;

  constructor(
    private readonly level: number,
    private readonly parallel: number,
  ) {
    super();
  }

  private submit(block: Buffer, last: boolean): void {
    const options: zlib.ZlibOptions = { level: this.level, ...(this.dictionary && { dictionary: this.dictionary }), ...(!last && { finishFlush: zlib.constants.Z_SYNC_FLUSH }) };
    const job = deflateRaw(block, options);
    // A failure is reported when the job's turn comes; until then it must not count as unhandled.
    job.catch(() => undefined);
    this.inFlight.push(job);
    this.dictionary = block.length >= WINDOW ? block.subarray(block.length - WINDOW) : Buffer.concat([this.dictionary ?? Buffer.alloc(0), block]).subarray(-WINDOW);
  }

  private async drain(keep: number): Promise<void> {
    if (!this.headerSent) {
      this.push(HEADER);
      this.headerSent = true;
    }
    while (this.inFlight.length > keep) this.push(await this.inFlight.shift()!);
  }

  private takeBlock(): Buffer {
    const all = Buffer.concat(this.pending, this.pendingBytes);
    const block = all.subarray(0, BLOCK);
    const rest = all.subarray(BLOCK);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    return block;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.crc = zlib.crc32(chunk, this.crc);
    this.size += chunk.length;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const work = async () => {
      while (this.pendingBytes > BLOCK) {
        this.submit(this.takeBlock(), false);
        // Back-pressure: at most `parallel` blocks compress at once.
        await this.drain(this.parallel - 1);
      }
    };
    work().then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    const work = async () => {
      while (this.pendingBytes > BLOCK) this.submit(this.takeBlock(), false);
      this.submit(Buffer.concat(this.pending, this.pendingBytes), true);
      this.pending = [];
      this.pendingBytes = 0;
      await this.drain(0);
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(this.crc >>> 0, 0);
      trailer.writeUInt32LE(this.size % 2 ** 32, 4);
      this.push(trailer);
    };
    work().then(() => done(), done);
  }
}
