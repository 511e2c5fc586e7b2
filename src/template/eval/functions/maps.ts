/**
 * Functions over maps and objects. Keys come out in code-point order (cty's order), values in
 * the order of their keys; `merge` keeps a map type when every argument has the same map type
 * and otherwise builds an object, so attribute types survive.
 */
import { convert, ConversionError } from '../convert.js';
import { T, friendlyName, typeEquals, type Type } from '../types.js';
import { Value } from '../value.js';
import { FunctionError, type FuncDef } from './define.js';
import { compareCodePoints, invalidArg, stringList } from './support.js';

/** Entries of a known map or object in code-point order of their keys. */
const sortedEntries = (v: Value): [string, Value][] => [...v.entries()].sort(([a], [b]) => compareCodePoints(a, b));

export const MAP_FUNCTIONS: Record<string, FuncDef> = {
  keys: {
    description: 'The keys of a map or the attribute names of an object, in lexical order.',
    params: [{ name: 'inputMap', type: T.dynamic, allowUnknown: true }],
    returnType: T.list(T.string),
    impl([m]) {
      const t = m!.type;
      // An object's attribute names are part of its type, so they are known even when its value is not.
      if (t.kind === 'object') return stringList([...t.attrs.keys()].sort(compareCodePoints));
      if (t.kind === 'map') return m!.isKnown ? stringList(sortedEntries(m!).map(([k]) => k)) : Value.unknown(T.list(T.string));
      if (t.kind === 'dynamic') return Value.unknown(T.list(T.string));
      throw invalidArg('inputMap', 0, 'must have map or object type');
    },
  },

  values: {
    description: 'The values of a map or object, in the lexical order of their keys.',
    params: [{ name: 'mapping', type: T.dynamic }],
    impl([m]) {
      const t = m!.type;
      const vals = () => sortedEntries(m!).map(([, v]) => v);
      if (t.kind === 'map') return Value.list(vals(), t.elem);
      if (t.kind === 'object') return Value.tuple(vals());
      throw new FunctionError('values() requires a map as the first argument', 0);
    },
  },

  lookup: {
    description: 'The element of a map for a key, or a default when the key is absent.',
    params: [{ name: 'inputMap', type: T.dynamic }, { name: 'key', type: T.string }],
    variadic: { name: 'default', type: T.dynamic, allowNull: true },
    impl([m, keyV, ...defaults]) {
      if (defaults.length > 1) throw new FunctionError('Function "lookup" expects only 3 arguments.', 3);
      const key = keyV!.str();
      const t = m!.type;
      const found = t.kind === 'map' || t.kind === 'object' ? m!.entries().get(key) : undefined;
      let fallback = defaults[0];
      if (t.kind === 'map' && fallback) {
        try {
          fallback = convert(fallback, t.elem);
        } catch (err) {
          if (err instanceof ConversionError) throw invalidArg('default', 2, 'the default value must have the same type as the map elements');
          throw err;
        }
      }
      if (t.kind === 'object') {
        const result = found ?? fallback;
        if (!result) throw invalidArg('inputMap', 0, `the given object has no attribute ${JSON.stringify(key)}`);
        return result;
      }
      if (t.kind === 'map') {
        const result = found ?? fallback;
        if (!result) throw new FunctionError(`lookup failed to find key ${JSON.stringify(key)}`, 1);
        return result;
      }
      throw invalidArg('inputMap', 0, 'lookup() requires a map as the first argument');
    },
  },

  merge: {
    description: 'Merges maps or objects; later arguments win for keys that appear more than once.',
    params: [],
    variadic: { name: 'maps', type: T.dynamic, allowNull: true },
    impl(maps) {
      maps.forEach((m, i) => {
        if (m.type.kind !== 'map' && m.type.kind !== 'object' && m.type.kind !== 'dynamic') {
          throw invalidArg('maps', i, `arguments must be maps or objects, got "${friendlyName(m.type)}"`);
        }
      });
      const merged = new Map<string, Value>();
      for (const m of maps) if (!m.isNull) for (const [k, v] of m.entries()) merged.set(k, v);
      const first: Type | undefined = maps[0]?.type;
      const sameType = first !== undefined && first.kind !== 'dynamic' && maps.every((m) => typeEquals(m.type, first));
      if (sameType && first.kind === 'map') return Value.map(merged, first.elem);
      return Value.object(merged);
    },
  },

  zipmap: {
    description: 'Builds a map (or object, for a tuple of values) from a list of keys and a list of values.',
    params: [{ name: 'keys', type: T.list(T.string) }, { name: 'values', type: T.dynamic }],
    impl([keys, values]) {
      const vt = values!.type;
      if (vt.kind !== 'list' && vt.kind !== 'tuple') throw invalidArg('values', 1, 'values argument must be a list or tuple value');
      if (!keys!.isWhollyKnown) return Value.unknown(T.dynamic);
      const ks = keys!.elems();
      const vs = values!.elems();
      if (ks.length !== vs.length) throw new FunctionError(`number of keys (${ks.length}) does not match number of values (${vs.length})`);
      const entries = new Map<string, Value>();
      ks.forEach((k, i) => {
        if (k.isNull) throw new FunctionError(`keys list has null value at index ${i}`, 0);
        entries.set(k.str(), vs[i]!);
      });
      return vt.kind === 'list' ? Value.map(entries, vt.elem) : Value.object(entries);
    },
  },
};
