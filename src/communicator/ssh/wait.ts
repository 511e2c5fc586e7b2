/**
 * Waiting for SSH, as Packer's step_connect_ssh does, with clearer outcomes: a machine that is
 * not up yet is retried quietly until ssh_timeout (saying what it waits for); an authentication
 * failure counts against ssh_handshake_attempts; a refused host key or an unusable key/algorithm
 * ends the wait at once. The final error says which of these happened.
 */
import type { SshSettings } from '../../sdk/ssh-config.js';
import { openConnection, endpointName, SshConnectError, type SshConnection } from './connect.js';
import type { HostKeyGuard } from './host-keys.js';

export interface WaitUi {
  say(message: string): void;
  message(message: string): void;
}

/** Pause between attempts while the machine is not reachable, and after an authentication failure. */
const RETRY_UNREACHABLE_MS = 1000;
const RETRY_AUTH_MS = 2000;

export class SshWaitError extends Error {
  override name = 'SshWaitError';
}

export async function waitForSsh(s: SshSettings, guard: HostKeyGuard, ui: WaitUi, signal: AbortSignal): Promise<SshConnection> {
  const t = s.target;
  const via = s.bastion ? ` through the bastion ${s.bastion.username}@${endpointName(s.bastion)}` : s.proxy ? ` through the SOCKS5 proxy ${endpointName(s.proxy)}` : '';
  ui.say(`Waiting for SSH to become available on ${t.username}@${endpointName(t)}${via}...`);
  const started = Date.now();
  const deadline = s.timeoutMs > 0 ? started + s.timeoutMs : Infinity;
  let authFailures = 0;
  let last: SshConnectError | undefined;
  let lastShown = '';
  for (;;) {
    if (signal.aborted) throw new SshWaitError('SSH wait cancelled');
    try {
      // Each attempt ends by the deadline: one stalled handshake must not carry the wait past ssh_timeout.
      const conn = await openConnection(s, guard, signal, deadline);
      return conn;
    } catch (err) {
      if (signal.aborted) throw new SshWaitError('SSH wait cancelled');
      if (!(err instanceof SshConnectError)) throw err;
      last = err;
      if (err.kind === 'hostkey' || err.kind === 'config') throw new SshWaitError(err.message);
      if (err.kind === 'auth') {
        authFailures++;
        ui.message(`${err.message} (attempt ${authFailures}${s.handshakeAttempts > 0 ? ` of ${s.handshakeAttempts}` : ''})`);
        if (s.handshakeAttempts > 0 && authFailures >= s.handshakeAttempts) {
          throw new SshWaitError(
            `SSH authentication failed ${authFailures} time(s), so kiln gave up (ssh_handshake_attempts = ${s.handshakeAttempts}): ${err.message}. ` +
              'The machine is up and answering SSH, but it does not accept these credentials: check ssh_username, ssh_private_key_file / ssh_password, and that the public key is in the authorized_keys of that user.',
          );
        }
      } else if (err.message !== lastShown) {
        // Each new reason is shown once, so the log says what the build is waiting for without repeating it every second.
        lastShown = err.message;
        ui.message(`SSH not available yet: ${err.message}; retrying${Number.isFinite(deadline) ? ` for up to ${formatMs(deadline - Date.now())}` : ''}`);
      }
    }
    const pause = last?.kind === 'auth' ? RETRY_AUTH_MS : RETRY_UNREACHABLE_MS;
    if (Date.now() + pause >= deadline) {
      const auth = authFailures > 0 ? ` ${authFailures} authentication failure(s) happened on the way.` : '';
      const what = last?.kind === 'auth' ? 'the machine answered, but authentication failed' : 'the machine never answered SSH';
      throw new SshWaitError(`Timeout waiting for SSH after ${formatMs(Date.now() - started)} (ssh_timeout): ${what}. Last attempt: ${last?.message ?? 'none'}.${auth}`);
    }
    await sleep(pause, signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export function formatMs(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
}
