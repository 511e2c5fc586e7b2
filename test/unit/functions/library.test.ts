import { describe, expect, it } from 'vitest';
import { callFunction, FunctionError } from '../../../src/template/eval/functions/define.js';
import { FUNCTIONS } from '../../../src/template/eval/functions/index.js';
import { T } from '../../../src/template/eval/types.js';
import { Value } from '../../../src/template/eval/value.js';
import { call, makeCtx } from './helpers.js';

const PACKER_FUNCTIONS = `
  format formatlist join split replace regex regexall regex_replace lower upper title trim trimprefix
  trimsuffix trimspace chomp indent substr strrev startswith endswith strcontains
  concat flatten distinct compact contains element index keys values lookup merge length range
  reverse slice sort setunion setproduct setintersection zipmap chunklist coalesce coalescelist
  alltrue anytrue sum
  abs ceil floor log max min pow signum parseint
  base64encode base64decode base64gzip jsonencode jsondecode yamlencode yamldecode csvdecode urlencode
  textencodebase64 textdecodebase64
  file filebase64 fileexists fileset templatefile abspath basename dirname pathexpand
  timestamp formatdate timeadd legacy_isotime legacy_strftime
  md5 sha1 sha256 sha512 bcrypt uuidv4 uuidv5
  cidrhost cidrnetmask cidrsubnet cidrsubnets
  tostring tonumber tobool tolist toset tomap env
`.trim().split(/\s+/);

describe('the function library', () => {
  it('has exactly the Packer functions, leaving can, try and convert to the evaluator', () => {
    expect([...FUNCTIONS.keys()].sort()).toEqual([...PACKER_FUNCTIONS].sort());
    for (const name of ['can', 'try', 'convert']) expect(FUNCTIONS.has(name)).toBe(false);
  });

  it('describes every function for the console', () => {
    for (const [name, def] of FUNCTIONS) expect(def.description, name).toMatch(/\S/);
  });

  it('never crashes on unknown arguments', () => {
    const ctx = makeCtx();
    for (const [name, def] of FUNCTIONS) {
      const count = def.params.length + (def.variadic ? 2 : 0);
      for (const arg of [Value.unknown(T.dynamic), Value.unknown(T.string), Value.unknown(T.list(T.string))]) {
        try {
          const r = callFunction(name, def, Array<Value>(count).fill(arg), ctx);
          expect(r, name).toBeInstanceOf(Value);
        } catch (err) {
          // A type that can never work (a list where a string is needed) may be refused early.
          expect(err, name).toBeInstanceOf(FunctionError);
        }
      }
    }
  });

  it('gives typed unknowns where the result type is fixed', () => {
    expect(call('upper', Value.unknown(T.string)).type).toEqual(T.string);
    expect(call('split', ',', Value.unknown(T.string)).type).toEqual(T.list(T.string));
    expect(call('fileset', '.', Value.unknown(T.string)).type).toEqual(T.set(T.string));
  });

  it('marks results computed from sensitive values as sensitive', () => {
    const secret = Value.string('hunter2').markSensitive();
    expect(call('upper', secret).sensitive).toBe(true);
    expect(call('join', ',', [secret, 'x']).sensitive).toBe(true);
    expect(call('upper', 'x').sensitive).toBe(false);
  });

  it('never quotes part of a sensitive argument in an error, but still says which parameter failed', () => {
    const secret = Value.string('hunter2: [secret-that-is-long-enough').markSensitive();
    const message = (name: string, ...args: Array<Value | string>): string => {
      try {
        call(name, ...args);
      } catch (err) {
        expect(err).toBeInstanceOf(FunctionError);
        return (err as FunctionError).message;
      }
      throw new Error(`${name} did not fail`);
    };
    // Unmarked, these messages quote the input: a character class, a format verb, a line of YAML.
    expect(message('regex', '[secret-that', 'x')).toContain('[secret-that');
    expect(message('regex', secret, 'x')).toBe('Invalid value for "pattern" parameter: the reason is not shown, as it could quote part of a sensitive value');
    expect(message('formatdate', secret, '2020-01-01T00:00:00Z')).toBe('Invalid value for "format" parameter: the reason is not shown, as it could quote part of a sensitive value');
    expect(message('yamldecode', secret)).toBe('invalid YAML on line 1, column 37; the text is sensitive, so it is not shown');
    // A message the function gives for sensitive input is kept.
    expect(message('jsondecode', Value.string('{"pw" "x"}').markSensitive())).toBe('invalid JSON at line 1, column 7; the text is sensitive, so it is not shown.');
  });

  it('refuses null arguments except where a function handles them', () => {
    expect(() => call('upper', null)).toThrow('Invalid value for "str" parameter: argument must not be null.');
    expect(call('jsonencode', null).str()).toBe('null');
    expect(call('coalesce', null, 'x').str()).toBe('x');
  });

  it('checks arity with the parameter names', () => {
    expect(() => call('split', ',')).toThrow('Function "split" requires 2 arguments; the "str" argument is missing.');
    expect(() => call('upper', 'a', 'b')).toThrow('Function "upper" expects only 1 argument.');
  });
});
