/**
 * Set functions. Arguments convert to sets of one unified element type, as cty's do; the
 * product of lists alone stays a list (in order), otherwise it is a set.
 */
import { convert, ConversionError, unifyTypes } from '../convert.js';
import { T, type Type } from '../types.js';
import { Value } from '../value.js';
import { FunctionError, type FuncDef } from './define.js';
import { ctyEqual, invalidArg } from './support.js';

/** The sets converted to one element type; empty sets of unknown type don't constrain it. */
function unifySets(sets: readonly Value[]): { elem: Type; sets: Value[] } {
  const constraining = sets.filter((s) => !(s.isKnown && s.length === 0 && s.type.kind === 'set' && s.type.elem.kind === 'dynamic'));
  const elem = unifyTypes(constraining.map((s) => (s.type.kind === 'set' ? s.type.elem : T.dynamic)));
  if (!elem) throw new FunctionError('given sets must all have compatible element types');
  return {
    elem,
    sets: sets.map((s, i) => {
      try {
        return convert(s, T.set(elem));
      } catch (err) {
        if (err instanceof ConversionError) throw invalidArg(i === 0 ? 'first_set' : 'other_sets', i, err.message);
        throw err;
      }
    }),
  };
}

const setParams = {
  params: [{ name: 'first_set', type: T.set(T.dynamic) }],
  variadic: { name: 'other_sets', type: T.set(T.dynamic) },
};

export const SET_FUNCTIONS: Record<string, FuncDef> = {
  setunion: {
    description: 'The set of elements found in any of the given sets.',
    ...setParams,
    impl(args) {
      const { elem, sets } = unifySets(args);
      return Value.set(sets.flatMap((s) => s.elems()), elem);
    },
  },

  setintersection: {
    description: 'The set of elements found in all of the given sets.',
    ...setParams,
    impl(args) {
      const { elem, sets } = unifySets(args);
      if (sets.some((s) => !s.isWhollyKnown)) return Value.unknown(T.set(elem));
      const [first, ...others] = sets;
      const common = first!.elems().filter((e) => others.every((o) => o.elems().some((x) => ctyEqual(x, e))));
      return Value.set(common, elem);
    },
  },

  setproduct: {
    description: 'Every combination of one element from each argument (the Cartesian product).',
    params: [],
    variadic: { name: 'sets', type: T.dynamic, allowUnknown: true },
    impl(args) {
      if (args.length < 2) throw new FunctionError('at least two arguments are required');
      if (args.some((a) => a.type.kind === 'dynamic')) return Value.unknown(T.dynamic);
      let lists = 0;
      const elemTypes = args.map((a, i): Type => {
        const t = a.type;
        if (t.kind === 'set') return t.elem;
        lists++;
        if (t.kind === 'list') return t.elem;
        if (t.kind === 'tuple') {
          const u = unifyTypes(t.elems);
          if (!u) throw invalidArg('sets', i, 'all elements must be of the same type');
          return u;
        }
        throw invalidArg('sets', i, 'a set or a list is required');
      });
      const tupleType = T.tuple(elemTypes);
      const asList = lists === args.length;
      if (args.some((a) => !a.isKnown)) return Value.unknown(asList ? T.list(tupleType) : T.set(tupleType));
      let rows: Value[][] = [[]];
      args.forEach((a, i) => {
        const elems = a.elems().map((e) => convert(e, elemTypes[i]!));
        rows = rows.flatMap((row) => elems.map((e) => [...row, e]));
      });
      const tuples = rows.map((row) => Value.tuple(row));
      return asList ? Value.list(tuples, tupleType) : Value.set(tuples, tupleType);
    },
  },
};
