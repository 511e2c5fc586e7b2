import { describe, expect, it } from 'vitest';
import type { Expr, TemplatePart } from '../../../src/template/syntax/ast.js';
import { parseHCL, parseTemplate } from '../../../src/template/syntax/index.js';
import { at, attrs, errorsOf, expr, shape } from './helpers.js';

type Template = Extract<Expr, { kind: 'template' }>;

function template(src: string): Template {
  const e = expr(src);
  expect(e.kind).toBe('template');
  return e as Template;
}

/** Literal parts as text, other parts as <kind>. */
function flat(parts: readonly TemplatePart[]): string[] {
  return parts.map((p) => (p.kind === 'literal' ? p.value : `<${p.kind}>`));
}

function heredocValue(src: string): string[] {
  const [a] = attrs(src);
  expect(a!.expr).toMatchObject({ kind: 'template', heredoc: true });
  return flat((a!.expr as Template).parts);
}

describe('quoted strings', () => {
  it('are one literal part when they have no sequences (empty too)', () => {
    expect(shape(expr('"hello"'))).toEqual({ kind: 'template', parts: [{ kind: 'literal', value: 'hello' }] });
    expect(shape(expr('""'))).toEqual({ kind: 'template', parts: [{ kind: 'literal', value: '' }] });
  });

  it('decode escapes, $${ and %%{', () => {
    const t = template('"tab\\there \\"q\\" back\\\\slash \\r\\n \\u00e9 \\U0001F600 $${not} %%{nor} $ % $$"');
    expect(flat(t.parts)).toEqual(['tab\there "q" back\\slash \r\n é 😀 ${not} %{nor} $ % $$']);
  });

  it('unwrap a lone interpolation to the expression itself', () => {
    expect(shape(expr('"${var.x}"'))).toEqual({ kind: 'templateWrap', wrapped: { kind: 'getAttr', object: { kind: 'variable', name: 'var' }, name: 'x' } });
    expect(expr('"${~ x ~}"').kind).toBe('templateWrap');
    expect(expr('" ${x}"').kind).toBe('template');
    expect(expr('"${x}${y}"').kind).toBe('template');
  });

  it('interleave literals and interpolations, with ranges', () => {
    const t = template('"a-${b}-c"');
    expect(flat(t.parts)).toEqual(['a-', '<interp>', '-c']);
    expect(t.parts.map((p) => at(p.range))).toEqual(['1:2-1:4', '1:4-1:8', '1:8-1:10']);
    expect(at(t.range)).toBe('1:1-1:11');
  });

  it('handle braces and quotes nested inside an interpolation', () => {
    const e = expr('"${ {a="}"}.a }"');
    expect(shape(e)).toEqual({
      kind: 'templateWrap',
      wrapped: { kind: 'getAttr', object: { kind: 'object', items: [{ key: { kind: 'literal', value: 'a' }, value: { kind: 'template', parts: [{ kind: 'literal', value: '}' }] } }] }, name: 'a' },
    });
    expect(shape(expr('"${"${"x"}"}"'))).toEqual({ kind: 'templateWrap', wrapped: { kind: 'templateWrap', wrapped: { kind: 'template', parts: [{ kind: 'literal', value: 'x' }] } } });
  });
});

describe('interpolations spanning lines', () => {
  it('allow a newline anywhere inside ${ }, also right before the closing brace', () => {
    expect(shape(expr('"${1\n}"'))).toEqual({ kind: 'templateWrap', wrapped: { kind: 'literal', value: 1 } });
    const [a, b] = attrs('a = "x${ 1 +\n 2\n}y"\nb = <<EOT\n${\nz\n}\nEOT\n');
    expect(flat((a!.expr as Template).parts)).toEqual(['x', '<interp>', 'y']);
    expect(flat((b!.expr as Template).parts)).toEqual(['<interp>', '\n']);
  });

  it('still report what follows the string', () => {
    expect(errorsOf(parseHCL('a = "${x\n}" y\n', 'e.hcl').diagnostics)).toEqual(['Missing newline after argument @2:4']);
    expect(errorsOf(parseHCL('a {\n  q = <<EOT\n${x\n}\nEOT\n', 'e.hcl').diagnostics)).toEqual(['Unclosed configuration block @1:3']);
  });
});

describe('strip markers', () => {
  it('trim whitespace, newlines included, on their side only', () => {
    const t = template('"a \\n ${~ 1 ~} \\n b ${2 ~}  c"');
    expect(flat(t.parts)).toEqual(['a', '<interp>', 'b ', '<interp>', 'c']);
  });

  it('work on directives, inside and around their bodies', () => {
    const t = template('"x %{~ if c ~}  yes  %{~ else ~}  no  %{~ endif ~} y"');
    expect(flat(t.parts)).toEqual(['x', '<if>', 'y']);
    const ifPart = t.parts[1] as Extract<TemplatePart, { kind: 'if' }>;
    expect(flat(ifPart.then)).toEqual(['yes']);
    expect(flat(ifPart.else!)).toEqual(['no']);
  });

  it('in heredocs reach only the rest of the adjacent line, as in HCL (checked with packer console)', () => {
    // packer: "  p\n  q\ndone\n" for l = ["p", "q"]: the blanks before ${i} are on the next line.
    const [a] = attrs('x = <<EOT\n%{ for i in l ~}\n  ${i}\n%{ endfor ~}\ndone\nEOT\n');
    const parts = (a!.expr as Template).parts;
    expect(flat(parts)).toEqual(['<for>', 'done\n']);
    expect(flat((parts[0] as Extract<TemplatePart, { kind: 'for' }>).body)).toEqual(['  ', '<interp>', '\n']);
    // packer: "x v      \n  y\n": indentation is removed first, then the strip marker acts.
    expect(heredocValue('x = <<-EOT\n    x ${"v" ~}\n      \n      y\n    EOT\n')).toEqual(['x ', '<interp>', '      \n  y\n']);
  });
});

describe('directives', () => {
  it('parse if / else / endif', () => {
    const t = template('"%{ if x }yes%{ else }no%{ endif }"');
    expect(shape(t)).toEqual({
      kind: 'template',
      parts: [{ kind: 'if', cond: { kind: 'variable', name: 'x' }, then: [{ kind: 'literal', value: 'yes' }], else: [{ kind: 'literal', value: 'no' }] }],
    });
    expect(at(t.parts[0]!.range)).toBe('1:2-1:35');
    expect(template('"%{ if x }yes%{ endif }"').parts[0]).not.toHaveProperty('else');
  });

  it('parse for with one or two names', () => {
    expect(shape(template('"%{ for x in xs }${x},%{ endfor }"').parts[0])).toEqual({
      kind: 'for',
      valVar: 'x',
      collection: { kind: 'variable', name: 'xs' },
      body: [{ kind: 'interp', expr: { kind: 'variable', name: 'x' } }, { kind: 'literal', value: ',' }],
    });
    expect(template('"%{ for k, v in m }${k}=${v} %{ endfor }"').parts[0]).toMatchObject({ kind: 'for', keyVar: 'k', valVar: 'v' });
  });

  it('nest', () => {
    const t = template('"%{ for x in xs }%{ if x > 1 }big%{ else }%{ for y in x }.%{ endfor }%{ endif }%{ endfor }"');
    const f = t.parts[0] as Extract<TemplatePart, { kind: 'for' }>;
    const i = f.body[0] as Extract<TemplatePart, { kind: 'if' }>;
    expect(i.cond.kind).toBe('binary');
    expect(i.else![0]!.kind).toBe('for');
  });
});

describe('heredocs', () => {
  it('keep their text as written for <<EOT (marker may be indented)', () => {
    expect(heredocValue('x = <<EOT\n  a\n    b\nEOT\n')).toEqual(['  a\n    b\n']);
    expect(heredocValue('x = <<EOT\nFoo\n  EOT\n')).toEqual(['Foo\n']);
    expect(heredocValue('x = <<EOT\nEOT\n')).toEqual(['']);
  });

  it('strip the smallest common indentation for <<-EOT', () => {
    expect(heredocValue('x = <<-EOT\n    a\n      b\n    EOT\n')).toEqual(['a\n  b\n']);
    expect(heredocValue('x = <<-EOT\n    Foo\n  Bar\n    Baz\n  EOT\n')).toEqual(['  Foo\nBar\n  Baz\n']);
    // A tab counts as one character of indentation, as in HCL.
    expect(heredocValue('x = <<-EOT\n\tFoo\n  Bar\n  EOT\n')).toEqual(['Foo\n Bar\n']);
  });

  it('leave lines of only blanks alone and out of the count', () => {
    expect(heredocValue('x = <<-EOT\n    a\n\n  \n      \n    b\n    EOT\n')).toEqual(['a\n\n  \n      \nb\n']);
  });

  it('count the indentation before an interpolation or directive that starts a line', () => {
    expect(heredocValue('x = <<-EOT\n    Foo\n  ${bar}\n    Baz\n  EOT\n')).toEqual(['  Foo\n', '<interp>', '\n  Baz\n']);
    expect(heredocValue('x = <<-EOT\n      %{ if c }yes%{ endif }\n    z\n    EOT\n')).toEqual(['  ', '<if>', '\nz\n']);
    // A line that starts right with a sequence has no indentation: nothing is stripped.
    expect(heredocValue('x = <<-EOT\n${a}\n    b\nEOT\n')).toEqual(['<interp>', '\n    b\n']);
  });

  it('strip indentation after the strip markers have acted, as HCL does (checked with packer inspect)', () => {
    // `%{~` trims the first line's indentation away: that line has none, so nothing is removed.
    expect(heredocValue('x = <<-EOT\n   %{~ if false ~}%{ endif }ax\n    b\n EOT\n')).toEqual(['<if>', 'ax\n    b\n']);
    // `~}` eats the newline: the next line is no line start and keeps its indentation.
    expect(heredocValue('x = <<-EOT\n    a ${"v" ~}\n    b\n    c\n    EOT\n')).toEqual(['a ', '<interp>', '    b\nc\n']);
    // `${~` trims the indentation before it, so its line has none.
    expect(heredocValue('x = <<-EOT\n      x\n    ${~ "y"}\n      z\n    EOT\n')).toEqual(['      x\n', '<interp>', '\n      z\n']);
  });

  it('are templates: interpolations, directives and escapes of $ and % work', () => {
    expect(heredocValue('x = <<EOT\nhi ${name}, $${literal} %%{literal}\n%{ if a }A%{ endif }\nEOT\n')).toEqual(['hi ', '<interp>', ', ${literal} %{literal}\n', '<if>', '\n']);
  });

  it('are never unwrapped, and have a range from the opener to the closing marker', () => {
    const [a] = attrs('x = <<EOT\n${y}\nEOT\n');
    expect(a!.expr.kind).toBe('template');
    expect(at(a!.expr.range)).toBe('1:5-3:4');
  });

  it('accept CRLF line ends', () => {
    expect(heredocValue('x = <<EOT\r\nline\r\nEOT\r\n')).toEqual(['line\r\n']);
  });
});

describe('parseTemplate (templatefile)', () => {
  it('parses a whole text as a template', () => {
    const r = parseTemplate('#cloud-config\nhostname: ${name}\n%{ for u in users ~}\n- ${u}\n%{ endfor ~}\n', 'init.tpl');
    expect(r.diagnostics).toEqual([]);
    expect(r.expr.kind).toBe('template');
    expect(flat((r.expr as Template).parts)).toEqual(['#cloud-config\nhostname: ', '<interp>', '\n', '<for>']);
  });

  it('unwraps a text that is exactly one interpolation, as HCL does', () => {
    expect(parseTemplate('${jsonencode(x)}', 't.tpl').expr.kind).toBe('templateWrap');
    expect(parseTemplate('', 't.tpl').expr).toMatchObject({ kind: 'template', parts: [{ kind: 'literal', value: '' }] });
  });

  it('reports errors with positions in the template file', () => {
    const r = parseTemplate('line one\n  %{ if x }unclosed', 'bad.tpl');
    expect(r.diagnostics.map((d) => [d.summary, d.subject!.filename, d.subject!.start.line, d.subject!.start.column])).toEqual([['Unexpected end of template', 'bad.tpl', 2, 3]]);
  });
});
