/**
 * Output buffers handed back once their bytes are gone (written into a pipe). A multi-GB zstd
 * layer then cycles through a few MiB, where a fresh 1 MiB buffer per MiB made garbage
 * collection run every few dozen MiB (190 ms of a 2.6 s, 463 MB layer).
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  /** The memory this pool made: only those buffers are ever taken back. */
  private readonly mine = new WeakSet<ArrayBufferLike>();

  constructor(
    readonly size: number,
    /** Buffers kept for reuse at most; more come and go as usual. */
    private readonly keep = 32,
  ) {}

  take(): Buffer {
    const b = this.free.pop();
    if (b) return b;
    const fresh = Buffer.allocUnsafeSlow(this.size);
    this.mine.add(fresh.buffer);
    return fresh;
  }

  /** Takes back the buffer that `chunk` (all of it or a view at its start) came from. */
  give(chunk: Buffer): void {
    if (!this.mine.has(chunk.buffer) || chunk.byteOffset !== 0 || this.free.length >= this.keep) return;
    this.free.push(Buffer.from(chunk.buffer, 0, this.size));
  }
}
