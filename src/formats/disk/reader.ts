/**
 * Random access to the virtual disk inside an image file, whatever its format: what the tests
 * compare with the source, and what `kiln` uses to check its own outputs.
 */

export interface DiskReader {
  /** `raw`, `vhd-fixed`, `vhd-dynamic`, `vmdk-stream-optimized`. */
  readonly format: string;
  /** Virtual size in bytes. */
  readonly size: number;
  /** Fills `buf` with the virtual disk's bytes from `position` (zeros where nothing is stored). */
  read(buf: Buffer, position: number): Promise<void>;
  close(): Promise<void>;
}

/** The whole virtual disk as chunks of `chunkSize` bytes (the last may be shorter), in order. */
export async function* readAll(reader: DiskReader, chunkSize = 4 << 20): AsyncGenerator<Buffer> {
  for (let pos = 0; pos < reader.size; pos += chunkSize) {
    const buf = Buffer.alloc(Math.min(chunkSize, reader.size - pos));
    await reader.read(buf, pos);
    yield buf;
  }
}
