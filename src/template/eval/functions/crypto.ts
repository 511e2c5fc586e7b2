/**
 * Hash and UUID functions. Hashes are of the string's UTF-8 bytes, in lowercase hex. bcrypt
 * hashes carry the "$2a$" prefix Packer's Go implementation writes (for passwords of at most
 * 72 bytes, which bcrypt requires, $2a$ and $2b$ hashes are computed identically).
 */
import { createHash, randomUUID } from 'node:crypto';
import { bcryptLib } from './lazy-libraries.js';
import { T } from '../types.js';
import { Value } from '../value.js';
import { FunctionError, type FuncDef } from './define.js';
import { wholeNumber } from './support.js';

const hashFunction = (algorithm: string, label: string): FuncDef => ({
  description: `The ${label} hash of a string, in hexadecimal.`,
  params: [{ name: 'str', type: T.string }],
  returnType: T.string,
  impl: ([s]) => Value.string(createHash(algorithm).update(s!.str(), 'utf8').digest('hex')),
});

const NAMESPACES: Record<string, string> = {
  dns: '6ba7b810-9dad-11d1-80b4-00c04fd430c8',
  url: '6ba7b811-9dad-11d1-80b4-00c04fd430c8',
  oid: '6ba7b812-9dad-11d1-80b4-00c04fd430c8',
  x500: '6ba7b814-9dad-11d1-80b4-00c04fd430c8',
};

/** The 16 bytes of a UUID in the forms Go's uuid.Parse accepts, or the reason it is not one. */
function parseUUID(s: string): Buffer | string {
  let text = s;
  if (s.length === 45) {
    if (s.slice(0, 9).toLowerCase() !== 'urn:uuid:') return `invalid urn prefix: ${JSON.stringify(s.slice(0, 9))}`;
    text = s.slice(9);
  } else if (s.length === 38) text = s.slice(1, -1);
  else if (s.length === 32) text = `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  else if (s.length !== 36) return `invalid UUID length: ${s.length}`;
  if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(text)) return 'invalid UUID format';
  return Buffer.from(text.replaceAll('-', ''), 'hex');
}

const formatUUID = (b: Buffer): string => {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

export const CRYPTO_FUNCTIONS: Record<string, FuncDef> = {
  md5: hashFunction('md5', 'MD5'),
  sha1: hashFunction('sha1', 'SHA-1'),
  sha256: hashFunction('sha256', 'SHA-256'),
  sha512: hashFunction('sha512', 'SHA-512'),

  bcrypt: {
    description: 'A bcrypt hash of a string, with an optional cost (default 10).',
    params: [{ name: 'str', type: T.string }],
    variadic: { name: 'cost', type: T.number },
    returnType: T.string,
    impl([s, ...costs]) {
      if (costs.length > 1) throw new FunctionError('bcrypt() takes no more than two arguments', 2);
      let cost = costs[0] ? wholeNumber(costs[0], 'cost', 1) : 10;
      // Go's bcrypt quietly uses the default for a cost below the minimum.
      if (cost < 4) cost = 10;
      if (cost > 31) throw new FunctionError(`error occured generating password crypto/bcrypt: cost ${cost} is outside allowed inclusive range 4..31`, 1);
      if (Buffer.byteLength(s!.str()) > 72) throw new FunctionError('error occured generating password bcrypt: password length exceeds 72 bytes', 0);
      const salt = bcryptLib().genSaltSync(cost).replace(/^\$2b\$/, '$2a$');
      return Value.string(bcryptLib().hashSync(s!.str(), salt));
    },
  },

  uuidv4: {
    description: 'A new random (version 4) UUID.',
    params: [],
    returnType: T.string,
    impl: () => Value.string(randomUUID()),
  },

  uuidv5: {
    description: 'The name-based (version 5) UUID of a name in a namespace ("dns", "url", "oid", "x500" or a UUID).',
    params: [{ name: 'namespace', type: T.string }, { name: 'name', type: T.string }],
    returnType: T.string,
    impl([ns, name]) {
      const namespace = parseUUID(NAMESPACES[ns!.str()] ?? ns!.str());
      if (typeof namespace === 'string') throw new FunctionError(`uuidv5() doesn't support namespace ${ns!.str()} (${namespace})`, 0);
      const hash = createHash('sha1').update(namespace).update(name!.str(), 'utf8').digest().subarray(0, 16);
      hash[6] = (hash[6]! & 0x0f) | 0x50;
      hash[8] = (hash[8]! & 0x3f) | 0x80;
      return Value.string(formatUUID(hash));
    },
  },
};
