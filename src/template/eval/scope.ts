/**
 * What names an expression can see: root variables (`var`, `local`, `source`, `path`, …), `for`
 * iterators layered on top, and the functions callable from here.
 */
import type { SourceTexts } from '../../core/errors/render.js';
import type { FuncDef, FunctionContext } from './functions/define.js';
import type { Value } from './value.js';

export interface EvalContext {
  readonly variables: ReadonlyMap<string, Value>;
  readonly functions: ReadonlyMap<string, FuncDef>;
  readonly fnContext: FunctionContext;
  /** File texts, so unknown (deferred) values can remember the expression that will give them. */
  readonly sources: SourceTexts;
  /**
   * Explains why a root name is missing here ("`build` is only available in provisioners…"),
   * instead of a plain "no such variable".
   */
  readonly unavailable?: ReadonlyMap<string, string>;
}

/** A child context with extra root names, used for `for` iterators and `dynamic` block iterators. */
export function withVariables(ctx: EvalContext, extra: ReadonlyMap<string, Value>): EvalContext {
  const variables = new Map(ctx.variables);
  for (const [k, v] of extra) variables.set(k, v);
  return { ...ctx, variables };
}
