import { describe, expect, it } from 'vitest';
import { T, typeString } from '../../../src/template/eval/types.js';
import { Value } from '../../../src/template/eval/value.js';
import { call, fails, list, run } from './helpers.js';

describe('join and split', () => {
  it('joins lists with a separator (documented examples)', () => {
    expect(run('join', ', ', ['foo', 'bar', 'baz'])).toBe('foo, bar, baz');
    expect(run('join', ', ', ['foo'])).toBe('foo');
  });

  it('joins several lists, converting numbers to strings', () => {
    expect(run('join', '-', ['a', 1], list(['b']), [])).toBe('a-1-b');
  });

  it('refuses nulls in the lists and calls without a list', () => {
    fails('join', [',', ['a', Value.null(T.string)]], 'element 1 is null; cannot concatenate null values', 1);
    fails('join', [',', ['a'], [Value.null(T.string)]], 'element 0 of list 2 is null', 2);
    fails('join', [','], 'at least one list is required');
  });

  it('gives an unknown string when a list holds unknown elements', () => {
    expect(call('join', ',', ['a', Value.unknown(T.string)]).isKnown).toBe(false);
  });

  it('splits a string into a list of strings (documented examples)', () => {
    expect(run('split', ',', 'foo,bar,baz')).toEqual(['foo', 'bar', 'baz']);
    expect(run('split', ',', 'foo')).toEqual(['foo']);
    expect(run('split', ',', '')).toEqual(['']);
    expect(typeString(call('split', ',', 'a,b').type)).toBe('list(string)');
  });

  it('splits on an empty separator into characters, as Go does', () => {
    expect(run('split', '', 'a🤔b')).toEqual(['a', '🤔', 'b']);
    expect(run('split', '', '')).toEqual([]);
    expect(typeString(call('split', '', '').type)).toBe('list(string)');
  });
});

describe('replace', () => {
  it('replaces every occurrence (documented examples)', () => {
    expect(run('replace', '1 + 2 + 3', '+', '-')).toBe('1 - 2 - 3');
    expect(run('replace', 'hello world', 'world', 'everybody')).toBe('hello everybody');
  });

  it('treats a slash-wrapped substring literally, as Packer does', () => {
    expect(run('replace', '/opt/app/opt', '/opt/', '/srv/')).toBe('/srv/app/opt');
  });

  it('inserts around every character for an empty substring, as Go does', () => {
    expect(run('replace', 'ab', '', '-')).toBe('-a-b-');
  });
});

describe('case functions', () => {
  it('lowercases and uppercases Unicode letters (documented examples)', () => {
    expect(run('lower', 'HELLO')).toBe('hello');
    expect(run('lower', 'АЛЛО!')).toBe('алло!');
    expect(run('upper', 'hello')).toBe('HELLO');
    expect(run('upper', 'алло!')).toBe('АЛЛО!');
  });

  it('maps one character to one character, as Go does', () => {
    expect(run('upper', 'straße')).toBe('STRAßE');
    expect(run('lower', 'ΟΔΟΣ')).toBe('οδοσ');
  });

  it('title-cases the first letter of each word (documented example)', () => {
    expect(run('title', 'hello world')).toBe('Hello World');
    expect(run('title', "it's a dog-eat-dog_world")).toBe("It'S A Dog-Eat-Dog_world");
    expect(run('title', 'ǆemal')).toBe('ǅemal');
  });
});

describe('trimming', () => {
  it('trims characters from both ends (documented example)', () => {
    expect(run('trim', '?!hello?!', '!?')).toBe('hello');
    expect(run('trim', 'xxhixx', '')).toBe('xxhixx');
  });

  it('trims a prefix or a suffix once', () => {
    expect(run('trimprefix', 'helloworld', 'hello')).toBe('world');
    expect(run('trimprefix', 'helloworld', 'cat')).toBe('helloworld');
    expect(run('trimsuffix', 'helloworld', 'world')).toBe('hello');
    expect(run('trimsuffix', 'helloworld', '')).toBe('helloworld');
  });

  it('trims Unicode whitespace as Go defines it', () => {
    expect(run('trimspace', '  hello\n\n')).toBe('hello');
    expect(run('trimspace', '\u00a0\u3000x\u0085')).toBe('x');
    expect(run('trimspace', '\ufeffx')).toBe('\ufeffx');
  });

  it('removes trailing newlines only (documented examples)', () => {
    expect(run('chomp', 'hello\n')).toBe('hello');
    expect(run('chomp', 'hello\r\n')).toBe('hello');
    expect(run('chomp', 'hello\n\n')).toBe('hello');
    expect(run('chomp', '\nhello\n\r')).toBe('\nhello');
  });
});

describe('indent', () => {
  it('indents every line but the first (documented example)', () => {
    expect(`  items: ${run('indent', 2, '[\n  foo,\n  bar,\n]\n') as string}`).toBe('  items: [\n    foo,\n    bar,\n  ]\n  ');
  });

  it('needs a whole, non-negative number of spaces', () => {
    fails('indent', [1.5, 'x'], 'Invalid value for "spaces" parameter: a whole number is required', 0);
    fails('indent', [-1, 'x'], 'must not be negative', 0);
  });
});

describe('substr', () => {
  it('extracts by character offset and length (documented examples)', () => {
    expect(run('substr', 'hello world', 1, 4)).toBe('ello');
    expect(run('substr', '🤔🤷', 0, 1)).toBe('🤔');
  });

  it('counts from the end for a negative offset and takes the rest for length -1', () => {
    expect(run('substr', 'hello world', -5, -1)).toBe('world');
    expect(run('substr', 'hello world', -5, 2)).toBe('wo');
    expect(run('substr', 'hello', -10, 2)).toBe('he');
    expect(run('substr', 'hello', 2, -1)).toBe('llo');
  });

  it('gives an empty string past the end or for length zero', () => {
    expect(run('substr', 'hello', 5, 3)).toBe('');
    expect(run('substr', 'hello', 9, 3)).toBe('');
    expect(run('substr', 'hello', 1, 0)).toBe('');
    expect(run('substr', 'hello', 3, 100)).toBe('lo');
  });

  it('keeps combining marks with their letter', () => {
    expect(run('substr', 'cafe\u0301s', 3, 1)).toBe('e\u0301');
  });

  it('needs whole numbers', () => {
    fails('substr', ['hello', 0.5, 1], 'Invalid value for "offset" parameter', 1);
  });
});

describe('strrev', () => {
  it('reverses characters (documented examples)', () => {
    expect(run('strrev', 'hello')).toBe('olleh');
    expect(run('strrev', 'a ☃')).toBe('☃ a');
  });

  it('keeps grapheme clusters whole', () => {
    expect(run('strrev', 'ae\u0301b')).toBe('be\u0301a');
    expect(run('strrev', '👨‍👩‍👧x')).toBe('x👨‍👩‍👧');
  });
});

describe('startswith, endswith, strcontains', () => {
  it('answers the documented examples', () => {
    expect(run('startswith', 'hello world', 'hello')).toBe(true);
    expect(run('startswith', 'hello world', 'world')).toBe(false);
    expect(run('endswith', 'hello world', 'world')).toBe(true);
    expect(run('endswith', 'hello world', 'hello')).toBe(false);
    expect(run('strcontains', 'hello world', 'wor')).toBe(true);
    expect(run('strcontains', 'hello world', 'wod')).toBe(false);
  });

  it('converts number and bool arguments to strings', () => {
    expect(run('startswith', 12345, 12)).toBe(true);
  });

  it('gives a typed unknown for an unknown argument', () => {
    const r = call('startswith', Value.unknown(T.string), 'x');
    expect(r.isKnown).toBe(false);
    expect(r.type).toEqual(T.bool);
  });
});
