/**
 * Layer details that the integration tests' tools do not show: entry order, whiteouts and
 * opaque directories, hard links, clamped times, the fixed gzip header, and that the parallel
 * gzip stream is one valid gzip member for every size around its block boundaries.
 */
import { gunzipSync } from 'node:zlib';
import { linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { applyChanges, applyLayer, decompress, diffTree, OciLayout, parallelGzip, parseReference, snapshot, tarBytes, writeLayer, type RuntimeConfig } from '../../../src/formats/oci/index.js';
import { zstdAvailable } from '../../../src/formats/zstd.js';
import { END_OF_ARCHIVE, encodeHeader, padding, type TarHeader } from '../../../src/formats/tar/header.js';
import { readTar } from '../../../src/formats/tar/reader.js';

const dirs: string[] = [];
function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'kiln-unit-oci-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function collect(src: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of src) parts.push(c);
  return Buffer.concat(parts);
}

async function entries(tar: Buffer) {
  const out: Array<{ name: string; type: string; linkname: string; mtime: number }> = [];
  for await (const e of readTar((async function* () {
    yield tar;
  })())) out.push({ name: e.name, type: e.type, linkname: e.linkname, mtime: e.mtime });
  return out;
}

describe('layer entries', () => {
  it('sorts names bytewise, clamps times, and writes a second hard link as a link', async () => {
    const root = scratch();
    mkdirSync(join(root, 'b'));
    writeFileSync(join(root, 'b', 'Z'), 'z');
    writeFileSync(join(root, 'b', 'a'), 'a');
    linkSync(join(root, 'b', 'a'), join(root, 'c'));
    writeFileSync(join(root, 'a-b'), '');
    const tar = await collect(tarBytes(diffTree(root, undefined, { clampMtime: 1000 })));
    const list = await entries(tar);
    expect(list.map((e) => e.name)).toEqual(['a-b', 'b/', 'b/Z', 'b/a', 'c']);
    expect(list.find((e) => e.name === 'c')).toMatchObject({ type: 'hardlink', linkname: 'b/a' });
    expect(new Set(list.map((e) => e.mtime))).toEqual(new Set([1000]));
    // Same tree, same bytes.
    expect((await collect(tarBytes(diffTree(root, undefined, { clampMtime: 1000 })))).equals(tar)).toBe(true);
  });

  it('writes whiteouts for deletions and an opaque marker for a directory made again', async () => {
    const root = scratch();
    mkdirSync(join(root, 'keep'));
    writeFileSync(join(root, 'keep', 'same'), 'x');
    writeFileSync(join(root, 'gone'), 'x');
    mkdirSync(join(root, 'remade'));
    writeFileSync(join(root, 'remade', 'old'), 'x');
    const before = snapshot(root);
    rmSync(join(root, 'gone'));
    rmSync(join(root, 'remade'), { recursive: true });
    mkdirSync(join(root, 'remade'));
    writeFileSync(join(root, 'remade', 'new'), 'y');
    const list = await entries(await collect(tarBytes(diffTree(root, before, { clampMtime: 0 }))));
    expect(list.map((e) => e.name)).toEqual(['.wh.gone', 'remade/', 'remade/.wh..wh..opq', 'remade/new']);
  });
});

describe('unpacking', () => {
  async function* tarOf(list: Array<Omit<TarHeader, 'mode' | 'uid' | 'gid' | 'size' | 'mtime'> & { body?: string }>) {
    for (const { body = '', ...h } of list) {
      const data = Buffer.from(body);
      yield encodeHeader({ mode: 0o644, uid: 0, gid: 0, mtime: 0, size: data.length, ...h });
      yield data;
      yield padding(data.length);
    }
    yield END_OF_ARCHIVE;
  }

  it('makes a hard link to a symlink a link to the symlink itself, not to what it points at', async () => {
    const root = scratch();
    await applyLayer(root, tarOf([
      { name: 'etc/', type: 'dir' },
      { name: 'etc/real', type: 'file', body: 'real' },
      { name: 'etc/alias', type: 'symlink', linkname: 'real' },
      { name: 'etc/alias2', type: 'hardlink', linkname: 'etc/alias' },
      // A link under a symlinked directory still resolves its parents inside the root.
      { name: 'lnk', type: 'symlink', linkname: '/etc' },
      { name: 'via', type: 'hardlink', linkname: 'lnk/real' },
    ]), 'none');
    const alias2 = lstatSync(join(root, 'etc', 'alias2'));
    expect(alias2.isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(root, 'etc', 'alias2'))).toBe('real');
    expect(alias2.ino).toBe(lstatSync(join(root, 'etc', 'alias')).ino);
    expect(lstatSync(join(root, 'via')).ino).toBe(lstatSync(join(root, 'etc', 'real')).ino);
    expect(readFileSync(join(root, 'via'), 'utf8')).toBe('real');
  });
});

describe('writeLayer', () => {
  // Files of several MiB cross the 1 MiB output buffers and the blob's write batches, which a
  // reused buffer held past its turn would corrupt; the small ones are packed between them.
  it('stores the same archive, with a blob digest over the stored bytes, for none, gzip and zstd', async () => {
    const root = scratch();
    const big = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * seed + (i >> 12)) % 251));
    writeFileSync(join(root, 'a.bin'), big(3 * (1 << 20) + 777, 31));
    writeFileSync(join(root, 'b.txt'), 'small\n');
    mkdirSync(join(root, 'd'));
    writeFileSync(join(root, 'd', 'c.bin'), big((1 << 20) - 5, 17));
    writeFileSync(join(root, 'd', 'e.bin'), big(70_000, 7));
    const expected = await collect(tarBytes(diffTree(root, undefined, { clampMtime: 1_700_000_000 })));
    const diffId = `sha256:${createHash('sha256').update(expected).digest('hex')}`;
    const layout = await OciLayout.open(join(scratch(), 'layout'), { create: true });
    for (const compression of ['none', 'gzip', ...(zstdAvailable() ? ['zstd' as const] : [])] as const) {
      const written = await writeLayer(layout, diffTree(root, undefined, { clampMtime: 1_700_000_000 }), { compression });
      const blob = await layout.readBlob(written.descriptor.digest);
      expect(`sha256:${createHash('sha256').update(blob).digest('hex')}`, compression).toBe(written.descriptor.digest);
      expect(written.descriptor.size, compression).toBe(blob.length);
      expect(written.diffId, compression).toBe(diffId);
      const stored = (async function* () {
        yield blob;
      })();
      expect((await collect(decompress(stored, compression))).equals(expected), compression).toBe(true);
    }
  });
});

describe('parallel gzip', () => {
  it('is one valid gzip stream with a fixed header, for sizes around the 1 MiB blocks', async () => {
    for (const size of [0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 12345]) {
      const data = Buffer.alloc(size);
      for (let i = 0; i < size; i++) data[i] = (i * 7919) % 251;
      const gz = await collect(parallelGzip([data]));
      expect(gz.subarray(0, 10)).toEqual(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]));
      expect(gunzipSync(gz).equals(data)).toBe(true);
    }
  });
});

describe('changes and references', () => {
  it('reads Dockerfile instructions as docker commit does', () => {
    const c: RuntimeConfig = { Cmd: ['old'] };
    applyChanges(c, ['ENTRYPOINT ["/app"]']);
    expect(c.Cmd).toBeNull();
    applyChanges(c, ['CMD serve --port 80', 'ENV A=1 B="two words"', 'ENV C three words', 'EXPOSE 80 53/udp 8000-8001', 'WORKDIR /srv', 'WORKDIR www']);
    expect(c).toMatchObject({
      Entrypoint: ['/app'],
      Cmd: ['/bin/sh', '-c', 'serve --port 80'],
      Env: ['A=1', 'B=two words', 'C=three words'],
      ExposedPorts: { '80/tcp': {}, '53/udp': {}, '8000/tcp': {}, '8001/tcp': {} },
      WorkingDir: '/srv/www',
    });
    expect(() => applyChanges(c, ['RUN make'])).toThrow(/"RUN" is not a change kiln can apply/);
  });

  it('keeps a CMD given before ENTRYPOINT in the same list, as docker build does', () => {
    const c: RuntimeConfig = { Cmd: ['inherited'] };
    applyChanges(c, ['CMD ["--port", "80"]', 'ENTRYPOINT ["/app"]']);
    expect(c).toMatchObject({ Entrypoint: ['/app'], Cmd: ['--port', '80'] });
    // A later list starts afresh: its ENTRYPOINT drops the CMD this one inherits.
    applyChanges(c, ['ENTRYPOINT ["/other"]']);
    expect(c).toMatchObject({ Entrypoint: ['/other'], Cmd: null });
  });

  it('reads STOPSIGNAL, USER and VOLUME in both forms', () => {
    const c: RuntimeConfig = {};
    applyChanges(c, ['USER 1000:1000', 'STOPSIGNAL SIGQUIT', 'VOLUME ["/data", "/logs"]', 'VOLUME /cache']);
    expect(c).toMatchObject({ User: '1000:1000', StopSignal: 'SIGQUIT', Volumes: { '/data': {}, '/logs': {}, '/cache': {} } });
  });

  it('parses image references as Docker does', () => {
    expect(parseReference('alpine')).toEqual({ registry: 'docker.io', repository: 'library/alpine' });
    expect(parseReference('127.0.0.1:5000/team/app:1.0')).toEqual({ registry: '127.0.0.1:5000', repository: 'team/app', tag: '1.0' });
    expect(parseReference('localhost/app@sha256:' + 'a'.repeat(64))).toMatchObject({ registry: 'localhost', repository: 'app', digest: 'sha256:' + 'a'.repeat(64) });
    expect(() => parseReference('Bad/Name')).toThrow(/lower-case/);
  });
});
