/**
 * Character encodings for textencodebase64 and textdecodebase64, by IANA name or alias.
 * Decoding uses Node's TextDecoder (WHATWG encodings); encoding is available for UTF-8,
 * UTF-16 and every single-byte encoding, whose tables are read back from TextDecoder.
 * ISO-8859-1 and US-ASCII are handled here because WHATWG maps both labels to windows-1252.
 */

export interface Charset {
  /** The name messages use. */
  name: string;
  /** The bytes of a string, or undefined when it has characters the encoding lacks; absent when kiln cannot encode to it. */
  encode?(s: string): Uint8Array | undefined;
  /** The text of some bytes, or undefined when they are not valid in the encoding. */
  decode(bytes: Uint8Array): string | undefined;
}

const utf16 = (bytes: Uint8Array, bigEndian: boolean): string | undefined => {
  if (bytes.length % 2 !== 0) return undefined;
  const swapped = bigEndian ? Buffer.from(bytes).swap16() : Buffer.from(bytes);
  return new TextDecoder('utf-16le', { fatal: true, ignoreBOM: true }).decode(swapped);
};
const utf16Bytes = (s: string, bigEndian: boolean): Uint8Array => {
  const b = Buffer.from(s, 'utf16le');
  return bigEndian ? b.swap16() : b;
};

/** Encodes code points below a limit as single bytes of the same value. */
const identityBytes = (name: string, limit: number): Charset => ({
  name,
  encode(s) {
    const cps = Array.from(s, (c) => c.codePointAt(0)!);
    return cps.every((cp) => cp < limit) ? Uint8Array.from(cps) : undefined;
  },
  decode: (bytes) => (bytes.every((b) => b < limit) ? Buffer.from(bytes).toString('latin1') : undefined),
});

const ALIASES: Record<string, () => Charset> = {
  'utf-8': () => ({
    name: 'UTF-8',
    encode: (s) => Buffer.from(s, 'utf8'),
    decode: (b) => fatal('utf-8', b),
  }),
  'utf-16le': () => ({ name: 'UTF-16LE', encode: (s) => utf16Bytes(s, false), decode: (b) => utf16(b, false) }),
  'utf-16be': () => ({ name: 'UTF-16BE', encode: (s) => utf16Bytes(s, true), decode: (b) => utf16(b, true) }),
  // Plain UTF-16 is big-endian with a byte-order mark, which decoding honours when present.
  'utf-16': () => ({
    name: 'UTF-16',
    encode: (s) => Buffer.concat([Buffer.from([0xfe, 0xff]), utf16Bytes(s, true)]),
    decode: (b) => (b[0] === 0xff && b[1] === 0xfe ? utf16(b.subarray(2), false) : utf16(b[0] === 0xfe && b[1] === 0xff ? b.subarray(2) : b, true)),
  }),
  'iso-8859-1': () => identityBytes('ISO-8859-1', 0x100),
  'us-ascii': () => identityBytes('US-ASCII', 0x80),
};

// IANA aliases of the encodings above (lowercase).
const SYNONYMS: Record<string, string> = {
  utf8: 'utf-8', csutf8: 'utf-8',
  csutf16le: 'utf-16le', csutf16be: 'utf-16be', csutf16: 'utf-16',
  'iso_8859-1:1987': 'iso-8859-1', 'iso-ir-100': 'iso-8859-1', 'iso_8859-1': 'iso-8859-1', latin1: 'iso-8859-1', l1: 'iso-8859-1',
  ibm819: 'iso-8859-1', cp819: 'iso-8859-1', csisolatin1: 'iso-8859-1',
  'iso-ir-6': 'us-ascii', 'ansi_x3.4-1968': 'us-ascii', 'ansi_x3.4-1986': 'us-ascii', 'iso_646.irv:1991': 'us-ascii', 'iso646-us': 'us-ascii',
  us: 'us-ascii', ibm367: 'us-ascii', cp367: 'us-ascii', csascii: 'us-ascii', ascii: 'us-ascii',
};

function fatal(label: string, bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder(label, { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

// The WHATWG single-byte encodings, whose 256 bytes each decode to one character.
const SINGLE_BYTE = /^(ibm866|iso-8859-\d+(-i)?|koi8-[ru]|macintosh|windows-(874|125\d)|x-mac-cyrillic)$/;

// Node 20's TextDecoder decodes windows-1252 as ISO-8859-1, so its upper half is spelled out:
// bytes 0x80–0x9F (the rest equal their code points; undefined bytes map to C1 controls).
const WINDOWS_1252 =
  '\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u008D\u017D\u008F' +
  '\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u009D\u017E\u0178';

/** The 256 characters of a single-byte encoding, by byte. */
function byteTable(label: string): string[] {
  const identity = Uint8Array.from({ length: 256 }, (_, i) => i);
  if (label === 'windows-1252') return Array.from(identity, (b) => (b >= 0x80 && b < 0xa0 ? WINDOWS_1252[b - 0x80]! : String.fromCharCode(b)));
  return Array.from(new TextDecoder(label).decode(identity));
}

/** Encodes with the table of a single-byte encoding, read back from its decoder. */
function singleByte(label: string): NonNullable<Charset['encode']> {
  const chars = byteTable(label);
  const table = new Map<string, number>();
  chars.forEach((c, i) => {
    if (c !== '\uFFFD' && !table.has(c)) table.set(c, i);
  });
  return (s) => {
    const out: number[] = [];
    for (const c of s) {
      const b = table.get(c);
      if (b === undefined) return undefined;
      out.push(b);
    }
    return Uint8Array.from(out);
  };
}

export function charset(label: string): Charset | undefined {
  const key = label.trim().toLowerCase();
  const known = ALIASES[SYNONYMS[key] ?? key];
  if (known) return known();
  let name: string;
  try {
    name = new TextDecoder(key).encoding;
  } catch {
    return undefined;
  }
  const same = ALIASES[name];
  if (same) return same();
  if (name === 'windows-1252') {
    const table = byteTable(name);
    return { name, encode: singleByte(name), decode: (b) => Array.from(b, (x) => table[x]!).join('') };
  }
  return { name, ...(SINGLE_BYTE.test(name) && { encode: singleByte(name) }), decode: (b) => fatal(name, b) };
}
