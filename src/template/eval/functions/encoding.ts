/**
 * Encoding functions: Base64 (standard alphabet, padded, strict as Go's), gzip, URL query
 * escaping as Go's url.QueryEscape, text in other character sets, and CSV.
 */
import { gzipSync } from 'node:zlib';
import { T } from '../types.js';
import { Value } from '../value.js';
import { FunctionError, type FuncDef } from './define.js';
import { charset } from './charset.js';
import { CsvError, parseCsv } from './csv.js';
import { invalidArg } from './support.js';

const str = (name: string) => ({ name, type: T.string });

const B64 = /[A-Za-z0-9+/]/;

/**
 * Decodes standard padded Base64 as Go's StdEncoding does (line breaks are ignored, anything
 * else outside the alphabet is an error). On failure gives the offset of the offending byte.
 */
export function decodeBase64(s: string): Uint8Array | { badOffset: number } {
  let clean = '';
  let padding = 0;
  let offset = 0;
  for (const c of s) {
    const at = offset;
    offset += Buffer.byteLength(c);
    if (c === '\r' || c === '\n') continue;
    const inQuantum = clean.length % 4;
    if (c === '=') {
      // Padding may only fill the last one or two places of the final quantum.
      if (inQuantum < 2 || (padding > 0 && inQuantum !== 3)) return { badOffset: at };
      padding++;
    } else if (padding > 0 || !B64.test(c)) return { badOffset: at };
    clean += c;
  }
  if (clean.length % 4 !== 0) return { badOffset: offset };
  return Buffer.from(clean, 'base64');
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Go's url.QueryEscape: unreserved characters stay, space becomes "+", all else %XX per UTF-8 byte. */
function queryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export const ENCODING_FUNCTIONS: Record<string, FuncDef> = {
  base64encode: {
    description: 'Encodes a string (as UTF-8) in Base64.',
    params: [str('str')],
    returnType: T.string,
    impl: ([s]) => Value.string(Buffer.from(s!.str(), 'utf8').toString('base64')),
  },

  base64decode: {
    description: 'Decodes a Base64 string whose content is UTF-8 text.',
    params: [str('str')],
    returnType: T.string,
    impl([s]) {
      const bytes = decodeBase64(s!.str());
      if (!(bytes instanceof Uint8Array)) throw new FunctionError(`failed to decode base64 data '${s!.str()}'`, 0);
      try {
        return Value.string(UTF8.decode(bytes));
      } catch {
        throw new FunctionError('the result of decoding the provided string is not valid UTF-8', 0);
      }
    },
  },

  base64gzip: {
    description: 'Compresses a string with gzip and encodes the result in Base64.',
    params: [str('str')],
    returnType: T.string,
    impl: ([s]) => Value.string(gzipSync(Buffer.from(s!.str(), 'utf8')).toString('base64')),
  },

  urlencode: {
    description: 'Escapes a string for use in a URL query (spaces become "+").',
    params: [str('str')],
    returnType: T.string,
    impl: ([s]) => Value.string(queryEscape(s!.str())),
  },

  textencodebase64: {
    description: 'Encodes a string in a character set (an IANA name such as "UTF-16LE") and then in Base64.',
    params: [str('string'), str('encoding')],
    returnType: T.string,
    impl([s, enc]) {
      const cs = charset(enc!.str());
      if (!cs) throw invalidArg('encoding', 1, `${JSON.stringify(enc!.str())} is not a supported IANA encoding name or alias`);
      if (!cs.encode) throw invalidArg('encoding', 1, `kiln can decode ${cs.name} but cannot encode to it; supported targets are UTF-8, UTF-16 and single-byte encodings`);
      const bytes = cs.encode(s!.str());
      if (!bytes) throw invalidArg('string', 0, `the given string contains characters that cannot be represented in ${cs.name}`);
      return Value.string(Buffer.from(bytes).toString('base64'));
    },
  },

  textdecodebase64: {
    description: 'Decodes Base64 and then text in a character set (an IANA name such as "UTF-16LE").',
    params: [str('source'), str('encoding')],
    returnType: T.string,
    impl([s, enc]) {
      const cs = charset(enc!.str());
      if (!cs) throw invalidArg('encoding', 1, `${JSON.stringify(enc!.str())} is not a supported IANA encoding name or alias`);
      const bytes = decodeBase64(s!.str());
      if (!(bytes instanceof Uint8Array)) throw invalidArg('source', 0, `the given value is has an invalid base64 symbol at offset ${bytes.badOffset}`);
      const text = cs.decode(bytes);
      if (text === undefined || text.includes('\uFFFD')) throw invalidArg('source', 0, `the given string contains symbols that are not defined for ${cs.name}`);
      return Value.string(text);
    },
  },

  csvdecode: {
    description: 'Decodes CSV text with a header row into a list of objects.',
    params: [str('str')],
    impl([s]) {
      let records: ReturnType<typeof parseCsv>;
      try {
        records = parseCsv(s!.str());
      } catch (err) {
        if (err instanceof CsvError) throw new FunctionError(err.message, 0);
        throw err;
      }
      const [header, ...rows] = records;
      if (!header) throw new FunctionError('missing header line', 0);
      const names = header.fields;
      const dup = names.find((n, i) => names.indexOf(n) !== i);
      if (dup !== undefined) throw new FunctionError(`duplicate column name ${JSON.stringify(dup)}`, 0);
      const rowType = T.object(Object.fromEntries(names.map((n) => [n, T.string])));
      const objects = rows.map((row) => {
        if (row.fields.length !== names.length) throw new FunctionError(new CsvError(row.line, 'wrong number of fields').message, 0);
        return Value.object(new Map(names.map((n, i) => [n, Value.string(row.fields[i]!)] as const)));
      });
      return Value.list(objects, rowType);
    },
  },
};
