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

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0');
}

function fitsUstar(s: string, max: number): boolean {
  return /^[\x20-\x7e]*$/.test(s) && s.length <= max;
}

function stub(s: string, max: number): string {
  return s.replace(/[^\x20-\x7e]/g, '_').slice(0, max);
}

function ustar(h: TarHeader, flag: string, name: string, linkname: string, size: number, uid: number, gid: number, uname = '', gname = ''): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(name, 0, 100, 'utf8');
  b.write(octal(h.mode & 0o7777, 8), 100, 'ascii');
  b.write(octal(uid, 8), 108, 'ascii');
  b.write(octal(gid, 8), 116, 'ascii');
  b.write(octal(size, 12), 124, 'ascii');
  b.write(octal(Math.max(0, h.mtime), 12), 136, 'ascii');
  b.write('        ', 148, 'ascii');
  b.write(flag, 156, 'ascii');
  b.write(linkname, 157, 100, 'utf8');
  b.write('ustar\0', 257, 'ascii');
  b.write('00', 263, 'ascii');
  b.write(uname, 265, 32, 'utf8');
  b.write(gname, 297, 32, 'utf8');
  b.write(octal(h.devmajor ?? 0, 8), 329, 'ascii');
  b.write(octal(h.devminor ?? 0, 8), 337, 'ascii');
  let sum = 0;
  // An indexed loop: a Buffer's iterator costs several times more, on every entry of a layer.
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  b.write(`${octal(sum, 7)}\0 `, 148, 'ascii');
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
