import { describe, expect, it } from 'vitest';
import type { Block } from '../../../src/template/syntax/ast.js';
import { parseExpression, parseHCL } from '../../../src/template/syntax/index.js';
import { errors, errorsOf } from './helpers.js';

describe('syntax errors: message and position', () => {
  // [what, input, every diagnostic as `summary @line:column`]
  const cases: Array<[string, string, string[]]> = [
    ['unclosed block (points at its brace)', 'a {\n  b = 1\n', ['Unclosed configuration block @1:3']],
    ['missing value', 'a = \n', ['Invalid expression @1:5']],
    ['unterminated string at the end of the line', 'a = "abc\nb = 1\n', ['Unterminated template string @1:5']],
    ['unterminated string at the end of the file', 'a = "abc', ['Unterminated template string @1:5']],
    ['single quotes', "a = 'x'\n", ['Invalid character @1:5', 'Invalid character @1:7']],
    ['attribute redefined', 'a = 1\na = 2\n', ['Attribute redefined @2:1']],
    ['missing equals sign', 'a 1\n', ['Argument or block definition required @1:3']],
    ['label without a brace', 'a "x" 1\n', ['Invalid block definition @1:7']],
    ['two values on a line', 'a = 1 2\n', ['Missing newline after argument @1:7']],
    ['interpolation left open in a string', 'a = "${x"\n', ['Unterminated template string @1:5']],
    ['bad escape', 'a = "\\q"\n', ['Invalid escape sequence @1:6']],
    ['short \\u escape', 'a = "\\u12"\n', ['Invalid escape sequence @1:6']],
    ['stray closing brace', '}\n', ['Argument or block definition required @1:1']],
    ['missing list separator', 'a = [1 2]\n', ['Missing item separator @1:8']],
    ['missing argument separator', 'a = f(1 2)\n', ['Missing argument separator @1:9']],
    ['missing object separator', 'a = {b = 1 c = 2}\n', ['Missing attribute separator @1:12']],
    ['missing key/value separator', 'a = {b 1}\n', ['Missing key/value separator @1:8']],
    ['unclosed parenthesis', 'a = (1 + 2\n', ['Unbalanced parentheses @2:1']],
    ['unknown directive', 'a = "%{ when x }"\n', ['Invalid template control keyword @1:9']],
    ['endif with no if', 'a = "%{ endif }"\n', ['Unexpected endif directive @1:6']],
    ['if with no endif', 'a = "%{ if x }y"\n', ['Unexpected end of template @1:6']],
    ['mismatched end directive', 'a = "%{ if x }%{ endfor }"\n', ['Unexpected endfor directive @1:15']],
    ['unterminated heredoc', 'a = <<EOT\nhello\n', ['Unterminated template string @1:5']],
    ['heredoc marker at the very end (HCL needs its newline)', 'a = <<EOT\nhello\nEOT', ['Unterminated template string @1:5']],
    ['text after a heredoc marker', 'a = <<EOT x\nhello\nEOT\n', ['Invalid heredoc introduction @1:10']],
    ["for without 'in'", 'a = [for x xs : x]\n', ["Invalid 'for' expression @1:12"]],
    ['object for without a key', 'a = {for k, v in m : v}\n', ["Invalid 'for' expression @1:23"]],
    ['tuple for with a key', 'a = [for k, v in m : k => v]\n', ["Invalid 'for' expression @1:24"]],
    ['dot without a name', 'a = x.\n', ['Invalid attribute name @1:7']],
    ['chained legacy index', 'a = x.1.5\n', ['Invalid legacy index syntax @1:7']],
    ['splat star without its bracket', 'a = x[*\n', ['Missing close bracket on splat index @2:1']],
    ['nested attribute-only splat', 'a = x.*.y.*\n', ['Nested splat expression not allowed @1:11']],
    ['conditional without a false branch', 'a = x ? 1\n', ['Missing false expression in conditional @1:10']],
    ['conditional broken over lines at body level', 'a = x ? 1 :\n  2\n', ['Invalid expression @1:12', 'Argument or block definition required @2:3']],
    ['expansion not last', 'a = f(x..., y)\n', ['Missing closing parenthesis @1:11']],
    ['quoted argument name', '"x" = 1\n', ['Invalid argument name @1:1']],
    ['template in a block label', 'a "${x}" {}\n', ['Invalid string literal @1:4']],
    ['nested block on a one-line block', 'a { b {} }\n', ['Argument definition required @1:5']],
    ['one-line block that does not close on its line', 'a { b = 1\n}\n', ['Invalid single-argument block definition @1:10']],
    ['text after a block', 'a {} b = 1\n', ['Missing newline after block definition @1:6']],
    ['closing brace after an argument', 'a {\n  b = 1 }\n', ['Missing newline after argument @2:9']],
    ['interpolation outside a string', 'a = ${x}\n', ['Invalid character @1:5']],
    ['empty interpolation', 'a = "${}"\n', ['Invalid expression @1:8']],
    ['unterminated block comment', 'a = 1 /* no end\n', ['Unterminated comment @1:7']],
    ['semicolon', 'a = 1;\n', ['Invalid character @1:6']],
    ['stray ~', 'a = "${ ~ x }"\n', ['Invalid character @1:9']],
  ];
  for (const [what, src, want] of cases) {
    it(what, () => {
      expect(errors(src)).toEqual(want);
    });
  }

  it('words details the way HCL does, naming the earlier definition', () => {
    const [d] = parseHCL('a = 1\nb = 2\na = 3\n', 'dup.pkr.hcl').diagnostics;
    expect(d).toMatchObject({
      severity: 'error',
      summary: 'Attribute redefined',
      detail: 'The argument "a" was already set at dup.pkr.hcl:1,1-2. Each argument may be set only once.',
      subject: { filename: 'dup.pkr.hcl', start: { line: 3, column: 1, byte: 12 }, end: { line: 3, column: 2, byte: 13 } },
    });
    const [u] = parseHCL('a {\n', 'u.pkr.hcl').diagnostics;
    expect(u!.detail).toBe('There is no closing brace for this block before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.');
    const [m] = parseHCL('a = "%{ if x }y"\n', 'm.pkr.hcl').diagnostics;
    expect(m!.detail).toBe('The if directive at m.pkr.hcl:1,6-15 is missing its corresponding endif directive.');
  });

  it('gives an unterminated string a subject from its quote to the end of the line', () => {
    const [d] = parseHCL('name = "abc\n', 's.hcl').diagnostics;
    expect(d!.subject).toMatchObject({ start: { line: 1, column: 8 }, end: { line: 1, column: 12 } });
  });
});

describe('recovery', () => {
  it('reports every problem in a file, in source order', () => {
    const src = ['a = ', 'b = 1', 'b = 2', 'c {', '  d = [1 2]', '  e = f(', '    1,', '  )', '}', 'g = "\\q"', 'h "x" 1', 'ok = 1'].join('\n') + '\n';
    expect(errors(src)).toEqual([
      'Invalid expression @1:5',
      'Attribute redefined @3:1',
      'Missing item separator @5:10',
      'Invalid escape sequence @10:6',
      'Invalid block definition @11:7',
    ]);
  });

  it('keeps the items around the broken ones', () => {
    const r = parseHCL('a = 1\nb = [1 2]\nc {\n  d = )\n  e = 2\n}\nf = 3\n', 'r.hcl');
    expect(errorsOf(r.diagnostics)).toEqual(['Missing item separator @2:8', 'Invalid expression @4:7']);
    expect(r.file.body.items.map((i) => (i.kind === 'block' ? i.type : i.name))).toEqual(['a', 'c', 'f']);
    expect((r.file.body.items[1] as Block).body.items.map((i) => (i.kind === 'attribute' ? i.name : '?'))).toEqual(['e']);
  });

  it('skips a broken multi-line value as a whole', () => {
    expect(errors('a = [\n  1 2,\n  3,\n]\nb = 1\nb = 2\n')).toEqual(['Missing item separator @2:5', 'Attribute redefined @6:1']);
  });

  it('falls back to the broken line when brackets never close', () => {
    expect(errors('a = [1, 2\nb = 3\nc = 4\nc = 5\n')).toEqual(['Missing item separator @2:1', 'Attribute redefined @4:1']);
  });

  it('does not echo parser errors on a line the lexer already rejected', () => {
    expect(errors('a = @\nb = 1\n')).toEqual(['Invalid character @1:5']);
  });

  it('reports only the innermost of several unclosed blocks', () => {
    expect(errors('a {\n  b {\n    c = 1\n')).toEqual(['Unclosed configuration block @2:5']);
  });
});

describe('limits', () => {
  it('refuses too deep nesting with a clear error instead of overflowing the stack', () => {
    for (const src of [`a = ${'['.repeat(5000)}`, `a = ${'('.repeat(5000)}1${')'.repeat(5000)}`, `a = ${'-'.repeat(5000)}1`, `a = ${'x ? 1 : '.repeat(5000)}1`, `${'b {\n'.repeat(5000)}`, `a = "${'${"'.repeat(3000)}x${'"}'.repeat(3000)}"`, `a = "${'%{ if x }'.repeat(5000)}"`]) {
      const r = parseHCL(src, 'deep.hcl');
      expect(r.diagnostics.filter((d) => d.summary === 'Too deeply nested')).toHaveLength(1);
    }
    const e = parseExpression(`${'{a = '.repeat(3000)}1${'}'.repeat(3000)}`, 'e.hcl');
    expect(e.diagnostics.map((d) => d.summary)).toEqual(['Too deeply nested']);
    expect(e.expr.kind).toBe('literal');
  });

  it('keeps what came before a too deeply nested item', () => {
    const r = parseHCL(`a = 1\nb = ${'['.repeat(500)}\n`, 'deep.hcl');
    expect(r.file.body.items.map((i) => (i.kind === 'attribute' ? i.name : ''))).toEqual(['a']);
  });

  it('accepts nesting real templates use', () => {
    expect(parseHCL(`a = ${'['.repeat(100)}${']'.repeat(100)}\n`, 'ok.hcl').diagnostics).toEqual([]);
  });
});

describe('parseExpression errors', () => {
  it('reports extra characters after the expression', () => {
    const r = parseExpression('1 2', 'e.hcl');
    expect(errorsOf(r.diagnostics)).toEqual(['Extra characters after expression @1:3']);
  });

  it('points into the file the expression came from', () => {
    const r = parseExpression('list(', 'v.pkr.json', { line: 4, column: 20, byte: 80 });
    expect(r.diagnostics[0]!.subject).toMatchObject({ filename: 'v.pkr.json', start: { line: 4, column: 25, byte: 85 } });
  });
});
