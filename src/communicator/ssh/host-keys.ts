/**
 * Host-key checking. Packer accepts any host key; kiln records the key a build sees at its
 * first connection to an endpoint and refuses a different one later in that build (a reboot
 * keeps the key, so a change means another machine answers), or checks a pinned fingerprint.
 */
import { createHash } from 'node:crypto';

/** The fingerprint `ssh-keygen -lf` prints: SHA256 of the key blob, base64 without padding. */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside an SSH public key blob ("ssh-ed25519", "rsa-sha2-512"…). */
function keyType(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const len = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + len).toString('latin1');
}

export class HostKeyMismatchError extends Error {
  override name = 'HostKeyMismatchError';
}

/** One build's memory of the host keys it has seen, keyed by "host:port". */
export class HostKeyGuard {
  private readonly seen = new Map<string, string>();
  private readonly refusals = new Map<string, HostKeyMismatchError>();

  /** The fingerprint recorded for an endpoint, if any connection reached it yet. */
  recorded(endpoint: string): string | undefined {
    return this.seen.get(endpoint);
  }

  /**
   * A verifier for one connection attempt: true accepts the key. A refusal is kept so the
   * failed connection can report it (ssh2 only says "verification failed").
   */
  verifier(endpoint: string, label: string, pinned: string | undefined): (key: Buffer) => boolean {
    this.refusals.delete(endpoint);
    return (key) => {
      const fp = fingerprint(key);
      const expected = pinned ?? this.seen.get(endpoint);
      if (expected !== undefined && normalize(expected) !== fp) {
        const why = pinned
          ? `it does not match ssh_host_key_fingerprint${label === 'bastion' ? ' for the bastion (ssh_bastion_host_key_fingerprint)' : ''}`
          : 'it differs from the key this build recorded at its first connection';
        this.refusals.set(
          endpoint,
          new HostKeyMismatchError(
            `Refusing the ${label} host key of ${endpoint}: it offered ${keyType(key)} key ${fp}, but ${why}, which is ${expected}. ` +
              'Another machine may be answering at this address. If the key changed on purpose, set ssh_host_key_fingerprint to the new fingerprint.',
          ),
        );
        return false;
      }
      this.seen.set(endpoint, fp);
      return true;
    };
  }

  /** The refusal of the last attempt at this endpoint, if its host key was refused. */
  refusal(endpoint: string): HostKeyMismatchError | undefined {
    return this.refusals.get(endpoint);
  }
}

function normalize(fp: string): string {
  return fp.replace(/=+$/, '');
}
