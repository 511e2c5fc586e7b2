import { describe, expect, it } from 'vitest';
import type { Attribute, Block, Expr } from '../../../src/template/syntax/ast.js';
import { parseJSON, type JsonBodySchema } from '../../../src/template/syntax/index.js';
import { PACKER_JSON_SCHEMA } from '../../../src/template/syntax/packer-schema.js';
import { at, errorsOf, shape } from './helpers.js';

function json(src: string, schema: JsonBodySchema = PACKER_JSON_SCHEMA): Array<Attribute | Block> {
  const r = parseJSON(src, 't.pkr.json', schema);
  expect(r.diagnostics).toEqual([]);
  expect(r.file.syntax).toBe('json');
  return r.file.body.items;
}

/** `type label label…` of each block, the name of each attribute. */
function outline(items: ReadonlyArray<Attribute | Block>): string[] {
  return items.map((i) => (i.kind === 'block' ? [i.type, ...i.labels].join(' ') : `${i.name}=`));
}

describe('JSON bodies, decoded by schema', () => {
  it('nests one object level per block label', () => {
    const items = json('{"source": {"amazon-ebs": {"main": {"region": "eu-west-1"}}}, "variable": {"x": {}}, "build": {}}');
    expect(outline(items)).toEqual(['source amazon-ebs main', 'variable x', 'build']);
    expect(outline((items[0] as Block).body.items)).toEqual(['region=']);
  });

  it('defines several blocks with an array, at the body level or a label level, in file order', () => {
    const items = json(`{
      "source": {
        "null": [{ "a": {} }, { "b": {} }],
        "docker": { "c": [{ "image": "x" }, { "image": "y" }] }
      },
      "build": [
        {
          "sources": ["source.null.a"],
          "provisioner": [
            { "shell-local": { "inline": ["one"] } },
            { "file": { "source": "x" } },
            { "shell-local": { "inline": ["two"] } }
          ]
        },
        { "name": "second" }
      ]
    }`);
    expect(outline(items)).toEqual(['source null a', 'source null b', 'source docker c', 'source docker c', 'build', 'build']);
    const provs = (items[4] as Block).body.items;
    expect(outline(provs)).toEqual(['sources=', 'provisioner shell-local', 'provisioner file', 'provisioner shell-local']);
  });

  it('keeps repeated block keys, in order, and ignores "//" comments in bodies', () => {
    const items = json('{"//": "a comment", "variable": {"a": {}}, "locals": {"x": 1, "//": "skip"}, "variable": {"b": {}}}');
    expect(outline(items)).toEqual(['variable a', 'locals', 'variable b']);
    expect(outline((items[1] as Block).body.items)).toEqual(['x=']);
  });

  it('knows Packer block types: nested ones in build, validation in variable, required_plugins in packer', () => {
    const items = json(`{
      "packer": {"required_plugins": {"amazon": {"version": ">= 1.0", "source": "github.com/hashicorp/amazon"}}},
      "variable": {"r": {"validation": [{"condition": "\${true}", "error_message": "x"}]}},
      "variables": {"a": 1}, "local": {"l": {"expression": "1"}}, "data": {"amazon-ami": {"u": {}}},
      "build": {
        "source": {"source.null.a": {"name": "renamed"}},
        "provisioner": {"shell": {"inline": ["a"]}},
        "error-cleanup-provisioner": {"shell-local": {}},
        "post-processor": {"manifest": {}},
        "post-processors": [{"post-processor": [{"checksum": {}}, {"compress": {}}]}]
      }
    }`);
    expect(outline(items)).toEqual(['packer', 'variable r', 'variables', 'local l', 'data amazon-ami u', 'build']);
    expect(outline((items[0] as Block).body.items)).toEqual(['required_plugins']);
    expect(outline((items[1] as Block).body.items)).toEqual(['validation']);
    const build = (items[5] as Block).body.items;
    expect(outline(build)).toEqual(['source source.null.a', 'provisioner shell', 'error-cleanup-provisioner shell-local', 'post-processor manifest', 'post-processors']);
    expect(outline((build[4] as Block).body.items)).toEqual(['post-processor checksum', 'post-processor compress']);
  });

  it('treats every key as an attribute with an empty schema (.pkrvars.json)', () => {
    expect(outline(json('{"source": {"a": 1}, "region": "x"}', {}))).toEqual(['source=', 'region=']);
  });

  it('gives blocks the ranges of their keys', () => {
    const [b] = json('{\n  "source": {\n    "null": {\n      "a": {}\n    }\n  }\n}') as Block[];
    expect(at(b!.typeRange)).toBe('2:3-2:11');
    expect(b!.labelRanges.map(at)).toEqual(['3:5-3:11', '4:7-4:10']);
    expect(at(b!.defRange)).toBe('2:3-4:10');
    expect(at(b!.body.range)).toBe('4:12-4:14');
  });
});

describe('JSON attribute values', () => {
  it('maps numbers, bools and null to literals, arrays to tuples, objects to objects (keys are templates)', () => {
    const [a] = json('{"a": [1, 2.5, true, null, {"k": "v", "${x}": 2, "//": 3}]}', {}) as Attribute[];
    expect(shape(a!.expr)).toEqual({
      kind: 'tuple',
      elems: [
        { kind: 'literal', value: 1 },
        { kind: 'literal', value: 2.5 },
        { kind: 'literal', value: true },
        { kind: 'literal', value: null },
        {
          kind: 'object',
          items: [
            { key: { kind: 'template', parts: [{ kind: 'literal', value: 'k' }], fromJson: true }, value: { kind: 'template', parts: [{ kind: 'literal', value: 'v' }], fromJson: true } },
            { key: { kind: 'templateWrap', wrapped: { kind: 'variable', name: 'x' }, fromJson: true }, value: { kind: 'literal', value: 2 } },
            // "//" is only a comment in bodies; in an object value it is a key like any other.
            { key: { kind: 'template', parts: [{ kind: 'literal', value: '//' }], fromJson: true }, value: { kind: 'literal', value: 3 } },
          ],
        },
      ],
    });
  });

  it('reads strings as templates marked fromJson, unwrapping a lone interpolation', () => {
    const [a, b, c] = json('{"a": "plain", "b": "${var.n}", "c": "x-${var.n}-%{ if true }y%{ endif }"}', {}) as Attribute[];
    expect(a!.expr).toMatchObject({ kind: 'template', fromJson: true, parts: [{ kind: 'literal', value: 'plain' }] });
    expect(b!.expr).toMatchObject({ kind: 'templateWrap', fromJson: true, wrapped: { kind: 'getAttr', name: 'n' } });
    expect((c!.expr as Extract<Expr, { kind: 'template' }>).parts.map((p) => p.kind)).toEqual(['literal', 'interp', 'literal', 'if']);
  });

  it('maps positions inside strings back to the file, through JSON escapes', () => {
    const src = '{\n  "a": "q\\"\\u00e9\\"-${var.x}"\n}';
    const [a] = json(src, {}) as Attribute[];
    const t = a!.expr as Extract<Expr, { kind: 'template' }>;
    expect(t.parts[0]).toMatchObject({ kind: 'literal', value: 'q"é"-' });
    const interp = t.parts[1] as Extract<(typeof t.parts)[number], { kind: 'interp' }>;
    const col = src.split('\n')[1]!.indexOf('var.x') + 1;
    expect(interp.expr.range.start).toMatchObject({ line: 2, column: col, byte: src.indexOf('var.x') });
    expect(at(a!.range)).toBe('2:3-2:30');
  });

  it('keeps the escapes JSON decodes (\\n, \\t, \\/, \\u) and reads $${ as a literal ${', () => {
    const [a] = json('{"a": "l1\\nl2\\t\\/ $${x}"}', {}) as Attribute[];
    expect(a!.expr).toMatchObject({ kind: 'template', parts: [{ kind: 'literal', value: 'l1\nl2\t/ ${x}' }] });
  });
});

describe('JSON errors', () => {
  const cases: Array<[string, string, string[]]> = [
    ['trailing comma in an object', '{\n  "a": 1,\n}', ['Trailing comma in object @2:9']],
    ['trailing comma in an array', '{"a": [1,]}', ['Trailing comma in array @1:9']],
    ['missing colon', '{"a" 1}', ['Missing property value colon @1:6']],
    ['equals sign instead of colon', '{"a" = 1}', ['Missing property value colon @1:6']],
    ['missing comma', '{"a": 1 "b": 2}', ['Missing attribute separator comma @1:9']],
    ['unquoted key', '{a: 1}', ['Invalid object property name @1:2']],
    ['bad keyword', '{"a": True}', ['Invalid JSON keyword @1:7']],
    ['leading zero', '{"a": 01}', ['Invalid JSON number @1:7']],
    ['raw newline in a string', '{"a": "x\ny"}', ['Unterminated string @1:7']],
    ['bad escape', '{"a": "\\q"}', ['Invalid escape sequence @1:8']],
    ['comment', '{\n  // no\n}', ['Comments are not allowed in JSON @2:3']],
    ['extra data', '{"a": 1} x', ['Extraneous data after value @1:10']],
    ['empty file', '', ['Missing JSON value @1:1']],
    ['unclosed object', '{"a": 1', ['Missing attribute separator comma @1:8']],
    ['root is not an object', '[1]', ['Invalid JSON configuration @1:1']],
    ['block given a non-object', '{"source": {"null": 1}}', ['Incorrect JSON value type @1:21']],
    ['duplicate argument', '{"a": 1, "a": 2}', ['Duplicate argument @1:10']],
    ['template error inside a string', '{"a": "x ${y"}', ['Unterminated template interpolation @1:10']],
    ['directive error inside a string', '{\n  "a": "%{ if x }y"\n}', ['Unexpected end of template @2:9']],
  ];
  for (const [what, src, want] of cases) {
    it(what, () => {
      expect(errorsOf(parseJSON(src, 'bad.pkr.json', PACKER_JSON_SCHEMA).diagnostics)).toEqual(want);
    });
  }

  it('returns an empty body after a syntax error', () => {
    const r = parseJSON('{"a": ', 'x.json', {});
    expect(r.file.body.items).toEqual([]);
    expect(r.diagnostics).toHaveLength(1);
  });
});
