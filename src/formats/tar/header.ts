/**
 * Tar headers for image layers: POSIX ustar, with a PAX extended header in front of an entry
 * only when a value does not fit ustar (long or non-ASCII names and link targets, huge sizes or
 * ids). Everything a header holds comes from the caller, so the same entry always gives the same
 * bytes: no user or group names, no atime or ctime.
 */

export const BLOCK = 512;
const MAX_SIZE = 0o77777777777;
const MAX_ID = 0o7777777;

/** ustar type flags used in layers. */
export type TarType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

const FLAG: Record<TarType, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };

export interface TarHeader {
  /** Path inside the archive, no leading "./" or "/"; directories end with "/". */
  name: string;
  type: TarType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Whole seconds since the epoch. */
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Owner and group names; left empty in image layers, which must not depend on the host. */
  uname?: string;
  gname?: string;
}

/**
 * `n` in octal, zero-padded to `width - 1` digits and NUL-terminated, stored as ASCII bytes:
 * one of these per field per entry, so no strings are made.
 */
function putOctal(b: Buffer, at: number, width: number, n: number): void {
  let v = n;
  for (let i = at + width - 2; i >= at; i--) {
    b[i] = 0x30 + (v % 8);
    v = Math.floor(v / 8);
  }
}

function fitsUstar(s: string, max: number): boolean {
  return /^[\x20-\x7e]*$/.test(s) && s.length <= max;
}

function stub(s: string, max: number): string {
  return s.replace(/[^\x20-\x7e]/g, '_').slice(0, max);
}

/** The bytes "ustar\0" "00" at offset 257: the POSIX magic and version. */
const MAGIC = Buffer.from('ustar\x0000', 'latin1');

function ustar(h: TarHeader, flag: string, name: string, linkname: string, size: number, uid: number, gid: number, uname = '', gname = ''): Buffer {
  // A pooled slice: a header costs no allocation of its own; every byte not written is zeroed.
  const b = Buffer.allocUnsafe(BLOCK).fill(0);
  b.write(name, 0, 100, 'utf8');
  putOctal(b, 100, 8, h.mode & 0o7777);
  putOctal(b, 108, 8, uid);
  putOctal(b, 116, 8, gid);
  putOctal(b, 124, 12, size);
  putOctal(b, 136, 12, Math.max(0, h.mtime));
  b[156] = flag.charCodeAt(0);
  if (linkname) b.write(linkname, 157, 100, 'utf8');
  MAGIC.copy(b, 257);
  if (uname) b.write(uname, 265, 32, 'utf8');
  if (gname) b.write(gname, 297, 32, 'utf8');
  putOctal(b, 329, 8, h.devmajor ?? 0);
  putOctal(b, 337, 8, h.devminor ?? 0);
  // The checksum counts its own field as eight spaces.
  let sum = 8 * 0x20;
  // An indexed loop: a Buffer's iterator costs several times more, on every entry of a layer.
  for (let i = 0; i < 148; i++) sum += b[i]!;
  for (let i = 156; i < BLOCK; i++) sum += b[i]!;
  putOctal(b, 148, 7, sum);
  b[154] = 0;
  b[155] = 0x20;
  return b;
}

/** `<length> <key>=<value>\n`, the length counting the whole record in bytes. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + 1;
  while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
  return `${len}${body}`;
}

export function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? EMPTY : Buffer.alloc(BLOCK - rest);
}
const EMPTY = Buffer.alloc(0);

/** The header block(s) of one entry, as one buffer. */
export function encodeHeader(h: TarHeader): Buffer {
  const pax: string[] = [];
  let name = h.name;
  let linkname = h.linkname ?? '';
  let { size, uid, gid } = h;
  if (!fitsUstar(name, 100)) {
    pax.push(paxRecord('path', name));
    name = stub(name, 100);
  }
  if (!fitsUstar(linkname, 100)) {
    pax.push(paxRecord('linkpath', linkname));
    linkname = stub(linkname, 100);
  }
  if (size > MAX_SIZE) {
    pax.push(paxRecord('size', String(size)));
    size = 0;
  }
  if (uid > MAX_ID) {
    pax.push(paxRecord('uid', String(uid)));
    uid = 0;
  }
  if (gid > MAX_ID) {
    pax.push(paxRecord('gid', String(gid)));
    gid = 0;
  }
  let uname = h.uname ?? '';
  let gname = h.gname ?? '';
  if (!fitsUstar(uname, 32)) {
    pax.push(paxRecord('uname', uname));
    uname = stub(uname, 32);
  }
  if (!fitsUstar(gname, 32)) {
    pax.push(paxRecord('gname', gname));
    gname = stub(gname, 32);
  }
  const main = ustar(h, FLAG[h.type], name, linkname, size, uid, gid, uname, gname);
  if (pax.length === 0) return main;
  const body = Buffer.from(pax.join(''), 'utf8');
  // The PAX header's own name is derived from the entry's, so it is as stable as the entry.
  const paxHeader = ustar({ ...h, mode: 0o644 }, 'x', stub(`PaxHeaders/${name}`, 100), '', body.length, uid, gid, uname, gname);
  return Buffer.concat([paxHeader, body, padding(body.length), main]);
}

/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
