/**
 * The SSH communicator: commands and file transfers over one connection (SFTP by default, scp
 * on request). A connection that dropped (a reboot, expect_disconnect) is opened again on the
 * next use, waiting for SSH as the first connection did (the machine may still be rebooting),
 * with the host key checked against the one this build recorded.
 */
import { createReadStream } from 'node:fs';
import { mkdir as mkdirLocal, stat as statLocal } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { debuglog } from 'node:util';
import { PermanentCommunicatorError, type Communicator, type ExecOptions, type ExecResult, type TransferOptions } from '../../sdk/communicator.js';
import type { SshSettings } from '../../sdk/ssh-config.js';
import { endpointName, type SshConnection } from './connect.js';
import { execOn } from './exec.js';
import type { HostKeyGuard } from './host-keys.js';
import { walkLocal } from './local-tree.js';
import { scpDownload, scpUpload, scpUploadTree } from './scp.js';
import { CHUNK, getFile, mkdirAll, parentOf, putStream, stat, type Sftp } from './sftp.js';
import { downloadTree, remoteJoin, uploadTree } from './sftp-tree.js';
import { probeTar, tarUploadTree, type TarProbe } from './tar-tree.js';
import { SshWaitError, waitForSsh, type WaitUi } from './wait.js';

/** SFTP channels used for a directory tree (OpenSSH allows 10 sessions per connection by default). */
const TREE_CHANNELS = 4;
/** NODE_DEBUG=kiln shows why a tree went per file rather than as one tar stream. */
const debug = debuglog('kiln');
/** Progress is reported at most this often, and always at the end. */
const PROGRESS_INTERVAL_MS = 100;

function progress(opts: TransferOptions | undefined, total: number): { add(n: number): void; setTotal(n: number): void; end(): void; done(): number } {
  let done = 0;
  let last = 0;
  let t = total;
  return {
    add(n) {
      done += n;
      const now = Date.now();
      if (now - last >= PROGRESS_INTERVAL_MS) {
        last = now;
        opts?.onProgress?.(done, t);
      }
    },
    setTotal(n) {
      t = n;
    },
    end() {
      opts?.onProgress?.(done, t);
    },
    done: () => done,
  };
}

export class SshCommunicator implements Communicator {
  readonly description: string;
  private sftpChannel: Promise<Sftp> | undefined;
  private reconnecting: Promise<SshConnection> | undefined;
  /** Which tar each connection's remote has, asked once per connection (a reboot may change it). */
  private readonly tarProbes = new WeakMap<SshConnection, Promise<TarProbe>>();
  private closed = false;
  /** Aborted by close(): a reconnection still waiting for SSH stops with it. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly settings: SshSettings,
    private readonly guard: HostKeyGuard,
    private conn: SshConnection,
    /** Where a reconnection says what it waits for. */
    private readonly ui: WaitUi = { say: () => undefined, message: () => undefined },
  ) {
    const t = settings.target;
    this.description = `ssh ${t.username}@${endpointName(t)}`;
  }

  /** The host key fingerprint this build accepted for the target. */
  get hostKeyFingerprint(): string | undefined {
    return this.guard.recorded(endpointName(this.settings.target));
  }

  /**
   * The live connection. When the previous one dropped, SSH is waited for again under
   * ssh_timeout and ssh_handshake_attempts: after a reboot the next step (a file upload, say)
   * must not fail just because sshd is not back yet. Concurrent callers share one reconnection.
   */
  private async connection(signal?: AbortSignal): Promise<SshConnection> {
    if (this.closed) throw this.closedError();
    if (!this.conn.closed) return this.conn;
    this.sftpChannel = undefined;
    // One reconnection, shared by every caller and stopped by close(); a caller's own signal
    // ends only that caller's wait, not the others'.
    this.reconnecting ??= this.reconnect(this.stopping.signal).finally(() => (this.reconnecting = undefined));
    if (!signal) return this.reconnecting;
    signal.throwIfAborted();
    const reconnecting = this.reconnecting;
    return new Promise<SshConnection>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error('cancelled'));
      signal.addEventListener('abort', onAbort, { once: true });
      reconnecting.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private closedError(): Error {
    return new Error(`the SSH communicator for ${this.settings.target.host} is closed`);
  }

  private async reconnect(signal: AbortSignal): Promise<SshConnection> {
    try {
      const conn = await waitForSsh(this.settings, this.guard, this.ui, signal);
      if (this.closed) {
        // close() came as the new connection opened: it must not outlive the communicator.
        conn.end();
        throw this.closedError();
      }
      this.conn = conn;
    } catch (err) {
      if (this.closed) throw this.closedError();
      const message = `the connection to ${this.description} was lost and cannot be opened again: ${(err as Error).message}`;
      // The wait already retried what can recover; a changed host key, a refused login or a
      // timeout will not fix itself, and retrying it again only delays the failure.
      if (err instanceof SshWaitError && !signal.aborted) throw new PermanentCommunicatorError(message);
      throw new Error(message);
    }
    return this.conn;
  }

  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const conn = await this.connection(opts.signal);
    const o = { ...opts, pty: opts.pty ?? this.settings.pty };
    try {
      return await execOn(conn, command, o);
    } catch (err) {
      // The channel did not open because the connection had died unnoticed (a reboot between
      // two steps): the command never ran, so starting it on a new connection is safe.
      if (!conn.closed) throw err;
      return execOn(await this.connection(opts.signal), command, o);
    }
  }

  private openSftp(conn: SshConnection): Promise<Sftp> {
    return new Promise((resolve, reject) =>
      conn.client.sftp((err, sftp) => (err ? reject(new Error(`cannot open an SFTP session on ${conn.label}: ${err.message} (is the sftp subsystem enabled? ssh_file_transfer_method = "scp" avoids it)`)) : resolve(sftp))),
    );
  }

  private async sftp(): Promise<{ conn: SshConnection; sftp: Sftp }> {
    const conn = await this.connection();
    if (!this.sftpChannel) {
      const p = this.openSftp(conn);
      this.sftpChannel = p;
      p.then((s) => s.on('close', () => this.sftpChannel === p && (this.sftpChannel = undefined))).catch(() => (this.sftpChannel = undefined));
    }
    return { conn, sftp: await this.sftpChannel };
  }

  /**
   * Runs a transfer; a failure caused by the connection dropping says so, with how far it got.
   * The drop itself ends the wait: requests in flight on a dead connection may never be answered.
   */
  private async transfer<T>(what: string, p: ReturnType<typeof progress>, total: () => number, signal: AbortSignal | undefined, fn: (conn: SshConnection) => Promise<T>): Promise<T> {
    const conn = await this.connection(signal);
    let unwatch = (): void => undefined;
    const lost = new Promise<never>((_, reject) => {
      unwatch = conn.onClose(() => reject(new Error('connection lost')));
    });
    const work = fn(conn);
    // Whichever loses the race must not surface later as an unhandled rejection.
    work.catch(() => undefined);
    lost.catch(() => undefined);
    try {
      const r = await Promise.race([work, lost]);
      p.end();
      return r;
    } catch (err) {
      if (conn.closed) {
        const reason = conn.closeReason ? `: ${conn.closeReason.message}` : '';
        throw new Error(`the connection to ${this.description} was lost during the ${what} after ${p.done()} of ${total()} bytes${reason}`);
      }
      throw new Error(`${what} failed: ${(err as Error).message}`);
    } finally {
      unwatch();
    }
  }

  async upload(src: string | { stream: Readable; size: number }, dst: string, opts: TransferOptions = {}): Promise<void> {
    let size: number;
    let mode: number;
    let stream: Readable;
    if (typeof src === 'string') {
      const s = await statLocal(src);
      if (s.isDirectory()) throw new Error(`${src} is a directory: use uploadDir`);
      size = s.size;
      mode = opts.mode ?? s.mode & 0o7777;
      stream = createReadStream(src, { highWaterMark: CHUNK });
    } else {
      size = src.size;
      mode = opts.mode ?? 0o644;
      stream = src.stream;
    }
    const p = progress(opts, size);
    const what = `upload of ${typeof src === 'string' ? src : 'a stream'} to ${dst}`;
    // Like cp and scp (Packer fails with "Is a directory"): a file sent to an existing directory goes inside it.
    const name = typeof src === 'string' ? basename(src) : undefined;
    try {
      await this.transfer(what, p, () => size, opts.signal, async (conn) => {
        if (this.settings.fileTransfer === 'scp') return scpUpload(conn, stream, size, dst, mode, name, (n) => p.add(n));
        const { sftp } = await this.sftp();
        // Both requests go out together: knowing what dst is costs no extra round trip.
        const [existing] = await Promise.all([stat(sftp, dst), mkdirAll(sftp, parentOf(dst))]);
        let target = dst;
        if (existing?.isDirectory) {
          if (name === undefined) throw new Error(`${dst} is a directory on the remote machine: name the file to write inside it`);
          target = remoteJoin(dst, name);
        }
        await putStream(sftp, stream, target, mode, (n) => p.add(n), opts.signal);
      });
    } finally {
      stream.destroy();
    }
  }

  /**
   * Packer's rule: `src/` (trailing slash) puts the contents of src into dst; `src` puts the
   * directory itself there, as dst/<name of src>. Missing parents of dst are created. The tree
   * goes as one tar stream when the remote has a tar kiln knows, else file by file over
   * ssh_file_transfer_method.
   */
  async uploadDir(src: string, dst: string, opts: TransferOptions & { exclude?: readonly string[] } = {}): Promise<void> {
    const contents = src.endsWith('/');
    const root = contents ? dst : remoteJoin(dst, basename(src.replace(/\/+$/, '')));
    // The remote's answer to "which tar?" comes back while the local tree is walked. The probe
    // never fails (no tar is an answer too), so nothing waits on a rejection here.
    if (!this.closed && !this.conn.closed) void this.remoteTar(this.conn);
    const entries = await walkLocal(src.replace(/\/+$/, '') || '/', opts.exclude);
    const total = entries.reduce((n, e) => n + e.size, 0);
    const p = progress(opts, total);
    await this.transfer(`upload of ${src} to ${root}`, p, () => total, opts.signal, async (conn) => {
      // A file given as the tree (the SFTP and scp paths upload it as the root) has no tar path,
      // so only a directory asks the remote which tar it has.
      const { tar, reason } = entries[0]?.kind === 'dir' ? await this.remoteTar(conn) : { tar: undefined, reason: 'the tree is a single file' };
      if (tar) return tarUploadTree(conn, tar, entries, root, !contents, (n) => p.add(n), opts.signal);
      debug('%s: uploading %s file by file over %s: %s', this.description, src, this.settings.fileTransfer, reason);
      if (this.settings.fileTransfer === 'scp') return scpUploadTree(conn, entries, root, !contents, (n) => p.add(n));
      await this.withChannels(conn, (channels) => uploadTree(channels, entries, root, !contents, (n) => p.add(n), opts.signal));
    });
  }

  private remoteTar(conn: SshConnection): Promise<TarProbe> {
    let probe = this.tarProbes.get(conn);
    if (!probe) {
      probe = probeTar(conn);
      this.tarProbes.set(conn, probe);
    }
    return probe;
  }

  /** Several SFTP channels on the connection for one tree transfer, closed afterwards. */
  private async withChannels<T>(conn: SshConnection, fn: (channels: Sftp[]) => Promise<T>): Promise<T> {
    const { sftp } = await this.sftp();
    const extra = await Promise.all(Array.from({ length: TREE_CHANNELS - 1 }, () => this.openSftp(conn)));
    try {
      return await fn([sftp, ...extra]);
    } finally {
      for (const s of extra) s.end();
    }
  }

  async download(src: string, dst: string, opts: TransferOptions = {}): Promise<void> {
    let total = 0;
    const p = progress(opts, 0);
    await mkdirLocal(dirname(dst), { recursive: true });
    await this.transfer(`download of ${src} to ${dst}`, p, () => total, opts.signal, async (conn) => {
      if (this.settings.fileTransfer === 'scp') {
        return scpDownload(conn, src, dst, false, (n) => p.setTotal((total = n)), (n) => p.add(n));
      }
      const { sftp } = await this.sftp();
      const s = await stat(sftp, src);
      if (!s) throw new Error(`${src}: no such file on the remote machine`);
      if (s.isDirectory) throw new Error(`${src} is a directory: end it with "/" to download a directory`);
      p.setTotal((total = s.size));
      await getFile(sftp, src, dst, (n) => p.add(n), opts.signal);
    });
  }

  /** The trailing-slash rule of uploadDir, mirrored: `src/` fills dst, `src` becomes dst/<name>. */
  async downloadDir(src: string, dst: string, opts: TransferOptions = {}): Promise<void> {
    const contents = src.endsWith('/');
    const root = contents ? dst : join(dst, basename(src.replace(/\/+$/, '')));
    let total = 0;
    const p = progress(opts, 0);
    await mkdirLocal(contents ? dst : dirname(root), { recursive: true });
    await this.transfer(`download of ${src} to ${root}`, p, () => total, opts.signal, async (conn) => {
      const clean = src.replace(/\/+$/, '') || '/';
      if (this.settings.fileTransfer === 'scp') {
        return scpDownload(conn, clean, root, true, (n) => p.setTotal((total = n)), (n) => p.add(n));
      }
      await this.withChannels(conn, (channels) => downloadTree(channels, clean, root, (n) => p.setTotal((total = n)), (n) => p.add(n), opts.signal));
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopping.abort();
    this.conn.end();
  }
}
