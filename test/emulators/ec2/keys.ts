/**
 * Key pairs as EC2 handles them: ImportKeyPair takes an OpenSSH public key (ed25519 or rsa;
 * anything else is `InvalidKey.Format`), CreateKeyPair makes one and hands the private key back
 * once (rsa as a PKCS#1 PEM, ed25519 in OpenSSH's format, as EC2 does). Fingerprints follow
 * EC2's conventions: MD5 of the DER public key for imported rsa, SHA-1 of the PKCS#8 private key
 * for created rsa, SHA-256 of the key blob (base64) for ed25519.
 */
import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ec2Error } from './errors.js';

const run = promisify(execFile);

export type KeyType = 'rsa' | 'ed25519';

export interface PublicKeyInfo {
  type: KeyType;
  /** One authorized_keys line: type and base64 blob (the comment dropped). */
  openssh: string;
  fingerprint: string;
}

const badFormat = (): Ec2Error => new Ec2Error('InvalidKey.Format', 'Key is not in valid OpenSSH public key format');

function readString(buf: Buffer, off: number): [Buffer, number] {
  if (off + 4 > buf.length) throw badFormat();
  const len = buf.readUInt32BE(off);
  if (off + 4 + len > buf.length) throw badFormat();
  return [buf.subarray(off + 4, off + 4 + len), off + 4 + len];
}

const colonHex = (b: Buffer): string => b.toString('hex').replace(/(..)(?!$)/g, '$1:');
const b64url = (b: Buffer): string => b.toString('base64url');
const unsigned = (b: Buffer): Buffer => (b.length > 1 && b[0] === 0 ? b.subarray(1) : b);

export function parsePublicKey(text: string): PublicKeyInfo {
  const [type, blob64] = text.trim().split(/\s+/);
  if (!type || !blob64) throw badFormat();
  const blob = Buffer.from(blob64, 'base64');
  const [wireType, off] = readString(blob, 0);
  if (wireType.toString() !== type) throw badFormat();
  try {
    if (type === 'ssh-ed25519') {
      const [key] = readString(blob, off);
      if (key.length !== 32) throw badFormat();
      createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(key) }, format: 'jwk' });
      return { type: 'ed25519', openssh: `${type} ${blob64}`, fingerprint: createHash('sha256').update(blob).digest('base64') };
    }
    if (type === 'ssh-rsa') {
      const [e, off2] = readString(blob, off);
      const [n] = readString(blob, off2);
      const der = createPublicKey({ key: { kty: 'RSA', e: b64url(unsigned(e)), n: b64url(unsigned(n)) }, format: 'jwk' }).export({ type: 'spki', format: 'der' });
      return { type: 'rsa', openssh: `${type} ${blob64}`, fingerprint: colonHex(createHash('md5').update(der).digest()) };
    }
  } catch (err) {
    if (err instanceof Ec2Error) throw err;
    throw badFormat();
  }
  throw badFormat();
}

export interface GeneratedKeyPair extends PublicKeyInfo {
  privateKey: string;
}

/** A new key pair, made by OpenSSH's ssh-keygen (the formats EC2 hands out are its formats). */
export async function generateKeyPair(type: KeyType): Promise<GeneratedKeyPair> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-ec2-key-'));
  try {
    const file = join(dir, 'key');
    const args = type === 'rsa' ? ['-t', 'rsa', '-b', '2048', '-m', 'PEM'] : ['-t', 'ed25519'];
    await run('ssh-keygen', ['-q', ...args, '-N', '', '-C', '', '-f', file]);
    const privateKey = await readFile(file, 'utf8');
    const pub = parsePublicKey(await readFile(`${file}.pub`, 'utf8'));
    const fingerprint = type === 'rsa' ? colonHex(createHash('sha1').update(createPrivateKey(privateKey).export({ type: 'pkcs8', format: 'der' })).digest()) : pub.fingerprint;
    return { ...pub, fingerprint, privateKey };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
