import { describe, expect, it } from 'vitest';
import type { Expr } from '../../../src/template/syntax/ast.js';
import { parseExpression } from '../../../src/template/syntax/index.js';
import { at, attrs, expr, shape } from './helpers.js';

const v = (name: string): unknown => ({ kind: 'variable', name });
const n = (value: number): unknown => ({ kind: 'literal', value });
const bin = (op: string, left: unknown, right: unknown): unknown => ({ kind: 'binary', op, left, right });

/** Operators written as a fully parenthesised string: shows grouping at a glance. */
function grouping(e: Expr): string {
  switch (e.kind) {
    case 'binary':
      return `(${grouping(e.left)} ${e.op} ${grouping(e.right)})`;
    case 'unary':
      return `(${e.op}${grouping(e.operand)})`;
    case 'conditional':
      return `(${grouping(e.cond)} ? ${grouping(e.then)} : ${grouping(e.else)})`;
    case 'variable':
      return e.name;
    case 'literal':
      return String(e.value);
    case 'getAttr':
      return `${grouping(e.object)}.${e.name}`;
    case 'parens':
      return `[${grouping(e.expr)}]`;
    default:
      return e.kind;
  }
}

describe('literals and names', () => {
  it('parses numbers, bools, null and names', () => {
    expect(shape(expr('42'))).toEqual(n(42));
    expect(shape(expr('1.5e3'))).toEqual(n(1500));
    expect(shape(expr('true'))).toEqual({ kind: 'literal', value: true });
    expect(shape(expr('false'))).toEqual({ kind: 'literal', value: false });
    expect(shape(expr('null'))).toEqual({ kind: 'literal', value: null });
    expect(shape(expr('var'))).toEqual(v('var'));
    expect(shape(expr('a-b'))).toEqual(v('a-b'));
  });

  it('keeps unary minus as an operator, also on numbers', () => {
    expect(shape(expr('-1'))).toEqual({ kind: 'unary', op: '-', operand: n(1) });
    expect(shape(expr('!!x'))).toEqual({ kind: 'unary', op: '!', operand: { kind: 'unary', op: '!', operand: v('x') } });
  });
});

describe('operator precedence', () => {
  const cases: Array<[string, string]> = [
    ['1 + 2 * 3', '(1 + (2 * 3))'],
    ['1 * 2 + 3', '((1 * 2) + 3)'],
    ['a - b - c', '((a - b) - c)'],
    ['a / b % c * d', '(((a / b) % c) * d)'],
    ['a + b < c - d', '((a + b) < (c - d))'],
    ['a < b == c > d', '((a < b) == (c > d))'],
    ['a == b != c', '((a == b) != c)'],
    ['a && b == c', '(a && (b == c))'],
    ['a || b && c', '(a || (b && c))'],
    ['a && b || c && d', '((a && b) || (c && d))'],
    ['!a && b', '((!a) && b)'],
    ['-a * b', '((-a) * b)'],
    ['-a.b', '(-a.b)'],
    ['!a == b', '((!a) == b)'],
    ['a || b ? c : d', '((a || b) ? c : d)'],
    ['a ? b : c ? d : e', '(a ? b : (c ? d : e))'],
    ['a ? b ? c : d : e', '(a ? (b ? c : d) : e)'],
    ['(a + b) * c', '([(a + b)] * c)'],
    ['a >= b && c <= d', '((a >= b) && (c <= d))'],
  ];
  for (const [src, want] of cases) {
    it(`${src}  →  ${want}`, () => {
      expect(grouping(expr(src))).toBe(want);
    });
  }

  it('builds binary nodes with ranges spanning both operands', () => {
    const e = expr('a + b * c');
    expect(shape(e)).toEqual(bin('+', v('a'), bin('*', v('b'), v('c'))));
    expect(at(e.range)).toBe('1:1-1:10');
  });
});

describe('collections', () => {
  it('parses tuples, with newlines and a trailing comma allowed inside the brackets', () => {
    expect(shape(expr('[]'))).toEqual({ kind: 'tuple', elems: [] });
    expect(shape(expr('[1, a,\n  "b",\n]'))).toEqual({ kind: 'tuple', elems: [n(1), v('a'), { kind: 'template', parts: [{ kind: 'literal', value: 'b' }] }] });
  });

  it('parses objects with = or :, commas or newlines, and every key form', () => {
    const e = expr('{ a = 1, "b" = 2, (k) = 3\n  c: 4\n\n  true = 5 }');
    expect(shape(e)).toEqual({
      kind: 'object',
      items: [
        { key: { kind: 'literal', value: 'a' }, value: n(1) },
        { key: { kind: 'template', parts: [{ kind: 'literal', value: 'b' }] }, value: n(2) },
        { key: { kind: 'parens', expr: v('k') }, value: n(3) },
        { key: { kind: 'literal', value: 'c' }, value: n(4) },
        { key: { kind: 'literal', value: 'true' }, value: n(5) },
      ],
    });
  });

  it('evaluates other key expressions', () => {
    const e = expr('{ a.b = 1, f(x) = 2 }') as Extract<Expr, { kind: 'object' }>;
    expect(e.items.map((i) => i.key.kind)).toEqual(['getAttr', 'call']);
  });
});

describe('for expressions', () => {
  it('parses the tuple form with both names and a condition', () => {
    expect(shape(expr('[for i, v in c : x if cond]'))).toEqual({ kind: 'for', keyVar: 'i', valVar: 'v', collection: v('c'), valExpr: v('x'), cond: v('cond'), group: false });
  });

  it('parses the object form with grouping', () => {
    expect(shape(expr('{for k, v in c : k => v... if cond}'))).toEqual({
      kind: 'for',
      keyVar: 'k',
      valVar: 'v',
      collection: v('c'),
      keyExpr: v('k'),
      valExpr: v('v'),
      group: true,
      cond: v('cond'),
    });
  });

  it('parses a single name, a tuple after in, and line breaks anywhere inside', () => {
    expect(shape(expr('[for x in [a, b] : x]'))).toMatchObject({ kind: 'for', valVar: 'x', collection: { kind: 'tuple' } });
    expect(expr('[for x in y : x]')).not.toHaveProperty('keyVar');
    expect(shape(expr('{\n  for k, v in m :\n  k => v\n}'))).toMatchObject({ kind: 'for', keyExpr: v('k') });
  });
});

describe('traversals and splats', () => {
  it('parses attribute access, index and the legacy .0 index', () => {
    expect(shape(expr('a.b'))).toEqual({ kind: 'getAttr', object: v('a'), name: 'b' });
    expect(shape(expr('a[1]'))).toEqual({ kind: 'index', collection: v('a'), key: n(1) });
    expect(shape(expr('a.0.b'))).toEqual({ kind: 'getAttr', object: { kind: 'index', collection: v('a'), key: n(0) }, name: 'b' });
    expect(shape(expr('m["k"][var.i]'))).toMatchObject({ kind: 'index', collection: { kind: 'index', collection: v('m') }, key: { kind: 'getAttr', name: 'i' } });
    // Keywords are plain names after a dot.
    expect(shape(expr('x.true'))).toEqual({ kind: 'getAttr', object: v('x'), name: 'true' });
  });

  it('builds a full splat over every following step', () => {
    expect(shape(expr('a[*].b[0]'))).toEqual({
      kind: 'splat',
      source: v('a'),
      each: { kind: 'index', collection: { kind: 'getAttr', object: { kind: 'splatItem' }, name: 'b' }, key: n(0) },
    });
    expect(shape(expr('a[*]'))).toEqual({ kind: 'splat', source: v('a'), each: { kind: 'splatItem' } });
  });

  it('builds an attribute-only splat over the .name steps only', () => {
    expect(shape(expr('a.*.b.c'))).toEqual({
      kind: 'splat',
      source: v('a'),
      each: { kind: 'getAttr', object: { kind: 'getAttr', object: { kind: 'splatItem' }, name: 'b' }, name: 'c' },
    });
    // The index applies to the result of the splat, not to each element.
    expect(shape(expr('a.*.b[0]'))).toEqual({
      kind: 'index',
      collection: { kind: 'splat', source: v('a'), each: { kind: 'getAttr', object: { kind: 'splatItem' }, name: 'b' } },
      key: n(0),
    });
  });

  it('nests splats', () => {
    expect(shape(expr('x[*][*]'))).toEqual({ kind: 'splat', source: { kind: 'splat', source: v('x'), each: { kind: 'splatItem' } }, each: { kind: 'splatItem' } });
  });

  it('gives the splat item the range of the star', () => {
    const e = expr('src[*].id') as Extract<Expr, { kind: 'splat' }>;
    const item = (e.each as Extract<Expr, { kind: 'getAttr' }>).object;
    expect(item.kind).toBe('splatItem');
    expect(at(item.range)).toBe('1:4-1:7');
    expect(at(e.range)).toBe('1:1-1:10');
  });
});

describe('function calls', () => {
  it('parses arguments, a trailing comma, and an expanded final argument', () => {
    expect(shape(expr('f()'))).toEqual({ kind: 'call', name: 'f', args: [], expandFinal: false });
    expect(shape(expr('f(a, b,)'))).toEqual({ kind: 'call', name: 'f', args: [v('a'), v('b')], expandFinal: false });
    expect(shape(expr('concat(a, b...)'))).toEqual({ kind: 'call', name: 'concat', args: [v('a'), v('b')], expandFinal: true });
  });

  it('treats any name followed by ( as a call, keywords included, as HCL does', () => {
    expect(shape(expr('true(1)'))).toEqual({ kind: 'call', name: 'true', args: [n(1)], expandFinal: false });
    expect(shape(expr('for()'))).toEqual({ kind: 'call', name: 'for', args: [], expandFinal: false });
  });

  it('allows line breaks between arguments and records the name range', () => {
    const e = expr('  upper(\n  "a",\n)') as Extract<Expr, { kind: 'call' }>;
    expect(e.args).toHaveLength(1);
    expect(at(e.nameRange)).toBe('1:3-1:8');
    expect(at(e.range)).toBe('1:3-3:2');
  });
});

describe('newlines', () => {
  it('are insignificant inside parentheses, brackets and for expressions', () => {
    expect(grouping(expr('(a ?\n b :\n c)'))).toBe('[(a ? b : c)]');
    const [a] = attrs('a = [x ? 1 :\n2]\n');
    expect(a!.expr.kind).toBe('tuple');
  });

  it('end an argument value at body level, even after an operator', () => {
    const r = parseExpression('a +\n b', 'e.hcl');
    expect(r.diagnostics).toEqual([]);
    // At body level the same is an error (see errors.test.ts); a standalone expression ignores newlines.
  });
});

describe('ranges', () => {
  it('records accurate ranges for nested nodes', () => {
    const [a] = attrs('name = foo(bar.baz[0], "q")\n');
    const call = a!.expr as Extract<Expr, { kind: 'call' }>;
    expect(at(a!.range)).toBe('1:1-1:28');
    expect(at(a!.nameRange)).toBe('1:1-1:5');
    expect(at(call.range)).toBe('1:8-1:28');
    expect(at(call.args[0]!.range)).toBe('1:12-1:22');
    expect(at(call.args[1]!.range)).toBe('1:24-1:27');
    const idx = call.args[0] as Extract<Expr, { kind: 'index' }>;
    expect(at(idx.collection.range)).toBe('1:12-1:19');
    expect(at((idx.collection as Extract<Expr, { kind: 'getAttr' }>).nameRange)).toBe('1:16-1:19');
  });

  it('offsets ranges when an expression sits inside another file', () => {
    const r = parseExpression('list(string)', 'vars.pkr.json', { line: 7, column: 15, byte: 120 });
    expect(r.diagnostics).toEqual([]);
    expect(r.expr.range.start).toEqual({ line: 7, column: 15, byte: 120 });
    expect(r.expr.range.end).toEqual({ line: 7, column: 27, byte: 132 });
    expect(r.expr.range.filename).toBe('vars.pkr.json');
  });
});
