/**
 * Which archive and compression an output name asks for, read the way Packer 1.6.6 reads it:
 * the last two `.ext` groups of the (unrendered) output, or of `output + "." + format`. A name
 * with no recognised extension gets a gzipped tarball under that very name, as in Packer.
 *
 * kiln adds zstd (`.zst`, `.tar.zst`) from node:zlib or the zstd command; Packer's zip, lz4, bgzf and xz are
 * reported as unsupported rather than silently written as something else.
 */
import { availableParallelism } from 'node:os';
import * as zlib from 'node:zlib';
import type { Duplex } from 'node:stream';
import { DEFAULT_ZSTD_LEVEL, zstdAvailable, zstdCompressStream, zstdMissingMessage, zstdThreads } from '../../src/sdk/images.js';
import { ParallelGzip, parallelGzipAvailable } from './parallel-gzip.js';

export type Algorithm = 'gzip' | 'zstd' | 'none';

export interface Format {
  /** `tar`: all files in one tar archive; `none`: the single input file itself is compressed. */
  archive: 'tar' | 'none';
  algorithm: Algorithm;
}


const UNSUPPORTED: Record<string, string> = {
  zip: 'zip archives',
  lz4: 'lz4 compression',
  bgzf: 'bgzf compression',
  xz: 'xz compression',
};

/** Packer's pattern: a dot and then lower-case letters and digits. */
const EXTENSION = /\.([a-z0-9]+)/g;

/** The format for `output` (and `format`), or a message saying why kiln cannot write it. */
export function detectFormat(output: string, format?: string): Format | string {
  const subject = format ? `${output}.${format}` : output;
  const exts = [...subject.matchAll(EXTENSION)].map((m) => m[1]!);
  const last = exts.at(-1);
  if (last === undefined) return { archive: 'tar', algorithm: 'gzip' };
  const archive = exts.at(-2) === 'tar' ? 'tar' : 'none';
  if (last === 'tar') return { archive: 'tar', algorithm: 'none' };
  if (last === 'gz') return { archive, algorithm: 'gzip' };
  if (last === 'zst') return zstdAvailable() ? { archive, algorithm: 'zstd' } : zstdMissingMessage(`"${subject}"`);
  const what = UNSUPPORTED[last];
  if (what) return `"${subject}" asks for ${what}, which kiln's compress post-processor does not support; it writes ${supported()}`;
  return { archive: 'tar', algorithm: 'gzip' };
}

function supported(): string {
  const zstd = zstdAvailable() ? '.tar.zst and .zst' : '.tar.zst and .zst (with Node.js 22.15+ or the zstd command)';
  return `.tar.gz (or .tgz, or no extension), .tar, .gz, ${zstd}`;
}

/** Packer's levels: 0 and -1 mean the default, higher than the maximum means the maximum. */
function level(requested: number | undefined, def: number, max: number): number {
  if (requested === undefined || requested <= 0) return def;
  return Math.min(requested, max);
}

/** How many cores `algorithm` uses here, for Packer's "Using … compression with N cores" line. */
export function coresFor(algorithm: Algorithm): number {
  if (algorithm === 'zstd') return zstdThreads();
  return algorithm === 'gzip' && parallelGzipAvailable() ? availableParallelism() : 1;
}

/** The compressing stream for `algorithm`, or undefined for none. */
export function compressor(algorithm: Algorithm, compressionLevel: number | undefined): Duplex | undefined {
  switch (algorithm) {
    case 'none':
      return undefined;
    case 'gzip': {
      const l = level(compressionLevel, 6, 9);
      // One block more than cores keeps every core busy while finished blocks are written out.
      return parallelGzipAvailable() ? new ParallelGzip(l, availableParallelism() + 1) : zlib.createGzip({ level: l, chunkSize: 1 << 16 });
    }
    case 'zstd':
      return zstdCompressStream(level(compressionLevel, DEFAULT_ZSTD_LEVEL, 22));
  }
}
