/**
 * Temporary key pairs (temporary_key_pair_type): generated in memory; the private half is
 * written 0600 into the build's private temporary directory, which is removed at cleanup.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ssh2 from 'ssh2';

export interface TemporaryKeyPair {
  /** `ssh-ed25519 AAAA… name`: one line for authorized_keys or a cloud key-pair import. */
  publicKey: string;
  /** The private key in OpenSSH format. */
  privateKey: string;
  /** Where the private key was written (mode 0600). */
  privateKeyFile: string;
  type: 'ed25519' | 'rsa';
  /** The comment at the end of the public key line, which ssh_clear_authorized_keys looks for. */
  name: string;
}

export async function generateKeyPair(type: 'ed25519' | 'rsa', bits: number | undefined, name: string, dir: string): Promise<TemporaryKeyPair> {
  const pair =
    type === 'rsa'
      ? ssh2.utils.generateKeyPairSync('rsa', { bits: bits ?? 4096, comment: name })
      : ssh2.utils.generateKeyPairSync('ed25519', { comment: name });
  const privateKeyFile = join(dir, `${type}_key`);
  await writeFile(privateKeyFile, pair.private, { mode: 0o600 });
  return { publicKey: pair.public.trim(), privateKey: pair.private, privateKeyFile, type, name };
}
