/**
 * Running one command over an SSH connection: output delivered line by line as it arrives,
 * the exit status (or the fact that the connection dropped first), cancellation, a pty on
 * request. Environment values travel inside the command as quoted `export` assignments,
 * because OpenSSH's default AcceptEnv refuses almost every variable sent with the env request.
 */
import type { ClientChannel, ExecOptions as Ssh2ExecOptions } from 'ssh2';
import type { ExecOptions, ExecResult } from '../../sdk/communicator.js';
import { LineSplitter } from '../lines.js';
import { shellQuote } from '../shell-quote.js';
import type { SshConnection } from './connect.js';

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `export K='v'; …` in front of the command: any byte of a value arrives unchanged. */
export function withEnv(command: string, env: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(env ?? {});
  if (entries.length === 0) return command;
  for (const [k] of entries) if (!envName.test(k)) throw new Error(`"${k}" is not a valid environment variable name`);
  return `${entries.map(([k, v]) => `export ${k}=${shellQuote(v)}`).join('; ')}; ${command}`;
}

/** How long a cancelled command has after TERM before KILL, and after KILL before kiln stops waiting. */
export const STOP_GRACE_MS = 5000;

/** The parts of ssh2's channel that signal() checks, and the protocol it skips (see sendSignal). */
interface ChannelInternals {
  writable: boolean;
  outgoing?: { id?: number; state?: string };
  _client?: { _protocol?: { signal?: (id: number, name: string) => void } };
}

/**
 * ssh2's signal() sends nothing once kiln has closed the command's stdin (it checks that the
 * channel is writable), though SSH allows a signal until the channel closes: then the request
 * goes through ssh2's protocol object directly.
 */
function sendSignal(channel: ClientChannel, name: 'TERM' | 'KILL'): void {
  const c = channel as unknown as ChannelInternals;
  try {
    if (c.writable) channel.signal(name);
    // Not writable: stdin was ended (state "eof"), or is still draining after end() ("open").
    else if ((c.outgoing?.state === 'eof' || c.outgoing?.state === 'open') && c.outgoing.id !== undefined) c._client?._protocol?.signal?.(c.outgoing.id, name);
  } catch {
    // the channel is closing already
  }
}

export function execOn(conn: SshConnection, command: string, opts: ExecOptions & { pty?: boolean }): Promise<ExecResult> {
  const full = withEnv(command, opts.env);
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return resolve({ exitCode: null, signal: 'SIGTERM' });
    // Packer's terminal: no echo, 40×80.
    const ptyOpts: Ssh2ExecOptions = opts.pty ? { pty: { term: 'xterm', rows: 40, cols: 80, modes: { ECHO: 0, TTY_OP_ISPEED: 14400, TTY_OP_OSPEED: 14400 } } } : {};
    conn.client.exec(full, ptyOpts, (err, channel) => {
      if (err) return reject(new Error(`cannot start a command on ${conn.label}: ${err.message}`));
      const out = new LineSplitter((l) => opts.onStdout?.(l));
      const errLines = new LineSplitter((l) => opts.onStderr?.(l));
      let exit: ExecResult | undefined;
      let cancelled = false;
      channel.on('data', (c: Buffer) => out.push(c));
      channel.stderr.on('data', (c: Buffer) => errLines.push(c));
      channel.on('exit', (code: number | null, sig?: string) => {
        exit = sig ? { exitCode: null, signal: sig.startsWith('SIG') ? sig : `SIG${sig}` } : { exitCode: code };
      });
      // Cancelled: TERM to the command's process group (OpenSSH's signal request), KILL if it is
      // still there after STOP_GRACE_MS, and after as long again the wait ends whatever the
      // server does (one that refuses signals keeps the command running until it ends).
      const timers: NodeJS.Timeout[] = [];
      const onAbort = (): void => {
        cancelled = true;
        sendSignal(channel, 'TERM');
        timers.push(
          setTimeout(() => sendSignal(channel, 'KILL'), STOP_GRACE_MS),
          setTimeout(() => {
            channel.close();
            channel.emit('close');
          }, 2 * STOP_GRACE_MS),
        );
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const stopWatch = conn.onClose(() => channel.emit('close'));
      let finished = false;
      channel.on('close', () => {
        if (finished) return;
        finished = true;
        timers.forEach(clearTimeout);
        stopWatch();
        opts.signal?.removeEventListener('abort', onAbort);
        out.end();
        errLines.end();
        if (exit) resolve(exit);
        else if (cancelled) resolve({ exitCode: null, signal: 'SIGTERM' });
        else resolve({ exitCode: null, disconnected: true });
      });
      if (typeof opts.stdin === 'string') channel.end(opts.stdin);
      else if (opts.stdin) opts.stdin.pipe(channel);
      else channel.end();
    });
  });
}
