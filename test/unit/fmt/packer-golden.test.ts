/**
 * `kiln fmt` against what `packer fmt` (Packer 1.6.6) writes. Every expected string below and
 * every golden file in test/fixtures/syntax/fmt was produced by running packer fmt on the input,
 * so these tests pin packer's behaviour without needing packer installed.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatHCL } from '../../../src/template/fmt/format.js';

const DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'syntax', 'fmt');

function fmt(text: string): string {
  const r = formatHCL(text, 't.pkr.hcl');
  expect(r.diagnostics).toEqual([]);
  return r.output;
}

/** [what it shows, input, what packer fmt 1.6.6 wrote] */
const CASES: Array<[string, string, string]> = [
  ["aligns = in a run and a blank line ends the run", "a=1\nlonger=2\n\nx=3\n", "a      = 1\nlonger = 2\n\nx = 3\n"],
  ["a comment on its own line ends an alignment run", "a = 1\n# note\nbbb = 2\n", "a = 1\n# note\nbbb = 2\n"],
  ["a multi-line value ends an alignment run", "a = 1\nbb = {\n  c = 1\n}\nddd = 2\n", "a = 1\nbb = {\n  c = 1\n}\nddd = 2\n"],
  ["a block ends an alignment run", "block {\nk = 1\n}\nzz = 2\n", "block {\n  k = 1\n}\nzz = 2\n"],
  ["no space inside () and [], spaces around operators", "x = f( a,b )[ 0 ]*-1\n", "x = f(a, b)[0] * -1\n"],
  ["object braces get inner spaces, lists do not", "x = {a=1,b=[1,2]}\n", "x = { a = 1, b = [1, 2] }\n"],
  ["empty brackets are closed up", "x = { }\ny = [ ]\nz = f( )\n", "x = {}\ny = []\nz = f()\n"],
  ["spaces around ? and :", "x = a?b:c\n", "x = a ? b : c\n"],
  ["arithmetic operators", "x = (a+b)*c/d%e\n", "x = (a + b) * c / d % e\n"],
  ["comparison and logical operators", "x = a==b&&c!=d||e<f&&g<=h||i>j&&k>=l\n", "x = a == b && c != d || e < f && g <= h || i > j && k >= l\n"],
  ["! keeps a space after it, as packer 1.6.6 writes", "x = !a\ny = !(a && b)\n", "x = ! a\ny = ! (a && b)\n"],
  ["unary minus has no space; binary minus has", "x = -a\ny = a - -b\nz = [-1, - 2]\nw = f(-1)\nv = a*-1\n", "x = -a\ny = a - -b\nz = [-1, -2]\nw = f(-1)\nv = a * -1\n"],
  ["a-1 is one identifier (HCL names may contain dashes)", "x = a-1\ny = a -1\n", "x = a-1\ny = a - 1\n"],
  ["interpolations lose inner spaces", "x = \"${ var.a }-${var.b}\"\n", "x = \"${var.a}-${var.b}\"\n"],
  ["directives lose inner spaces, strip markers kept", "x = \"%{ if a ~}yes%{~ else }no%{ endif }\"\n", "x = \"%{if a~}yes%{~else}no%{endif}\"\n"],
  ["adjacent template sequences stay together", "x = \"%{ for s in l }${s}%{ endfor }\"\n", "x = \"%{for s in l}${s}%{endfor}\"\n"],
  ["an object right inside ${ } keeps its braces apart", "x = \"${ {a=1}.a }\"\n", "x = \"${ { a = 1 }.a}\"\n"],
  ["traversals are closed up", "x = a.b [ 0 ] . c [*] . d\n", "x = a.b[0].c[*].d\n"],
  ["attribute-only splats", "x = a.*.b\ny = a.* [0]\n", "x = a.*.b\ny = a.* [0]\n"],
  ["for expressions", "x = [for x in y: x if x]\ny = {for k,v in m: k=>v...}\n", "x = [for x in y : x if x]\ny = { for k, v in m : k => v... }\n"],
  ["for keyword before a tuple literal", "x = [for x in [a,b]: x]\n", "x = [for x in [a, b] : x]\n"],
  ["object keys with colons", "x = {a: 1, \"b\": 2}\n", "x = { a : 1, \"b\" : 2 }\n"],
  ["expanded final argument", "x = f(a, b...)\n", "x = f(a, b...)\n"],
  ["trailing comma in a call", "x = f(1,)\n", "x = f(1, )\n"],
  ["trailing comments are aligned", "a = 1 # c\nbbbb = 2 // d\n", "a    = 1 # c\nbbbb = 2 // d\n"],
  ["a block comment after a value is part of the value cell", "a = 1   /* c */\n", "a = 1 /* c */\n"],
  ["one-line block", "source \"a\" \"b\" {x=1}\n", "source \"a\" \"b\" { x = 1 }\n"],
  ["empty blocks", "a {}\nb { }\n", "a {}\nb {}\n"],
  ["a comment after a block brace", "a \"x\" { # c\n}\n", "a \"x\" { # c\n}\n"],
  ["list items are indented one level", "x = [\n1,\n  2,\n    3\n]\n", "x = [\n  1,\n  2,\n  3\n]\n"],
  ["call arguments are indented one level", "x = foo(\n1,\n2\n)\n", "x = foo(\n  1,\n  2\n)\n"],
  ["several brackets opened on one line indent once", "x = [{\na = 1\n}, {\nb = 2\n}]\n", "x = [{\n  a = 1\n  }, {\n  b = 2\n}]\n"],
  ["nested multi-line values", "x = {\n  a = [\n  1\n  ]\n}\n", "x = {\n  a = [\n    1\n  ]\n}\n"],
  ["heredoc text is kept, its interpolations are tidied", "x = <<EOT\n  keep  ${ a }\nEOT\n", "x = <<EOT\n  keep  ${a}\nEOT\n"],
  ["flush heredoc", "x = <<-EOT\n    a\n    EOT\ny = 2\n", "x = <<-EOT\n    a\n    EOT\ny = 2\n"],
  ["blank lines are kept", "a = 1\n\n\n\nb = 2\n", "a = 1\n\n\n\nb = 2\n"],
  ["trailing whitespace is removed, blank lines emptied", "a = 1   \n  \n\t\nb = 2\t\n", "a = 1\n\n\nb = 2\n"],
  ["blanks at the very end of the file are kept as spaces", "a = 1\n  ", "a = 1\n  "],
  ["no newline added at the end", "a = 1", "a = 1"],
  ["byte order mark dropped", "\ufeffa   = 1\n", "a = 1\n"],
  ["alignment counts characters, not bytes", "é = 1\nab = 2\n", "é  = 1\nab = 2\n"],
  ["CRLF line ends are kept", "a = 1\r\nbb = 2\r\n", "a  = 1\r\nbb = 2\r\n"],
  ["indentation of a top-level comment is removed", "  # indented comment\na = 1\n", "# indented comment\na = 1\n"],
  ["comments in a list", "x = [\n  1, # one\n  22, # two\n]\n", "x = [\n  1,  # one\n  22, # two\n]\n"],
  ["nested blocks", "a {\n  b {\n    c = 1\n  }\n}\n", "a {\n  b {\n    c = 1\n  }\n}\n"],
  ["splat and legacy index", "a = b[*]\nc = d.0\n", "a = b[*]\nc = d.0\n"],
  ["tuples in a conditional", "x = a ? [1] : [2]\n", "x = a ? [1] : [2]\n"],
  ["keywords", "x = null\ny = true\nz = false\n", "x = null\ny = true\nz = false\n"],
  ["a heredoc ends the alignment run", "a  =  \"x\"\nb = <<EOT\nq\nEOT\nccc = 3\n", "a   = \"x\"\nb   = <<EOT\nq\nEOT\nccc = 3\n"],
  ["a heredoc inside a list", "x = [\n  <<EOT\nfoo\nEOT\n  , 1]\n", "x = [\n  <<EOT\nfoo\nEOT\n, 1]\n"],
  // hclwrite's own way with brackets inside heredoc interpolations, quirks included.
  ["a heredoc line joins the = alignment run", "each = 1\nfor = <<EOT\n  x\n EOT\nzzzzzz = 2\n", "each   = 1\nfor    = <<EOT\n  x\n EOT\nzzzzzz = 2\n"],
  ["a heredoc whose interpolation spans lines stays out of the run", "each = 1\nfor = <<EOT\n${ a # c\n}\nEOT\n", "each = 1\nfor = <<EOT\n${a # c\n}\nEOT\n"],
  ["brackets closed inside a heredoc dedent what follows, as packer does", "x {\n  a = <<EOT\n${ foo(\nb) }\nEOT\n  c = 1\n}\n", "x {\n  a = <<EOT\n${foo(\nb)}\nEOT\nc = 1\n}\n"],
  ["an assignment cell counts brackets past a heredoc opener", "a = c ? [1,\n ] > {\n\"k\" = 64 } : <<-EOT\n${~ b\n}\nEOT\n", "a = c ? [1,\n  ] > {\n  \"k\" = 64 } : <<-EOT\n${~b\n}\nEOT\n"],
  ["an interpolation spanning lines", "x = \"${ 1 +\n 2 }\"\n", "x = \"${1 +\n2}\"\n"],
];

describe('fmt: single rules, as packer fmt writes them', () => {
  for (const [name, input, want] of CASES) {
    it(name, () => {
      expect(fmt(input)).toBe(want);
    });
  }

  it('is idempotent on every case', () => {
    for (const [, , want] of CASES) expect(fmt(want)).toBe(want);
  });
});

describe('fmt: golden files written by packer fmt', () => {
  const inputs = readdirSync(DIR).filter((n) => n.endsWith('.pkr.hcl'));

  it('has the golden files', () => {
    expect(inputs.length).toBeGreaterThanOrEqual(6);
  });

  for (const name of inputs) {
    it(`${name} comes out as packer wrote it, and formatting again changes nothing`, () => {
      const golden = readFileSync(join(DIR, name.replace('.pkr.hcl', '.golden.hcl')), 'utf8');
      const once = fmt(readFileSync(join(DIR, name), 'utf8'));
      expect(once).toBe(golden);
      expect(fmt(once)).toBe(once);
    });
  }
});

describe('fmt: files with syntax errors', () => {
  it('refuses them: diagnostics, and the text comes back unchanged', () => {
    for (const bad of ['a = {\n', 'a = 1 2\n', 'x = "unterminated\n', 'b {\n  c = [1 2]\n}\n', 'a = <<EOT\nno end\n']) {
      const r = formatHCL(bad, 'bad.pkr.hcl');
      expect(r.diagnostics.length).toBeGreaterThan(0);
      expect(r.diagnostics.every((d) => d.severity === 'error' && d.subject?.filename === 'bad.pkr.hcl')).toBe(true);
      expect(r.output).toBe(bad);
    }
  });
});
