import { describe, expect, it } from 'vitest';
import { T, typeString } from '../../../src/template/eval/types.js';
import { Value } from '../../../src/template/eval/value.js';
import { call, fails, list, run, UNKNOWN } from './helpers.js';

describe('format', () => {
  it('formats the documented examples', () => {
    expect(run('format', 'Hello, %s!', 'Ander')).toBe('Hello, Ander!');
    expect(run('format', 'There are %d lights', 4)).toBe('There are 4 lights');
    expect(run('format', '%s%02d', 'bar', 3)).toBe('bar03');
  });

  it('renders %v by type: strings and numbers plainly, everything else as JSON', () => {
    expect(run('format', '%v', 'x')).toBe('x');
    expect(run('format', '%v', 12)).toBe('12');
    expect(run('format', '%v', 1.5)).toBe('1.5');
    // cty renders numbers under %v as Go's %g does.
    expect(run('format', '%v', 1234567)).toBe('1.234567e+06');
    expect(run('format', '%v', true)).toBe('true');
    expect(run('format', '%v', null)).toBe('null');
    expect(run('format', '%v', [1, 'a', { b: true }])).toBe('[1,"a",{"b":true}]');
    expect(run('format', '%#v', 'x')).toBe('"x"');
    expect(run('format', '%#v', 12)).toBe('12');
  });

  it('formats integers with Go flags, width and precision', () => {
    expect(run('format', '%05d', -42)).toBe('-0042');
    expect(run('format', '%-5d|', 42)).toBe('42   |');
    expect(run('format', '%+d % d', 5, 5)).toBe('+5  5');
    expect(run('format', '%x %X %#x %o %#o %b', 255, 255, 255, 8, 8, 5)).toBe('ff FF 0xff 10 010 101');
    expect(run('format', '%x', -255)).toBe('-ff');
    expect(run('format', '%.3d|%.0d|', 7, 0)).toBe('007||');
    expect(run('format', '%d', '12')).toBe('12');
    expect(run('format', '%d', 2 ** 60)).toBe('1152921504606846976');
  });

  it('formats floats with Go rounding (ties to even) and exponent style', () => {
    expect(run('format', '%5.2f', 3.14159)).toBe(' 3.14');
    expect(run('format', '%f', 1)).toBe('1.000000');
    expect(run('format', '%.2f', 2.675)).toBe('2.67');
    expect(run('format', '%.0f %.0f %.1f', 2.5, 3.5, 0.25)).toBe('2 4 0.2');
    expect(run('format', '%e', 123456.789)).toBe('1.234568e+05');
    expect(run('format', '%E', 0.000123)).toBe('1.230000E-04');
    expect(run('format', '%+.1e', 0)).toBe('+0.0e+00');
    expect(run('format', '%08.3f', -3.14159)).toBe('-003.142');
    expect(run('format', '%-8.2f|', 1.5)).toBe('1.50    |');
  });

  it('chooses %e or %f for %g as Go does', () => {
    expect(run('format', '%g', 100000)).toBe('100000');
    expect(run('format', '%g', 1e6)).toBe('1e+06');
    expect(run('format', '%g', 0.0001)).toBe('0.0001');
    expect(run('format', '%g', 0.00001)).toBe('1e-05');
    expect(run('format', '%g', 0)).toBe('0');
    expect(run('format', '%.3g', 3.14159)).toBe('3.14');
    expect(run('format', '%.3g', 1)).toBe('1');
    expect(run('format', '%.2g', 12345)).toBe('1.2e+04');
    expect(run('format', '%G', 1e-10)).toBe('1E-10');
  });

  it('formats booleans, strings and quoted strings', () => {
    expect(run('format', '%t %t', true, 'false')).toBe('true false');
    expect(run('format', '%5t|', true)).toBe('true|');
    expect(run('format', '%s %s', 12, true)).toBe('12 true');
    expect(run('format', '%q', 'a"b<&>')).toBe('"a\\"b\\u003c\\u0026\\u003e"');
    expect(run('format', '%.3s|%5s|%-5s|%05s', 'abcdef', 'ab', 'ab', 'ab')).toBe('abc|   ab|ab   |000ab');
  });

  it('counts width and precision in grapheme clusters', () => {
    expect(run('format', '%3s|', 'e\u0301')).toBe('  e\u0301|');
    expect(run('format', '%.1s', '🤔🤷')).toBe('🤔');
  });

  it('picks arguments by explicit index and continues after it', () => {
    expect(run('format', '%[2]s %[1]s', 'a', 'b')).toBe('b a');
    expect(run('format', '%[2]s %s', 'a', 'b', 'c')).toBe('b c');
    expect(run('format', '%-4[1]d|', 7)).toBe('7   |');
  });

  it('writes a literal percent for %%', () => {
    expect(run('format', '100%%')).toBe('100%');
  });

  it('reports bad format strings and arguments as cty does', () => {
    fails('format', ['%s %s', 'a'], 'not enough arguments for "%s" at 3: need index 2 but have 1 total');
    fails('format', ['%s', 'a', 'b'], 'Invalid value for "args" parameter: too many arguments; only 1 used by format string', 2);
    fails('format', ['hello', 'a'], 'too many arguments; no verbs in format string', 1);
    fails('format', ['%y', 1], `unsupported format verb 'y' in "%y" at offset 0`);
    fails('format', ['ab%'], 'invalid format string starting at offset 2');
    fails('format', ['%!'], "unrecognized format character '!' at offset 1");
    fails('format', ['%s', null], 'unsupported value for "%s" at 0: null value cannot be formatted', 1);
    fails('format', ['%d', 1.5], 'unsupported value for "%d" at 0: an integer is required', 1);
    fails('format', ['%d', 'x'], 'unsupported value for "%d" at 0: a number is required', 1);
    fails('format', ['%t', 1], 'unsupported value for "%t" at 0: bool required', 1);
    fails('format', ['%s', ['a']], 'unsupported value for "%s" at 0: string required', 1);
  });

  it('is unknown while any argument is not wholly known', () => {
    const r = call('format', '%s-%v', 'a', ['x', Value.unknown(T.string)]);
    expect(r.isKnown).toBe(false);
    expect(r.type).toEqual(T.string);
  });
});

describe('formatlist', () => {
  it('formats the documented examples', () => {
    const names = ['Valentina', 'Ander', 'Olivia', 'Sam'];
    expect(run('formatlist', 'Hello, %s!', names)).toEqual(names.map((n) => `Hello, ${n}!`));
    expect(run('formatlist', '%s, %s!', 'Salutations', names)).toEqual(names.map((n) => `Salutations, ${n}!`));
  });

  it('gives a list of strings, empty for empty lists and one element without lists', () => {
    expect(typeString(call('formatlist', '%s', ['a']).type)).toBe('list(string)');
    expect(run('formatlist', '%s', list([], T.string))).toEqual([]);
    expect(run('formatlist', 'x')).toEqual(['x']);
  });

  it('refuses lists of different lengths', () => {
    fails('formatlist', ['%s=%s', ['a', 'b'], ['1']], 'argument 2 has length 1, which is inconsistent with argument 1 of length 2', 2);
  });

  it('names the iteration that failed', () => {
    fails('formatlist', ['%d', ['1', 'x']], 'error on format iteration 1: unsupported value for "%d" at 0: a number is required');
  });

  it('keeps known rows when only some elements are unknown', () => {
    expect(run('formatlist', '%s-%s', ['a', Value.unknown(T.string)], 'z')).toEqual(['a-z', UNKNOWN]);
    const r = call('formatlist', '%s', Value.unknown(T.list(T.string)));
    expect(r.isKnown).toBe(false);
    expect(typeString(r.type)).toBe('list(string)');
  });
});
