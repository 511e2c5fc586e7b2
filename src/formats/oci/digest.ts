/** sha256 digests computed while bytes stream past, never over a buffered whole. */
import { createHash, type Hash } from 'node:crypto';

export class Digester {
  private readonly hash: Hash = createHash('sha256');
  size = 0;
  update(chunk: Buffer): void {
    this.hash.update(chunk);
    this.size += chunk.length;
  }
  /** `sha256:<hex>`; call once, at the end. */
  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

/** Passes `src` through unchanged, feeding every chunk to `d`. */
export async function* tap(src: AsyncIterable<Buffer>, d: Digester): AsyncGenerator<Buffer> {
  for await (const chunk of src) {
    d.update(chunk);
    yield chunk;
  }
}

export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** The hex part of a sha256 digest; throws on anything else (it becomes a file name). */
export function digestHex(digest: string): string {
  if (!DIGEST.test(digest)) throw new Error(`"${digest}" is not a sha256 digest`);
  return digest.slice(7);
}
