/**
 * One SSH connection attempt: a TCP socket (direct, through a SOCKS5 proxy, or tunnelled
 * through a bastion with forwardOut), the handshake with host-key checking, authentication,
 * keepalives and the read/write timeout. Failures are classified, because the wait-for-SSH loop
 * treats "not up yet" (retry quietly) differently from "authentication failed" (counted) and
 * from a refused host key or a broken configuration (stop at once).
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { Client as ClientType, ConnectConfig } from 'ssh2';
import type { SshEndpoint, SshSettings } from '../../sdk/ssh-config.js';
import { HostKeyMismatchError, type HostKeyGuard } from './host-keys.js';
import { socks5Connect, Socks5Error } from './socks5.js';

const { Client, utils } = ssh2;

/** Why an attempt failed: `unreachable` means not up yet; `auth` counts against ssh_handshake_attempts. */
export type FailureKind = 'unreachable' | 'auth' | 'hostkey' | 'config';

export class SshConnectError extends Error {
  override name = 'SshConnectError';
  constructor(
    message: string,
    readonly kind: FailureKind,
  ) {
    super(message);
  }
}

/** Packer gives the handshake one minute. */
const HANDSHAKE_TIMEOUT_MS = 60_000;

export interface SshConnection {
  readonly client: ClientType;
  readonly label: string;
  /** True once the connection is gone (closed, dropped, timed out). */
  readonly closed: boolean;
  /** Why it closed, when that was not our own doing. */
  readonly closeReason: Error | undefined;
  onClose(listener: (reason: Error | undefined) => void): () => void;
  end(): void;
}

export function endpointName(e: { host: string; port: number }): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** The step an attempt is in, so an attempt cut short by its deadline can say where it stalled. */
type Stage = 'tcp' | 'proxy' | 'bastion' | 'forward' | 'handshake';

/**
 * Opens a connection to the target as the settings say, verifying every host key with `guard`.
 * `deadline` (epoch ms) bounds the whole attempt: without it a server that accepts TCP but never
 * speaks SSH would hold one attempt for the full TCP and handshake timeouts, past ssh_timeout.
 */
export async function openConnection(s: SshSettings, guard: HostKeyGuard, signal?: AbortSignal, deadline = Infinity): Promise<SshConnection> {
  const target = s.target;
  const attempt = new AbortController();
  const onAbort = (): void => attempt.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) attempt.abort();
  let timedOut = false;
  const timer = Number.isFinite(deadline)
    ? setTimeout(() => {
        timedOut = true;
        attempt.abort();
      }, Math.max(0, deadline - Date.now()))
    : undefined;
  let stage: Stage = s.bastion ? 'bastion' : s.proxy ? 'proxy' : 'tcp';
  let bastion: SshConnection | undefined;
  let sock: Duplex;
  try {
    if (s.bastion) {
      bastion = await handshake(s.bastion, 'bastion', await tcp(s.bastion, s, attempt.signal), s, guard, attempt.signal);
      stage = 'forward';
      sock = await forward(bastion, target, attempt.signal);
    } else if (s.proxy) {
      try {
        const proxied = await socks5Connect({ proxyHost: s.proxy.host, proxyPort: s.proxy.port, username: s.proxy.username, password: s.proxy.password, host: target.host, port: target.port, signal: attempt.signal });
        watchIdle(proxied, s);
        sock = proxied;
      } catch (err) {
        const e = err as Error;
        throw new SshConnectError(e.message, e instanceof Socks5Error && !e.destinationUnreachable ? 'config' : 'unreachable');
      }
    } else {
      sock = await tcp(target, s, attempt.signal);
    }
    stage = 'handshake';
    const conn = await handshake(target, 'target', sock, s, guard, attempt.signal);
    if (bastion) {
      const b = bastion;
      conn.onClose(() => b.end());
      b.onClose(() => conn.end());
    }
    return conn;
  } catch (err) {
    bastion?.end();
    if (timedOut && !signal?.aborted) throw new SshConnectError(stalled(stage, s), 'unreachable');
    throw err;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

function stalled(stage: Stage, s: SshSettings): string {
  const t = endpointName(s.target);
  const end = 'before ssh_timeout ran out';
  switch (stage) {
    case 'tcp':
      return `cannot reach ${t}: no answer ${end}`;
    case 'proxy':
      return `the SOCKS5 proxy ${s.proxy ? endpointName(s.proxy) : ''} did not connect to ${t} ${end}`;
    case 'bastion':
      return `the bastion ${s.bastion ? endpointName(s.bastion) : ''} did not answer SSH ${end}`;
    case 'forward':
      return `the bastion did not open a tunnel to ${t} ${end}`;
    case 'handshake':
      return `${t} accepts connections but did not complete the SSH handshake ${end} (is it an SSH server, and is it still starting?)`;
  }
}

/** A TCP socket to an endpoint; refusals and timeouts mean "not up yet". */
function tcp(e: SshEndpoint, s: SshSettings, signal?: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = tcpConnect({ host: e.host, port: e.port });
    const timer = setTimeout(() => fail(new Error('no answer within 30s')), 30_000);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ECONNREFUSED' ? 'connection refused (nothing listening yet)' : code === 'ENOTFOUND' ? `the name ${e.host} does not resolve` : err.message;
      reject(new SshConnectError(`cannot reach ${endpointName(e)}: ${why}`, 'unreachable'));
    };
    const onAbort = (): void => fail(new Error('cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) return onAbort();
    sock.once('error', fail);
    sock.once('connect', () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock.off('error', fail);
      sock.setNoDelay(true);
      coalesceWrites(sock);
      watchIdle(sock, s);
      resolve(sock);
    });
  });
}

/**
 * ssh2 writes every SSH packet with its own socket write, so thousands of small SFTP requests
 * become thousands of syscalls and TCP segments. Corking until the end of the current tick sends
 * all packets produced in one turn of the event loop as one writev.
 */
function coalesceWrites(sock: Socket): void {
  const write = sock.write.bind(sock) as (...args: unknown[]) => boolean;
  let corked = false;
  const uncork = (): void => {
    corked = false;
    sock.uncork();
  };
  sock.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      sock.cork();
      process.nextTick(uncork);
    }
    return write(...args);
  }) as typeof sock.write;
}

/** ssh_read_write_timeout: a socket silent for that long is dead (keepalives keep a live one talking). */
function watchIdle(sock: Socket, s: SshSettings): void {
  if (s.readWriteTimeoutMs <= 0) return;
  sock.setTimeout(s.readWriteTimeoutMs, () => {
    sock.destroy(new Error(`no data for ${Math.round(s.readWriteTimeoutMs / 1000)}s (ssh_read_write_timeout): the connection is considered dead`));
  });
}

/** A channel through the bastion to the target, used as the target connection's socket. */
function forward(bastion: SshConnection, target: SshEndpoint, signal: AbortSignal): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const onAbort = (): void => {
      settled = true;
      bastion.end();
      reject(new SshConnectError('cancelled', 'unreachable'));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    bastion.client.forwardOut('127.0.0.1', 0, target.host, target.port, (err, stream) => {
      signal.removeEventListener('abort', onAbort);
      if (settled) {
        stream?.destroy();
        return;
      }
      settled = true;
      if (err) {
        bastion.end();
        reject(new SshConnectError(`the bastion ${bastion.label} cannot reach ${endpointName(target)}: ${err.message}`, 'unreachable'));
      } else resolve(stream);
    });
  });
}

function parseKey(e: SshEndpoint, role: string): void {
  if (e.privateKey === undefined) return;
  const parsed = utils.parseKey(e.privateKey);
  if (parsed instanceof Error) {
    throw new SshConnectError(`the ${role} private key cannot be used: ${parsed.message}${/encrypt|passphrase/i.test(parsed.message) ? ' (kiln needs a key without a passphrase, or ssh_agent_auth)' : ''}`, 'config');
  }
}

function handshake(e: SshEndpoint, role: 'target' | 'bastion', sock: Duplex, s: SshSettings, guard: HostKeyGuard, signal?: AbortSignal): Promise<SshConnection> {
  parseKey(e, role === 'bastion' ? 'bastion' : 'ssh');
  const where = endpointName(e);
  const label = `${e.username}@${where}`;
  const client = new Client();
  const verify = guard.verifier(where, role === 'bastion' ? 'bastion' : 'SSH', e.hostKeyFingerprint);
  const cfg: ConnectConfig = {
    sock: sock as Socket,
    username: e.username,
    readyTimeout: HANDSHAKE_TIMEOUT_MS,
    hostVerifier: (key: Buffer) => verify(key),
    keepaliveInterval: s.keepAliveIntervalMs,
    keepaliveCountMax: 3,
    tryKeyboard: e.password !== undefined && e.keyboardInteractive,
    ...(e.password !== undefined && { password: e.password }),
    ...(e.privateKey !== undefined && { privateKey: e.privateKey }),
    ...(e.agent !== undefined && { agent: e.agent }),
  };
  if (s.ciphers || s.kex) cfg.algorithms = { ...(s.ciphers && { cipher: s.ciphers as never }), ...(s.kex && { kex: s.kex as never }) };

  return new Promise((resolve, reject) => {
    let settled = false;
    let closed = false;
    let closeReason: Error | undefined;
    let endedByUs = false;
    const listeners = new Set<(reason: Error | undefined) => void>();
    const onAbort = (): void => {
      client.end();
      settle(new SshConnectError('cancelled', 'unreachable'));
    };
    const settle = (err?: Error): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (err) {
        client.end();
        sock.destroy();
        reject(err);
        return;
      }
      resolve({
        client,
        label,
        get closed() {
          return closed;
        },
        get closeReason() {
          return closeReason;
        },
        onClose(l) {
          if (closed) {
            queueMicrotask(() => l(closeReason));
            return () => undefined;
          }
          listeners.add(l);
          return () => listeners.delete(l);
        },
        end() {
          endedByUs = true;
          client.end();
          sock.destroy();
        },
      });
    };
    if (e.password !== undefined) {
      client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => e.password!)));
    }
    client.once('ready', () => settle());
    client.on('error', (err: Error & { level?: string }) => {
      if (settled) {
        closeReason ??= err;
        return;
      }
      settle(classify(err, e, role, label, guard.refusal(where)));
    });
    client.on('close', () => {
      closed = true;
      if (!settled) settle(new SshConnectError(`${label} closed the connection during the handshake (sshd may still be starting)`, 'unreachable'));
      if (!endedByUs) closeReason ??= new Error(`the connection to ${label} was closed`);
      for (const l of listeners) l(endedByUs ? undefined : closeReason);
      listeners.clear();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) return onAbort();
    client.connect(cfg);
  });
}

function classify(err: Error & { level?: string }, e: SshEndpoint, role: 'target' | 'bastion', label: string, refusal: HostKeyMismatchError | undefined): SshConnectError {
  if (refusal) return new SshConnectError(refusal.message, 'hostkey');
  if (err instanceof HostKeyMismatchError) return new SshConnectError(err.message, 'hostkey');
  const who = role === 'bastion' ? `the bastion ${label}` : label;
  if (err.level === 'client-authentication') {
    const tried = [e.privateKey !== undefined && 'private key', e.password !== undefined && 'password', e.agent !== undefined && 'ssh-agent'].filter(Boolean).join(', ') || 'no method';
    return new SshConnectError(`authentication failed for ${who} (tried: ${tried})`, 'auth');
  }
  if (/no matching|handshake failed/i.test(err.message)) {
    return new SshConnectError(`cannot agree on algorithms with ${who}: ${err.message} (check ssh_ciphers / ssh_key_exchange_algorithms)`, 'config');
  }
  if (err.level === 'client-timeout') return new SshConnectError(`${who} did not complete the SSH handshake within ${HANDSHAKE_TIMEOUT_MS / 1000}s`, 'unreachable');
  return new SshConnectError(`${who}: ${err.message}`, 'unreachable');
}
