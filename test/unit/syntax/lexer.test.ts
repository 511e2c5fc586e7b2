import { describe, expect, it } from 'vitest';
import { lex, lexTemplate, type Token } from '../../../src/template/syntax/lexer.js';

function kinds(src: string): string[] {
  return lex(src, 'l.hcl').tokens.map((t) => (t.kind === 'op' || t.kind === 'ident' || t.kind === 'number' ? `${t.kind}:${t.text}` : t.kind));
}

function tokens(src: string): Token[] {
  const r = lex(src, 'l.hcl');
  expect(r.diags).toEqual([]);
  return r.tokens;
}

describe('lexer', () => {
  it('covers every character: token texts and the blanks between them rebuild the input', () => {
    const src = 'a = "x ${y}" # c\nb {\n  c = <<EOT\n  t\nEOT\n}\n/* d */ e = [1, 2.5e3]\r\n';
    const toks = tokens(src);
    let rebuilt = '';
    for (const t of toks) {
      rebuilt = rebuilt.padEnd(t.range.start.byte, ' ');
      rebuilt += t.text;
    }
    expect(rebuilt.replace(/[ ]/g, '')).toBe(src.replace(/[ ]/g, ''));
    expect(toks.every((t) => src.slice(t.range.start.byte, t.range.end.byte) === t.text)).toBe(true);
  });

  it('lexes identifiers with dashes, digits and Unicode letters, and numbers in all forms', () => {
    expect(kinds('a-b_1 é ñame _x 1 1.5 1e3 2.5E-2 01')).toEqual([
      'ident:a-b_1',
      'ident:é',
      'ident:ñame',
      'ident:_x',
      'number:1',
      'number:1.5',
      'number:1e3',
      'number:2.5E-2',
      'number:01',
      'eof',
    ]);
    // `1.` is a number and a dot; `1e` a number and a name, as HCL's scanner sees them.
    expect(kinds('1. 1e')).toEqual(['number:1', 'dot', 'number:1', 'ident:e', 'eof']);
  });

  it('lexes every operator and punctuation mark', () => {
    expect(kinds('== != <= >= && || ! < > + - * / % = => ... . , : ? ( ) [ ] { }')).toEqual([
      'op:==', 'op:!=', 'op:<=', 'op:>=', 'op:&&', 'op:||', 'op:!', 'op:<', 'op:>', 'op:+', 'op:-', 'op:*', 'op:/', 'op:%',
      'equal', 'fatArrow', 'ellipsis', 'dot', 'comma', 'colon', 'question', 'oparen', 'cparen', 'obrack', 'cbrack', 'obrace', 'cbrace', 'eof',
    ]);
  });

  it('makes comments and newlines tokens; a line comment keeps its newline', () => {
    const toks = tokens('# a\n// b\r\n/* c\n d */x\n');
    expect(toks.map((t) => [t.kind, t.text])).toEqual([
      ['comment', '# a\n'],
      ['newline', ''],
      ['comment', '// b\r\n'],
      ['newline', ''],
      ['comment', '/* c\n d */'],
      ['ident', 'x'],
      ['newline', '\n'],
      ['eof', ''],
    ]);
  });

  it('lexes a quoted string into quotes, literal text and sequences, decoding escapes', () => {
    const toks = tokens('"a\\n\\t\\"\\\\\\u00e9\\U0001F600 $${x} %%{y} ${z} %{ if c }"');
    expect(toks.map((t) => t.kind)).toEqual(['oquote', 'lit', 'interp', 'ident', 'tmplEnd', 'lit', 'control', 'ident', 'ident', 'tmplEnd', 'cquote', 'eof']);
    expect(toks[1]!.value).toBe('a\n\t"\\é😀 ${x} %{y} ');
    expect(toks[1]!.text).toBe('a\\n\\t\\"\\\\\\u00e9\\U0001F600 $${x} %%{y} ');
  });

  it('merges strip markers into the sequence tokens', () => {
    const toks = tokens('"${~ a ~} %{~ if b ~}"');
    const seq = toks.filter((t) => t.kind === 'interp' || t.kind === 'control' || t.kind === 'tmplEnd');
    expect(seq.map((t) => [t.text, t.strip === true])).toEqual([
      ['${~', true],
      ['~}', true],
      ['%{~', true],
      ['~}', true],
    ]);
  });

  it('finds the brace that ends an interpolation across nested braces and strings', () => {
    const toks = tokens('"${ {a="}"}.a }"');
    expect(toks.map((t) => t.kind)).toEqual(['oquote', 'interp', 'obrace', 'ident', 'equal', 'oquote', 'lit', 'cquote', 'cbrace', 'dot', 'ident', 'tmplEnd', 'cquote', 'eof']);
    expect(toks[6]!.value).toBe('}');
  });

  it('lexes heredocs: opener with its newline, one literal per line, the closing marker line', () => {
    const toks = tokens('x = <<EOT\n  a ${b}\n  c\n  EOT\ny = 1\n');
    const h = toks.slice(2, toks.findIndex((t) => t.kind === 'cheredoc') + 1);
    expect(h.map((t) => [t.kind, t.text])).toEqual([
      ['oheredoc', '<<EOT\n'],
      ['lit', '  a '],
      ['interp', '${'],
      ['ident', 'b'],
      ['tmplEnd', '}'],
      ['lit', '\n'],
      ['lit', '  c\n'],
      ['cheredoc', '  EOT'],
    ]);
    expect(h[0]!.value).toBe('EOT');
    // A marker that is only part of a line, or a longer name, does not close the heredoc.
    const t2 = tokens('x = <<EOT\nNOT EOT\nEOTX\nEOT\n');
    expect(t2.filter((t) => t.kind === 'lit').map((t) => t.text)).toEqual(['NOT EOT\n', 'EOTX\n']);
  });

  it('marks <<- heredocs; their indentation is left to the template parser (after strip markers)', () => {
    const toks = tokens('x = <<-EOT\n    a\n\n      b\n    EOT\n');
    expect(toks.find((t) => t.kind === 'oheredoc')).toMatchObject({ text: '<<-EOT\n', value: 'EOT', flush: true });
    expect(toks.filter((t) => t.kind === 'lit').map((t) => t.value)).toEqual(['    a\n', '\n', '      b\n']);
  });

  it('gives positions as 1-based line and code-point column, plus a UTF-16 offset', () => {
    const toks = tokens('a = "😀😀" # c\n  b = 1\n');
    const b = toks.find((t) => t.text === 'b')!;
    expect(b.range.start).toEqual({ line: 2, column: 3, byte: 17 });
    const close = toks.find((t) => t.kind === 'cquote')!;
    expect(close.range.start).toEqual({ line: 1, column: 8, byte: 9 });
  });

  it('reports invalid characters once per run, with a hint for single quotes', () => {
    const r = lex("a = 'x'\nb = @@@ 1\n", 'l.hcl');
    expect(r.diags.map((d) => [d.summary, d.subject!.start.line, d.subject!.start.column, d.subject!.end.column])).toEqual([
      ['Invalid character', 1, 5, 6],
      ['Invalid character', 1, 7, 8],
      ['Invalid character', 2, 5, 8],
    ]);
    expect(r.diags[0]!.detail).toContain('Use double quotes');
  });

  it('skips a byte order mark', () => {
    const toks = tokens('\ufeffa = 1');
    expect(toks[0]).toMatchObject({ kind: 'ident', text: 'a', range: { start: { line: 1, column: 1, byte: 1 } } });
  });

  it('lexes a whole text as a template, starting at a given position', () => {
    const r = lexTemplate('Hi ${name}!\n%{ if x }y%{ endif }', 't.tpl', { line: 5, column: 10, byte: 100 });
    expect(r.diags).toEqual([]);
    expect(r.tokens.map((t) => t.kind)).toEqual(['lit', 'interp', 'ident', 'tmplEnd', 'lit', 'control', 'ident', 'ident', 'tmplEnd', 'lit', 'control', 'ident', 'tmplEnd', 'eof']);
    expect(r.tokens[2]!.range.start).toEqual({ line: 5, column: 15, byte: 105 });
    // Quotes are plain text in a template.
    expect(lexTemplate('say "hi"', 't').tokens.map((t) => t.kind)).toEqual(['lit', 'eof']);
  });
});
