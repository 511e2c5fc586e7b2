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
