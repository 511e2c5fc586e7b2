/**
 * Packer's SSH communicator options (`ssh_*`, `pause_before_connecting`, the temporary key
 * pair), written once so every builder that connects over SSH (null, qemu, amazon-ebs, …)
 * reads them the same way: spread `sshFields` into the builder's schema, call `checkSsh` from its
 * superRefine, and `resolveSsh` turns the parsed config into settings with Packer's defaults.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { z, duration } from './config.js';

const port = () => z.number().int().min(1).max(65535);
const fingerprint = () =>
  z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, 'write the fingerprint as `ssh-keygen -lf KEY` prints it: SHA256: followed by 43 base64 characters');

/** The fields, to spread into a builder's `z.object({...})`. */
export const sshFields = {
  communicator: z.enum(['ssh', 'none'], { message: 'communicator must be "ssh" or "none" (winrm is not available in kiln)' }).optional(),
  pause_before_connecting: duration().optional(),
  ssh_host: z.string().optional(),
  ssh_port: port().optional(),
  ssh_username: z.string().optional(),
  ssh_password: z.string().optional(),
  ssh_private_key_file: z.string().optional(),
  ssh_agent_auth: z.boolean().optional(),
  /** Also answer keyboard-interactive prompts with ssh_password (Packer always does; false turns it off). */
  ssh_keyboard_interactive: z.boolean().optional(),
  ssh_timeout: duration().optional(),
  ssh_wait_timeout: duration().optional(),
  ssh_handshake_attempts: z.number().int().min(0).optional(),
  ssh_keep_alive_interval: duration().optional(),
  ssh_read_write_timeout: duration().optional(),
  ssh_pty: z.boolean().optional(),
  ssh_disable_agent_forwarding: z.boolean().optional(),
  ssh_ciphers: z.array(z.string()).optional(),
  ssh_key_exchange_algorithms: z.array(z.string()).optional(),
  ssh_file_transfer_method: z.enum(['sftp', 'scp'], { message: 'ssh_file_transfer_method must be "sftp" or "scp"' }).optional(),
  /** kiln: the host key must have this fingerprint (otherwise the first key seen in the build is kept). */
  ssh_host_key_fingerprint: fingerprint().optional(),
  ssh_bastion_host: z.string().optional(),
  ssh_bastion_port: port().optional(),
  ssh_bastion_username: z.string().optional(),
  ssh_bastion_password: z.string().optional(),
  ssh_bastion_private_key_file: z.string().optional(),
  ssh_bastion_agent_auth: z.boolean().optional(),
  ssh_bastion_host_key_fingerprint: fingerprint().optional(),
  ssh_proxy_host: z.string().optional(),
  ssh_proxy_port: port().optional(),
  ssh_proxy_username: z.string().optional(),
  ssh_proxy_password: z.string().optional(),
  temporary_key_pair_type: z.enum(['ed25519', 'rsa'], { message: 'the temporary key pair type must be "ed25519" or "rsa"' }).optional(),
  ssh_temporary_key_pair_type: z.enum(['ed25519', 'rsa'], { message: 'the temporary key pair type must be "ed25519" or "rsa"' }).optional(),
  temporary_key_pair_bits: z.number().int().min(2048).max(16384).optional(),
  temporary_key_pair_name: z.string().optional(),
  ssh_temporary_key_pair_name: z.string().optional(),
  ssh_clear_authorized_keys: z.boolean().optional(),
};

const sshObject = z.object(sshFields);
export type SshConfigFields = z.output<typeof sshObject>;

/** Adds an issue at a field path; the shape of zod's superRefine context, kept minimal. */
interface IssueSink {
  addIssue(issue: { code: 'custom'; message: string; path?: (string | number)[] }): void;
}

/** A value that is only known when the build runs (`${build.Host}` during validate). */
function deferred(v: string): boolean {
  return v.includes('${');
}

export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

export interface SshCheckOptions {
  /** The builder creates a key pair and installs it (cloud and VM builders); null cannot. */
  canInstallTemporaryKey: boolean;
  /** The builder finds the address itself (a VM's IP): ssh_host may be absent. */
  hostFromBuilder: boolean;
}

/** Packer's prepare-time checks for the ssh communicator, as diagnostics on the fields. */
export function checkSsh(c: SshConfigFields, ctx: IssueSink, opts: SshCheckOptions): void {
  if ((c.communicator ?? 'ssh') !== 'ssh') return;
  if (!opts.hostFromBuilder && !c.ssh_host) ctx.addIssue({ code: 'custom', path: ['ssh_host'], message: 'ssh_host must be set: the address of the machine to provision' });
  if (!c.ssh_username) ctx.addIssue({ code: 'custom', path: ['ssh_username'], message: 'ssh_username must be set (some builders used to default it to "root")' });
  const methods = [c.ssh_agent_auth === true, c.ssh_password !== undefined, c.ssh_private_key_file !== undefined].filter(Boolean).length;
  if (methods === 0 && !opts.canInstallTemporaryKey) {
    ctx.addIssue({ code: 'custom', message: 'one authentication method must be set: ssh_private_key_file, ssh_password or ssh_agent_auth' });
  }
  for (const [field, path] of [
    ['ssh_private_key_file', c.ssh_private_key_file],
    ['ssh_bastion_private_key_file', c.ssh_bastion_private_key_file],
  ] as const) {
    if (path !== undefined && !deferred(path) && !existsSync(expandHome(path))) {
      ctx.addIssue({ code: 'custom', path: [field], message: `the key file "${path}" does not exist` });
    }
  }
  if ((c.ssh_agent_auth || c.ssh_bastion_agent_auth) && !process.env.SSH_AUTH_SOCK) {
    ctx.addIssue({ code: 'custom', path: [c.ssh_agent_auth ? 'ssh_agent_auth' : 'ssh_bastion_agent_auth'], message: 'agent authentication needs a running ssh-agent, and SSH_AUTH_SOCK is not set' });
  }
  if (c.ssh_bastion_host !== undefined && c.ssh_proxy_host !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['ssh_proxy_host'], message: 'ssh_bastion_host and ssh_proxy_host cannot be used together: choose one way through' });
  }
  if (c.ssh_bastion_host !== undefined && !c.ssh_bastion_username) {
    ctx.addIssue({ code: 'custom', path: ['ssh_bastion_username'], message: 'ssh_bastion_username must be set when ssh_bastion_host is' });
  }
  if (c.temporary_key_pair_type !== undefined && c.ssh_temporary_key_pair_type !== undefined && c.temporary_key_pair_type !== c.ssh_temporary_key_pair_type) {
    ctx.addIssue({ code: 'custom', path: ['ssh_temporary_key_pair_type'], message: 'temporary_key_pair_type and ssh_temporary_key_pair_type disagree: set one' });
  }
}

/** How to reach and log in to one SSH server. */
export interface SshEndpoint {
  host: string;
  port: number;
  username: string;
  password?: string;
  /** Private key text (OpenSSH or PEM). */
  privateKey?: string;
  agent?: string;
  keyboardInteractive: boolean;
  /** `SHA256:…` the host key must match; otherwise the first key seen in the build is kept. */
  hostKeyFingerprint?: string;
}

/** Everything the SSH communicator needs, with Packer's defaults applied. */
export interface SshSettings {
  target: SshEndpoint;
  bastion?: SshEndpoint;
  proxy?: { host: string; port: number; username?: string; password?: string };
  /** Total time to wait for SSH; 0 means no limit. */
  timeoutMs: number;
  /** Authentication failures tolerated before giving up; 0 means no limit. */
  handshakeAttempts: number;
  keepAliveIntervalMs: number;
  /** A connection with no traffic for this long is dead; 0 means never. */
  readWriteTimeoutMs: number;
  pty: boolean;
  fileTransfer: 'sftp' | 'scp';
  ciphers?: string[];
  kex?: string[];
  pauseBeforeConnectingMs: number;
}

/** Packer's defaults: port 22, ssh_timeout 5m with 10 handshake attempts when neither is set, keepalive 5s, sftp (kiln). */
export function resolveSsh(c: SshConfigFields, target: { host?: string; port?: number; privateKey?: string }, readKey: (path: string) => string): SshSettings {
  const timeout = c.ssh_wait_timeout ?? c.ssh_timeout;
  const bothUnset = timeout === undefined && c.ssh_handshake_attempts === undefined;
  const agent = process.env.SSH_AUTH_SOCK;
  const key = c.ssh_private_key_file !== undefined ? readKey(expandHome(c.ssh_private_key_file)) : target.privateKey;
  const settings: SshSettings = {
    target: {
      host: target.host ?? c.ssh_host ?? '',
      port: target.port ?? c.ssh_port ?? 22,
      username: c.ssh_username ?? '',
      ...(c.ssh_password !== undefined && { password: c.ssh_password }),
      ...(key !== undefined && { privateKey: key }),
      ...(c.ssh_agent_auth && agent && { agent }),
      keyboardInteractive: c.ssh_keyboard_interactive ?? true,
      ...(c.ssh_host_key_fingerprint !== undefined && { hostKeyFingerprint: c.ssh_host_key_fingerprint }),
    },
    timeoutMs: bothUnset ? 5 * 60_000 : (timeout ?? 0),
    handshakeAttempts: bothUnset ? 10 : (c.ssh_handshake_attempts ?? 0),
    keepAliveIntervalMs: c.ssh_keep_alive_interval ?? 5000,
    readWriteTimeoutMs: c.ssh_read_write_timeout ?? 0,
    pty: c.ssh_pty ?? false,
    fileTransfer: c.ssh_file_transfer_method ?? 'sftp',
    ...(c.ssh_ciphers && { ciphers: c.ssh_ciphers }),
    ...(c.ssh_key_exchange_algorithms && { kex: c.ssh_key_exchange_algorithms }),
    pauseBeforeConnectingMs: c.pause_before_connecting ?? 0,
  };
  if (c.ssh_bastion_host !== undefined) {
    // Packer: the bastion uses the target's key file when it has none of its own.
    const bastionKeyFile = c.ssh_bastion_private_key_file ?? c.ssh_private_key_file;
    settings.bastion = {
      host: c.ssh_bastion_host,
      port: c.ssh_bastion_port ?? 22,
      username: c.ssh_bastion_username ?? '',
      ...(c.ssh_bastion_password !== undefined && { password: c.ssh_bastion_password }),
      ...(bastionKeyFile !== undefined && { privateKey: readKey(expandHome(bastionKeyFile)) }),
      ...(c.ssh_bastion_agent_auth && agent && { agent }),
      keyboardInteractive: true,
      ...(c.ssh_bastion_host_key_fingerprint !== undefined && { hostKeyFingerprint: c.ssh_bastion_host_key_fingerprint }),
    };
  }
  if (c.ssh_proxy_host !== undefined) {
    settings.proxy = {
      host: c.ssh_proxy_host,
      port: c.ssh_proxy_port ?? 1080,
      ...(c.ssh_proxy_username !== undefined && { username: c.ssh_proxy_username }),
      ...(c.ssh_proxy_password !== undefined && { password: c.ssh_proxy_password }),
    };
  }
  return settings;
}
