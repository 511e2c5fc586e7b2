/**
 * A minimal streaming tar writer: POSIX ustar headers, with a PAX extended header in front of an
 * entry when a value does not fit ustar (names over 100 bytes or not ASCII, files of 8 GiB and
 * more, large ids, long owner names). File data is streamed, never held whole in memory.
 *
 * Entries are what Packer's compress writes: each artifact file under its base name, its
 * permission bits, owner and group, and modification time 0 (Packer zeroes times so archives
 * are reproducible).
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { sparseFileChunks } from '../../src/sdk/index.js';

const BLOCK = 512;
/** Largest values the octal ustar fields hold: 11 digits for size, 7 for ids. */
const MAX_SIZE = 0o77777777777;
const MAX_ID = 0o7777777;

interface Fields {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  type: '0' | 'x';
  uname: string;
  gname: string;
}

function octal(n: number, width: number): string {
  // width counts the terminating NUL: 7 digits in an 8-byte field.
  return n.toString(8).padStart(width - 1, '0');
}

function isPlainAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

/** What a field can hold without PAX: the value itself, or a stand-in when PAX carries the real one. */
function asciiFit(s: string, max: number): string {
  const ascii = s.replace(/[^\x20-\x7e]/g, '_');
  return ascii.length > max ? ascii.slice(0, max) : ascii;
}

function ustarHeader(f: Fields): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(f.name, 0, 100, 'utf8');
  h.write(octal(f.mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(f.uid, 8), 108, 'ascii');
  h.write(octal(f.gid, 8), 116, 'ascii');
  h.write(octal(f.size, 12), 124, 'ascii');
  h.write(octal(f.mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // the checksum is computed with its own field as spaces
  h.write(f.type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(f.uname, 265, 32, 'utf8');
  h.write(f.gname, 297, 32, 'utf8');
  h.write(octal(0, 8), 329, 'ascii');
  h.write(octal(0, 8), 337, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${octal(sum, 7)}\0 `, 148, 'ascii');
  return h;
}

/** One PAX record, `<length> <key>=<value>\n`, where the length counts the whole record in bytes. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + 1;
  while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
  return `${len}${body}`;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** The header block(s) for an entry: a PAX header first when something does not fit ustar. */
export function entryHeaders(f: Fields): Buffer[] {
  const pax: string[] = [];
  let { name, uname, gname, size, uid, gid } = f;
  if (!isPlainAscii(name) || Buffer.byteLength(name) > 100) {
    pax.push(paxRecord('path', name));
    name = asciiFit(name, 100);
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
  if (!isPlainAscii(uname) || uname.length > 32) {
    pax.push(paxRecord('uname', uname));
    uname = asciiFit(uname, 32);
  }
  if (!isPlainAscii(gname) || gname.length > 32) {
    pax.push(paxRecord('gname', gname));
    gname = asciiFit(gname, 32);
  }
  const main = ustarHeader({ ...f, name, uname, gname, size, uid, gid });
  if (pax.length === 0) return [main];
  const body = Buffer.from(pax.join(''), 'utf8');
  const paxHeader = ustarHeader({ ...f, type: 'x', name: asciiFit(`PaxHeaders.0/${name}`, 100), size: body.length, uid, gid, uname, gname });
  return [paxHeader, body, padding(body.length), main];
}

/** uid → user name and gid → group name from /etc/passwd and /etc/group ("" when unknown, as tar does). */
let idNames: Promise<{ users: Map<number, string>; groups: Map<number, string> }> | undefined;
function loadIdNames() {
  const parse = async (file: string) => {
    const names = new Map<number, string>();
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      const [name, , id] = line.split(':');
      if (name && id !== undefined && /^\d+$/.test(id) && !names.has(Number(id))) names.set(Number(id), name);
    }
    return names;
  };
  idNames ??= Promise.all([parse('/etc/passwd'), parse('/etc/group')]).then(([users, groups]) => ({ users, groups }));
  return idNames;
}

/**
 * The tar archive of `files`, as a stream of chunks. A file that changes size while it is read
 * is an error: its header already promised the old size.
 */
export async function* tarStream(files: readonly string[], signal?: AbortSignal): AsyncGenerator<Buffer> {
  const { users, groups } = await loadIdNames();
  for (const path of files) {
    signal?.throwIfAborted();
    const st = await stat(path);
    if (!st.isFile()) throw new Error(`${path} is not a regular file: only files can be archived`);
    const size = st.size;
    yield* entryHeaders({
      name: basename(path),
      mode: st.mode,
      uid: st.uid,
      gid: st.gid,
      size,
      mtime: 0,
      type: '0',
      uname: users.get(st.uid) ?? '',
      gname: groups.get(st.gid) ?? '',
    });
    let read = 0;
    if (size > 0) {
      // Sparse-aware: a disk image's holes are not read, only emitted as zeros.
      for await (const chunk of sparseFileChunks(path, size, { signal })) {
        read += chunk.length;
        yield chunk;
      }
    }
    if (read !== size) throw new Error(`${path} shrank from ${size} to ${read} bytes while it was being archived`);
    yield padding(size);
  }
  // The end of an archive: two zero blocks.
  yield Buffer.alloc(2 * BLOCK);
}
