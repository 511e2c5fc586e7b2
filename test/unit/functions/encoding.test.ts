import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { T, typeString } from '../../../src/template/eval/types.js';
import { Value } from '../../../src/template/eval/value.js';
import { call, fails, js, list, map, run, set, UNKNOWN } from './helpers.js';

describe('base64', () => {
  it('encodes and decodes the documented examples', () => {
    expect(run('base64encode', 'Hello World')).toBe('SGVsbG8gV29ybGQ=');
    expect(run('base64decode', 'SGVsbG8gV29ybGQ=')).toBe('Hello World');
    expect(run('base64encode', 'é')).toBe('w6k=');
  });

  it('decodes strictly, ignoring line breaks as Go does', () => {
    expect(run('base64decode', 'SGVsbG8g\r\nV29ybGQ=')).toBe('Hello World');
    fails('base64decode', ['SGVsbG8'], "failed to decode base64 data 'SGVsbG8'", 0);
    fails('base64decode', ['SGVs-G8='], 'failed to decode base64 data', 0);
    fails('base64decode', ['SG=s'], 'failed to decode base64 data', 0);
  });

  it('refuses a result that is not UTF-8 text', () => {
    fails('base64decode', ['/w=='], 'the result of decoding the provided string is not valid UTF-8', 0);
  });

  it('gzips before encoding', () => {
    const out = call('base64gzip', 'test text').str();
    const bytes = Buffer.from(out, 'base64');
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    expect(gunzipSync(bytes).toString('utf8')).toBe('test text');
  });
});

describe('urlencode', () => {
  it('escapes as Go url.QueryEscape does (space as "+")', () => {
    // Packer's documentation shows "Hello%20World", but its implementation (Go's QueryEscape) gives "+".
    expect(run('urlencode', 'Hello World')).toBe('Hello+World');
    expect(run('urlencode', '☃')).toBe('%E2%98%83');
    expect(run('urlencode', 'abc123-_.~')).toBe('abc123-_.~');
    expect(run('urlencode', 'foo:bar@localhost?foo=bar&bar=baz')).toBe('foo%3Abar%40localhost%3Ffoo%3Dbar%26bar%3Dbaz');
    expect(run('urlencode', 'mailto:email?subject=this+is+my+subject')).toBe('mailto%3Aemail%3Fsubject%3Dthis%2Bis%2Bmy%2Bsubject');
    expect(run('urlencode', 'foo/bar')).toBe('foo%2Fbar');
  });
});

describe('textencodebase64 and textdecodebase64', () => {
  it('convert the documented UTF-16LE example both ways', () => {
    expect(run('textencodebase64', 'Hello World', 'UTF-16LE')).toBe('SABlAGwAbABvACAAVwBvAHIAbABkAA==');
    expect(run('textdecodebase64', 'SABlAGwAbABvACAAVwBvAHIAbABkAA==', 'UTF-16LE')).toBe('Hello World');
  });

  it('encode in UTF-8, UTF-16 and single-byte encodings', () => {
    expect(run('textencodebase64', "abc123!?$*&()'-=@~", 'UTF-8')).toBe('YWJjMTIzIT8kKiYoKSctPUB+');
    expect(run('textencodebase64', "abc123!?$*&()'-=@~", 'utf-16le')).toBe('YQBiAGMAMQAyADMAIQA/ACQAKgAmACgAKQAnAC0APQBAAH4A');
    expect(run('textencodebase64', 'A', 'UTF-16')).toBe('/v8AQQ==');
    expect(run('textencodebase64', '€', 'windows-1252')).toBe('gA==');
    expect(run('textencodebase64', 'é', 'ISO-8859-1')).toBe('6Q==');
    expect(run('textencodebase64', 'Ж', 'KOI8-R')).toBe(Buffer.from([0xf6]).toString('base64'));
  });

  it('decode single- and multi-byte encodings', () => {
    expect(run('textdecodebase64', 'gA==', 'windows-1252')).toBe('€');
    expect(run('textdecodebase64', 'gA==', 'latin1')).toBe('\u0080');
    const sjis = Buffer.from([0x83, 0x65, 0x83, 0x58, 0x83, 0x67]).toString('base64');
    expect(run('textdecodebase64', sjis, 'Shift_JIS')).toBe('テスト');
    expect(run('textdecodebase64', '/v8AQQ==', 'UTF-16')).toBe('A');
  });

  it('report unknown encodings, unrepresentable text and bad input', () => {
    fails('textencodebase64', ['abc', 'NOT-EXISTS'], '"NOT-EXISTS" is not a supported IANA encoding name or alias', 1);
    fails('textencodebase64', ['€', 'ISO-8859-1'], 'the given string contains characters that cannot be represented in ISO-8859-1', 0);
    fails('textencodebase64', ['é', 'US-ASCII'], 'cannot be represented in US-ASCII', 0);
    fails('textencodebase64', ['abc', 'Shift_JIS'], 'cannot encode to it', 1);
    fails('textdecodebase64', ['SGV!', 'UTF-8'], 'the given value is has an invalid base64 symbol at offset 3', 0);
    fails('textdecodebase64', ['/w==', 'UTF-8'], 'the given string contains symbols that are not defined for UTF-8', 0);
    fails('textdecodebase64', ['gA==', 'US-ASCII'], 'not defined for US-ASCII', 0);
  });
});

describe('jsonencode', () => {
  it('encodes the documented example', () => {
    expect(run('jsonencode', { hello: 'world' })).toBe('{"hello":"world"}');
  });

  it('writes what cty writes: sorted keys, plain numbers, Go string escapes', () => {
    expect(run('jsonencode', { b: [1, 1.5, 1e21, true, null], a: map({ z: 'x' }) })).toBe('{"a":{"z":"x"},"b":[1,1.5,1000000000000000000000,true,null]}');
    expect(run('jsonencode', '<a href="x">&</a>\u2028')).toBe('"\\u003ca href=\\"x\\"\\u003e\\u0026\\u003c/a\\u003e\\u2028"');
    expect(run('jsonencode', null)).toBe('null');
    expect(run('jsonencode', set(['b', 'a']))).toBe('["a","b"]');
    expect(run('jsonencode', '\u0001\n')).toBe('"\\u0001\\n"');
  });

  it('is unknown for values with unknown parts', () => {
    expect(run('jsonencode', ['a', Value.unknown(T.string)])).toBe(UNKNOWN);
  });

  it('refuses infinity', () => {
    fails('jsonencode', [Value.number(Infinity)], 'cannot serialize infinity as JSON');
  });
});

describe('jsondecode', () => {
  it('decodes the documented examples', () => {
    expect(run('jsondecode', '{"hello": "world"}')).toEqual({ hello: 'world' });
    expect(run('jsondecode', 'true')).toBe(true);
  });

  it('gives object and tuple types, and null', () => {
    const r = call('jsondecode', '{"a": [1, "x", null], "b": {"c": false}}');
    expect(typeString(r.type)).toBe('object({a=tuple([number, string, any]), b=object({c=bool})})');
    expect(run('jsondecode', ' null ')).toBe(null);
    expect(run('jsondecode', '{"a": 1, "a": 2}')).toEqual({ a: 2 });
  });

  it('reports invalid JSON', () => {
    fails('jsondecode', ['{"a": '], 'invalid JSON', 0);
    fails('jsondecode', [''], 'invalid JSON', 0);
  });

  it('says where invalid sensitive JSON is wrong, never any of its text', () => {
    const secret = (text: string): Value => Value.string(text).markSensitive();
    for (const text of ['hunter2-secret-that-is-long-enough-to-be-truncated', '{"pw" "xyz"}', '{"pw": "xyz", ', 'okay]']) {
      const e = fails('jsondecode', [secret(text)], 'invalid JSON', 0);
      expect(e.message).toContain('the text is sensitive, so it is not shown');
      expect(e.message).not.toMatch(/'.'|"/);
      for (let i = 0; i + 3 <= text.length; i++) expect(e.message).not.toContain(text.slice(i, i + 3));
    }
    expect(fails('jsondecode', [secret('{\n  "pw" "x"}')], 'invalid JSON', 0).message).toContain('at line 2, column 8');
    expect(fails('jsondecode', [secret('{"pw": ')], 'invalid JSON', 0).message).toContain('the text ends too soon');
    // Not sensitive: V8's own message, which shows the text.
    expect(fails('jsondecode', ['hello'], 'invalid JSON', 0).message).toContain("'h'");
  });
});

describe('csvdecode', () => {
  it('decodes the documented example into a list of objects', () => {
    const r = call('csvdecode', 'a,b,c\n1,2,3\n4,5,6');
    expect(js(r)).toEqual([{ a: '1', b: '2', c: '3' }, { a: '4', b: '5', c: '6' }]);
    expect(typeString(r.type)).toBe('list(object({a=string, b=string, c=string}))');
  });

  it('reads quoted fields, doubled quotes, CRLF and line breaks inside quotes', () => {
    expect(run('csvdecode', 'name,note\r\n"Smith, J","said ""hi"""\r\n"x","a\r\nb"\r\n')).toEqual([
      { name: 'Smith, J', note: 'said "hi"' },
      { name: 'x', note: 'a\nb' },
    ]);
    expect(run('csvdecode', 'a,b\n\n1,\n')).toEqual([{ a: '1', b: '' }]);
  });

  it('gives an empty list of the header type for a header alone', () => {
    const r = call('csvdecode', 'x,y\n');
    expect(run('length', r)).toBe(0);
    expect(typeString(r.type)).toBe('list(object({x=string, y=string}))');
  });

  it('reports errors as Go encoding/csv does', () => {
    fails('csvdecode', ['a,b\n1,2\n3\n'], 'CSV parse error on line 3: wrong number of fields', 0);
    fails('csvdecode', [''], 'missing header line', 0);
    fails('csvdecode', ['a,b\n1,x"y\n'], 'CSV parse error on line 2: bare " in non-quoted-field', 0);
    fails('csvdecode', ['a\n"x"y\n'], 'CSV parse error on line 2: extraneous or missing " in quoted-field', 0);
    fails('csvdecode', ['a,a\n1,2'], 'duplicate column name "a"', 0);
  });
});

describe('yamldecode', () => {
  it('decodes the documented examples', () => {
    expect(run('yamldecode', '{"hello": "world"}')).toEqual({ hello: 'world' });
    expect(run('yamldecode', 'true')).toBe(true);
    expect(run('yamldecode', '{a: &foo [1, 2, 3], b: *foo}')).toEqual({ a: [1, 2, 3], b: [1, 2, 3] });
    fails('yamldecode', ['{a: &foo [1, *foo, 3]}'], 'cannot refer to anchor "foo" from inside its own definition', 0);
    fails('yamldecode', ['{a: !not-supported foo}'], 'unsupported tag "!not-supported"', 0);
  });

  it('resolves plain scalars as go-cty-yaml does', () => {
    expect(run('yamldecode', '[yes, No, on, OFF, y, ~, null, "", 12, -12, 0x1f, 0o77, 077, 1.5, .5, 1e3, .inf, -.Inf]')).toEqual([
      true, false, true, false, true, null, null, '', 12, -12, 31, 63, 77, 1.5, 0.5, 1000, Infinity, -Infinity,
    ]);
    expect(run('yamldecode', '["yes", \'12\', 0ba, 1_000, +, <<, hello world]')).toEqual(['yes', '12', '0ba', '1_000', '+', '<<', 'hello world']);
    expect(run('yamldecode', '[2001-12-14, 2001-12-14t21:59:43.10-05:00, 2001-12-14 21:59:43.10]')).toEqual([
      '2001-12-14T00:00:00Z', '2001-12-14T21:59:43-05:00', '2001-12-14T21:59:43Z',
    ]);
    fails('yamldecode', ['.nan'], 'floating point NaN is not supported', 0);
  });

  it('honours explicit tags', () => {
    expect(run('yamldecode', '[!!str true, !!int "1", !!float 1_000.5, !!bool yes, !!null x, !!binary aGVsbG8=]')).toEqual([
      'true', '1', 1000.5, true, null, 'aGVsbG8=',
    ]);
    fails('yamldecode', ['!!bool bananas'], 'cannot parse "bananas" as tag:yaml.org,2002:bool', 0);
  });

  it('gives objects and tuples, converting keys to strings', () => {
    const r = call('yamldecode', 'a: 1\n1: x\ntrue: [b, 2]\n');
    expect(typeString(r.type)).toBe('object({1=string, a=number, true=tuple([string, number])})');
    fails('yamldecode', ['? [a]\n: b'], 'only strings are allowed as mapping keys', 0);
    fails('yamldecode', ['~: b'], 'mapping key cannot be null', 0);
    // Keys resolve like values, so an unquoted "on" or "y" key is the boolean true, as in Packer.
    expect(run('yamldecode', 'on: push\n"y": 1')).toEqual({ true: 'push', y: 1 });
  });

  it('merges mappings with <<, later keys winning', () => {
    expect(run('yamldecode', 'base: &b {x: 1, z: 2}\nother:\n  <<: *b\n  z: 3\n')).toEqual({ base: { x: 1, z: 2 }, other: { x: 1, z: 3 } });
    expect(run('yamldecode', 'a: {<<: [{x: 1}, {z: 2}]}')).toEqual({ a: { x: 1, z: 2 } });
    fails('yamldecode', ['a: {<<: 1}'], 'cannot merge number into mapping', 0);
  });

  it('decodes empty documents to null and refuses several documents', () => {
    expect(run('yamldecode', '')).toBe(null);
    expect(run('yamldecode', '---')).toBe(null);
    expect(run('yamldecode', '# just a comment\n')).toBe(null);
    fails('yamldecode', ['---\ntrue\n---\nfalse'], 'on line 3, column 1: unexpected extra content after value', 0);
    fails('yamldecode', ['{a: [1,2}'], /on line 1, column \d+: /, 0);
    fails('yamldecode', ['a: *nope'], 'reference to undefined anchor "nope"', 0);
  });
});

describe('yamlencode', () => {
  it('encodes the documented examples', () => {
    expect(run('yamlencode', { a: 'b', c: 'd' })).toBe('"a": "b"\n"c": "d"\n');
    expect(run('yamlencode', { foo: [1, 2, 3], bar: 'baz' })).toBe('"bar": "baz"\n"foo":\n- 1\n- 2\n- 3\n');
    expect(run('yamlencode', { foo: [1, { a: 'b', c: 'd' }, 3], bar: 'baz' })).toBe('"bar": "baz"\n"foo":\n- 1\n- "a": "b"\n  "c": "d"\n- 3\n');
  });

  it('writes scalars as go-cty-yaml does', () => {
    expect(run('yamlencode', true)).toBe('true\n...\n');
    expect(run('yamlencode', 0)).toBe('0\n...\n');
    expect(run('yamlencode', Value.null(T.string))).toBe('null\n...\n');
    expect(run('yamlencode', '')).toBe('""\n');
    expect(run('yamlencode', 'hello')).toBe('"hello"\n');
    expect(run('yamlencode', 'hello\nworld')).toBe('|-\n  hello\n  world\n');
    expect(run('yamlencode', { k: 'a\nb\n' })).toBe('"k": |\n  a\n  b\n');
    expect(run('yamlencode', Value.number(Infinity))).toBe('+Inf\n...\n');
    expect(run('yamlencode', {})).toBe('{}\n');
    expect(run('yamlencode', [])).toBe('[]\n');
    expect(run('yamlencode', list(['b']))).toBe('- "b"\n');
    expect(run('yamlencode', { k: 'yes', n: '12' })).toBe('"k": "yes"\n"n": "12"\n');
  });

  it('round-trips through yamldecode', () => {
    const value = { name: 'x', list: [1, 'two', null, { deep: ['a\nb', true] }] };
    expect(run('yamldecode', call('yamlencode', value))).toEqual(value);
  });

  it('is unknown for values with unknown parts', () => {
    expect(run('yamlencode', [Value.unknown(T.string)])).toBe(UNKNOWN);
  });
});
