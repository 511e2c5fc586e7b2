/**
 * What a builder calls to provision over SSH: `connectSsh` waits for the machine (Packer's
 * step_connect_ssh, with host-key checking), registers the connection's close as a cleanup and
 * sets the `build.*` values Packer sets (Host, Port, User, Password, ConnType, SSHPublicKey,
 * SSHPrivateKey). Builders that can install a key call `temporaryKeyPair` first.
 */
import { readFileSync } from 'node:fs';
import type { SshCommunicator, TemporaryKeyPair } from '../communicator/ssh/index.js';
import { shellQuote } from '../communicator/shell-quote.js';
import type { Communicator } from './communicator.js';
import type { BuildContext } from './plugin.js';
import type { Ui } from './ui.js';
import { resolveSsh, type SshConfigFields, type SshSettings } from './ssh-config.js';

export type { TemporaryKeyPair };

/** ssh2 takes tens of milliseconds to load: only builds that use SSH pay for it. */
let loading: Promise<typeof import('../communicator/ssh/index.js')> | undefined;
const sshModule = () => (loading ??= import('../communicator/ssh/index.js'));

/**
 * Starts loading the SSH modules now (a builder calls it when its config says ssh), so the load
 * overlaps the rest of kiln's start-up instead of delaying the first connection.
 */
export function prefetchSsh(): void {
  sshModule().catch(() => undefined);
}

export interface SshTarget {
  /** The address the builder found (a VM's IP); ssh_host wins when set. */
  host?: string;
  port?: number;
  /** A private key the builder generated and installed (temporaryKeyPair). */
  privateKey?: string;
  publicKey?: string;
}

function readKey(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the private key ${path}: ${(err as Error).message}`);
  }
}

/** The settings with Packer's defaults; ssh_host/ssh_port in the template win over the builder's. */
export function sshSettings(config: SshConfigFields, target: SshTarget = {}): SshSettings {
  return resolveSsh(config, { host: config.ssh_host ?? target.host, port: config.ssh_port ?? target.port, privateKey: target.privateKey }, readKey);
}

export async function connectSsh(ctx: BuildContext<unknown>, config: SshConfigFields, target: SshTarget = {}): Promise<SshCommunicator> {
  const settings = sshSettings(config, target);
  const { HostKeyGuard, SshCommunicator, waitForSsh } = await sshModule();
  // One guard per build: every connection of this build must meet the host key it met first.
  const guard = new HostKeyGuard();
  let conn = await waitForSsh(settings, guard, ctx.ui, ctx.signal);
  if (settings.pauseBeforeConnectingMs > 0) {
    // Packer: connect once to know the machine is up, wait, then connect for real.
    conn.end();
    ctx.ui.say(`Pausing ${Math.round(settings.pauseBeforeConnectingMs / 1000)}s before connecting (pause_before_connecting)...`);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, settings.pauseBeforeConnectingMs);
      ctx.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
    conn = await waitForSsh(settings, guard, ctx.ui, ctx.signal);
  }
  const comm = new SshCommunicator(settings, guard, conn, ctx.ui);
  ctx.cleanup.push(`close ${comm.description}`, () => comm.close());
  ctx.ui.say(`Connected to SSH! Host key ${comm.hostKeyFingerprint ?? '(unknown)'}${settings.target.hostKeyFingerprint ? ' matches ssh_host_key_fingerprint' : ' is recorded: a different key later in this build is refused'}.`);
  const t = settings.target;
  const g = ctx.generatedData;
  g.set('Host', t.host);
  g.set('Port', String(t.port));
  g.set('User', t.username);
  g.set('Password', t.password ?? '');
  g.set('ConnType', 'ssh');
  g.set('SSHPrivateKey', t.privateKey ?? '');
  if (target.publicKey !== undefined) g.set('SSHPublicKey', target.publicKey);
  return comm;
}

/**
 * A temporary key pair for a builder that installs it (cloud-init, a key-pair API): ed25519 or
 * rsa as temporary_key_pair_type says; the private key is written 0600 in a build temp dir.
 */
export async function temporaryKeyPair(ctx: BuildContext<unknown>, config: SshConfigFields): Promise<TemporaryKeyPair> {
  const type = config.temporary_key_pair_type ?? config.ssh_temporary_key_pair_type ?? 'ed25519';
  const name = config.temporary_key_pair_name ?? config.ssh_temporary_key_pair_name ?? `kiln_${ctx.runId.slice(0, 8)}`;
  ctx.ui.say(`Creating temporary ${type.toUpperCase()} SSH key for instance...`);
  const dir = await ctx.tempDir('kiln-ssh-key-');
  const { generateKeyPair } = await sshModule();
  return generateKeyPair(type, config.temporary_key_pair_bits, name, dir);
}

/**
 * ssh_clear_authorized_keys: removes the temporary key's line (found by its name, the last
 * field) from the user's and root's authorized_keys before the image is captured.
 */
export async function clearTemporaryKey(ctx: Pick<BuildContext<unknown>, 'signal'> & { ui: Pick<Ui, 'say' | 'message'> }, comm: Communicator, key: TemporaryKeyPair): Promise<void> {
  ctx.ui.say('Trying to remove ephemeral keys from authorized_keys files');
  const expr = shellQuote(`/ ${key.name.replace(/[\\/.*[\]^$]/g, '\\$&')}$/d`);
  for (const cmd of [
    `sed -i.bak ${expr} ~/.ssh/authorized_keys; rm -f ~/.ssh/authorized_keys.bak`,
    `sudo -n sed -i.bak ${expr} /root/.ssh/authorized_keys; sudo -n rm -f /root/.ssh/authorized_keys.bak`,
  ]) {
    const r = await comm.exec(cmd, { signal: ctx.signal });
    if (r.exitCode !== 0) ctx.ui.message(`Could not clean up an authorized_keys file (exit ${r.exitCode ?? 'none'}); remove the key "${key.name}" by hand if it matters.`);
  }
}
