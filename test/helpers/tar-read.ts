/**
 * A tiny tar reader for tests: lists entries with their header fields, applying PAX records,
 * and checks each header's checksum. Real tools (tar, gzip, zstd) check archives in the
 * integration tests; this one lets unit tests look at fields those tools do not show.
 */

export interface TarEntry {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  type: string;
  uname: string;
  gname: string;
  magic: string;
  pax: Record<string, string>;
  data: Buffer;
}

function str(b: Buffer, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const nul = s.indexOf(0);
  return s.subarray(0, nul === -1 ? len : nul).toString('utf8');
}

function num(b: Buffer, off: number, len: number): number {
  const s = str(b, off, len).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    const space = body.indexOf(0x20, i);
    const len = Number(body.subarray(i, space).toString('ascii'));
    const record = body.subarray(space + 1, i + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    out[record.slice(0, eq)] = record.slice(eq + 1);
    if (body[i + len - 1] !== 0x0a) throw new Error(`PAX record at ${i} does not end in a newline`);
    i += len;
  }
  return out;
}

export function readTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let pax: Record<string, string> = {};
  let off = 0;
  while (off + 512 <= archive.length) {
    const h = archive.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (sum !== num(h, 148, 8)) throw new Error(`bad header checksum at ${off}`);
    const type = String.fromCharCode(h[156]!);
    let size = num(h, 124, 12);
    const dataStart = off + 512;
    if (type === 'x') {
      pax = parsePax(archive.subarray(dataStart, dataStart + size));
      off = dataStart + Math.ceil(size / 512) * 512;
      continue;
    }
    if (pax.size !== undefined) size = Number(pax.size);
    entries.push({
      name: pax.path ?? str(h, 0, 100),
      mode: num(h, 100, 8),
      uid: pax.uid !== undefined ? Number(pax.uid) : num(h, 108, 8),
      gid: pax.gid !== undefined ? Number(pax.gid) : num(h, 116, 8),
      size,
      mtime: num(h, 136, 12),
      type,
      uname: pax.uname ?? str(h, 265, 32),
      gname: pax.gname ?? str(h, 297, 32),
      magic: h.subarray(257, 265).toString('latin1'),
      pax,
      data: archive.subarray(dataStart, dataStart + size),
    });
    pax = {};
    off = dataStart + Math.ceil(size / 512) * 512;
  }
  return entries;
}
