/**
 * Tar headers as GNU tar reads them back: every field a header holds, ustar where the values
 * fit and PAX records where they do not (long and unicode names, ids past ustar's 7 octal digits).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeHeader, END_OF_ARCHIVE, padding, type TarHeader } from '../../../src/formats/tar/header.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-tar-header-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** GNU tar's verbose listing of an archive made of `entries`. */
function listing(entries: readonly [Omit<TarHeader, 'size'>, string?][], numeric = true): string[] {
  const parts: Buffer[] = [];
  for (const [h, text = ''] of entries) {
    const data = Buffer.from(text);
    parts.push(encodeHeader({ ...h, size: data.length }), data, padding(data.length));
  }
  parts.push(END_OF_ARCHIVE);
  const file = join(dir, 'a.tar');
  writeFileSync(file, Buffer.concat(parts));
  const out = execFileSync('tar', ['-tv', '--full-time', '--utc', ...(numeric ? ['--numeric-owner'] : []), '-f', file], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  return out.trim().split('\n').map((l) => l.replace(/ +/g, ' '));
}

describe('tar headers', () => {
  it('hold type, mode, owner ids and names, size, mtime and link target as GNU tar reads them', () => {
    const lines = listing(
      [
        [{ name: 'a/', type: 'dir', mode: 0o750, uid: 0, gid: 0, mtime: 1_700_000_000 }],
        [{ name: 'a/x.txt', type: 'file', mode: 0o4755, uid: 1000, gid: 2_097_151, mtime: 1_700_000_001, uname: 'kiln', gname: 'ops' }, 'hello'],
        [{ name: 'a/l', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 0, linkname: 'x.txt' }],
      ],
      true,
    );
    expect(lines).toEqual([
      'drwxr-x--- 0/0 0 2023-11-14 22:13:20 a/',
      '-rwsr-xr-x 1000/2097151 5 2023-11-14 22:13:21 a/x.txt',
      'lrwxrwxrwx 0/0 0 1970-01-01 00:00:00 a/l -> x.txt',
    ]);
    expect(listing([[{ name: 'x.txt', type: 'file', mode: 0o644, uid: 1000, gid: 5, mtime: 0, uname: 'kiln', gname: 'ops' }, 'hi']], false)).toEqual(['-rw-r--r-- kiln/ops 2 1970-01-01 00:00:00 x.txt']);
  });

  it('carry what ustar cannot hold in PAX records: a long unicode path, a link target, a large uid', () => {
    const long = `a/${'ü'.repeat(80)}/deep`;
    const lines = listing([
      [{ name: long, type: 'file', mode: 0o600, uid: 3_000_000, gid: 5, mtime: 1_700_000_002 }, 'x'],
      [{ name: 'b', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 1_700_000_002, linkname: `../${'t'.repeat(120)}` }],
    ]);
    expect(lines).toEqual([`-rw------- 3000000/5 1 2023-11-14 22:13:22 ${long}`, `lrwxrwxrwx 0/0 0 2023-11-14 22:13:22 b -> ../${'t'.repeat(120)}`]);
  });
});
