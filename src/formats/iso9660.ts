/**
 * A small ISO 9660 writer with Joliet names, for the CDs builders attach to VMs (cd_files,
 * cd_content): a cloud-init NoCloud seed labelled `cidata`, kickstart files, drivers.
 *
 * The primary tree carries ISO 9660 names (upper case, `;1` versions); the Joliet tree (a
 * supplementary volume descriptor, UCS-2, level 3) carries the real names, which Linux, Windows
 * and cloud-init read. File data is streamed from disk once, shared by both trees. Dates come from
 * the caller (SOURCE_DATE_EPOCH for reproducible images). Files of 4 GiB and more do not fit ISO
 * 9660 level 1–2 extents and are refused.
 *
 * Layout: 16 empty sectors, primary descriptor (16), Joliet descriptor (17), terminator (18),
 * path tables, directory extents of both trees, then file data.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';

const SECTOR = 2048;
const MAX_FILE = 0xffff_ffff;

export type IsoSource = { file: string } | { content: Buffer };

export interface IsoEntry {
  /** Path inside the image, `/`-separated, no leading slash: `user-data`, `drivers/net.inf`. */
  path: string;
  source: IsoSource;
}

export interface IsoOptions {
  /** The volume label (cd_label), e.g. `cidata`. At most 32 characters (16 in the Joliet tree). */
  label: string;
  /** Seconds since the Unix epoch for every date in the image. */
  unixTime: number;
  signal?: AbortSignal;
}

interface FileNode {
  kind: 'file';
  name: string;
  source: IsoSource;
  size: number;
  sector: number;
}

interface DirNode {
  kind: 'dir';
  name: string;
  parent: DirNode | undefined;
  children: Map<string, FileNode | DirNode>;
  /** 1-based number in path table order. */
  number: number;
  primary: { sector: number; size: number; names: Map<FileNode | DirNode, string> };
  joliet: { sector: number; size: number };
}

export class IsoError extends Error {
  override name = 'IsoError';
}

function newDir(name: string, parent: DirNode | undefined): DirNode {
  return { kind: 'dir', name, parent, children: new Map(), number: 0, primary: { sector: 0, size: 0, names: new Map() }, joliet: { sector: 0, size: 0 } };
}

/** Writes an ISO image of `entries` to `out` (created; must not exist). */
export async function writeIso(out: string, entries: readonly IsoEntry[], opts: IsoOptions): Promise<void> {
  if (opts.label.length === 0 || opts.label.length > 32) throw new IsoError(`the CD label "${opts.label}" must be 1 to 32 characters long`);
  const root = newDir('', undefined);
  for (const e of entries) await addEntry(root, e);

  const dirs = pathTableOrder(root);
  dirs.forEach((d, i) => (d.number = i + 1));
  for (const d of dirs) assignPrimaryNames(d);

  // Sizes first: path tables, then directory extents, then files.
  const ptPrimary = pathTable(dirs, 'primary', 'LE').length;
  const ptJoliet = pathTable(dirs, 'joliet', 'LE').length;
  let sector = 19;
  const ptSectors = (n: number) => Math.ceil(n / SECTOR);
  const lPrimary = sector;
  sector += ptSectors(ptPrimary);
  const mPrimary = sector;
  sector += ptSectors(ptPrimary);
  const lJoliet = sector;
  sector += ptSectors(ptJoliet);
  const mJoliet = sector;
  sector += ptSectors(ptJoliet);
  for (const tree of ['primary', 'joliet'] as const) {
    for (const d of dirs) {
      const size = directoryExtent(d, tree, opts.unixTime).length;
      d[tree].size = size;
      d[tree].sector = sector;
      sector += size / SECTOR;
    }
  }
  const files: FileNode[] = [];
  for (const d of dirs) for (const c of sortedChildren(d)) if (c.kind === 'file') files.push(c);
  for (const f of files) {
    f.sector = f.size === 0 ? 0 : sector;
    sector += Math.ceil(f.size / SECTOR);
  }
  const total = sector;

  const fh = await open(out, 'wx', 0o644);
  try {
    let pos = 0;
    const put = async (buf: Buffer): Promise<void> => {
      let done = 0;
      while (done < buf.length) done += (await fh.write(buf, done, buf.length - done, pos + done)).bytesWritten;
      pos += buf.length;
    };
    await put(Buffer.alloc(16 * SECTOR));
    await put(volumeDescriptor('primary', opts, total, ptPrimary, lPrimary, mPrimary, root));
    await put(volumeDescriptor('joliet', opts, total, ptJoliet, lJoliet, mJoliet, root));
    const term = Buffer.alloc(SECTOR);
    term[0] = 255;
    term.write('CD001', 1, 'ascii');
    term[6] = 1;
    await put(term);
    await put(padSector(pathTable(dirs, 'primary', 'LE')));
    await put(padSector(pathTable(dirs, 'primary', 'BE')));
    await put(padSector(pathTable(dirs, 'joliet', 'LE')));
    await put(padSector(pathTable(dirs, 'joliet', 'BE')));
    for (const tree of ['primary', 'joliet'] as const) for (const d of dirs) await put(directoryExtent(d, tree, opts.unixTime));
    for (const f of files) {
      if (f.size === 0) continue;
      if ('content' in f.source) await put(f.source.content);
      else {
        let n = 0;
        for await (const chunk of createReadStream(f.source.file, { highWaterMark: 1 << 20, signal: opts.signal }) as AsyncIterable<Buffer>) {
          n += chunk.length;
          if (n > f.size) break;
          await put(chunk);
        }
        if (n !== f.size) throw new IsoError(`${f.source.file} changed size while the CD image was written`);
      }
      await put(Buffer.alloc((SECTOR - (f.size % SECTOR)) % SECTOR));
    }
    if (pos !== total * SECTOR) throw new Error(`internal: ISO layout mismatch (${pos} != ${total * SECTOR})`);
  } finally {
    await fh.close();
  }
}

async function addEntry(root: DirNode, e: IsoEntry): Promise<void> {
  const parts = e.path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.includes('..')) throw new IsoError(`"${e.path}" is not a valid path on the CD`);
  let dir = root;
  for (const p of parts.slice(0, -1)) {
    let next = dir.children.get(p);
    if (next === undefined) {
      next = newDir(p, dir);
      dir.children.set(p, next);
    }
    if (next.kind !== 'dir') throw new IsoError(`"${e.path}": "${p}" is a file on the CD, not a directory`);
    dir = next;
  }
  const name = parts.at(-1)!;
  if (dir.children.has(name)) throw new IsoError(`"${e.path}" is given twice for the CD`);
  if ([...name].length > 64) throw new IsoError(`"${name}" is longer than the 64 characters a Joliet name may have`);
  const size = 'content' in e.source ? e.source.content.length : (await stat(e.source.file)).size;
  if (size > MAX_FILE) throw new IsoError(`"${e.path}" is ${size} bytes: ISO 9660 files must be smaller than 4 GiB`);
  dir.children.set(name, { kind: 'file', name, source: e.source, size, sector: 0 });
}

function sortedChildren(d: DirNode): Array<FileNode | DirNode> {
  return [...d.children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Path table order: by depth, then parent number, then name. */
function pathTableOrder(root: DirNode): DirNode[] {
  const out: DirNode[] = [root];
  for (let i = 0; i < out.length; i++) {
    for (const c of sortedChildren(out[i]!)) if (c.kind === 'dir') out.push(c);
  }
  return out;
}

/** ISO 9660 d-character names (A–Z, 0–9, _), unique within the directory. */
function assignPrimaryNames(d: DirNode): void {
  const used = new Set<string>();
  for (const c of sortedChildren(d)) {
    const upper = c.name.toUpperCase();
    let base: string;
    let ext = '';
    if (c.kind === 'file') {
      const dot = upper.lastIndexOf('.');
      base = (dot > 0 ? upper.slice(0, dot) : upper).replace(/[^A-Z0-9_]/g, '_').slice(0, 24);
      ext = dot > 0 ? upper.slice(dot + 1).replace(/[^A-Z0-9_]/g, '_').slice(0, 6) : '';
    } else base = upper.replace(/[^A-Z0-9_]/g, '_').slice(0, 31);
    const make = (b: string) => (c.kind === 'file' ? `${b}.${ext};1` : b);
    let name = make(base);
    for (let i = 1; used.has(name); i++) name = make(`${base.slice(0, 20)}_${i}`);
    used.add(name);
    d.primary.names.set(c, name);
  }
}

function identifier(tree: 'primary' | 'joliet', name: string): Buffer {
  return tree === 'primary' ? Buffer.from(name, 'ascii') : ucs2be(name);
}

function ucs2be(s: string): Buffer {
  const b = Buffer.from(s, 'utf16le');
  b.swap16();
  return b;
}

function pathTable(dirs: readonly DirNode[], tree: 'primary' | 'joliet', endian: 'LE' | 'BE'): Buffer {
  const parts: Buffer[] = [];
  for (const d of dirs) {
    const id = d.parent === undefined ? Buffer.from([0]) : identifier(tree, tree === 'primary' ? d.parent.primary.names.get(d)! : d.name);
    const rec = Buffer.alloc(8 + id.length + (id.length % 2));
    rec[0] = id.length;
    const sector = d[tree].sector;
    const parent = d.parent?.number ?? 1;
    if (endian === 'LE') {
      rec.writeUInt32LE(sector, 2);
      rec.writeUInt16LE(parent, 6);
    } else {
      rec.writeUInt32BE(sector, 2);
      rec.writeUInt16BE(parent, 6);
    }
    id.copy(rec, 8);
    parts.push(rec);
  }
  return Buffer.concat(parts);
}

function both32(buf: Buffer, value: number, at: number): void {
  buf.writeUInt32LE(value, at);
  buf.writeUInt32BE(value, at + 4);
}

function both16(buf: Buffer, value: number, at: number): void {
  buf.writeUInt16LE(value, at);
  buf.writeUInt16BE(value, at + 2);
}

/** The 7-byte date of a directory record, in UTC. */
function recordDate(unixTime: number): Buffer {
  const d = new Date(unixTime * 1000);
  return Buffer.from([d.getUTCFullYear() - 1900, d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), 0]);
}

/** The 17-byte date of a volume descriptor: "YYYYMMDDHHMMSScc" and the zone offset. */
function volumeDate(unixTime: number | undefined): Buffer {
  const b = Buffer.alloc(17, 0x30);
  b[16] = 0;
  if (unixTime === undefined) return b;
  const iso = new Date(unixTime * 1000).toISOString();
  b.write(`${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}00`, 0, 'ascii');
  return b;
}

function directoryRecord(id: Buffer, sector: number, size: number, isDir: boolean, unixTime: number): Buffer {
  const len = 33 + id.length + ((id.length + 1) % 2);
  const r = Buffer.alloc(len);
  r[0] = len;
  both32(r, sector, 2);
  both32(r, size, 10);
  recordDate(unixTime).copy(r, 18);
  r[25] = isDir ? 2 : 0;
  both16(r, 1, 28);
  r[32] = id.length;
  id.copy(r, 33);
  return r;
}

/** A directory's extent: ".", "..", then its children; no record crosses a sector boundary. */
function directoryExtent(d: DirNode, tree: 'primary' | 'joliet', unixTime: number): Buffer {
  const parent = d.parent ?? d;
  const records = [
    directoryRecord(Buffer.from([0]), d[tree].sector, d[tree].size, true, unixTime),
    directoryRecord(Buffer.from([1]), parent[tree].sector, parent[tree].size, true, unixTime),
  ];
  for (const c of sortedChildren(d)) {
    const id = identifier(tree, tree === 'primary' ? d.primary.names.get(c)! : c.name);
    records.push(c.kind === 'dir' ? directoryRecord(id, c[tree].sector, c[tree].size, true, unixTime) : directoryRecord(id, c.sector, c.size, false, unixTime));
  }
  const sectors: Buffer[] = [];
  let cur = Buffer.alloc(SECTOR);
  let used = 0;
  for (const r of records) {
    if (used + r.length > SECTOR) {
      sectors.push(cur);
      cur = Buffer.alloc(SECTOR);
      used = 0;
    }
    r.copy(cur, used);
    used += r.length;
  }
  sectors.push(cur);
  return Buffer.concat(sectors);
}

function padSector(b: Buffer): Buffer {
  return Buffer.concat([b, Buffer.alloc((SECTOR - (b.length % SECTOR)) % SECTOR)]);
}

function textField(tree: 'primary' | 'joliet', text: string, bytes: number): Buffer {
  if (tree === 'primary') {
    const b = Buffer.alloc(bytes, 0x20);
    b.write(text.slice(0, bytes), 0, 'latin1');
    return b;
  }
  const b = Buffer.alloc(bytes);
  for (let i = 0; i + 1 < bytes; i += 2) b.writeUInt16BE(0x20, i);
  ucs2be(text.slice(0, Math.floor(bytes / 2))).copy(b, 0);
  return b;
}

function volumeDescriptor(
  tree: 'primary' | 'joliet',
  opts: IsoOptions,
  totalSectors: number,
  pathTableSize: number,
  lTable: number,
  mTable: number,
  root: DirNode,
): Buffer {
  const v = Buffer.alloc(SECTOR);
  v[0] = tree === 'primary' ? 1 : 2;
  v.write('CD001', 1, 'ascii');
  v[6] = 1;
  textField(tree, '', 32).copy(v, 8);
  // The label as given (cloud-init looks for "cidata" in either case; blkid reports it as written).
  textField(tree, opts.label, 32).copy(v, 40);
  both32(v, totalSectors, 80);
  // Joliet level 3: UCS-2 escape sequence "%/E".
  if (tree === 'joliet') v.write('%/E', 88, 'ascii');
  both16(v, 1, 120);
  both16(v, 1, 124);
  both16(v, SECTOR, 128);
  both32(v, pathTableSize, 132);
  v.writeUInt32LE(lTable, 140);
  v.writeUInt32BE(mTable, 148);
  directoryRecord(Buffer.from([0]), root[tree].sector, root[tree].size, true, opts.unixTime).copy(v, 156);
  textField(tree, '', 128).copy(v, 190);
  textField(tree, '', 128).copy(v, 318);
  textField(tree, '', 128).copy(v, 446);
  textField(tree, 'KILN', 128).copy(v, 574);
  textField(tree, '', 37).copy(v, 702);
  textField(tree, '', 37).copy(v, 739);
  textField(tree, '', 37).copy(v, 776);
  volumeDate(opts.unixTime).copy(v, 813);
  volumeDate(opts.unixTime).copy(v, 830);
  volumeDate(undefined).copy(v, 847);
  volumeDate(undefined).copy(v, 864);
  v[881] = 1;
  return v;
}
