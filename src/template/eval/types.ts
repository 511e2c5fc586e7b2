/**
 * The HCL/cty type system: primitive types, collections (list, set, map) of one element type,
 * structural types (object, tuple), and `dynamic` ("any") for values whose type is not yet
 * decided. Types are plain immutable data compared structurally.
 */

export type Type =
  | { readonly kind: 'string' }
  | { readonly kind: 'number' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'dynamic' }
  | { readonly kind: 'list'; readonly elem: Type }
  | { readonly kind: 'set'; readonly elem: Type }
  | { readonly kind: 'map'; readonly elem: Type }
  | { readonly kind: 'object'; readonly attrs: ReadonlyMap<string, Type>; readonly optional?: ReadonlySet<string> }
  | { readonly kind: 'tuple'; readonly elems: readonly Type[] };

export type CollectionType = Extract<Type, { kind: 'list' | 'set' | 'map' }>;
export type ObjectType = Extract<Type, { kind: 'object' }>;
export type TupleType = Extract<Type, { kind: 'tuple' }>;

export const T = {
  string: { kind: 'string' } as Type,
  number: { kind: 'number' } as Type,
  bool: { kind: 'bool' } as Type,
  dynamic: { kind: 'dynamic' } as Type,
  list: (elem: Type): Type => ({ kind: 'list', elem }),
  set: (elem: Type): Type => ({ kind: 'set', elem }),
  map: (elem: Type): Type => ({ kind: 'map', elem }),
  object: (attrs: ReadonlyMap<string, Type> | Record<string, Type>, optional?: ReadonlySet<string>): Type => ({
    kind: 'object',
    attrs: attrs instanceof Map ? attrs : new Map(Object.entries(attrs).sort(([a], [b]) => cmpStr(a, b))),
    ...(optional && optional.size > 0 && { optional }),
  }),
  tuple: (elems: readonly Type[]): Type => ({ kind: 'tuple', elems }),
};

export const EMPTY_OBJECT: Type = T.object(new Map());
export const EMPTY_TUPLE: Type = T.tuple([]);

export function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function isPrimitive(t: Type): boolean {
  return t.kind === 'string' || t.kind === 'number' || t.kind === 'bool';
}

export function isCollection(t: Type): t is CollectionType {
  return t.kind === 'list' || t.kind === 'set' || t.kind === 'map';
}

/** list, set or tuple: something `for`, splat and sequence functions iterate by position. */
export function isSequence(t: Type): boolean {
  return t.kind === 'list' || t.kind === 'set' || t.kind === 'tuple';
}

export function isMapLike(t: Type): boolean {
  return t.kind === 'map' || t.kind === 'object';
}

export function typeEquals(a: Type, b: Type): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'list':
    case 'set':
    case 'map':
      return typeEquals(a.elem, (b as CollectionType).elem);
    case 'object': {
      const bo = b as ObjectType;
      if (a.attrs.size !== bo.attrs.size) return false;
      for (const [k, t] of a.attrs) {
        const o = bo.attrs.get(k);
        if (!o || !typeEquals(t, o)) return false;
      }
      return (a.optional?.size ?? 0) === (bo.optional?.size ?? 0);
    }
    case 'tuple': {
      const bt = b as TupleType;
      return a.elems.length === bt.elems.length && a.elems.every((e, i) => typeEquals(e, bt.elems[i]!));
    }
    default:
      return true;
  }
}

/** True when the type, or any type nested in it, is dynamic. */
export function hasDynamic(t: Type): boolean {
  switch (t.kind) {
    case 'dynamic':
      return true;
    case 'list':
    case 'set':
    case 'map':
      return hasDynamic(t.elem);
    case 'object':
      return [...t.attrs.values()].some(hasDynamic);
    case 'tuple':
      return t.elems.some(hasDynamic);
    default:
      return false;
  }
}

/** The type in HCL type-constraint syntax: `list(string)`, `object({a=number})`. */
export function typeString(t: Type): string {
  switch (t.kind) {
    case 'dynamic':
      return 'any';
    case 'list':
    case 'set':
    case 'map':
      return `${t.kind}(${typeString(t.elem)})`;
    case 'object':
      return `object({${[...t.attrs].map(([k, v]) => `${k}=${t.optional?.has(k) ? `optional(${typeString(v)})` : typeString(v)}`).join(', ')}})`;
    case 'tuple':
      return `tuple([${t.elems.map(typeString).join(', ')}])`;
    default:
      return t.kind;
  }
}

/** The wording cty uses in messages: "list of string", "object", "tuple". */
export function friendlyName(t: Type): string {
  switch (t.kind) {
    case 'dynamic':
      return 'dynamic';
    case 'list':
    case 'set':
    case 'map':
      return `${t.kind} of ${friendlyName(t.elem)}`;
    default:
      return t.kind;
  }
}
