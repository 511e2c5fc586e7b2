import { describe, expect, it } from 'vitest';
import type { Attribute, Block } from '../../../src/template/syntax/ast.js';
import { parseFile, parseHCL } from '../../../src/template/syntax/index.js';
import { PACKER_JSON_SCHEMA } from '../../../src/template/syntax/packer-schema.js';
import { at, attrs, blocks, shape } from './helpers.js';

describe('bodies', () => {
  it('keep attributes and blocks in source order, with labels', () => {
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
  name = "n"
}
`,
      't.pkr.hcl',
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.file).toMatchObject({ filename: 't.pkr.hcl', syntax: 'hcl' });
    const [src, build] = r.file.body.items as Block[];
    expect(src!.labels).toEqual(['amazon-ebs', 'ubuntu']);
    expect(build!.body.items.map((i) => (i.kind === 'block' ? `${i.type}:${i.labels[0]}` : i.name))).toEqual(['provisioner:shell', 'provisioner:file', 'provisioner:shell', 'name']);
  });

  it('accept labels as quoted strings (escapes decoded) or bare names', () => {
    const [b] = blocks('thing "a\\"b" bare "\\u00e9" {\n}\n');
    expect(b!.labels).toEqual(['a"b', 'bare', 'é']);
  });

  it('parse one-line and empty blocks', () => {
    const [a, b, c] = blocks('a { x = 1 }\nb {}\nc "l" {\n}\n');
    expect(shape(a!.body.items)).toEqual([{ kind: 'attribute', name: 'x', expr: { kind: 'literal', value: 1 } }]);
    expect(b!.body.items).toEqual([]);
    expect(c!.body.items).toEqual([]);
  });

  it('nest blocks', () => {
    const [a] = blocks('a {\n  b "x" {\n    c {\n      d = 1\n    }\n  }\n}\n');
    const b = a!.body.items[0] as Block;
    const c = b.body.items[0] as Block;
    expect((c.body.items[0] as Attribute).name).toBe('d');
  });

  it('accept all three comment styles anywhere a newline or blank may be', () => {
    const items = attrs('# one\n// two\n/* three\n more */ a = 1 # trailing\nb = /* inline */ 2 // trailing\nc = [\n  1, # in a list\n  2\n]\n');
    expect(items.map((i) => i.name)).toEqual(['a', 'b', 'c']);
    const [blk] = blocks('x "y" /* between */ { # after the brace\n  z = 1 // after z\n} # after the block\n');
    expect(blk!.labels).toEqual(['y']);
  });

  it('accept a last line without a newline, CRLF line ends and a byte order mark', () => {
    expect(attrs('a = 1').map((a) => a.name)).toEqual(['a']);
    expect(attrs('a = 1\r\nb = 2\r\n').map((a) => a.name)).toEqual(['a', 'b']);
    expect(attrs('\ufeffa = 1\n')[0]!.nameRange.start).toEqual({ line: 1, column: 1, byte: 1 });
  });
});

describe('ranges', () => {
  it('cover attributes, blocks, labels, bodies and the definition part of a block', () => {
    const r = parseHCL('a = 1\nsource "null" "x" {\n  communicator = "none"\n}\n', 't.hcl');
    const block = r.file.body.items[1] as Block;
    expect(block.typeRange.start).toEqual({ line: 2, column: 1, byte: 6 });
    expect(at(block.typeRange)).toBe('2:1-2:7');
    expect(block.labelRanges.map(at)).toEqual(['2:8-2:14', '2:15-2:18']);
    expect(at(block.defRange)).toBe('2:1-2:18');
    expect(at(block.range)).toBe('2:1-4:2');
    expect(at(block.body.range)).toBe('2:20-4:1');
    const inner = block.body.items[0] as Attribute;
    expect(at(inner.nameRange)).toBe('3:3-3:15');
    expect(at(inner.expr.range)).toBe('3:18-3:24');
    expect(at(inner.range)).toBe('3:3-3:24');
    expect(at(r.file.body.range)).toBe('1:1-5:1');
  });

  it('count columns in characters, not UTF-16 units', () => {
    const r = parseHCL('a = "🙂🙂" b\n', 't.hcl');
    expect(r.diagnostics[0]!.subject!.start).toEqual({ line: 1, column: 10, byte: 11 });
  });
});

describe('parseFile', () => {
  it('picks the syntax by file name', () => {
    expect(parseFile('a = 1\n', 'x.pkr.hcl', PACKER_JSON_SCHEMA).file.syntax).toBe('hcl');
    expect(parseFile('{"a": 1}', 'x.pkr.json', PACKER_JSON_SCHEMA).file.syntax).toBe('json');
    expect(parseFile('{"a": 1}', 'vars.pkrvars.json', {}).file.body.items.map((i) => i.kind)).toEqual(['attribute']);
  });
});
