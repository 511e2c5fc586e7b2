/**
 * Running commands on the local machine for shell-local and friends: each command in its own
 * process group (so cancellation and `kiln cleanup` can stop everything it started), recorded
 * in the resource ledger, output streamed line by line.
 */
import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import type { ExecResult } from '../sdk/communicator.js';
import type { ResourceTracker } from '../sdk/plugin.js';
import { processStartTime } from '../state/proc.js';
import { LineSplitter } from './lines.js';

export interface LocalRunOptions {
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  signal?: AbortSignal;
  onStdout?: (line: string) => void;
  onStderr?: (line: string) => void;
  /** When given, the process is recorded in the ledger while it runs. */
  resources?: ResourceTracker;
  /**
   * What the ledger (and `kiln cleanup`) calls the process. The command line itself is never
   * recorded: it can carry secrets (shell-local's `{{.Vars}}`), and the ledger outlives the run.
   */
  description?: string;
  /** Time between SIGTERM and SIGKILL when cancelled. */
  killGraceMs?: number;
}

export class CommandNotFoundError extends Error {
  override name = 'CommandNotFoundError';
}

/** Runs argv[0] with the rest as arguments (no shell unless argv asks for one). */
export async function runLocal(argv: readonly string[], opts: LocalRunOptions = {}): Promise<ExecResult> {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('internal: empty command');
  if (opts.signal?.aborted) return { exitCode: null, signal: 'SIGTERM' };
  // The reaper needs only the PID and its start time (added below); the program name helps a
  // person reading `kiln cleanup --dry-run`.
  const handle = await opts.resources?.record('process', opts.description ?? `local command ${basename(cmd)}`, { program: basename(cmd) });
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  // Listeners go on before anything awaits, so no output or exit event can slip past.
  const out = new LineSplitter((l) => opts.onStdout?.(l));
  const err = new LineSplitter((l) => opts.onStderr?.(l));
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  const done = new Promise<ExecResult>((resolve, reject) => {
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT' ? new CommandNotFoundError(`command not found: ${cmd}`) : e);
    });
    // 'close' waits for the output pipes, so no line is lost.
    child.on('close', (code, sig) => {
      out.end();
      err.end();
      resolve(sig ? { exitCode: null, signal: sig } : { exitCode: code });
    });
  });

  // Handled below; this stops a spawn error during the ledger update from counting as unhandled.
  done.catch(() => undefined);

  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      return;
    }
    killTimer = setTimeout(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, opts.killGraceMs ?? 5000);
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    if (pid !== undefined && handle) await handle.update({ pid, startTime: processStartTime(pid) });
    return await done;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    if (killTimer) clearTimeout(killTimer);
    // Background processes the command started on purpose (a local HTTP server, say) are
    // left running, as Packer leaves them; only a cancelled command's group is stopped.
    await handle?.release();
  }
}
