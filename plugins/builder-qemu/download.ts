/**
 * Getting the ISO or disk image (iso_url / iso_urls) and checking it against iso_checksum, as
 * Packer's download step does: local paths and file:// URLs are used where they are (checked, not
 * copied); http(s) URLs are downloaded once into a cache (PACKER_CACHE_DIR, else
 * ~/.cache/kiln/downloads) under a name derived from the URL and checksum, streamed through the
 * hash, written under a temporary name and renamed only when the checksum matches. The first URL
 * that works wins; each failure is reported.
 *
 * iso_checksum forms: "none", "<type>:<hex>" (md5, sha1, sha256, sha512), a bare hex digest (type
 * from its length), or "file:<url or path>" naming a checksum file (`<hex>  <name>` lines or
 * BSD `SHA256 (<name>) = <hex>`), where the line for the image's file name is used.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { BuildContext } from '../../src/sdk/index.js';

type HashType = 'md5' | 'sha1' | 'sha256' | 'sha512';

/** The ledger kind of a partly downloaded image; its reaper removes nothing not named like one. */
export const PARTIAL_DOWNLOAD_KIND = 'qemu.download';
export const PARTIAL_DOWNLOAD_NAME = /\.kiln-[0-9a-f]{8}\.part$/;
const BY_LENGTH: Record<number, HashType> = { 32: 'md5', 40: 'sha1', 64: 'sha256', 128: 'sha512' };

export interface Checksum {
  type: HashType;
  hex: string;
}

export class ChecksumError extends Error {
  override name = 'ChecksumError';
}

/** Parses iso_checksum; `file:` forms are resolved per URL by `expectedChecksum`. */
export function parseChecksum(spec: string): Checksum | 'none' | { file: string } {
  const s = spec.trim();
  if (s.toLowerCase() === 'none') return 'none';
  if (s.startsWith('file:')) return { file: s.slice(5) };
  const m = /^(?:(md5|sha1|sha256|sha512):)?([0-9a-fA-F]+)$/.exec(s);
  const type = m ? ((m[1] as HashType | undefined) ?? BY_LENGTH[m[2]!.length]) : undefined;
  if (!m || !type || BY_LENGTH[m[2]!.length] !== type) {
    throw new ChecksumError(`iso_checksum "${spec}" is not a checksum: write "sha256:<64 hex digits>", "file:<url of a SHA256SUMS file>" or "none"`);
  }
  return { type, hex: m[2]!.toLowerCase() };
}

/** A local path for `url` when it names a local file (a path or file:// URL), else undefined. */
export function localPath(url: string): string | undefined {
  if (url.startsWith('file://')) return fileURLToPath(url);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return undefined;
  return resolve(url);
}

async function fetchText(url: string, signal: AbortSignal): Promise<string> {
  const local = localPath(url);
  if (local !== undefined) return readFile(local, 'utf8');
  const r = await fetch(url, { signal });
  if (!r.ok) throw new Error(`GET ${url}: HTTP ${r.status}`);
  return r.text();
}

/** The checksum for the image at `url`, reading a checksum file when iso_checksum says `file:`. */
export async function expectedChecksum(spec: string, url: string, signal: AbortSignal): Promise<Checksum | 'none'> {
  const parsed = parseChecksum(spec);
  if (parsed === 'none' || 'type' in parsed) return parsed;
  const text = await fetchText(parsed.file, signal);
  const name = basename(localPath(url) ?? new URL(url).pathname);
  for (const line of text.split('\n')) {
    const gnu = /^([0-9a-fA-F]{32,128})\s+\*?(.+?)\s*$/.exec(line);
    const bsd = /^(MD5|SHA1|SHA256|SHA512)\s*\((.+)\)\s*=\s*([0-9a-fA-F]+)\s*$/i.exec(line);
    const [hex, file] = gnu ? [gnu[1]!, gnu[2]!] : bsd ? [bsd[3]!, bsd[2]!] : [undefined, undefined];
    if (hex === undefined || file === undefined || basename(file.replace(/^\.\//, '')) !== name) continue;
    const type = BY_LENGTH[hex.length];
    if (type) return { type, hex: hex.toLowerCase() };
  }
  throw new ChecksumError(`the checksum file ${parsed.file} has no line for ${name}`);
}

/** Hashes the bytes flowing through. */
class Hasher extends Transform {
  readonly hash;
  constructor(type: HashType) {
    super();
    this.hash = createHash(type);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.hash.update(chunk);
    this.push(chunk);
    cb();
  }
}

export function cacheDir(): string {
  return process.env.PACKER_CACHE_DIR ? resolve(process.env.PACKER_CACHE_DIR) : join(homedir(), '.cache', 'kiln', 'downloads');
}

async function hashFile(path: string, type: HashType, signal: AbortSignal): Promise<string> {
  const h = new Hasher(type);
  await pipeline(createReadStream(path, { highWaterMark: 4 << 20, signal }), h, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) void chunk;
  });
  return h.hash.digest('hex');
}

function mismatch(what: string, sum: Checksum, got: string): ChecksumError {
  return new ChecksumError(`checksum mismatch for ${what}: iso_checksum says ${sum.type}:${sum.hex}, the file has ${sum.type}:${got}`);
}

/**
 * A local file holding the image: the local file itself (checked), or a cached download. A local
 * file's check is remembered (by path, size, modification time and checksum) so rebuilding from
 * a large unchanged image does not hash it again.
 */
export async function fetchImage(ctx: BuildContext<unknown>, urls: readonly string[], checksumSpec: string, targetPath?: string): Promise<string> {
  const failures: string[] = [];
  for (const url of urls) {
    try {
      const sum = await expectedChecksum(checksumSpec, url, ctx.signal);
      const local = localPath(url);
      if (local !== undefined) {
        const st = await stat(local).catch(() => undefined);
        if (!st?.isFile()) throw new Error(`${local} does not exist or is not a file`);
        if (sum !== 'none') {
          const memo = join(cacheDir(), 'verified', createHash('sha256').update(`${local}\0${st.size}\0${st.mtimeMs}\0${sum.type}:${sum.hex}`).digest('hex'));
          if (!(await stat(memo).catch(() => undefined))) {
            ctx.ui.say(`Verifying ${sum.type} checksum of ${local}...`);
            const got = await hashFile(local, sum.type, ctx.signal);
            if (got !== sum.hex) throw mismatch(local, sum, got);
            await mkdir(join(cacheDir(), 'verified'), { recursive: true });
            await writeFile(memo, `${local}\n`);
          }
        }
        ctx.ui.say(`Using ${local}`);
        return local;
      }
      return await download(ctx, url, sum, targetPath);
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      // A checksum mismatch is never papered over by another mirror of the same wrong file.
      if (err instanceof ChecksumError) throw err;
      failures.push(`${url}: ${(err as Error).message}`);
      ctx.ui.error(`Download of ${url} failed: ${(err as Error).message}`);
    }
  }
  throw new Error(`no iso_url could be fetched:\n  ${failures.join('\n  ')}`);
}

async function download(ctx: BuildContext<unknown>, url: string, sum: Checksum | 'none', targetPath: string | undefined): Promise<string> {
  const key = createHash('sha1').update(`${url}\0${sum === 'none' ? '' : sum.hex}`).digest('hex');
  const ext = /\.[A-Za-z0-9]{1,6}$/.exec(new URL(url).pathname)?.[0] ?? '.iso';
  const target = targetPath ? resolve(targetPath) : join(cacheDir(), `${key}${ext}`);
  const cached = await stat(target).catch(() => undefined);
  if (cached?.isFile()) {
    if (sum === 'none' || (await hashFile(target, sum.type, ctx.signal)) === sum.hex) {
      ctx.ui.say(`Using cached ${url} (${target})`);
      return target;
    }
    ctx.ui.say(`The cached ${target} does not match iso_checksum: downloading it again`);
  }
  await mkdir(resolve(target, '..'), { recursive: true });
  const part = `${target}.kiln-${ctx.runId.slice(0, 8)}.part`;
  const record = await ctx.resources.record(PARTIAL_DOWNLOAD_KIND, `partial download ${part}`, { path: part });
  try {
    ctx.ui.say(`Downloading ${url}`);
    const r = await fetch(url, { signal: ctx.signal });
    if (!r.ok || !r.body) throw new Error(`HTTP ${r.status}`);
    const total = Number(r.headers.get('content-length') ?? 0);
    let done = 0;
    const hasher = new Hasher(sum === 'none' ? 'sha256' : sum.type);
    const body = Readable.fromWeb(r.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (c: Buffer) => {
      done += c.length;
      ctx.ui.progress(`download:${url}`, done, total, `Downloading ${basename(new URL(url).pathname)}`);
    });
    await pipeline(body, hasher, createWriteStream(part, { mode: 0o644 }), { signal: ctx.signal });
    const got = hasher.hash.digest('hex');
    if (sum !== 'none' && got !== sum.hex) throw mismatch(url, sum, got);
    await rename(part, target);
    return target;
  } finally {
    await rm(part, { force: true });
    await record.release();
  }
}
