import { describe, expect, it } from 'vitest';
import { typeString } from '../../../src/template/eval/types.js';
import { call, fails, run } from './helpers.js';

describe('regex', () => {
  it('matches the documented examples', () => {
    expect(run('regex', '[a-z]+', '53453453.345345aaabbbccc23454')).toBe('aaabbbccc');
    expect(run('regex', '(\\d\\d\\d\\d)-(\\d\\d)-(\\d\\d)', '2019-02-01')).toEqual(['2019', '02', '01']);
    fails('regex', ['[a-z]+', '53453453.34534523454'], 'pattern did not match any part of the given string');
  });

  it('gives a tuple for unnamed groups and an object for named ones, as cty does', () => {
    expect(typeString(call('regex', '(a)(b)', 'ab').type)).toBe('tuple([string, string])');
    const named = call('regex', '^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?', 'https://terraform.io/docs/');
    expect(typeString(named.type)).toBe('object({authority=string, scheme=string})');
    expect(run('regex', '^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?', 'https://terraform.io/docs/')).toEqual({
      authority: 'terraform.io',
      scheme: 'https',
    });
  });

  it('gives null for a group that took no part in the match', () => {
    expect(run('regex', '(a)|(b)', 'b')).toEqual([null, 'b']);
    expect(run('regex', '(?P<x>a)?(?P<y>b)', 'b')).toEqual({ x: null, y: 'b' });
  });

  it('refuses to mix named and unnamed groups', () => {
    fails('regex', ['(?P<a>x)(y)', 'xy'], 'cannot mix both named and unnamed capture groups', 0);
  });
});

describe('regexall', () => {
  it('lists every match (documented examples)', () => {
    expect(run('regexall', '[a-z]+', '1234abcd5678efgh9')).toEqual(['abcd', 'efgh']);
    expect(run('length', call('regexall', '[a-z]+', '1234abcd5678efgh9'))).toBe(2);
    expect(run('regexall', '[a-z]+', '123456789')).toEqual([]);
    expect(typeString(call('regexall', '[a-z]+', '123').type)).toBe('list(string)');
  });

  it('gives a list of tuples or objects for groups', () => {
    expect(run('regexall', '(\\w)=(\\d)', 'a=1 b=2')).toEqual([['a', '1'], ['b', '2']]);
    expect(typeString(call('regexall', '(?P<k>\\w)', 'ab').type)).toBe('list(object({k=string}))');
  });

  it('skips an empty match right after another match, as Go does', () => {
    expect(run('regexall', 'a*', 'baaac')).toEqual(['', 'aaa', '']);
  });
});

describe('RE2 syntax', () => {
  it('applies leading flags', () => {
    expect(run('regex', '(?i)HELLO', 'say hello')).toBe('hello');
    expect(run('regex', '(?s)a.b', 'a\nb')).toBe('a\nb');
    expect(run('regex', '(?U)a+', 'aaa')).toBe('a');
    expect(run('regex', '(?U)a+?', 'aaa')).toBe('aaa');
  });

  it('treats only "\\n" as a line break', () => {
    expect(run('regex', 'a.b', 'a\rb')).toBe('a\rb');
    expect(run('regexall', '(?m)^\\w+$', 'a\nb\r\nc')).toEqual(['a', 'c']);
    fails('regex', ['a.b', 'a\nb'], 'pattern did not match');
  });

  it('supports \\A, \\z, \\Q…\\E and escaped punctuation', () => {
    expect(run('regexall', '\\Aa', 'aa')).toEqual(['a']);
    expect(run('regexall', 'a\\z', 'aa\na')).toEqual(['a']);
    expect(run('regex', '\\Q1+1\\E', 'x1+1=2')).toBe('1+1');
    expect(run('regex', '\\@\\#\\-', 'a@#-')).toBe('@#-');
    expect(run('regex', '\\x41\\x{42}\\101', 'ABA')).toBe('ABA');
  });

  it('supports POSIX classes, ASCII \\s and Unicode classes', () => {
    expect(run('regexall', '[[:digit:]]+', 'ab12cd345')).toEqual(['12', '345']);
    expect(run('regexall', '[[:^alpha:]]+', 'ab12cd3')).toEqual(['12', '3']);
    expect(run('regexall', '[^[:space:]x]+', 'ax b')).toEqual(['a', 'b']);
    expect(run('regex', '\\s', 'a\u00a0b c')).toBe(' ');
    expect(run('regexall', '\\pL+', 'héllo wörld 123')).toEqual(['héllo', 'wörld']);
    expect(run('regex', '\\p{Greek}+', 'abc αβγ')).toBe('αβγ');
    expect(run('regex', '[]a]+', 'x]a]')).toBe(']a]');
    expect(run('regex', 'a{2}b{,2}', 'aab{,2}')).toBe('aab{,2}');
  });

  it('rejects what RE2 rejects and what JavaScript cannot express', () => {
    fails('regex', ['(?=a)', 'a'], 'Invalid value for "pattern" parameter: invalid regular expression: invalid or unsupported Perl syntax: `(?=`', 0);
    fails('regex', ['(a)\\1', 'aa'], 'invalid escape sequence: `\\1`', 0);
    fails('regex', ['a(?i)b', 'ab'], 'flag groups are only supported at the start of the pattern', 0);
    fails('regex', ['(ab', 'ab'], 'missing closing )', 0);
    fails('regex', ['[ab', 'ab'], 'missing closing ]', 0);
    fails('regex', ['a{1001}', 'a'], 'invalid repeat count', 0);
    fails('regex', ['a**', 'a'], 'invalid regular expression', 0);
  });
});

describe('regex_replace', () => {
  it('replaces the documented examples', () => {
    expect(run('regex_replace', 'hello world', 'world', 'everybody')).toBe('hello everybody');
    expect(run('regex_replace', 'hello world', 'w.*d', 'everybody')).toBe('hello everybody');
    expect(run('regex_replace', '-ab-axxb-', 'a(x*)b', '$1W')).toBe('---');
    expect(run('regex_replace', '-ab-axxb-', 'a(x*)b', '${1}W')).toBe('-W-xxW-');
  });

  it('expands group references as Go does', () => {
    expect(run('regex_replace', 'k=v', '(?P<key>\\w+)=(?P<val>\\w+)', '$val=${key}')).toBe('v=k');
    expect(run('regex_replace', 'abc', '(b)', '[$$1|$0|${2}|$]')).toBe('a[$1|b||$]c');
  });

  it('handles empty matches as Go does', () => {
    expect(run('regex_replace', 'abc', 'x*', '-')).toBe('-a-b-c-');
    expect(run('regex_replace', 'baaac', 'a*', '-')).toBe('-b-c-');
  });

  it('blames the pattern argument for a bad pattern', () => {
    fails('regex_replace', ['x', '(', 'y'], 'invalid regular expression', 1);
  });
});
