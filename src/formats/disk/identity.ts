/**
 * The time stamps and unique ids written into disk images. By default they are "now" and random,
 * as other tools write them. For reproducible outputs, SOURCE_DATE_EPOCH fixes the time
 * (reproducible-builds.org's convention) and a seed fixes the ids: the same seed, input and
 * options give byte-identical images.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface ImageIdentity {
  /** Seconds since the Unix epoch. */
  readonly unixTime: number;
  /** 16 bytes with RFC 4122 version and variant bits; `purpose` tells apart ids of one image. */
  uuid(purpose: string): Buffer;
  /** 32 bits for ids that are not UUIDs (a VMDK's CID); never 0xffffffff or 0xfffffffe. */
  id32(purpose: string): number;
}

export interface IdentityOptions {
  /** Makes the ids deterministic. */
  seed?: string;
  /** Defaults to process.env.SOURCE_DATE_EPOCH. */
  sourceDateEpoch?: string;
}

export class IdentityError extends Error {
  override name = 'IdentityError';
}

/** The identity for one output image. */
export function imageIdentity(opts: IdentityOptions = {}): ImageIdentity {
  const epoch = opts.sourceDateEpoch ?? process.env.SOURCE_DATE_EPOCH;
  let unixTime = Math.floor(Date.now() / 1000);
  if (epoch !== undefined && epoch !== '') {
    if (!/^\d+$/.test(epoch)) throw new IdentityError(`SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, not "${epoch}"`);
    unixTime = Number(epoch);
  }
  const seed = opts.seed;
  const bytes = (purpose: string, n: number): Buffer =>
    seed === undefined ? randomBytes(n) : createHash('sha256').update(`kiln-disk-identity\0${seed}\0${purpose}`).digest().subarray(0, n);
  return {
    unixTime,
    uuid(purpose) {
      const b = Buffer.from(bytes(purpose, 16));
      b[6] = (b[6]! & 0x0f) | 0x40;
      b[8] = (b[8]! & 0x3f) | 0x80;
      return b;
    },
    id32(purpose) {
      const v = bytes(`id32:${purpose}`, 4).readUInt32BE(0);
      return v >= 0xfffffffe ? v - 2 : v;
    },
  };
}

/** The usual 8-4-4-4-12 text of a 16-byte UUID. */
export function formatUuid(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
