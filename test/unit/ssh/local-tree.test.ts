/**
 * The local side of a directory upload, on real files: what is listed, in which order, which
 * links are followed, and the errors for trees that cannot be uploaded.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { walkLocal } from '../../../src/communicator/ssh/local-tree.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-local-tree-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('walkLocal', () => {
  it('lists directories first (parents before children), then files, each with mode and size', async () => {
    mkdirSync(join(dir, 'b/c'), { recursive: true });
    writeFileSync(join(dir, 'z.txt'), 'zz');
    writeFileSync(join(dir, 'b/c/deep'), 'deep!');
    writeFileSync(join(dir, 'a name ü'), '');
    chmodSync(join(dir, 'z.txt'), 0o751);
    chmodSync(join(dir, 'b'), 0o555);
    const entries = await walkLocal(dir);
    chmodSync(join(dir, 'b'), 0o755);
    expect(entries.map((e) => [e.rel, e.kind, e.size])).toEqual([
      ['', 'dir', 0],
      ['b', 'dir', 0],
      ['b/c', 'dir', 0],
      ['a name ü', 'file', 0],
      ['z.txt', 'file', 2],
      ['b/c/deep', 'file', 5],
    ]);
    expect(entries.find((e) => e.rel === 'z.txt')?.mode).toBe(0o751);
    expect(entries.find((e) => e.rel === 'b')?.mode).toBe(0o555);
    expect(entries.find((e) => e.rel === 'b/c/deep')?.abs).toBe(join(dir, 'b/c/deep'));
  });

  it('follows links to files and to directories, and leaves out excluded paths', async () => {
    mkdirSync(join(dir, 'real'));
    writeFileSync(join(dir, 'real/f'), 'data');
    symlinkSync('real', join(dir, 'linked'));
    symlinkSync('real/f', join(dir, 'lf'));
    writeFileSync(join(dir, 'skip.log'), 'x');
    const entries = await walkLocal(dir, ['*.log']);
    expect(entries.map((e) => `${e.kind}:${e.rel}:${e.size}`)).toEqual(['dir::0', 'dir:linked:0', 'dir:real:0', 'file:lf:4', 'file:linked/f:4', 'file:real/f:4']);
  });

  it('a single file as the root is the whole tree', async () => {
    writeFileSync(join(dir, 'one'), 'abc');
    expect(await walkLocal(join(dir, 'one'))).toEqual([{ rel: '', abs: join(dir, 'one'), kind: 'file', mode: expect.any(Number), size: 3 }]);
  });

  it('names a dangling link, a link back to a parent and a FIFO', async () => {
    mkdirSync(join(dir, 'd'));
    symlinkSync('missing', join(dir, 'd/dangling'));
    await expect(walkLocal(dir)).rejects.toThrow(`${join(dir, 'd/dangling')} is a symbolic link to a file that does not exist`);
    rmSync(join(dir, 'd/dangling'));
    symlinkSync('..', join(dir, 'd/up'));
    await expect(walkLocal(dir)).rejects.toThrow(`${join(dir, 'd/up')} is a symbolic link to one of its own parent directories: the tree would never end`);
    rmSync(join(dir, 'd/up'));
    execFileSync('mkfifo', [join(dir, 'd/pipe')]);
    await expect(walkLocal(dir)).rejects.toThrow(`${join(dir, 'd/pipe')} is neither a file nor a directory (a socket, FIFO or device cannot be uploaded)`);
  });

  it('says which root does not exist', async () => {
    await expect(walkLocal(join(dir, 'nope'))).rejects.toThrow(`cannot read ${join(dir, 'nope')}: ENOENT`);
  });
});
