/**
 * Hashing artifact files: each file is read once, in chunks, and every chunk goes to all the
 * requested hashes, so asking for md5 and sha512 of a 20 GB disk costs one read, not two.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export const CHECKSUM_TYPES = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
export type ChecksumType = (typeof CHECKSUM_TYPES)[number];

/** Hex digests of `path`, one per requested type. */
export async function hashFile(path: string, types: readonly ChecksumType[], signal?: AbortSignal): Promise<Map<ChecksumType, string>> {
  const hashes = new Map<ChecksumType, Hash>(types.map((t) => [t, createHash(t)]));
  const stream = createReadStream(path, { highWaterMark: 1 << 20, signal });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    for (const h of hashes.values()) h.update(chunk);
  }
  return new Map([...hashes].map(([t, h]) => [t, h.digest('hex')]));
}
