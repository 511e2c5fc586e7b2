/**
 * Static values: arguments Packer reads before any variable exists (a variable's `sensitive`,
 * a provisioner's `only`, a build's `sources` list). They may not refer to anything or call
 * functions; the diagnostic says so, as HCL's does.
 */
import type { Diagnostic } from '../../core/errors/diagnostic.js';
import { error } from '../../core/errors/diagnostic.js';
import type { Expr, TemplatePart } from '../syntax/ast.js';
import { evaluate } from './evaluate.js';
import type { FunctionContext } from './functions/define.js';
import { convert, ConversionError } from './convert.js';
import { T, friendlyName, type Type } from './types.js';
import type { Value } from './value.js';

const NO_FUNCTIONS: FunctionContext = {
  baseDir: '.',
  now: new Date(0),
  renderTemplate: () => {
    throw new Error('internal: templates are not static');
  },
};

/** The first variable reference or function call in an expression, if any. */
function firstDynamicPart(e: Expr): Expr | undefined {
  const inParts = (parts: readonly TemplatePart[]): Expr | undefined => {
    for (const p of parts) {
      const found =
        p.kind === 'interp' ? firstDynamicPart(p.expr)
        : p.kind === 'if' ? firstDynamicPart(p.cond) ?? inParts(p.then) ?? inParts(p.else ?? [])
        : p.kind === 'for' ? p
        : undefined;
      if (found) return found as Expr;
    }
    return undefined;
  };
  switch (e.kind) {
    case 'variable':
    case 'call':
    case 'for':
    case 'splat':
      return e;
    case 'literal':
    case 'splatItem':
      return undefined;
    case 'template':
      return inParts(e.parts);
    case 'templateWrap':
      return firstDynamicPart(e.wrapped);
    case 'parens':
      return firstDynamicPart(e.expr);
    case 'getAttr':
      return firstDynamicPart(e.object);
    case 'index':
      return firstDynamicPart(e.collection) ?? firstDynamicPart(e.key);
    case 'conditional':
      return firstDynamicPart(e.cond) ?? firstDynamicPart(e.then) ?? firstDynamicPart(e.else);
    case 'binary':
      return firstDynamicPart(e.left) ?? firstDynamicPart(e.right);
    case 'unary':
      return firstDynamicPart(e.operand);
    case 'tuple':
      return e.elems.map(firstDynamicPart).find((x) => x !== undefined);
    case 'object':
      return e.items.map((i) => firstDynamicPart(i.key) ?? firstDynamicPart(i.value)).find((x) => x !== undefined);
  }
}

export function staticValue(expr: Expr, want: Type, diags: Diagnostic[], what: string): Value | undefined {
  const dyn = firstDynamicPart(expr);
  if (dyn) {
    const calls = dyn.kind === 'call';
    diags.push(
      error(
        calls ? 'Function calls not allowed' : 'Variables not allowed',
        `${calls ? 'Functions' : 'Variables'} may not be used here: ${what} must be a literal value.`,
        dyn.range,
      ),
    );
    return undefined;
  }
  const r = evaluate(expr, { variables: new Map(), functions: new Map(), fnContext: NO_FUNCTIONS, sources: new Map() });
  if (r.diags.length > 0) {
    diags.push(...r.diags);
    return undefined;
  }
  try {
    return convert(r.value, want);
  } catch (err) {
    if (err instanceof ConversionError) {
      diags.push(error('Incorrect attribute value type', `Inappropriate value for ${what}: ${err.message}, not ${friendlyName(r.value.type)}.`, expr.range));
      return undefined;
    }
    throw err;
  }
}

export function staticString(expr: Expr, diags: Diagnostic[], what: string): string | undefined {
  const v = staticValue(expr, T.string, diags, what);
  return v && !v.isNull ? v.str() : undefined;
}

export function staticBool(expr: Expr, diags: Diagnostic[], what: string): boolean | undefined {
  const v = staticValue(expr, T.bool, diags, what);
  return v && !v.isNull ? v.bool() : undefined;
}

export function staticStringList(expr: Expr, diags: Diagnostic[], what: string): string[] | undefined {
  const v = staticValue(expr, T.list(T.string), diags, what);
  return v && !v.isNull ? v.elems().map((e) => (e.isNull ? '' : e.str())) : undefined;
}
