/**
 * Type constraint expressions (`list(string)`, `object({name=string, port=optional(number, 22)})`)
 * read straight from the syntax tree, as HCL's typeexpr package does: they are never evaluated.
 */
import type { Diagnostic } from '../../core/errors/diagnostic.js';
import { error } from '../../core/errors/diagnostic.js';
import { didYouMean } from '../../core/errors/suggest.js';
import type { Expr } from '../syntax/ast.js';
import { T, type Type } from './types.js';

/** Default values for `optional(type, default)` attributes, mirroring the type's nesting. */
export interface TypeDefaults {
  /** Defaults of this object's own optional attributes. */
  attrs: Map<string, Expr>;
  /** Defaults nested inside attribute types (objects within objects, or within list/map elements). */
  children: Map<string, TypeDefaults>;
}

export interface TypeConstraint {
  type: Type;
  defaults?: TypeDefaults;
}

const PRIMITIVES: Record<string, Type> = { string: T.string, number: T.number, bool: T.bool, any: T.dynamic };
const KEYWORDS = ['string', 'number', 'bool', 'any', 'list', 'set', 'map', 'object', 'tuple'];
/** Key used in TypeDefaults.children for a collection's element type. */
export const ELEMENT_KEY = '[element]';

export function typeFromExpr(expr: Expr): { constraint: TypeConstraint; diags: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const constraint = read(expr, diags, false);
  return { constraint, diags };
}

function read(expr: Expr, diags: Diagnostic[], inObjectAttr: boolean): TypeConstraint {
  const bad = (detail: string): TypeConstraint => {
    diags.push(error('Invalid type specification', detail, expr.range));
    return { type: T.dynamic };
  };
  switch (expr.kind) {
    case 'parens':
      return read(expr.expr, diags, inObjectAttr);
    case 'variable': {
      const t = PRIMITIVES[expr.name];
      if (t) return { type: t };
      if (['list', 'set', 'map', 'object', 'tuple'].includes(expr.name)) {
        return bad(`The ${expr.name} type constructor requires one argument specifying the element type${expr.name === 'object' ? 's' : ''}.`);
      }
      return bad(`The keyword "${expr.name}" is not a valid type specification.${didYouMean(expr.name, KEYWORDS)}`);
    }
    case 'templateWrap':
      // JSON syntax and legacy quoted types: "${string}".
      return read(expr.wrapped, diags, inObjectAttr);
    case 'call': {
      const arg = expr.args[0];
      switch (expr.name) {
        case 'list':
        case 'set':
        case 'map': {
          if (expr.args.length !== 1 || !arg) return bad(`The ${expr.name} type constructor requires one argument specifying the element type.`);
          const inner = read(arg, diags, false);
          const type = expr.name === 'list' ? T.list(inner.type) : expr.name === 'set' ? T.set(inner.type) : T.map(inner.type);
          return inner.defaults ? { type, defaults: { attrs: new Map(), children: new Map([[ELEMENT_KEY, inner.defaults]]) } } : { type };
        }
        case 'tuple': {
          if (expr.args.length !== 1 || !arg || arg.kind !== 'tuple') return bad('The tuple type constructor requires one argument specifying the element types as a list.');
          return { type: T.tuple(arg.elems.map((e) => read(e, diags, false).type)) };
        }
        case 'object': {
          if (expr.args.length !== 1 || !arg || arg.kind !== 'object') return bad('The object type constructor requires one argument specifying the attribute types as a map.');
          const attrs = new Map<string, Type>();
          const optional = new Set<string>();
          const defaults: TypeDefaults = { attrs: new Map(), children: new Map() };
          for (const item of arg.items) {
            const key = attrName(item.key);
            if (key === undefined) {
              diags.push(error('Invalid type specification', 'Object type attribute names must be given as identifiers.', item.key.range));
              continue;
            }
            if (item.value.kind === 'call' && item.value.name === 'optional') {
              optional.add(key);
              if (item.value.args[1]) defaults.attrs.set(key, item.value.args[1]);
            }
            const inner = read(item.value, diags, true);
            attrs.set(key, inner.type);
            if (inner.defaults) defaults.children.set(key, inner.defaults);
          }
          const type = T.object(new Map([...attrs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), optional);
          return defaults.attrs.size > 0 || defaults.children.size > 0 ? { type, defaults } : { type };
        }
        case 'optional': {
          if (!inObjectAttr) return bad('Keyword "optional" is valid only as a modifier for object type attributes.');
          if (expr.args.length < 1 || expr.args.length > 2 || !arg) return bad('The optional modifier requires the attribute type and, optionally, a default value.');
          return read(arg, diags, false);
        }
        default:
          return bad(`Keyword "${expr.name}" is not a valid type constructor.${didYouMean(expr.name, KEYWORDS)}`);
      }
    }
    default:
      return bad('A type specification is either a primitive type keyword (bool, number, string), "any", or a complex type constructor call, like list(string).');
  }
}

function attrName(key: Expr): string | undefined {
  if (key.kind === 'literal' && typeof key.value === 'string') return key.value;
  if (key.kind === 'variable') return key.name;
  if (key.kind === 'template' && key.parts.length === 1 && key.parts[0]!.kind === 'literal') return key.parts[0]!.value;
  return undefined;
}
