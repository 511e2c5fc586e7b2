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
      let parsed: unknown;
      try {
        parsed = JSON.parse(s!.str());
      } catch (err) {
        throw new FunctionError(`invalid JSON: ${(err as Error).message}`, 0);
      }
      return fromJSON(parsed);
    },
  },
};
