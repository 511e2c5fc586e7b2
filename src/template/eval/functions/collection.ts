/**
 * Functions over lists, sets and tuples. Result types follow cty: operations on a list keep
 * its element type, operations on a tuple keep each element's type, and `flatten`/`concat` of
 * mixed sequences give tuples. Unknown elements pass through where the result can still be
 * known; otherwise the result is unknown of the right type.
 */
import { convert, ConversionError, unifyTypes } from '../convert.js';
import { T, friendlyName, type Type } from '../types.js';
import { Value } from '../value.js';
import { FunctionError, type FuncDef, type Param } from './define.js';
import { compareCodePoints, ctyEqual, graphemes, invalidArg, wholeNumber } from './support.js';

const dyn = (name: string, extra: Partial<Param> = {}): Param => ({ name, type: T.dynamic, ...extra });
const num = (name: string): Param => ({ name, type: T.number });

/** The element type of a list or set type. */
const elemOf = (t: Type): Type => (t.kind === 'list' || t.kind === 'set' || t.kind === 'map' ? t.elem : T.dynamic);

/** A list or tuple (the sequences with indices). */
const isIndexed = (t: Type): boolean => t.kind === 'list' || t.kind === 'tuple';

/** Builds a result of the same kind as `like`: a tuple stays a tuple, anything else is a list. */
function sameKind(like: Value, elems: readonly Value[]): Value {
  return like.type.kind === 'tuple' ? Value.tuple(elems) : Value.list(elems, elemOf(like.type));
}

/** Sequences nested in a flattened list; false when an unknown one makes the result unknown. */
function flattenInto(v: Value, out: Value[]): boolean {
  for (const e of v.elems()) {
    if (e.type.kind === 'dynamic' && !e.isKnown) return false;
    if (!e.isNull && (e.type.kind === 'list' || e.type.kind === 'set' || e.type.kind === 'tuple')) {
      if (!e.isKnown || !flattenInto(e, out)) return false;
    } else out.push(e);
  }
  return true;
}

/** The number of fraction digits in a number's shortest form, or undefined for exponent forms. */
function fractionDigits(n: number): number | undefined {
  const s = String(n);
  if (s.includes('e')) return undefined;
  return s.split('.')[1]?.length ?? 0;
}

/** A value converted to a number, or undefined when it has no number form. */
function asNumber(v: Value): number | undefined {
  try {
    return convert(v, T.number).num();
  } catch (err) {
    if (err instanceof ConversionError) return undefined;
    throw err;
  }
}

const RANGE_LIMIT = 1024;

export const COLLECTION_FUNCTIONS: Record<string, FuncDef> = {
  length: {
    description: 'The number of elements of a collection or structure, or of characters in a string.',
    params: [dyn('value', { allowUnknown: true })],
    returnType: T.number,
    impl([v]) {
      const t = v!.type;
      switch (t.kind) {
        // Structural types know their length even when the value is unknown.
        case 'tuple':
          return Value.number(t.elems.length);
        case 'object':
          return Value.number(t.attrs.size);
        case 'string':
          return v!.isKnown ? Value.number(graphemes(v!.str()).length) : Value.unknown(T.number);
        case 'list':
        case 'set':
        case 'map':
        case 'dynamic':
          return v!.isKnown ? Value.number(v!.length) : Value.unknown(T.number);
        default:
          throw invalidArg('value', 0, 'argument must be a string, a collection type, or a structural type');
      }
    },
  },

  element: {
    description: 'The element at an index of a list, wrapping around past the end.',
    params: [dyn('list'), num('index')],
    impl([list, indexV]) {
      const index = wholeNumber(indexV!, 'index', 1);
      if (index < 0) throw new FunctionError('cannot use element function with a negative index', 1);
      if (!isIndexed(list!.type)) throw new FunctionError(`cannot read elements from ${friendlyName(list!.type)}`, 0);
      const elems = list!.elems();
      if (elems.length === 0) throw new FunctionError('cannot use element function with an empty list', 0);
      return elems[index % elems.length]!;
    },
  },

  index: {
    description: 'The index of the first element of a list equal to a value.',
    params: [dyn('list'), dyn('value')],
    returnType: T.number,
    impl([list, value]) {
      if (!isIndexed(list!.type)) throw new FunctionError('argument must be a list or tuple', 0);
      const elems = list!.elems();
      if (elems.length === 0) throw new FunctionError('cannot search an empty list', 0);
      for (const [i, e] of elems.entries()) {
        const eq = ctyEqual(e, value!);
        if (eq === undefined) return Value.unknown(T.number);
        if (eq) return Value.number(i);
      }
      throw new FunctionError('item not found', 1);
    },
  },

  contains: {
    description: 'Whether a list, tuple or set has an element equal to a value.',
    params: [dyn('list'), dyn('value')],
    returnType: T.bool,
    impl([list, value]) {
      const k = list!.type.kind;
      if (k !== 'list' && k !== 'tuple' && k !== 'set') throw new FunctionError('argument must be list, tuple, or set', 0);
      let unknown = false;
      for (const e of list!.elems()) {
        const eq = ctyEqual(e, value!);
        if (eq) return Value.bool(true);
        if (eq === undefined) unknown = true;
      }
      return unknown ? Value.unknown(T.bool) : Value.bool(false);
    },
  },

  distinct: {
    description: 'A list without its duplicate elements (the first of each is kept, in order).',
    params: [{ name: 'list', type: T.list(T.dynamic) }],
    impl([list]) {
      if (!list!.isWhollyKnown) return Value.unknown(list!.type);
      const out: Value[] = [];
      for (const e of list!.elems()) if (!out.some((o) => ctyEqual(o, e))) out.push(e);
      return Value.list(out, elemOf(list!.type));
    },
  },

  compact: {
    description: 'A list of strings without its empty and null elements.',
    params: [{ name: 'list', type: T.list(T.string) }],
    returnType: T.list(T.string),
    impl([list]) {
      if (!list!.isWhollyKnown) return Value.unknown(T.list(T.string));
      return Value.list(list!.elems().filter((e) => !e.isNull && e.str() !== ''), T.string);
    },
  },

  reverse: {
    description: 'A sequence with its elements in reverse order.',
    params: [dyn('list')],
    impl([list]) {
      const k = list!.type.kind;
      if (k !== 'list' && k !== 'set' && k !== 'tuple') {
        throw invalidArg('list', 0, `can only reverse list or tuple values, not ${friendlyName(list!.type)}`);
      }
      return sameKind(list!, [...list!.elems()].reverse());
    },
  },

  slice: {
    description: 'The elements of a list from a start index (inclusive) to an end index (exclusive).',
    params: [dyn('list'), num('start_index'), num('end_index')],
    impl([list, startV, endV]) {
      if (list!.type.kind === 'set') {
        throw invalidArg('list', 0, 'cannot slice a set, because its elements do not have indices; explicitly convert to a list if the ordering of the result is not important');
      }
      if (!isIndexed(list!.type)) throw invalidArg('list', 0, 'must be a list or tuple value');
      const elems = list!.elems();
      const start = wholeNumber(startV!, 'start_index', 1);
      const end = wholeNumber(endV!, 'end_index', 2);
      if (start < 0) throw invalidArg('start_index', 1, 'start index must not be less than zero');
      if (start > elems.length) throw invalidArg('start_index', 1, 'start index must not be greater than the length of the list');
      if (end < 0) throw invalidArg('end_index', 2, 'end index must not be less than zero');
      if (end > elems.length) throw invalidArg('end_index', 2, 'end index must not be greater than the length of the list');
      if (start > end) throw invalidArg('start_index', 1, 'start index must not be greater than end index');
      return sameKind(list!, elems.slice(start, end));
    },
  },

  sort: {
    description: 'A list of strings sorted lexically (by Unicode code point).',
    params: [{ name: 'list', type: T.list(T.string) }],
    returnType: T.list(T.string),
    impl([list]) {
      if (!list!.isWhollyKnown) return Value.unknown(T.list(T.string));
      const elems = list!.elems();
      elems.forEach((e, i) => {
        if (e.isNull) throw new FunctionError(`given list element ${i} is null; a null string cannot be sorted`, 0);
      });
      return Value.list([...elems].sort((a, b) => compareCodePoints(a.str(), b.str())), T.string);
    },
  },

  chunklist: {
    description: 'Splits a list into lists of at most the given size.',
    params: [{ name: 'list', type: T.list(T.dynamic) }, num('size')],
    impl([list, sizeV]) {
      const size = wholeNumber(sizeV!, 'size', 1);
      if (size < 0) throw new FunctionError('the size argument must be positive', 1);
      const elems = list!.elems();
      const et = elemOf(list!.type);
      if (elems.length === 0) return Value.list([], list!.type);
      if (size === 0) return Value.list([list!], list!.type);
      const chunks: Value[] = [];
      for (let i = 0; i < elems.length; i += size) chunks.push(Value.list(elems.slice(i, i + size), et));
      return Value.list(chunks, list!.type);
    },
  },

  flatten: {
    description: 'Replaces nested lists, sets and tuples with their elements, recursively.',
    params: [dyn('list')],
    impl([list]) {
      const k = list!.type.kind;
      if (k !== 'list' && k !== 'set' && k !== 'tuple') throw new FunctionError('can only flatten lists, sets and tuples', 0);
      const out: Value[] = [];
      return flattenInto(list!, out) ? Value.tuple(out) : Value.unknown(T.dynamic);
    },
  },

  concat: {
    description: 'Joins lists and tuples into one (a list when all are lists of one element type).',
    params: [],
    variadic: dyn('seqs'),
    impl(seqs) {
      if (seqs.length === 0) throw new FunctionError('at least one argument is required');
      if (seqs.every((s) => s.type.kind === 'list')) {
        const common = unifyTypes(seqs.map((s) => s.type));
        if (common) return Value.list(seqs.flatMap((s) => convert(s, common).elems()), elemOf(common));
      }
      seqs.forEach((s, i) => {
        if (!isIndexed(s.type)) throw invalidArg('seqs', i, `all arguments must be lists or tuples; got ${friendlyName(s.type)}`);
      });
      return Value.tuple(seqs.flatMap((s) => s.elems()));
    },
  },

  coalesce: {
    description: 'The first argument that is neither null nor an empty string.',
    params: [],
    variadic: dyn('vals', { allowNull: true, allowUnknown: true }),
    impl(vals) {
      const t = unifyTypes(vals.map((v) => v.type));
      if (!t) throw new FunctionError('all arguments must have the same type');
      for (const [i, v] of vals.entries()) {
        let c: Value;
        try {
          c = convert(v, t);
        } catch (err) {
          if (err instanceof ConversionError) throw invalidArg('vals', i, err.message);
          throw err;
        }
        if (!c.isKnown) return Value.unknown(t);
        if (c.isNull || (t.kind === 'string' && c.str() === '')) continue;
        return c;
      }
      throw new FunctionError('no non-null, non-empty-string arguments');
    },
  },

  coalescelist: {
    description: 'The first list or tuple argument that is not empty.',
    params: [],
    variadic: dyn('vals', { allowNull: true, allowUnknown: true }),
    impl(vals) {
      if (vals.length === 0) throw new FunctionError('at least one argument is required');
      vals.forEach((v, i) => {
        if (v.isKnown && !isIndexed(v.type)) throw new FunctionError('coalescelist arguments must be lists or tuples', i);
      });
      for (const v of vals) {
        if (!v.isKnown) return Value.unknown(T.dynamic);
        if (!v.isNull && v.length > 0) return v;
      }
      throw new FunctionError('no non-null arguments');
    },
  },

  alltrue: {
    description: 'Whether every element of a list is true (true for an empty list).',
    params: [{ name: 'list', type: T.list(T.bool) }],
    returnType: T.bool,
    impl([list]) {
      for (const e of list!.elems()) {
        if (!e.isKnown) return Value.unknown(T.bool);
        if (e.isNull || !e.bool()) return Value.bool(false);
      }
      return Value.bool(true);
    },
  },

  anytrue: {
    description: 'Whether any element of a list is true (false for an empty list).',
    params: [{ name: 'list', type: T.list(T.bool) }],
    returnType: T.bool,
    impl([list]) {
      let unknown = false;
      for (const e of list!.elems()) {
        if (!e.isKnown) unknown = true;
        else if (!e.isNull && e.bool()) return Value.bool(true);
      }
      return unknown ? Value.unknown(T.bool) : Value.bool(false);
    },
  },

  sum: {
    description: 'The sum of a list or set of numbers.',
    params: [dyn('list')],
    returnType: T.number,
    impl([list]) {
      const t = list!.type;
      if (!['list', 'set', 'tuple', 'map', 'object'].includes(t.kind)) throw invalidArg('list', 0, 'cannot sum noniterable');
      if (list!.length === 0) throw invalidArg('list', 0, 'cannot sum an empty list');
      if (t.kind === 'map' || t.kind === 'object') throw invalidArg('list', 0, `argument must be list, set, or tuple. Received ${friendlyName(t)}`);
      if (!list!.isWhollyKnown) return Value.unknown(T.number);
      let total = 0;
      for (const e of list!.elems()) {
        const n = e.isNull ? undefined : asNumber(e);
        if (n === undefined) throw invalidArg('list', 0, 'argument must be list, set, or tuple of number values');
        total += n;
      }
      if (Number.isNaN(total)) throw new FunctionError("can't compute sum of opposing infinities", 0);
      return Value.number(total);
    },
  },

  range: {
    description: 'A list of numbers from a start (default 0) up to but not including a limit, by a step (default 1 or -1).',
    params: [],
    variadic: num('params'),
    returnType: T.list(T.number),
    impl(args) {
      const n = args.map((a) => a.num());
      let start: number;
      let end: number;
      let step: number;
      if (n.length === 1) [start, end, step] = [0, n[0]!, n[0]! < 0 ? -1 : 1];
      else if (n.length === 2) [start, end, step] = [n[0]!, n[1]!, n[1]! < n[0]! ? -1 : 1];
      else if (n.length === 3) [start, end, step] = n as [number, number, number];
      else throw new FunctionError('must have one, two, or three arguments');
      if (step === 0) throw invalidArg('params', 2, 'step must not be zero');
      const down = step < 0;
      if (down && end > start) throw invalidArg('params', 1, 'end must be less than start when step is negative');
      if (!down && end < start) throw invalidArg('params', 1, 'end must be greater than start when step is positive');
      // Count in whole units of the finest decimal given, so range(0, 1, 0.1) gives 0.3, not
      // 0.30000000000000004 (cty computes with exact big decimals).
      const digits = Math.max(fractionDigits(start) ?? Infinity, fractionDigits(step) ?? Infinity);
      const scale = digits <= 15 ? 10 ** digits : 0;
      const at = (i: number): number => (scale ? (Math.round(start * scale) + i * Math.round(step * scale)) / scale : start + i * step);
      const out: Value[] = [];
      for (let i = 0; ; i++) {
        const v = at(i);
        if (down ? v <= end : v >= end) break;
        if (out.length >= RANGE_LIMIT) {
          throw new FunctionError('more than 1024 values were generated; either decrease the difference between start and end or use a smaller step');
        }
        out.push(Value.number(v));
      }
      return Value.list(out, T.number);
    },
  },
};

