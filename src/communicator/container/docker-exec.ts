/**
 * The communicator of the `docker` builder: commands run with the engine's exec API
 * (`/bin/sh -c`, output demultiplexed line by line), files travel through the archive API as tar
 * streams built on the fly — no `docker` CLI, no host folder mounted into the container.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Communicator, ExecOptions, ExecResult, TransferOptions } from '../../sdk/communicator.js';
import { encodeHeader, END_OF_ARCHIVE, padding } from '../../formats/tar/header.js';
import { readTar } from '../../formats/tar/reader.js';
import { cleanEntryName } from '../../formats/oci/root-path.js';
import { LineSplitter } from '../lines.js';
import type { DockerClient } from './docker-api.js';
import { uploadTree } from './tree.js';

async function* fileBytes(src: Readable | string, size: number, onProgress?: (done: number, total: number) => void): AsyncGenerator<Buffer> {
  let n = 0;
  const input = typeof src === 'string' ? createReadStream(src, { highWaterMark: 1 << 20 }) : src;
  for await (const c of input as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > size) throw new Error(`upload source grew past the ${size} bytes announced`);
    onProgress?.(n, size);
    yield c;
  }
  if (n !== size) throw new Error(`upload source ended after ${n} of ${size} bytes`);
}

export class DockerExecCommunicator implements Communicator {
  readonly description: string;

  constructor(
    private readonly docker: DockerClient,
    private readonly container: string,
    /** `fixOwner`: uploads are chowned to `user` afterwards (Packer's fix_upload_owner). */
    private readonly opts: { user?: string; fixOwner?: boolean } = {},
  ) {
    this.description = `container ${container.slice(0, 12)}`;
  }

  async exec(command: string, o: ExecOptions = {}): Promise<ExecResult> {
    const out = new LineSplitter((l) => o.onStdout?.(l));
    const err = new LineSplitter((l) => o.onStderr?.(l));
    const code = await this.docker.exec(this.container, ['/bin/sh', '-c', command], {
      ...(o.env && { env: o.env }),
      ...(this.opts.user && { user: this.opts.user }),
      ...(o.stdin !== undefined && { stdin: o.stdin }),
      ...(o.signal && { signal: o.signal }),
      onStdout: (c) => out.push(c),
      onStderr: (c) => err.push(c),
    });
    out.end();
    err.end();
    if (o.signal?.aborted) return { exitCode: null, signal: 'SIGTERM' };
    return { exitCode: code };
  }

  /** The file's path in the container: into an existing directory under its own name, as `docker cp`. */
  private async target(dst: string, name: string): Promise<string> {
    if (dst.endsWith('/')) return posix.join(dst, name);
    const st = await this.docker.statPath(this.container, dst);
    return st?.isDir ? posix.join(dst, name) : dst;
  }

  async upload(src: string | { stream: Readable; size: number }, dst: string, o: TransferOptions = {}): Promise<void> {
    const name = typeof src === 'string' ? basename(src) : posix.basename(dst);
    const path = await this.target(posix.resolve('/', dst), name);
    const st = typeof src === 'string' ? await stat(src) : undefined;
    const size = st ? st.size : (src as { size: number }).size;
    const mode = o.mode ?? (st ? st.mode & 0o7777 : 0o644);
    const rel = path.replace(/^\/+/, '');
    const mtime = Math.floor(Date.now() / 1000);
    // Only the file's own entry: parents are made by the engine, and an existing symlinked
    // parent (/var/run → /run) stays a symlink.
    const tar = (async function* () {
      yield encodeHeader({ name: rel, type: 'file', mode, uid: 0, gid: 0, size, mtime });
      yield* fileBytes(typeof src === 'string' ? src : src.stream, size, o.onProgress);
      yield padding(size);
      yield END_OF_ARCHIVE;
    })();
    await this.docker.putArchive(this.container, '/', tar, o.signal);
    await this.fixOwner(path);
  }

  /** The archive API writes files as root; a build that runs as another user gets them as its own. */
  private async fixOwner(path: string): Promise<void> {
    const user = this.opts.user;
    if (!this.opts.fixOwner || !user || user === 'root' || user === '0' || user.startsWith('0:')) return;
    const code = await this.docker.exec(this.container, ['chown', '-R', user, path], { user: '0' });
    if (code !== 0) throw new Error(`could not give ${path} to ${user} in the container (chown exited ${code}); set fix_upload_owner = false to keep root as owner`);
  }

  async uploadDir(src: string, dst: string, o: TransferOptions & { exclude?: readonly string[] } = {}): Promise<void> {
    const entries = await uploadTree(src, o.exclude);
    const total = entries.reduce((n, e) => n + e.size, 0);
    const base = posix.resolve('/', dst).replace(/^\/+/, '');
    const mtime = Math.floor(Date.now() / 1000);
    let done = 0;
    const tar = (async function* () {
      for (const e of entries) {
        const name = base === '' ? e.rel : `${base}/${e.rel}`;
        if (e.kind === 'dir') {
          yield encodeHeader({ name: `${name}/`, type: 'dir', mode: e.mode, uid: 0, gid: 0, size: 0, mtime });
          continue;
        }
        yield encodeHeader({ name, type: 'file', mode: e.mode, uid: 0, gid: 0, size: e.size, mtime });
        const start = done;
        yield* fileBytes(e.abs, e.size, (n) => o.onProgress?.(start + n, total));
        done += e.size;
        yield padding(e.size);
      }
      yield END_OF_ARCHIVE;
    })();
    await this.docker.putArchive(this.container, '/', tar, o.signal);
    await this.fixOwner(`/${base}`);
  }

  async download(src: string, dst: string, o: TransferOptions = {}): Promise<void> {
    const res = await this.docker.getArchive(this.container, src);
    const to = (await stat(dst).catch(() => undefined))?.isDirectory() ? join(dst, posix.basename(src)) : dst;
    for await (const e of readTar(res)) {
      if (e.type !== 'file') throw new Error(`${src} in the container is not a file`);
      await mkdir(dirname(to), { recursive: true });
      let n = 0;
      await pipeline(
        (async function* () {
          for await (const c of e.body()) {
            n += c.length;
            o.onProgress?.(n, e.size);
            yield c;
          }
        })(),
        createWriteStream(to, { mode: e.mode & 0o777 }),
      );
      res.resume();
      return;
    }
    throw new Error(`${src} in the container came back empty`);
  }

  async downloadDir(src: string, dst: string, o: TransferOptions = {}): Promise<void> {
    const res = await this.docker.getArchive(this.container, src.replace(/\/+$/, '') || '/');
    // The archive's entries start with the folder's own name; a trailing slash drops it.
    const strip = src.endsWith('/');
    for await (const e of readTar(res)) {
      o.signal?.throwIfAborted();
      let rel = cleanEntryName(e.name);
      if (strip) rel = rel.split('/').slice(1).join('/');
      if (rel === '') continue;
      const p = join(dst, rel);
      if (e.type === 'dir') await mkdir(p, { recursive: true });
      else if (e.type === 'file') {
        await mkdir(dirname(p), { recursive: true });
        await pipeline(e.body(), createWriteStream(p, { mode: e.mode & 0o777 }));
      }
    }
  }

  async close(): Promise<void> {}
}
