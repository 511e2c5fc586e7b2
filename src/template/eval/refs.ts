/**
 * Finds what an expression refers to (`local.x`, `var.y`, `data.amazon-ami.ubuntu`), so locals
 * and data sources can be evaluated in dependency order and cycles reported with their chain.
 */
import type { SourceRange } from '../../core/errors/diagnostic.js';
import type { Expr, TemplatePart } from '../syntax/ast.js';

export interface Reference {
  root: string;
  /** Static attribute names after the root (`["amazon-ami", "ubuntu"]` for data.amazon-ami.ubuntu). */
  path: string[];
  range: SourceRange;
}

export function references(expr: Expr): Reference[] {
  const out: Reference[] = [];
  walk(expr, new Set(), out);
  return out;
}

function walk(e: Expr, shadowed: ReadonlySet<string>, out: Reference[]): void {
  const chain = traversal(e);
  if (chain) {
    if (!shadowed.has(chain.root)) out.push(chain);
    // Index keys inside the traversal may refer to things too.
  }
  switch (e.kind) {
    case 'literal':
    case 'splatItem':
    case 'variable':
      return;
    case 'template':
      return walkParts(e.parts, shadowed, out);
    case 'templateWrap':
      return walk(e.wrapped, shadowed, out);
    case 'parens':
      return walk(e.expr, shadowed, out);
    case 'getAttr':
      if (!chain) walk(e.object, shadowed, out);
      return;
    case 'index':
      if (!chain) walk(e.collection, shadowed, out);
      return walk(e.key, shadowed, out);
    case 'splat':
      walk(e.source, shadowed, out);
      return walk(e.each, shadowed, out);
    case 'call':
      return e.args.forEach((a) => walk(a, shadowed, out));
    case 'conditional':
      walk(e.cond, shadowed, out);
      walk(e.then, shadowed, out);
      return walk(e.else, shadowed, out);
    case 'binary':
      walk(e.left, shadowed, out);
      return walk(e.right, shadowed, out);
    case 'unary':
      return walk(e.operand, shadowed, out);
    case 'tuple':
      return e.elems.forEach((x) => walk(x, shadowed, out));
    case 'object':
      return e.items.forEach((i) => {
        walk(i.key, shadowed, out);
        walk(i.value, shadowed, out);
      });
    case 'for': {
      walk(e.collection, shadowed, out);
      const inner = new Set(shadowed);
      if (e.keyVar) inner.add(e.keyVar);
      inner.add(e.valVar);
      if (e.keyExpr) walk(e.keyExpr, inner, out);
      walk(e.valExpr, inner, out);
      if (e.cond) walk(e.cond, inner, out);
      return;
    }
  }
}

function walkParts(parts: readonly TemplatePart[], shadowed: ReadonlySet<string>, out: Reference[]): void {
  for (const p of parts) {
    if (p.kind === 'interp') walk(p.expr, shadowed, out);
    else if (p.kind === 'if') {
      walk(p.cond, shadowed, out);
      walkParts(p.then, shadowed, out);
      walkParts(p.else ?? [], shadowed, out);
    } else if (p.kind === 'for') {
      walk(p.collection, shadowed, out);
      const inner = new Set(shadowed);
      if (p.keyVar) inner.add(p.keyVar);
      inner.add(p.valVar);
      walkParts(p.body, inner, out);
    }
  }
}

/** A root variable followed by static attribute steps (`a.b.c`, also `a["b"]`). */
function traversal(e: Expr): Reference | undefined {
  if (e.kind === 'variable') return { root: e.name, path: [], range: e.range };
  if (e.kind === 'getAttr') {
    const base = traversal(e.object);
    return base ? { root: base.root, path: [...base.path, e.name], range: { ...base.range, end: e.range.end } } : undefined;
  }
  if (e.kind === 'index') {
    const base = traversal(e.collection);
    if (!base) return undefined;
    const k = e.key;
    const key = k.kind === 'literal' && typeof k.value === 'string' ? k.value
      : k.kind === 'template' && k.parts.length === 1 && k.parts[0]!.kind === 'literal' ? k.parts[0]!.value
      : undefined;
    // A dynamic key ends the static path: the reference is to everything before it.
    return key === undefined ? base : { root: base.root, path: [...base.path, key], range: { ...base.range, end: e.range.end } };
  }
  return undefined;
}
