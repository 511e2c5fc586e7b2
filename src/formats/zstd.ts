/**
 * zstd streams for OCI layers and the compress post-processor. node:zlib has zstd from Node.js
 * 22.15 (and 23.8) on; older runtimes get it from the `zstd` command (Debian package zstd), run
 * as a child process that bytes are streamed through, so nothing is held in memory either way.
 *
 * The command runs multi-threaded, one worker per core (zstdThreads). zstd cuts its input into jobs whose
 * size follows from the level alone, so the output is byte-identical for any worker count ≥ 1
 * and however the input arrives in chunks; only --single-thread would differ (it is the one mode
 * that is not multi-threaded). Input always comes through stdin, so the frame never records a
 * content size that would depend on how it was fed. node:zlib and the command are different zstd
 * builds (and node:zlib is single-threaded), so the two give valid but different bytes: a layer
 * digest is stable for one runtime and one zstd version, which is what reproducible builds on
 * one machine, or one CI image, need.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { availableParallelism } from 'node:os';
import { Duplex, type Readable, type Transform, type Writable } from 'node:stream';
import * as zlib from 'node:zlib';
import { findCommand } from '../communicator/find-command.js';

export type ZstdBackend = 'zlib' | 'command';

type ZstdFactory = (options?: { params?: Record<number, number> }) => Transform;

/** zstd's own default, also used when no level is given. */
export const DEFAULT_ZSTD_LEVEL = 3;
/** Levels above 19 need --ultra on the command line. */
const ULTRA = 19;
/** How much of the command's stderr an error message keeps. */
const STDERR_KEPT = 4096;

/** The node:zlib factory when this Node.js has it; the typings of Node 20 do not know zstd. */
function zlibFactory(kind: 'createZstdCompress' | 'createZstdDecompress'): ZstdFactory | undefined {
  const z = zlib as unknown as Record<string, ZstdFactory | undefined>;
  return typeof z[kind] === 'function' ? z[kind] : undefined;
}

/** The `zstd` executable on PATH. */
function zstdCommand(): string | undefined {
  return findCommand('zstd');
}

/** How zstd would be done here: node:zlib first (no process to start), else the command. */
export function zstdBackend(): ZstdBackend | undefined {
  if (zlibFactory('createZstdCompress')) return 'zlib';
  return zstdCommand() ? 'command' : undefined;
}

export function zstdAvailable(): boolean {
  return zstdBackend() !== undefined;
}

export function zstdMissingMessage(what: string): string {
  return (
    `${what} needs zstd: node:zlib has it from Node.js 22.15 (or 23.8) on, and this is Node.js ${process.version}; ` +
    'on older Node.js kiln runs the zstd command, which is not on PATH. Install it (Debian/Ubuntu: apt-get install zstd), use gzip, or run kiln on a newer Node.js'
  );
}

/** Threads a zstd stream compresses with: node:zlib's is single-threaded, the command uses every core. */
export function zstdThreads(): number {
  return zstdBackend() === 'command' ? availableParallelism() : 1;
}

/** The zstd command's arguments for compressing stdin to stdout at `level`, on every core. */
function compressArgs(level: number): string[] {
  return ['-q', '-c', '--no-progress', `-T${availableParallelism()}`, ...(level > ULTRA ? ['--ultra'] : []), `-${level}`];
}

/** A compressing stream at `level` (1–22; zstd's default 3 when unset). */
export function zstdCompressStream(level: number = DEFAULT_ZSTD_LEVEL): Duplex {
  const create = zlibFactory('createZstdCompress');
  if (create) {
    const key = (zlib.constants as unknown as Record<string, number | undefined>).ZSTD_c_compressionLevel;
    return create(key === undefined ? {} : { params: { [key]: level } });
  }
  const cmd = zstdCommand();
  if (!cmd) throw new Error(zstdMissingMessage('zstd compression'));
  return new CommandStream(cmd, compressArgs(level), 'zstd compression');
}

/** How often the compressed file is looked at for new bytes while zstd writes it. */
const FOLLOW_MS = 5;
/** Bytes read back from the compressed file at a time. */
const FOLLOW_CHUNK = 4 << 20;
/** zstd's words for a write that failed for want of space, and the errno they stand for. */
const SPACE_ERRORS: ReadonlyArray<[RegExp, string]> = [
  [/No space left on device/i, 'ENOSPC'],
  [/Disk quota exceeded/i, 'EDQUOT'],
  [/File too large/i, 'EFBIG'],
];

/**
 * zstd of `src` written by the zstd command itself into the new file `path`, for a caller that
 * stores the result anyway: the compressed bytes never pass through this process on their way
 * to the disk (64 KiB pipe reads, a buffer each, and the writes cost more than hashing them);
 * they are read back once, while the file grows, and handed to `onOutput` (valid only during
 * the call). Only for the command backend (zstdBackend() === 'command'). Returns the size.
 * A write that fails for want of space is an error with that errno's code, as fs would give.
 */
export async function zstdCommandToFile(
  src: AsyncIterable<Buffer>,
  path: string,
  opts: { level?: number; written?: (chunk: Buffer) => void; onOutput: (chunk: Buffer) => void; signal?: AbortSignal },
): Promise<number> {
  const cmd = zstdCommand();
  if (!cmd) throw new Error(zstdMissingMessage('zstd compression'));
  const out = await open(path, 'wx', 0o644);
  let child: ChildProcessByStdio<Writable, null, Readable>;
  try {
    child = spawn(cmd, compressArgs(opts.level ?? DEFAULT_ZSTD_LEVEL), { stdio: ['pipe', out.fd, 'pipe'] }) as ChildProcessByStdio<Writable, null, Readable>; // stdin and stderr are pipes: Node's typings know no fd in the list
  } finally {
    // The child has its own copy of the descriptor once spawned.
    await out.close();
  }
  const { stdin, stderr } = child;
  let said = '';
  stderr.setEncoding('utf8');
  stderr.on('data', (t: string) => (said.length < STDERR_KEPT ? (said += t.slice(0, STDERR_KEPT - said.length)) : undefined));
  stdin.on('error', () => undefined); // EPIPE when zstd died early: its exit status says why
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  let ended = false;
  void exited.then(() => (ended = true));
  const kill = (): void => {
    if (!ended) child.kill('SIGKILL');
  };
  opts.signal?.addEventListener('abort', kill, { once: true });

  const feed = async (): Promise<void> => {
    for await (const chunk of src) {
      if (ended) return; // zstd is gone; its exit status is the error
      const written = opts.written;
      stdin.write(chunk, written && ((err) => err || written(chunk)));
      // As in CommandStream: up to AHEAD bytes may wait for zstd, not just the stream's 16 KiB.
      if (stdin.writableLength >= AHEAD) await new Promise<void>((resolve) => {
        stdin.once('drain', resolve);
        void exited.then(() => resolve());
      });
    }
    stdin.end();
  };
  const follow = async (): Promise<number> => {
    const reader = await open(path, 'r');
    const buf = Buffer.allocUnsafe(FOLLOW_CHUNK);
    let pos = 0;
    try {
      for (;;) {
        // Read after noting whether zstd had ended: an empty read then means the file is whole.
        const wasEnded = ended;
        const { bytesRead } = await reader.read(buf, 0, buf.length, pos);
        if (bytesRead > 0) {
          opts.onOutput(buf.subarray(0, bytesRead));
          pos += bytesRead;
        } else if (wasEnded) return pos;
        else await Promise.race([exited, sleep(FOLLOW_MS)]);
      }
    } finally {
      await reader.close();
    }
  };
  try {
    const fed = feed().catch((err: unknown) => {
      kill();
      throw err;
    });
    const [feeding, exit, following] = await Promise.allSettled([fed, exited, follow()]);
    opts.signal?.throwIfAborted();
    // A failure of ours (an unreadable file in the tree) is why zstd was stopped: it comes first.
    if (feeding.status === 'rejected') throw feeding.reason;
    const r = exit.status === 'fulfilled' ? exit.value : { code: null, signal: null };
    if ('error' in r && r.error) throw new Error(`zstd compression: could not run ${cmd}: ${r.error.message}`);
    if (r.code !== 0) {
      const detail = said.trim();
      const err: NodeJS.ErrnoException = new Error(`zstd compression: zstd ${r.signal ? `was killed by ${r.signal}` : `exited with status ${String(r.code)}`}${detail ? `: ${detail}` : ''}`);
      const space = SPACE_ERRORS.find(([re]) => re.test(detail));
      if (space) err.code = space[1];
      throw err;
    }
    if (following.status === 'rejected') throw following.reason;
    return following.value;
  } finally {
    kill();
    opts.signal?.removeEventListener('abort', kill);
  }
}

/** How far the producer and the zstd process may run ahead of each other (bytes queued). */
const AHEAD = 8 << 20;

/** A decompressing stream. */
export function zstdDecompressStream(): Duplex {
  const create = zlibFactory('createZstdDecompress');
  if (create) return create();
  const cmd = zstdCommand();
  if (!cmd) throw new Error(zstdMissingMessage('reading zstd data'));
  return new CommandStream(cmd, ['-q', '-d', '-c', '--no-progress'], 'zstd decompression');
}

/**
 * A child process as a duplex stream: what is written goes to its stdin, its stdout is what is
 * read. The readable side ends only once the process has exited with 0, so a consumer never takes
 * a truncated output for a whole one; any other exit is an error carrying its stderr. Destroying
 * the stream (an abort, a failed consumer) kills the process.
 */
class CommandStream extends Duplex {
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private stderr = '';
  private exited = false;

  constructor(
    command: string,
    args: readonly string[],
    private readonly what: string,
  ) {
    // Each side may run up to AHEAD bytes ahead of the other: with only the pipes' 64 KiB between
    // them, kiln (making the tar) and zstd (compressing on its own threads) took turns waiting.
    super({ readableHighWaterMark: AHEAD, writableHighWaterMark: 1 << 16 });
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const { stdin, stdout, stderr } = this.child;
    stdout.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) stdout.pause();
    });
    stderr.setEncoding('utf8');
    stderr.on('data', (s: string) => {
      if (this.stderr.length < STDERR_KEPT) this.stderr += s.slice(0, STDERR_KEPT - this.stderr.length);
    });
    // EPIPE when the process died early: its exit status and stderr, below, say why.
    stdin.on('error', () => undefined);
    this.child.on('error', (err) => {
      this.exited = true;
      this.destroy(new Error(`${this.what}: could not run ${command}: ${err.message}`));
    });
    this.child.on('close', (code, signal) => {
      this.exited = true;
      if (this.destroyed) return;
      if (code === 0) this.push(null);
      else {
        const why = signal ? `was killed by ${signal}` : `exited with status ${String(code)}`;
        const detail = this.stderr.trim();
        this.destroy(new Error(`${this.what}: zstd ${why}${detail ? `: ${detail}` : ''}`));
      }
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    // Backpressure: the next chunk waits once AHEAD bytes are queued for zstd's stdin.
    this.child.stdin.write(chunk);
    if (this.child.stdin.writableLength < AHEAD) done();
    else this.child.stdin.once('drain', () => done());
  }

  override _final(done: (err?: Error | null) => void): void {
    this.child.stdin.end(done);
  }

  override _read(): void {
    this.child.stdout.resume();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (!this.exited) this.child.kill('SIGKILL');
    done(err);
  }
}
