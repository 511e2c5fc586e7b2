/** ImportKeyPair, CreateKeyPair, DeleteKeyPair, DescribeKeyPairs. */
import type { Context, Handler } from './context.js';
import { Ec2Error, invalidParameter, notFound } from './errors.js';
import { applyFilters } from './filters.js';
import { newId } from './ids.js';
import { generateKeyPair, type KeyType, parsePublicKey } from './keys.js';
import { filters, type QueryParams, tagSpecifications } from './query.js';
import type { KeyPair } from './state.js';
import { tagSet } from './xml.js';

function checkName(ctx: Context, p: QueryParams): string {
  const name = p.required('KeyName');
  if (name.length > 255) throw invalidParameter('Key name must be at most 255 characters');
  if ([...ctx.region.keyPairs.values()].some((k) => k.name === name)) throw new Ec2Error('InvalidKeyPair.Duplicate', `The keypair '${name}' already exists.`);
  return name;
}

function store(ctx: Context, k: Omit<KeyPair, 'id' | 'region' | 'created'>): KeyPair {
  const key: KeyPair = { ...k, id: newId('key'), region: ctx.region.name, created: new Date() };
  ctx.region.keyPairs.set(key.name, key);
  return key;
}

export const keyPairActions: Record<string, Handler> = {
  ImportKeyPair(ctx, p) {
    const name = checkName(ctx, p);
    const material = Buffer.from(p.required('PublicKeyMaterial'), 'base64').toString('utf8');
    const info = parsePublicKey(material);
    const tags = tagSpecifications(p, ['key-pair']).get('key-pair') ?? {};
    const k = store(ctx, { name, type: info.type, fingerprint: info.fingerprint, publicKey: info.openssh, tags });
    return { keyFingerprint: k.fingerprint, keyName: k.name, keyPairId: k.id, tagSet: tagSet(k.tags) };
  },

  async CreateKeyPair(ctx, p) {
    const name = checkName(ctx, p);
    const type = (p.str('KeyType') ?? 'rsa') as KeyType;
    if (type !== 'rsa' && type !== 'ed25519') throw invalidParameter(`Invalid value '${type}' for KeyType`);
    if ((p.str('KeyFormat') ?? 'pem') !== 'pem') throw invalidParameter(`The emulator hands out pem key material only`);
    const tags = tagSpecifications(p, ['key-pair']).get('key-pair') ?? {};
    const made = await generateKeyPair(type);
    // Another request may have taken the name while ssh-keygen ran.
    checkName(ctx, p);
    const k = store(ctx, { name, type, fingerprint: made.fingerprint, publicKey: made.openssh, tags });
    return { keyFingerprint: k.fingerprint, keyMaterial: made.privateKey, keyName: k.name, keyPairId: k.id, tagSet: tagSet(k.tags) };
  },

  DeleteKeyPair(ctx, p) {
    const name = p.str('KeyName');
    const id = p.str('KeyPairId');
    if (!name && !id) throw new Ec2Error('MissingParameter', 'The request must contain the parameter KeyName or KeyPairId');
    // A key pair that does not exist is deleted all the same, as on EC2.
    const k = [...ctx.region.keyPairs.values()].find((x) => (name !== undefined && x.name === name) || (id !== undefined && x.id === id));
    if (k) ctx.region.keyPairs.delete(k.name);
    return { return: true, keyPairId: k?.id };
  },

  DescribeKeyPairs(ctx, p) {
    const names = p.list('KeyName');
    const ids = p.list('KeyPairId');
    const all = [...ctx.region.keyPairs.values()];
    for (const n of names) if (!all.some((k) => k.name === n)) throw notFound.keyPair(n);
    for (const id of ids) if (!all.some((k) => k.id === id)) throw new Ec2Error('InvalidKeyPair.NotFound', `The key pair ID '${id}' does not exist`);
    const keys = applyFilters(
      all.filter((k) => (names.length === 0 && ids.length === 0) || names.includes(k.name) || ids.includes(k.id)),
      filters(p),
      { 'key-name': (k) => [k.name], 'key-pair-id': (k) => [k.id], fingerprint: (k) => [k.fingerprint], 'key-type': (k) => [k.type] },
    );
    const includePublic = p.bool('IncludePublicKey') ?? false;
    return {
      keySet: keys.map((k) => ({
        keyPairId: k.id,
        keyFingerprint: k.fingerprint,
        keyName: k.name,
        keyType: k.type,
        tagSet: tagSet(k.tags),
        publicKey: includePublic ? k.publicKey : undefined,
        createTime: k.created,
      })),
    };
  },
};
