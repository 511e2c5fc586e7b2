/**
 * A directory tree as ONE tar stream into the remote `tar -x`: a file then costs a 512-byte
 * header in a stream instead of several SFTP or scp round trips. Only GNU tar (1.27 or later)
 * and BusyBox tar are used, because their extraction flags and behaviour were checked; any
 * other answer to the probe makes the caller use SFTP or scp instead.
 *
 * The archive carries directories writable by us (their real modes are set by chmod once tar is
 * done, as scp does), uid/gid 0 and no owner names; extraction uses -o so the files belong to
 * the SSH user, root included; -m gives them the upload time, as SFTP and scp do; -p keeps
 * modes exactly (no umask).
 *
 * GNU tar also reports how far it has read (a dot on stdout per checkpoint), and kiln keeps what
 * tar has not read yet below IN_FLIGHT. Unpaced, the whole SSH window (2 MiB with OpenSSH) piles
 * up in sshd while tar creates files, and sshd grows that buffer through fresh mmaps and copies:
 * a 2,000-file tree took 130-150 ms to extract on a fresh connection, paced it takes 40 ms.
 */
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { debuglog } from 'node:util';
import type { ClientChannel } from 'ssh2';
import { BLOCK, encodeHeader, END_OF_ARCHIVE, padding } from '../../formats/tar/header.js';
import { shellQuote } from '../shell-quote.js';
import type { SshConnection } from './connect.js';
import type { TreeEntry } from './local-tree.js';
import { CHUNK } from './sftp.js';
import { remoteJoin } from './sftp-tree.js';

export type RemoteTar = 'gnu' | 'busybox';

/** Files below this size are read in one go and batched with their neighbours. */
const SMALL_FILE = 64 * 1024;
/** Bytes gathered before one write to the channel: fewer, larger SSH packets. */
const BATCH = 256 * 1024;
/** A probe that has not answered by then (a shell waiting for something) counts as "no tar". */
const PROBE_TIMEOUT_MS = 15_000;
/** Remote stderr kept for the error message. */
const STDERR_LIMIT = 4096;
/** GNU tar's records (-b 20: 10 KiB) read between two of its progress dots. */
const CHECKPOINT_RECORDS = 5;
const BYTES_PER_DOT = CHECKPOINT_RECORDS * 20 * BLOCK;
/** Bytes sent that tar has not reported read, at most (measured: 256 KiB-1 MiB all do). */
export const IN_FLIGHT = 512 * 1024;
/**
 * A tar whose dots stop coming (buffered output, a slow disk) is no longer paced after this
 * long: the SSH window still bounds what is sent, as without pacing.
 */
export const DOT_TIMEOUT_MS = 2000;

const debug = debuglog('kiln');

/**
 * POSIX sh that prints a `kiln-tar:` line naming the tar it finds. A shell's profile may print
 * around it and a shell that is not sh prints something else: only the marked line counts.
 * GNU tar before 1.27 has no --keep-directory-symlink and replaces a symlinked directory
 * (Debian's merged /lib, say) with a real one, so its version is reported too.
 */
const PROBE = [
  'command -v tar >/dev/null 2>&1 || exit 0',
  "v=$(tar --version 2>/dev/null </dev/null) || v=''",
  "case $v in *'GNU tar'*) printf 'kiln-tar: %s\\n' \"$v\"; exit 0;; esac",
  "v=$(tar --help 2>&1 </dev/null) || v=''",
  "case $v in *BusyBox*) echo 'kiln-tar: BusyBox';; esac",
].join('\n');

export interface TarProbe {
  tar?: RemoteTar;
  /** Why the tree goes per file, for the debug log. */
  reason?: string;
}

export function parseProbe(out: string): TarProbe {
  const line = /^kiln-tar: (.*)$/m.exec(out)?.[1];
  if (line === undefined) return { reason: 'no tar found by the remote shell' };
  if (line === 'BusyBox') return { tar: 'busybox' };
  const m = /GNU tar\)? (\d+)\.(\d+)/.exec(line);
  if (!m) return { reason: `unrecognised tar: ${line}` };
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major > 1 || (major === 1 && minor >= 27)) return { tar: 'gnu' };
  return { reason: `GNU tar ${major}.${minor} is older than 1.27 (no --keep-directory-symlink)` };
}

/** Asks the remote shell which tar it has; never throws (an exec refused means "no tar"). */
export function probeTar(conn: SshConnection): Promise<TarProbe> {
  return new Promise((resolve) => {
    conn.client.exec(PROBE, (err, channel) => {
      if (err) return resolve({ reason: `cannot run a command: ${err.message}` });
      let out = '';
      const timer = setTimeout(() => {
        resolve({ reason: `the probe did not answer within ${PROBE_TIMEOUT_MS / 1000} s` });
        channel.close();
      }, PROBE_TIMEOUT_MS);
      channel.on('data', (c: Buffer) => (out += c.toString('utf8')));
      channel.stderr.on('data', () => undefined);
      channel.on('close', () => {
        clearTimeout(timer);
        resolve(parseProbe(out));
      });
      // An sftp-only account (ForceCommand internal-sftp) waits for input: end it.
      channel.end();
    });
  });
}

/** The remote side: create the root, extract, then give directories their real modes. */
function extractCommand(tar: RemoteTar, entries: readonly TreeEntry[], dstRoot: string, applyRootMode: boolean): string {
  const root = shellQuote(dstRoot);
  const gnu = tar === 'gnu' ? ` --keep-directory-symlink -b 20 --checkpoint=${CHECKPOINT_RECORDS} --checkpoint-action=dot` : '';
  return [`mkdir -p -- ${root}`, `tar -x -o -m -p${gnu} -f - -C ${root}`, ...dirModeCommands(entries, dstRoot, applyRootMode)].join(' && ');
}

/**
 * The chmods that give a tree's directories their real modes once it is written (directories
 * go up writable, so read-only ones can still be filled): deepest first, so a directory made
 * read-only does not stop the one above from changing; the root only with `applyRootMode`.
 * The tar and scp uploads both end with them.
 */
export function dirModeCommands(entries: readonly TreeEntry[], dstRoot: string, applyRootMode: boolean): string[] {
  return entries
    .filter((e) => e.kind === 'dir' && (e.rel === '' ? applyRootMode : (e.mode & 0o700) !== 0o700))
    .sort((a, b) => depth(b.rel) - depth(a.rel))
    .map((d) => `chmod ${(d.mode & 0o7777).toString(8)} -- ${shellQuote(remoteJoin(dstRoot, d.rel))}`);
}

function depth(rel: string): number {
  return rel === '' ? 0 : rel.split('/').length;
}

/** What the Sink needs of an ssh2 channel (a test can stand in for it). */
export type SinkChannel = Pick<ClientChannel, 'on' | 'write' | 'off'> & { stderr: Pick<ClientChannel['stderr'], 'on'> };

/**
 * The channel as an awaitable sink; a remote that exits early turns writes into a clear error.
 * Headers and small files are packed into one batch buffer (small files are read straight into
 * it), so a tree of small files costs neither a buffer nor a copy per file. With `paced`, the
 * remote prints a dot per BYTES_PER_DOT read and writes wait while IN_FLIGHT are unread.
 */
export class Sink {
  private batch: Buffer = Buffer.allocUnsafe(BATCH);
  private fill = 0;
  private pendingData = 0;
  private closed = false;
  private stderr = '';
  private exit: { code: number | null; signal?: string } | undefined;
  private sent = 0;
  private read = 0;
  private wake: (() => void) | undefined;
  /** Batch buffers the channel is done with. */
  private readonly spare: Buffer[] = [];
  readonly done: Promise<void>;

  constructor(
    private readonly channel: SinkChannel,
    private readonly dstRoot: string,
    private readonly onBytes: (n: number) => void,
    private paced = false,
  ) {
    channel.on('data', (c: Buffer) => {
      if (!this.paced) return;
      // Only dots count: a login script's output could share stdout; more dots only loosen the pace.
      for (const byte of c) if (byte === 0x2e) this.read += BYTES_PER_DOT;
      this.wakeWriter();
    });
    channel.stderr.on('data', (c: Buffer) => {
      if (this.stderr.length < STDERR_LIMIT) this.stderr += c.toString('utf8');
    });
    channel.on('exit', (code: number | null, signal?: string) => (this.exit = { code, signal }));
    this.done = new Promise((resolve) =>
      channel.on('close', () => {
        this.closed = true;
        this.wakeWriter();
        resolve();
      }),
    );
  }

  private wakeWriter(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  get succeeded(): boolean {
    return this.exit?.code === 0 && !this.exit.signal;
  }

  /** What the remote command said, once it has ended. */
  failure(): Error {
    const why = this.exit?.signal ? `killed by SIG${this.exit.signal.replace(/^SIG/, '')}` : this.exit ? `exit status ${this.exit.code}` : 'no exit status';
    const said = this.stderr.trim();
    return new Error(`extracting into ${this.dstRoot} on the remote machine failed (${why})${said ? `: ${said.slice(0, STDERR_LIMIT)}` : ''}`);
  }

  /** Room for `n` more bytes in the batch, sending it first if they would not fit. */
  private async reserve(n: number): Promise<void> {
    if (BATCH - this.fill < n) await this.flush();
  }

  /** Appends `b` (a header, padding: at most a few KiB) to the batch. */
  async push(b: Buffer): Promise<void> {
    await this.reserve(b.length);
    b.copy(this.batch, this.fill);
    this.fill += b.length;
  }

  /**
   * Reads the small file at `path` straight into the batch, behind its header and followed by
   * its padding. The header takes the size read: a file that changed since it was listed goes as
   * it is now (its header is as long whatever its size below SMALL_FILE, so the bytes read stay
   * where they are).
   */
  async pushSmallFile(path: string, listedSize: number, header: (size: number) => Buffer): Promise<void> {
    const listed = header(listedSize);
    await this.reserve(listed.length + SMALL_FILE + BLOCK);
    const at = this.fill + listed.length;
    const room = Math.min(SMALL_FILE, BATCH - at);
    const fd = openSync(path, 'r');
    let size = 0;
    try {
      for (;;) {
        const n = readSync(fd, this.batch, at + size, room - size, null);
        if (n === 0) break;
        size += n;
        if (size === room) throw new Error(`${path} grew past ${SMALL_FILE} bytes while the tree was sent`);
        // Read up to the size listed: taken as the end, so a file as listed costs one read.
        if (size === listedSize) break;
      }
    } finally {
      closeSync(fd);
    }
    (size === listedSize ? listed : header(size)).copy(this.batch, this.fill);
    const end = at + size;
    this.fill = end + ((BLOCK - (size % BLOCK)) % BLOCK);
    this.batch.fill(0, end, this.fill);
    this.pendingData += size;
  }

  /** Sends file content as it is: the batch goes first, to keep the stream in order. */
  async pushData(chunk: Buffer): Promise<void> {
    await this.flush();
    await this.write(chunk);
    this.onBytes(chunk.length);
  }

  async flush(): Promise<void> {
    if (this.fill === 0) return;
    const { batch: full, fill, pendingData: data } = this;
    // ssh2 may hold a buffer until the window lets it go: it is reused once the write is done.
    this.batch = this.spare.pop() ?? Buffer.allocUnsafe(BATCH);
    this.fill = 0;
    this.pendingData = 0;
    await this.write(full.subarray(0, fill), () => this.spare.push(full));
    if (data > 0) this.onBytes(data);
  }

  /** Waits until the remote has read enough of what was sent (see IN_FLIGHT). */
  private async pace(): Promise<void> {
    while (this.paced && !this.closed && this.sent - this.read > IN_FLIGHT) {
      let timer: NodeJS.Timeout | undefined;
      const moved = await new Promise<boolean>((resolve) => {
        this.wake = () => resolve(true);
        timer = setTimeout(() => resolve(false), DOT_TIMEOUT_MS);
      });
      clearTimeout(timer);
      if (!moved) {
        this.wake = undefined;
        this.paced = false;
        debug('tar into %s reported no progress for %d ms: sending unpaced', this.dstRoot, DOT_TIMEOUT_MS);
      }
    }
  }

  /** Writes `b`; `written` runs once the channel no longer needs it. */
  private async write(b: Buffer, written?: () => void): Promise<void> {
    await this.pace();
    if (this.closed) throw new RemoteEnded();
    this.sent += b.length;
    if (this.channel.write(b, written)) return;
    await new Promise<void>((resolve) => {
      const go = (): void => {
        this.channel.off('drain', go);
        this.channel.off('close', go);
        resolve();
      };
      this.channel.on('drain', go);
      this.channel.on('close', go);
    });
    if (this.closed) throw new RemoteEnded();
  }
}

/** The remote command ended while the archive was still being sent; its own message says why. */
class RemoteEnded extends Error {}

function open(conn: SshConnection, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) =>
    conn.client.exec(command, (err, channel) => (err ? reject(new Error(`cannot start tar on ${conn.label}: ${err.message}`)) : resolve(channel))),
  );
}

async function sendFile(sink: Sink, e: TreeEntry, mtime: number): Promise<void> {
  const header = (size: number): Buffer => encodeHeader({ name: e.rel, type: 'file', mode: e.mode, uid: 0, gid: 0, size, mtime });
  // A blocking read of a few KiB costs microseconds; the promise API's round trips through the
  // thread pool cost more than sending such a file.
  if (e.size < SMALL_FILE) return sink.pushSmallFile(e.abs, e.size, header);
  await sink.push(header(e.size));
  let sent = 0;
  for await (const chunk of createReadStream(e.abs, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) {
    sent += chunk.length;
    if (sent > e.size) throw new Error(`${e.abs} grew while it was being sent`);
    await sink.pushData(chunk);
  }
  if (sent !== e.size) throw new Error(`${e.abs} has ${sent} bytes, ${e.size} were announced`);
  await sink.push(padding(e.size));
}

/**
 * Uploads `entries` (from walkLocal) so that the tree's root becomes `dstRoot`. The root takes
 * the source directory's mode only when it is the copy of that directory (`applyRootMode`).
 */
export async function tarUploadTree(conn: SshConnection, tar: RemoteTar, entries: readonly TreeEntry[], dstRoot: string, applyRootMode: boolean, onBytes: (n: number) => void, signal?: AbortSignal): Promise<void> {
  const channel = await open(conn, extractCommand(tar, entries, dstRoot, applyRootMode));
  const sink = new Sink(channel, dstRoot, onBytes, tar === 'gnu');
  // A dropped connection may never close its channels: end the wait here, the caller reports it.
  const stopWatch = conn.onClose(() => channel.emit('close'));
  const onAbort = (): void => {
    channel.close();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const mtime = Math.floor(Date.now() / 1000);
  try {
    for (const e of entries) {
      if (signal?.aborted) throw new Error('cancelled');
      if (e.rel === '') continue;
      if (e.kind === 'dir') await sink.push(encodeHeader({ name: `${e.rel}/`, type: 'dir', mode: e.mode | 0o700, uid: 0, gid: 0, size: 0, mtime }));
      else await sendFile(sink, e, mtime);
    }
    await sink.push(END_OF_ARCHIVE);
    await sink.flush();
    channel.end();
    await sink.done;
  } catch (err) {
    if (signal?.aborted) throw new Error('cancelled');
    if (!(err instanceof RemoteEnded)) {
      // A local failure (an unreadable file): the remote tar must not wait for more.
      channel.close();
      throw err;
    }
    // It stopped reading before the archive ended: a failure even if it claims success.
    await sink.done;
    throw sink.failure();
  } finally {
    stopWatch();
    signal?.removeEventListener('abort', onAbort);
  }
  if (signal?.aborted) throw new Error('cancelled');
  if (!sink.succeeded) throw sink.failure();
}
