/** Small helpers shared by the syntax tests. */
import { expect } from 'vitest';
import type { Diagnostic } from '../../../src/core/errors/diagnostic.js';
import type { Attribute, Block, Expr } from '../../../src/template/syntax/ast.js';
import { parseExpression, parseHCL } from '../../../src/template/syntax/index.js';

/** A tree without its ranges, for comparing shapes. */
export function shape(node: unknown): unknown {
  return JSON.parse(JSON.stringify(node, (k, v: unknown) => (k === 'range' || k === 'nameRange' ? undefined : v)));
}

export function expr(src: string): Expr {
  const r = parseExpression(src, 'e.hcl');
  expect(r.diagnostics).toEqual([]);
  return r.expr;
}

export function attrs(src: string): Attribute[] {
  const r = parseHCL(src, 'a.hcl');
  expect(r.diagnostics).toEqual([]);
  return r.file.body.items as Attribute[];
}

export function blocks(src: string): Block[] {
  const r = parseHCL(src, 'b.hcl');
  expect(r.diagnostics).toEqual([]);
  return r.file.body.items as Block[];
}

/** `summary @line:column` of each diagnostic. */
export function errorsOf(diags: readonly Diagnostic[]): string[] {
  return diags.map((d) => `${d.summary} @${d.subject?.start.line}:${d.subject?.start.column}`);
}

export function errors(src: string): string[] {
  return errorsOf(parseHCL(src, 'x.pkr.hcl').diagnostics);
}

/** `line:column-line:column` of a range, for compact range assertions. */
export function at(r: { start: { line: number; column: number }; end: { line: number; column: number } }): string {
  return `${r.start.line}:${r.start.column}-${r.end.line}:${r.end.column}`;
}
