import { describe, expect, it } from 'vitest';
import type { Attribute, Block, Expr, TemplatePart } from '../../../src/template/syntax/ast.js';
import { parseExpression, parseHCL, parseJSON, parseTemplate } from '../../../src/template/syntax/index.js';
import { PACKER_JSON_SCHEMA } from '../../../src/template/syntax/packer-schema.js';

function expr(src: string): Expr {
  const r = parseExpression(src, 'e.hcl');
  expect(r.diagnostics).toEqual([]);
  return r.expr;
}

function attr(src: string): Attribute {
  const r = parseHCL(src, 'a.hcl');
  expect(r.diagnostics).toEqual([]);
  return r.file.body.items[0] as Attribute;
}

function errors(src: string): string[] {
  return parseHCL(src, 'x.pkr.hcl').diagnostics.map((d) => `${d.summary} @${d.subject?.start.line}:${d.subject?.start.column}`);
}

function literalParts(parts: readonly TemplatePart[]): string[] {
  return parts.map((p) => (p.kind === 'literal' ? p.value : `<${p.kind}>`));
}

describe('bodies', () => {
  it('keeps blocks and attributes in source order with labels', () => {
    const r = parseHCL(
      `source "amazon-ebs" "ubuntu" {
  region = "eu-west-1"
}
build {
  provisioner "shell" { inline = ["a"] }
  provisioner "file" {
    source = "x"
  }
  provisioner "shell" {
    inline = ["b"]
  }
}
`,
      't.pkr.hcl',
    );
    expect(r.diagnostics).toEqual([]);
    const [src, build] = r.file.body.items as Block[];
    expect(src!.labels).toEqual(['amazon-ebs', 'ubuntu']);
    expect(build!.body.items.map((i) => (i as Block).labels[0])).toEqual(['shell', 'file', 'shell']);
  });

  it('records accurate ranges', () => {
    const r = parseHCL('a = 1\nsource "null" "x" {\n  communicator = "none"\n}\n', 't.hcl');
    const block = r.file.body.items[1] as Block;
    expect(block.typeRange.start).toEqual({ line: 2, column: 1, byte: 6 });
    expect(block.labelRanges[1]!.start).toMatchObject({ line: 2, column: 15 });
    const inner = block.body.items[0] as Attribute;
    expect(inner.nameRange.start).toMatchObject({ line: 3, column: 3 });
    expect(inner.expr.range.start).toMatchObject({ line: 3, column: 18 });
    expect(inner.expr.range.end).toMatchObject({ line: 3, column: 24 });
  });

  it('counts columns in characters, not UTF-16 units', () => {
    const r = parseHCL('a = "🙂🙂" b\n', 't.hcl');
    expect(r.diagnostics[0]!.subject!.start.column).toBe(10);
  });

  it('accepts all three comment styles', () => {
    const r = parseHCL('# one\n// two\n/* three\n more */ a = 1 # trailing\nb = 2 // trailing\n', 't.hcl');
    expect(r.diagnostics).toEqual([]);
    expect(r.file.body.items.map((i) => (i as Attribute).name)).toEqual(['a', 'b']);
  });
});

describe('expressions', () => {
  it('follows HCL operator precedence', () => {
    const e = expr('1 + 2 * 3 == 7 && !false || a ? b : c');
    expect(e.kind).toBe('conditional');
    const cond = (e as Extract<Expr, { kind: 'conditional' }>).cond;
    expect(cond).toMatchObject({ kind: 'binary', op: '||', left: { kind: 'binary', op: '&&', left: { op: '==', left: { op: '+', right: { op: '*' } } } } });
  });

  it('parses for expressions in both forms with conditions and grouping', () => {
    expect(expr('[for i, v in xs : v * 2 if i > 0]')).toMatchObject({ kind: 'for', keyVar: 'i', valVar: 'v', cond: { kind: 'binary' } });
    expect(expr('{for k, v in m : v => k...}')).toMatchObject({ kind: 'for', keyExpr: { kind: 'variable', name: 'v' }, group: true });
  });

  it('parses splats, indexes and legacy index forms', () => {
    expect(expr('a[*].b.c')).toMatchObject({ kind: 'splat', source: { name: 'a' }, each: { kind: 'getAttr', name: 'c', object: { kind: 'getAttr', name: 'b', object: { kind: 'splatItem' } } } });
    expect(expr('a.*.b')).toMatchObject({ kind: 'splat', each: { kind: 'getAttr', name: 'b' } });
    expect(expr('a.0.b')).toMatchObject({ kind: 'getAttr', name: 'b', object: { kind: 'index', key: { value: 0 } } });
    expect(expr('m["k"][var.i]')).toMatchObject({ kind: 'index', key: { kind: 'getAttr' }, collection: { kind: 'index' } });
  });

  it('parses function calls with expansion and objects with all key forms', () => {
    expect(expr('concat(a, b...)')).toMatchObject({ kind: 'call', name: 'concat', expandFinal: true, args: [{}, {}] });
    const o = expr('{ a = 1, "b" = 2, (k) = 3\n c: 4 }');
    expect(o).toMatchObject({ kind: 'object' });
    const keys = (o as Extract<Expr, { kind: 'object' }>).items.map((i) => i.key.kind);
    expect(keys).toEqual(['literal', 'template', 'parens', 'literal']);
  });

  it('returns the inner value for a lone interpolation', () => {
    expect(expr('"${var.x}"')).toMatchObject({ kind: 'templateWrap', wrapped: { kind: 'getAttr', name: 'x' } });
  });
});

describe('templates', () => {
  it('decodes escapes and $${ / %%{', () => {
    const a = attr('x = "tab\\there \\"q\\" \\u00e9 $${not} %%{nor}"\n');
    expect(a.expr).toMatchObject({ kind: 'template' });
    expect(literalParts((a.expr as Extract<Expr, { kind: 'template' }>).parts)).toEqual(['tab\there "q" é ${not} %{nor}']);
  });

  it('applies strip markers', () => {
    const a = attr('x = "a  ${~ 1 ~}  b %{ if true ~}  yes  %{~ endif }"\n');
    const parts = (a.expr as Extract<Expr, { kind: 'template' }>).parts;
    expect(literalParts(parts)).toEqual(['a', '<interp>', 'b ', '<if>']);
    const ifp = parts[3] as Extract<TemplatePart, { kind: 'if' }>;
    expect(literalParts(ifp.then)).toEqual(['yes']);
  });

  it('parses heredocs, stripping indentation for <<-', () => {
    const plain = attr('x = <<EOT\n  a\n    b\nEOT\n');
    expect(literalParts((plain.expr as Extract<Expr, { kind: 'template' }>).parts)).toEqual(['  a\n    b\n']);
    const flush = attr('x = <<-EOT\n    a ${1}\n      b\n    EOT\n');
    expect(literalParts((flush.expr as Extract<Expr, { kind: 'template' }>).parts)).toEqual(['a ', '<interp>', '\n  b\n']);
  });

  it('parses if/else and for directives', () => {
    const t = parseTemplate('%{ for k, v in m }${k}=${v}\n%{ endfor }%{ if x }yes%{ else }no%{ endif }', 't.tpl');
    expect(t.diagnostics).toEqual([]);
    expect(t.expr).toMatchObject({ kind: 'template', parts: [{ kind: 'for', keyVar: 'k', valVar: 'v' }, { kind: 'if', else: [{ value: 'no' }] }] });
  });
});

describe('syntax errors', () => {
  const cases: Array<[string, string, string]> = [
    ['unclosed block', 'a {\n  b = 1\n', 'Unclosed configuration block @1:3'],
    ['missing value', 'a = \n', 'Invalid expression @1:5'],
    ['unterminated string', 'a = "abc\nb = 1\n', 'Unterminated template string @1:5'],
    ['invalid character', "a = 'x'\n", 'Invalid character @1:5'],
    ['attribute redefined', 'a = 1\na = 2\n', 'Attribute redefined @2:1'],
    ['missing equals', 'a 1\n', 'Argument or block definition required @1:3'],
    ['label without brace', 'a "x" 1\n', 'Invalid block definition @1:7'],
    ['extra after attribute', 'a = 1 2\n', 'Missing newline after argument @1:7'],
    ['unclosed interpolation', 'a = "${x"\n', 'Unterminated template string @1:5'],
    ['bad escape', 'a = "\\q"\n', 'Invalid escape sequence @1:6'],
    ['stray closing brace', '}\n', 'Argument or block definition required @1:1'],
    ['missing list separator', 'a = [1 2]\n', 'Missing item separator @1:8'],
    ['unclosed paren', 'a = (1 + 2\n', 'Unbalanced parentheses @2:1'],
    ['unknown directive', 'a = "%{ when x }"\n', 'Invalid template control keyword @1:9'],
    ['dangling endif', 'a = "%{ endif }"\n', 'Unexpected endif directive @1:6'],
    ['unterminated heredoc', 'a = <<EOT\nhello\n', 'Unterminated template string @1:5'],
    ['bad for', 'a = [for x xs : x]\n', "Invalid 'for' expression @1:12"],
  ];
  for (const [name, src, want] of cases) {
    it(name, () => {
      expect(errors(src)).toContain(want);
    });
  }

  it('reports several errors from one file', () => {
    const e = errors('a = \nb = 1\nb = 2\nc {\n  d = [1 2]\n}\ne = "\\q"\n');
    expect(e.length).toBeGreaterThanOrEqual(4);
  });

  it('terminates on deeply nested input with a clear error', () => {
    const r = parseHCL(`a = ${'['.repeat(5000)}`, 'deep.hcl');
    expect(r.diagnostics.some((d) => d.summary === 'Too deeply nested')).toBe(true);
  });
});

describe('JSON syntax', () => {
  it('decodes blocks by schema, with labels, arrays of blocks and order kept', () => {
    const r = parseJSON(
      `{
  "variable": { "region": { "default": "eu-west-1" } },
  "source": { "null": { "a": { "communicator": "none" } } },
  "build": [{
    "sources": ["source.null.a"],
    "provisioner": [
      { "shell-local": { "inline": ["echo \${var.region}"] } },
      { "file": { "source": "x" } },
      { "shell-local": { "inline": ["two"] } }
    ]
  }]
}`,
      't.pkr.json',
      PACKER_JSON_SCHEMA,
    );
    expect(r.diagnostics).toEqual([]);
    const items = r.file.body.items as Block[];
    expect(items.map((b) => [b.type, ...b.labels])).toEqual([['variable', 'region'], ['source', 'null', 'a'], ['build']]);
    const provs = items[2]!.body.items.filter((i): i is Block => i.kind === 'block');
    expect(provs.map((p) => p.labels[0])).toEqual(['shell-local', 'file', 'shell-local']);
    const inline = (provs[0]!.body.items[0] as Attribute).expr as Extract<Expr, { kind: 'tuple' }>;
    expect(inline.elems[0]).toMatchObject({ kind: 'template', fromJson: true, parts: [{ value: 'echo ' }, { kind: 'interp' }] });
  });

  it('points JSON errors at their position', () => {
    const r = parseJSON('{\n  "a": 1,\n}', 't.pkr.json', {});
    expect(r.diagnostics[0]).toMatchObject({ summary: 'Trailing comma in object', subject: { start: { line: 2, column: 9 } } });
  });
});
