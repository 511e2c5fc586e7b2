/**
 * A streaming tar reader for layers and archives: ustar, PAX (`path`, `linkpath`, `size`, `uid`,
 * `gid`) and GNU long names. Entries come one at a time; an entry's body is streamed and must be
 * read (or is skipped) before the next entry, so no entry is ever held in memory whole.
 */
import { BLOCK, type TarType } from './header.js';

export interface TarEntryHeader {
  name: string;
  type: TarType | 'other';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
}

export interface TarEntry extends TarEntryHeader {
  /** The entry's bytes; read it before asking for the next entry, or it is skipped. */
  body(): AsyncGenerator<Buffer>;
}

const TYPES: Record<string, TarType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo' };

/** Pulls exact byte counts out of a chunked stream. */
class ByteSource {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private done = false;
  constructor(private readonly it: AsyncIterator<Buffer | Uint8Array | string>) {}

  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else {
        const b = typeof r.value === 'string' ? Buffer.from(r.value) : Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
        if (b.length > 0) {
          this.chunks.push(b);
          this.buffered += b.length;
        }
      }
    }
    return this.buffered >= n;
  }

  /** Exactly n bytes, or undefined at a clean end of input. */
  async read(n: number): Promise<Buffer | undefined> {
    if (!(await this.fill(n))) {
      if (this.buffered === 0) return undefined;
      throw new Error(`tar archive is truncated: wanted ${n} bytes, ${this.buffered} left`);
    }
    const out = this.take(n);
    return out;
  }

  /** Up to `max` bytes (at least one), for streaming bodies. */
  async readSome(max: number): Promise<Buffer> {
    if (!(await this.fill(1))) throw new Error('tar archive is truncated inside an entry');
    return this.take(Math.min(max, this.buffered));
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) {
      this.buffered -= n;
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    return out;
  }

  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) left -= (await this.readSome(Math.min(left, 1 << 20))).length;
  }
}

function field(b: Buffer, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const nul = s.indexOf(0);
  return s.subarray(0, nul === -1 ? len : nul).toString('utf8');
}

function numeric(b: Buffer, off: number, len: number): number {
  // GNU base-256 for values too large for octal.
  if ((b[off]! & 0x80) !== 0) {
    let v = 0;
    for (let i = off + 1; i < off + len; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = field(b, off, len).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    const space = body.indexOf(0x20, i);
    if (space < 0) break;
    const len = Number(body.subarray(i, space).toString('ascii'));
    if (!Number.isInteger(len) || len <= 0) throw new Error('tar archive has a malformed PAX record');
    const rec = body.subarray(space + 1, i + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return sum === numeric(h, 148, 8);
}

/** The entries of a tar stream, in order. */
export async function* readTar(input: AsyncIterable<Buffer | Uint8Array | string>): AsyncGenerator<TarEntry> {
  const src = new ByteSource(input[Symbol.asyncIterator]());
  let globalPax: Record<string, string> = {};
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const h = await src.read(BLOCK);
    if (!h || h.every((b) => b === 0)) return;
    if (!checksumOk(h)) throw new Error('tar archive is corrupt: a header checksum does not match');
    const flag = String.fromCharCode(h[156]!);
    const size = numeric(h, 124, 12);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      const body = (await src.read(padded))?.subarray(0, size) ?? Buffer.alloc(0);
      if (flag === 'x') pax = { ...pax, ...parsePax(body) };
      else if (flag === 'g') globalPax = { ...globalPax, ...parsePax(body) };
      else if (flag === 'L') longName = field(body, 0, body.length);
      else longLink = field(body, 0, body.length);
      continue;
    }
    const rec = { ...globalPax, ...pax };
    const prefix = field(h, 345, 155);
    const baseName = field(h, 0, 100);
    const entry: TarEntryHeader = {
      name: rec.path ?? longName ?? (prefix ? `${prefix}/${baseName}` : baseName),
      type: TYPES[flag] ?? 'other',
      mode: numeric(h, 100, 8),
      uid: rec.uid !== undefined ? Number(rec.uid) : numeric(h, 108, 8),
      gid: rec.gid !== undefined ? Number(rec.gid) : numeric(h, 116, 8),
      size: rec.size !== undefined ? Number(rec.size) : size,
      mtime: rec.mtime !== undefined ? Math.floor(Number(rec.mtime)) : numeric(h, 136, 12),
      linkname: rec.linkpath ?? longLink ?? field(h, 157, 100),
      devmajor: numeric(h, 329, 8),
      devminor: numeric(h, 337, 8),
    };
    if (entry.type === 'dir' && !entry.name.endsWith('/')) entry.name += '/';
    pax = {};
    longName = longLink = undefined;
    const dataSize = entry.type === 'file' || entry.type === 'other' ? entry.size : 0;
    let left = dataSize;
    const body = async function* (): AsyncGenerator<Buffer> {
      while (left > 0) {
        const chunk = await src.readSome(Math.min(left, 1 << 20));
        left -= chunk.length;
        yield chunk;
      }
    };
    yield { ...entry, body };
    if (left > 0) await src.skip(left);
    const rest = (BLOCK - (dataSize % BLOCK)) % BLOCK;
    if (rest > 0) await src.skip(rest);
  }
}
