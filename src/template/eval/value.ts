/**
 * Values as HCL's cty library models them: every value has a type, may be null (typed), may be
 * unknown (its content exists only at run time, e.g. `build.Host`), and may carry the sensitive
 * mark, which spreads to every value computed from it.
 *
 * Maps and objects keep their attributes sorted by key (cty iterates them in lexical order);
 * sets keep their elements de-duplicated in a canonical order.
 */
import { T, cmpStr, friendlyName, type Type } from './types.js';

export const UNKNOWN: unique symbol = Symbol('unknown');

export type Raw = string | number | boolean | readonly Value[] | ReadonlyMap<string, Value> | null | typeof UNKNOWN;

export class Value {
  private constructor(
    readonly type: Type,
    readonly raw: Raw,
    readonly sensitive: boolean,
    /** For unknown values: the expression text that will give the value at run time. */
    readonly deferred?: string,
  ) {}

  static string(s: string): Value {
    return new Value(T.string, s, false);
  }
  static number(n: number): Value {
    return new Value(T.number, n, false);
  }
  static bool(b: boolean): Value {
    return b ? TRUE : FALSE;
  }
  static null(t: Type = T.dynamic): Value {
    return new Value(t, null, false);
  }
  static unknown(t: Type = T.dynamic, deferred?: string): Value {
    return new Value(t, UNKNOWN, false, deferred);
  }
  static list(elems: readonly Value[], elemType?: Type): Value {
    const et = elemType ?? elems[0]?.type ?? T.dynamic;
    return new Value(T.list(et), elems, false);
  }
  static set(elems: readonly Value[], elemType?: Type): Value {
    const et = elemType ?? elems[0]?.type ?? T.dynamic;
    return new Value(T.set(et), canonicalSet(elems), false);
  }
  static map(entries: ReadonlyMap<string, Value> | Record<string, Value>, elemType?: Type): Value {
    const m = sortedMap(entries);
    const et = elemType ?? m.values().next().value?.type ?? T.dynamic;
    return new Value(T.map(et), m, false);
  }
  static tuple(elems: readonly Value[]): Value {
    return new Value(T.tuple(elems.map((e) => e.type)), elems, false);
  }
  static object(entries: ReadonlyMap<string, Value> | Record<string, Value>): Value {
    const m = sortedMap(entries);
    return new Value(T.object(new Map([...m].map(([k, v]) => [k, v.type]))), m, false);
  }
  /** Internal: a value with an explicit type whose raw content the caller guarantees fits it. */
  static of(type: Type, raw: Raw, sensitive = false): Value {
    return new Value(type, type.kind === 'set' && Array.isArray(raw) ? canonicalSet(raw as Value[]) : raw, sensitive);
  }

  get isNull(): boolean {
    return this.raw === null;
  }
  /** Known at this level (a known list may still hold unknown elements). */
  get isKnown(): boolean {
    return this.raw !== UNKNOWN;
  }
  get isWhollyKnown(): boolean {
    if (this.raw === UNKNOWN) return false;
    if (Array.isArray(this.raw)) return (this.raw as Value[]).every((v) => v.isWhollyKnown);
    if (this.raw instanceof Map) return [...this.raw.values()].every((v) => v.isWhollyKnown);
    return true;
  }
  /** Sensitive here or anywhere inside. */
  get containsSensitive(): boolean {
    if (this.sensitive) return true;
    if (Array.isArray(this.raw)) return (this.raw as Value[]).some((v) => v.containsSensitive);
    if (this.raw instanceof Map) return [...this.raw.values()].some((v) => v.containsSensitive);
    return false;
  }

  markSensitive(on = true): Value {
    if (!on || this.sensitive) return this;
    return new Value(this.type, this.raw, true, this.deferred);
  }
  /** The same content without the top-level sensitive mark (marks inside remain). */
  unmarked(): Value {
    return this.sensitive ? new Value(this.type, this.raw, false, this.deferred) : this;
  }
  withDeferred(text: string): Value {
    return new Value(this.type, this.raw, this.sensitive, text);
  }

  // Accessors: callers check the type first; these assert it.
  str(): string {
    if (typeof this.raw !== 'string') throw new Error(`internal: ${friendlyName(this.type)} is not a known string`);
    return this.raw;
  }
  num(): number {
    if (typeof this.raw !== 'number') throw new Error(`internal: ${friendlyName(this.type)} is not a known number`);
    return this.raw;
  }
  bool(): boolean {
    if (typeof this.raw !== 'boolean') throw new Error(`internal: ${friendlyName(this.type)} is not a known bool`);
    return this.raw;
  }
  /** Elements of a known list, set or tuple. */
  elems(): readonly Value[] {
    if (!Array.isArray(this.raw)) throw new Error(`internal: ${friendlyName(this.type)} is not a known sequence`);
    return this.raw as readonly Value[];
  }
  /** Entries of a known map or object, sorted by key. */
  entries(): ReadonlyMap<string, Value> {
    if (!(this.raw instanceof Map)) throw new Error(`internal: ${friendlyName(this.type)} is not a known map or object`);
    return this.raw;
  }
  /** Number of elements or attributes of a known collection or structure. */
  get length(): number {
    if (Array.isArray(this.raw)) return this.raw.length;
    if (this.raw instanceof Map) return this.raw.size;
    throw new Error('internal: length of a non-collection');
  }
}

const TRUE = Value.of(T.bool, true);
const FALSE = Value.of(T.bool, false);

export const DYNAMIC_NULL = Value.null();
export const DYNAMIC_UNKNOWN = Value.unknown();

function sortedMap(entries: ReadonlyMap<string, Value> | Record<string, Value>): Map<string, Value> {
  const list = entries instanceof Map ? [...entries] : Object.entries(entries);
  list.sort(([a], [b]) => cmpStr(a, b));
  return new Map(list);
}

/** De-duplicate and order set elements: primitives by value, the rest in first-seen order. */
function canonicalSet(elems: readonly Value[]): Value[] {
  const out: Value[] = [];
  for (const e of elems) if (!out.some((o) => deepEqual(o, e))) out.push(e);
  return out.sort(compareForSet);
}

function compareForSet(a: Value, b: Value): number {
  const ka = typeof a.raw;
  const kb = typeof b.raw;
  if (ka === 'number' && kb === 'number') return (a.raw as number) - (b.raw as number);
  if (ka === 'string' && kb === 'string') return cmpStr(a.raw as string, b.raw as string);
  if (ka === 'boolean' && kb === 'boolean') return Number(a.raw) - Number(b.raw);
  return 0;
}

/**
 * Structural equality of two known values, ignoring marks. Numbers compare numerically; values
 * of different types are unequal except that list/tuple and map/object compare by content.
 */
export function deepEqual(a: Value, b: Value): boolean {
  if (a.raw === UNKNOWN || b.raw === UNKNOWN) return false;
  if (a.raw === null || b.raw === null) return a.raw === b.raw;
  if (Array.isArray(a.raw)) {
    if (!Array.isArray(b.raw)) return false;
    const ae = a.raw as Value[];
    const be = b.raw as Value[];
    return ae.length === be.length && ae.every((x, i) => deepEqual(x, be[i]!));
  }
  if (a.raw instanceof Map) {
    if (!(b.raw instanceof Map) || a.raw.size !== b.raw.size) return false;
    for (const [k, v] of a.raw) {
      const o = b.raw.get(k);
      if (!o || !deepEqual(v, o)) return false;
    }
    return true;
  }
  return a.raw === b.raw;
}
