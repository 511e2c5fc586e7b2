/**
 * The communicator of the daemonless `oci` builder: the "machine" is an unpacked root
 * filesystem. Files are written into it directly (paths resolved inside the root, symlinks
 * included); commands run inside it the way buildah's chroot isolation does: in new mount and
 * PID namespaces (and a user namespace when kiln is not root) with /proc and a minimal /dev
 * mounted, then chroot. The host's network is shared.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { chmod, copyFile, cp, mkdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { PermanentCommunicatorError, type Communicator, type ExecOptions, type ExecResult, type TransferOptions } from '../../sdk/communicator.js';
import type { ResourceTracker } from '../../sdk/plugin.js';
import { resolveInRoot } from '../../formats/oci/root-path.js';
import { processStartTime } from '../../state/proc.js';
import { LineSplitter } from '../lines.js';
import { uploadTree } from './tree.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Mounts /proc and a minimal /dev inside the root, then runs the command there through its own
 * /bin/sh. The /dev is buildah's chroot isolation's: a tmpfs holding only the harmless devices
 * (bound from the host, since a user namespace may not mknod), a private devpts instance and a
 * /dev/shm — never the host's disks or /dev/kvm, and nothing written there reaches the host.
 * It lives in the command's mount namespace, so it is gone (and not in the layer) afterwards.
 */
const ENTER = [
  'set -e',
  'r=$1',
  'mount -t proc proc "$r/proc"',
  'mount -t tmpfs -o mode=755,nosuid kiln-dev "$r/dev"',
  'for d in null zero full random urandom tty; do [ -e "/dev/$d" ] || continue; : > "$r/dev/$d"; mount --bind "/dev/$d" "$r/dev/$d"; done',
  'mkdir "$r/dev/pts" "$r/dev/shm"',
  // A kernel without devpts instances in this namespace still runs commands, just without ptys.
  'mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$r/dev/pts" 2>/dev/null && ln -s pts/ptmx "$r/dev/ptmx" || :',
  'mount -t tmpfs -o mode=1777,nosuid,nodev shm "$r/dev/shm"',
  'ln -s /proc/self/fd "$r/dev/fd"',
  'ln -s /proc/self/fd/0 "$r/dev/stdin"; ln -s /proc/self/fd/1 "$r/dev/stdout"; ln -s /proc/self/fd/2 "$r/dev/stderr"',
  'exec chroot "$r" /bin/sh -c "$2"',
].join('\n');

/** A pass-through that reports bytes as they go (a 'data' listener would start the flow too early). */
function counting(total: number, report?: (done: number, total: number) => void): Transform {
  let done = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      done += chunk.length;
      report?.(done, total);
      cb(null, chunk);
    },
  });
}

/** The machine refuses the namespaces commands run in: waiting (start_retry_timeout) will not change that. */
export class NamespaceError extends PermanentCommunicatorError {
  override name = 'NamespaceError';
}

export interface RootfsOptions {
  /** The image's environment (`K=V`), under which commands run. */
  env?: readonly string[];
  workdir?: string;
  resources?: ResourceTracker;
}

export class RootfsCommunicator implements Communicator {
  readonly description: string;
  private checked = false;
  private readonly unprivileged = process.getuid?.() !== 0;

  constructor(
    readonly root: string,
    private readonly opts: RootfsOptions = {},
  ) {
    this.description = `image root filesystem ${root}`;
  }

  private nsFlags(): string[] {
    return [...(this.unprivileged ? ['--user', '--map-root-user'] : []), '--mount', '--pid', '--fork', '--kill-child', '--propagation', 'private'];
  }

  /** Fails with an actionable message when commands cannot run here at all. */
  private preflight(): void {
    if (this.checked) return;
    if (process.platform !== 'linux') throw new NamespaceError(`running commands inside an image needs Linux namespaces; this is ${process.platform}. The file provisioner works everywhere.`);
    const sh = resolveInRoot(this.root, '/bin/sh');
    if (!existsSync(sh)) throw new PermanentCommunicatorError('the image has no /bin/sh: the shell provisioner runs its commands with the shell inside the image (a scratch image has none until you add one, e.g. busybox)');
    const probe = spawnSync('unshare', [...this.nsFlags(), 'true'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      const why = probe.error ? probe.error.message : probe.stderr.trim();
      throw new NamespaceError(
        `commands run inside the image through user, mount and PID namespaces (unshare + chroot, like buildah's chroot isolation), and this machine refused them: ${why}. Run kiln as root, or allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces); the file provisioner needs none of this.`,
      );
    }
    this.checked = true;
  }

  async exec(command: string, o: ExecOptions = {}): Promise<ExecResult> {
    this.preflight();
    if (o.signal?.aborted) return { exitCode: null, signal: 'SIGTERM' };
    // Mount points a minimal image may lack: made for the command, removed after it, so they
    // never show up in the layer.
    const made: string[] = [];
    for (const d of ['proc', 'dev']) {
      const p = join(this.root, d);
      if (!existsSync(p)) {
        mkdirSync(p);
        made.push(p);
      }
    }
    const env: Record<string, string> = { PATH: DEFAULT_PATH, HOME: '/root', HOSTNAME: 'kiln' };
    for (const kv of this.opts.env ?? []) {
      const eq = kv.indexOf('=');
      if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    Object.assign(env, o.env ?? {});
    const cd = this.opts.workdir ? `cd ${JSON.stringify(this.opts.workdir)} 2>/dev/null || cd /; ` : '';
    const handle = await this.opts.resources?.record('process', `command in image root ${this.root}`, { argv: ['unshare', 'chroot', this.root] });
    const child = spawn('unshare', [...this.nsFlags(), '/bin/sh', '-c', ENTER, 'kiln-enter', this.root, `${cd}${command}`], {
      env,
      detached: true,
      stdio: [o.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out = new LineSplitter((l) => o.onStdout?.(l));
    const err = new LineSplitter((l) => o.onStderr?.(l));
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    if (o.stdin !== undefined && child.stdin) {
      if (typeof o.stdin === 'string') child.stdin.end(o.stdin);
      else (o.stdin as Readable).pipe(child.stdin);
    }
    const onAbort = (): void => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (child.pid !== undefined) await handle?.update({ pid: child.pid, startTime: processStartTime(child.pid) });
      return await new Promise<ExecResult>((resolve, reject) => {
        child.on('error', reject);
        child.on('close', (code, sig) => {
          out.end();
          err.end();
          resolve(sig ? { exitCode: null, signal: sig } : { exitCode: code });
        });
      });
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
      await handle?.release();
      for (const p of made) {
        try {
          rmdirSync(p);
        } catch {
          // still busy or not empty: the diff will show it, which is better than hiding content
        }
      }
    }
  }

  /** `dst` inside the root; an existing directory receives the file under its own name (as scp). */
  private async target(dst: string, name: string): Promise<string> {
    const p = resolveInRoot(this.root, dst);
    const st = await stat(p).catch(() => undefined);
    if (st?.isDirectory() || dst.endsWith('/')) return join(p, name);
    return p;
  }

  async upload(src: string | { stream: Readable; size: number }, dst: string, o: TransferOptions = {}): Promise<void> {
    const name = typeof src === 'string' ? basename(src) : basename(dst);
    const path = await this.target(dst, name);
    await mkdir(dirname(path), { recursive: true });
    const mode = o.mode ?? (typeof src === 'string' ? (await stat(src)).mode & 0o7777 : 0o644);
    const size = typeof src === 'string' ? (await stat(src)).size : src.size;
    const input = typeof src === 'string' ? createReadStream(src, { highWaterMark: 1 << 20 }) : src.stream;
    // Replace, never write through: the path may be a symlink or hard link in the image.
    await rm(path, { force: true });
    await pipeline(input, counting(size, o.onProgress), createWriteStream(path, { mode }), o.signal ? { signal: o.signal } : {});
    await chmod(path, mode);
  }

  async uploadDir(src: string, dst: string, o: TransferOptions & { exclude?: readonly string[] } = {}): Promise<void> {
    const entries = await uploadTree(src, o.exclude);
    const total = entries.reduce((n, e) => n + e.size, 0);
    let done = 0;
    const base = resolveInRoot(this.root, dst);
    await mkdir(base, { recursive: true });
    for (const e of entries) {
      o.signal?.throwIfAborted();
      const p = resolveInRoot(this.root, `${dst}/${e.rel}`);
      if (e.kind === 'dir') await mkdir(p, { recursive: true, mode: e.mode });
      else {
        await copyFile(e.abs, p);
        await chmod(p, e.mode);
        done += e.size;
        o.onProgress?.(done, total);
      }
    }
  }

  async download(src: string, dst: string, o: TransferOptions = {}): Promise<void> {
    const from = resolveInRoot(this.root, src);
    const st = await stat(from).catch(() => undefined);
    if (!st?.isFile()) throw new Error(`${src} does not exist in the image or is not a file`);
    const to = (await stat(dst).catch(() => undefined))?.isDirectory() ? join(dst, basename(src)) : dst;
    await mkdir(dirname(to), { recursive: true });
    await pipeline(createReadStream(from, { highWaterMark: 1 << 20 }), counting(st.size, o.onProgress), createWriteStream(to), o.signal ? { signal: o.signal } : {});
  }

  async downloadDir(src: string, dst: string, o: TransferOptions = {}): Promise<void> {
    const from = resolveInRoot(this.root, src.replace(/\/+$/, '') || '/');
    const into = src.endsWith('/') ? dst : join(dst, basename(src));
    o.signal?.throwIfAborted();
    // Links are copied as links: an image's absolute symlinks must not reach into the host.
    await cp(from, into, { recursive: true, verbatimSymlinks: true, dereference: false });
  }

  async close(): Promise<void> {}
}
