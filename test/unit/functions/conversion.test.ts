import { afterEach, describe, expect, it } from 'vitest';
import { T, typeString } from '../../../src/template/eval/types.js';
import { Value } from '../../../src/template/eval/value.js';
import { call, fails, run, UNKNOWN } from './helpers.js';

describe('type conversion functions', () => {
  it('convert primitives as the convert examples show', () => {
    expect(run('tostring', 3)).toBe('3');
    expect(run('tonumber', '3')).toBe(3);
    expect(run('tobool', 'false')).toBe(false);
    expect(run('tostring', false)).toBe('false');
    expect(run('tonumber', '3.5e1')).toBe(35);
  });

  it('convert collections, unifying element types', () => {
    const l = call('tolist', ['a', 'b', 3]);
    expect(typeString(l.type)).toBe('list(string)');
    expect(run('tolist', ['a', 'b', 3])).toEqual(['a', 'b', '3']);
    expect(run('toset', ['c', 'b', 'b'])).toEqual(['b', 'c']);
    const m = call('tomap', { a: 'foo', b: true });
    expect(typeString(m.type)).toBe('map(string)');
    expect(run('tomap', { a: 'foo', b: true })).toEqual({ a: 'foo', b: 'true' });
  });

  it('turn null into a typed null', () => {
    const r = call('tostring', null);
    expect(r.isNull).toBe(true);
    expect(r.type).toEqual(T.string);
    expect(call('tolist', null).type.kind).toBe('list');
  });

  it('explain failed conversions as Terraform does', () => {
    fails('tonumber', ['x'], 'cannot convert "x" to number; given string must be a decimal representation of a number', 0);
    fails('tobool', ['yes'], 'cannot convert "yes" to bool; only the strings "true" or "false" are allowed', 0);
    fails('tobool', [1], 'cannot convert number to bool', 0);
    fails('tostring', [['a']], 'Invalid value for "v" parameter: cannot convert tuple to string', 0);
    fails('tolist', [['a', []]], 'cannot convert tuple to list of any single type', 0);
    fails('tomap', [['a']], 'cannot convert tuple to map of any single type', 0);
  });

  it('keep unknown values unknown, with the target type', () => {
    const s = call('tostring', Value.unknown(T.number));
    expect([s.isKnown, s.type]).toEqual([false, T.string]);
    expect(run('tolist', ['a', Value.unknown(T.string)])).toEqual(['a', UNKNOWN]);
    expect(call('tolist', Value.unknown(T.tuple([T.string]))).type.kind).toBe('list');
    fails('tonumber', [Value.unknown(T.list(T.string))], 'cannot convert list of string to number', 0);
  });
});

describe('env', () => {
  afterEach(() => {
    delete process.env.KILN_FN_TEST;
  });

  it('reads an environment variable, or "" when unset', () => {
    process.env.KILN_FN_TEST = 'value';
    expect(run('env', 'KILN_FN_TEST')).toBe('value');
    delete process.env.KILN_FN_TEST;
    expect(run('env', 'KILN_FN_TEST')).toBe('');
  });
});
