/**
 * JSON as cty reads and writes it: objects with sorted keys, numbers in plain decimal, and
 * strings escaped as Go's encoding/json escapes them (`<`, `>`, `&`, U+2028 and U+2029 as \u
 * sequences), so output is byte-identical to Packer's. Decoding gives object and tuple types.
 */
import { formatNumber } from '../convert.js';
import { T } from '../types.js';
import { Value } from '../value.js';
import { FunctionError, type FuncDef } from './define.js';
import { compareCodePoints } from './support.js';

/** A JSON string literal, escaped the way Go's encoding/json escapes it. */
export function jsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The JSON text of a wholly known value (the caller checks that it is known). */
export function toJSON(v: Value): string {
  if (v.isNull) return 'null';
  switch (v.type.kind) {
    case 'string':
      return jsonString(v.str());
    case 'number': {
      const n = v.num();
      if (!Number.isFinite(n)) throw new FunctionError('cannot serialize infinity as JSON');
      return formatNumber(n);
    }
    case 'bool':
      return v.bool() ? 'true' : 'false';
    case 'list':
    case 'set':
    case 'tuple':
      return `[${v.elems().map(toJSON).join(',')}]`;
    case 'map':
    case 'object': {
      const entries = [...v.entries()].sort(([a], [b]) => compareCodePoints(a, b));
      return `{${entries.map(([k, e]) => `${jsonString(k)}:${toJSON(e)}`).join(',')}}`;
    }
    default:
      throw new FunctionError('value is not known');
  }
}

/** A parsed JSON value as a cty value: objects become objects, arrays tuples, null a dynamic null. */
function fromJSON(x: unknown): Value {
  if (x === null) return Value.null(T.dynamic);
  if (typeof x === 'string') return Value.string(x);
  if (typeof x === 'number') return Value.number(x);
  if (typeof x === 'boolean') return Value.bool(x);
  if (Array.isArray(x)) return Value.tuple(x.map(fromJSON));
  return Value.object(new Map(Object.entries(x as Record<string, unknown>).map(([k, e]) => [k, fromJSON(e)] as const)));
}

/** "line L, column C" of a UTF-16 offset, counting columns in code points. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = Array.from(before.slice(before.lastIndexOf('\n') + 1)).length + 1;
  return `line ${line}, column ${column}`;
}

export const JSON_FUNCTIONS: Record<string, FuncDef> = {
  jsonencode: {
    description: 'Encodes a value as JSON.',
    params: [{ name: 'val', type: T.dynamic, allowNull: true, allowUnknown: true }],
    returnType: T.string,
    impl([v]) {
      if (!v!.isWhollyKnown) return Value.unknown(T.string);
      return Value.string(toJSON(v!));
    },
  },

  jsondecode: {
    description: 'Decodes a JSON string into a value (objects become objects, arrays tuples).',
    params: [{ name: 'str', type: T.string }],
    impl([s]) {
      const text = s!.str();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        // V8's message quotes the text (and a token of it); for a sensitive string only where.
        const message = (err as Error).message;
        const offset = /at position (\d+)/.exec(message)?.[1];
        const where = offset !== undefined ? ` at ${lineColumn(text, Number(offset))}` : /end of JSON input/.test(message) ? ' (the text ends too soon)' : '';
        throw new FunctionError(`invalid JSON: ${message}`, 0, `invalid JSON${where}; the text is sensitive, so it is not shown.`);
      }
      return fromJSON(parsed);
    },
  },
};
