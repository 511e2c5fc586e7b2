/**
 * Type conversion as cty does it: primitives convert to and from strings, structural values to
 * collections and back, and `unify` finds the one type a set of values can share (used by
 * conditionals, collection constructors and functions such as concat).
 */
import { T, friendlyName, isPrimitive, typeEquals, hasDynamic, type Type } from './types.js';
import { Value, UNKNOWN } from './value.js';

/** A conversion failure; `path` says where inside the value it happened ("element 0", `attribute "a"`). */
export class ConversionError extends Error {
  constructor(
    readonly reason: string,
    readonly path: readonly string[] = [],
  ) {
    super(path.length > 0 ? `${path.join(', ')}: ${reason}` : reason);
    this.name = 'ConversionError';
  }
  within(step: string): ConversionError {
    return new ConversionError(this.reason, [step, ...this.path]);
  }
}

/**
 * cty's canonical text for a number: plain decimal notation, never an exponent, with the
 * shortest digits that identify the double (so 0.1 is "0.1", 1e21 is "1" and 21 zeros).
 */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
  // Negative zero prints as "-0", as cty's big.Float does.
  if (Object.is(n, -0)) return '-0';
  const shortest = String(Math.abs(n));
  const sign = n < 0 ? '-' : '';
  const m = /^(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(shortest);
  if (!m) return sign + shortest;
  const digits = m[1]! + (m[2] ?? '');
  // Position of the decimal point within `digits` after applying the exponent.
  const point = m[1]!.length + Number(m[3]);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Parses a number the way cty does from a string: decimal, optional sign, fraction, exponent. */
export function parseNumber(s: string): number | undefined {
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return undefined;
  return Number(s);
}

export function convert(v: Value, want: Type): Value {
  if (want.kind === 'dynamic') return v;
  const sens = v.sensitive;
  const out = convertInner(v, want);
  return sens ? out.markSensitive() : out;
}

function convertInner(v: Value, want: Type): Value {
  const have = v.type;
  if (v.raw === UNKNOWN) {
    if (have.kind === 'dynamic' || conversionPossible(have, want)) return Value.unknown(want, v.deferred);
    throw new ConversionError(`${mustBe(want)}`);
  }
  if (v.raw === null) return Value.null(want);
  if (typeEquals(have, want) && !hasDynamic(want)) return v;

  switch (want.kind) {
    case 'string':
      if (have.kind === 'number') return Value.string(formatNumber(v.num()));
      if (have.kind === 'bool') return Value.string(v.bool() ? 'true' : 'false');
      if (have.kind === 'string') return v;
      break;
    case 'number':
      if (have.kind === 'number') return v;
      if (have.kind === 'string') {
        const n = parseNumber(v.str());
        if (n === undefined) throw new ConversionError(`a number is required`);
        return Value.number(n);
      }
      break;
    case 'bool':
      if (have.kind === 'bool') return v;
      if (have.kind === 'string') {
        const s = v.str();
        if (s === 'true' || s === '1') return Value.bool(true);
        if (s === 'false' || s === '0') return Value.bool(false);
        throw new ConversionError(`a bool is required`);
      }
      break;
    case 'list':
    case 'set': {
      if (have.kind !== 'list' && have.kind !== 'set' && have.kind !== 'tuple') break;
      const elems = v.elems().map((e, i) => convertElem(e, want.elem, `element ${i}`));
      const et = want.elem.kind === 'dynamic' ? unifyTypesOrFail(elems) : want.elem;
      const conv = want.elem.kind === 'dynamic' ? elems.map((e) => convert(e, et)) : elems;
      return want.kind === 'list' ? Value.list(conv, et) : Value.set(conv, et);
    }
    case 'map': {
      if (have.kind !== 'map' && have.kind !== 'object') break;
      const entries = new Map<string, Value>();
      for (const [k, e] of v.entries()) entries.set(k, convertElem(e, want.elem, `element ${JSON.stringify(k)}`));
      const et = want.elem.kind === 'dynamic' ? unifyTypesOrFail([...entries.values()]) : want.elem;
      if (want.elem.kind === 'dynamic') for (const [k, e] of entries) entries.set(k, convert(e, et));
      return Value.map(entries, et);
    }
    case 'object': {
      if (have.kind !== 'object' && have.kind !== 'map') break;
      const src = v.entries();
      const out = new Map<string, Value>();
      for (const [name, at] of want.attrs) {
        const e = src.get(name);
        if (e === undefined) {
          if (want.optional?.has(name)) {
            out.set(name, Value.null(at));
            continue;
          }
          throw new ConversionError(`attribute ${JSON.stringify(name)} is required`);
        }
        out.set(name, convertElem(e, at, `attribute ${JSON.stringify(name)}`));
      }
      // Attributes the target type does not name are dropped, as in cty.
      return Value.of(T.object(new Map([...out].map(([k, e]) => [k, e.type]))), out);
    }
    case 'tuple': {
      if (have.kind !== 'tuple' && have.kind !== 'list' && have.kind !== 'set') break;
      const elems = v.elems();
      if (elems.length !== want.elems.length) throw new ConversionError(`tuple required with exactly ${want.elems.length} elements`);
      return Value.tuple(elems.map((e, i) => convertElem(e, want.elems[i]!, `element ${i}`)));
    }
  }
  throw new ConversionError(mustBe(want));
}

function convertElem(e: Value, t: Type, step: string): Value {
  try {
    return convert(e, t);
  } catch (err) {
    if (err instanceof ConversionError) throw err.within(step);
    throw err;
  }
}

function mustBe(want: Type): string {
  switch (want.kind) {
    case 'string':
    case 'number':
    case 'bool':
      return `${want.kind} required`;
    case 'object':
      return 'object required';
    case 'tuple':
      return 'tuple required';
    default:
      return `${friendlyName(want)} required`;
  }
}

/** Whether a value of type `have` could convert to `want` (content permitting). */
export function conversionPossible(have: Type, want: Type): boolean {
  if (want.kind === 'dynamic' || have.kind === 'dynamic') return true;
  if (isPrimitive(want) && isPrimitive(have)) {
    if (want.kind === have.kind || want.kind === 'string' || have.kind === 'string') return true;
    return false;
  }
  switch (want.kind) {
    case 'list':
    case 'set':
      if (have.kind === 'tuple') return have.elems.every((e) => conversionPossible(e, want.elem));
      return (have.kind === 'list' || have.kind === 'set') && conversionPossible(have.elem, want.elem);
    case 'map':
      if (have.kind === 'object') return [...have.attrs.values()].every((e) => conversionPossible(e, want.elem));
      return have.kind === 'map' && conversionPossible(have.elem, want.elem);
    case 'object':
      if (have.kind === 'map') return [...want.attrs.values()].every((a) => conversionPossible(have.elem, a));
      return (
        have.kind === 'object' &&
        [...want.attrs].every(([k, t]) => (have.attrs.has(k) ? conversionPossible(have.attrs.get(k)!, t) : want.optional?.has(k) === true))
      );
    case 'tuple':
      if (have.kind === 'list' || have.kind === 'set') return want.elems.every((e) => conversionPossible(have.elem, e));
      return have.kind === 'tuple' && have.elems.length === want.elems.length && have.elems.every((e, i) => conversionPossible(e, want.elems[i]!));
    default:
      return false;
  }
}

/**
 * The single type all of `types` convert to, as cty's unify does: equal types stay; mixed
 * primitives become string; objects/maps become a map of the unified attribute type; tuples
 * and lists become a list. Returns undefined when no such type exists.
 */
export function unifyTypes(types: readonly Type[]): Type | undefined {
  const known = types.filter((t) => t.kind !== 'dynamic');
  if (known.length === 0) return T.dynamic;
  const first = known[0]!;
  if (known.every((t) => typeEquals(t, first))) return first;
  if (known.every(isPrimitive)) return T.string;
  if (known.every((t) => t.kind === 'object')) {
    // Same attribute names: unify attribute by attribute to keep an object type.
    const names = [...(first as Extract<Type, { kind: 'object' }>).attrs.keys()].join('\u0000');
    const objs = known as Extract<Type, { kind: 'object' }>[];
    if (objs.every((o) => [...o.attrs.keys()].join('\u0000') === names)) {
      const attrs = new Map<string, Type>();
      for (const k of objs[0]!.attrs.keys()) {
        const u = unifyTypes(objs.map((o) => o.attrs.get(k)!));
        if (!u) return undefined;
        attrs.set(k, u);
      }
      return T.object(attrs);
    }
  }
  if (known.every((t) => t.kind === 'object' || t.kind === 'map')) {
    const elemTypes = known.flatMap((t) => (t.kind === 'object' ? [...t.attrs.values()] : t.kind === 'map' ? [t.elem] : []));
    const u = unifyTypes(elemTypes);
    return u ? T.map(u) : undefined;
  }
  if (known.every((t) => t.kind === 'tuple')) {
    const tuples = known as Extract<Type, { kind: 'tuple' }>[];
    if (tuples.every((t) => t.elems.length === tuples[0]!.elems.length)) {
      const elems: Type[] = [];
      for (let i = 0; i < tuples[0]!.elems.length; i++) {
        const u = unifyTypes(tuples.map((t) => t.elems[i]!));
        if (!u) return undefined;
        elems.push(u);
      }
      return T.tuple(elems);
    }
  }
  if (known.every((t) => t.kind === 'tuple' || t.kind === 'list')) {
    const u = unifyTypes(known.flatMap((t) => (t.kind === 'tuple' ? t.elems : t.kind === 'list' ? [t.elem] : [])));
    return u ? T.list(u) : undefined;
  }
  if (known.every((t) => t.kind === 'set')) {
    const u = unifyTypes(known.map((t) => (t as Extract<Type, { kind: 'set' }>).elem));
    return u ? T.set(u) : undefined;
  }
  return undefined;
}

function unifyTypesOrFail(values: readonly Value[]): Type {
  const u = unifyTypes(values.map((v) => v.type));
  if (!u) throw new ConversionError('all elements must have the same type');
  return u;
}

/** Converts all values to their unified type, or returns undefined when they have none. */
export function unifyValues(values: readonly Value[]): { type: Type; values: Value[] } | undefined {
  const t = unifyTypes(values.map((v) => v.type));
  if (!t) return undefined;
  try {
    return { type: t, values: values.map((v) => convert(v, t)) };
  } catch (err) {
    if (err instanceof ConversionError) return undefined;
    throw err;
  }
}
