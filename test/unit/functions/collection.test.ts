import { describe, expect, it } from 'vitest';
import { T, typeString } from '../../../src/template/eval/types.js';
import { Value } from '../../../src/template/eval/value.js';
import { call, fails, list, map, run, set, UNKNOWN } from './helpers.js';

const unknownString = Value.unknown(T.string);

describe('length', () => {
  it('counts elements, attributes and characters (documented examples)', () => {
    expect(run('length', [])).toBe(0);
    expect(run('length', ['a', 'b'])).toBe(2);
    expect(run('length', { a: 'b' })).toBe(1);
    expect(run('length', 'hello')).toBe(5);
    expect(run('length', '👾🕹️')).toBe(2);
    expect(run('length', map({ a: 1, b: 2 }))).toBe(2);
    expect(run('length', set(['a', 'a', 'b']))).toBe(2);
  });

  it('knows the length of an unknown tuple or object from its type', () => {
    expect(run('length', Value.unknown(T.tuple([T.string, T.number])))).toBe(2);
    expect(run('length', Value.unknown(T.list(T.string)))).toBe(UNKNOWN);
    expect(run('length', Value.unknown(T.dynamic))).toBe(UNKNOWN);
  });

  it('refuses values without a length', () => {
    fails('length', [5], 'argument must be a string, a collection type, or a structural type', 0);
    fails('length', [null], 'must not be null', 0);
  });
});

describe('element and index', () => {
  it('reads elements, wrapping around (documented examples)', () => {
    expect(run('element', ['a', 'b', 'c'], 1)).toBe('b');
    expect(run('element', ['a', 'b', 'c'], 3)).toBe('a');
    expect(run('element', list(['a', 'b']), 5)).toBe('b');
  });

  it('refuses negative indexes, empty lists and sets', () => {
    fails('element', [['a'], -1], 'cannot use element function with a negative index', 1);
    fails('element', [[], 0], 'cannot use element function with an empty list', 0);
    fails('element', [set(['a']), 0], 'cannot read elements from set of string', 0);
  });

  it('finds the index of a value (documented example)', () => {
    expect(run('index', ['a', 'b', 'c'], 'b')).toBe(1);
    expect(run('index', list([1, 2, 3]), 3)).toBe(2);
    fails('index', [['a'], 'z'], 'item not found');
    fails('index', [[], 'z'], 'cannot search an empty list', 0);
    fails('index', [{ a: 1 }, 1], 'argument must be a list or tuple', 0);
  });

  it('compares with types, as cty does', () => {
    fails('index', [[1, 2], '1'], 'item not found');
    expect(run('index', [unknownString, 'b'], 'b')).toBe(UNKNOWN);
  });
});

describe('contains', () => {
  it('answers the documented examples', () => {
    expect(run('contains', ['a', 'b', 'c'], 'a')).toBe(true);
    expect(run('contains', ['a', 'b', 'c'], 'd')).toBe(false);
  });

  it('works on sets and never matches other types', () => {
    expect(run('contains', set(['x', 'y']), 'y')).toBe(true);
    expect(run('contains', [1, 2], '1')).toBe(false);
    expect(run('contains', [], 'x')).toBe(false);
    fails('contains', ['abc', 'a'], 'argument must be list, tuple, or set', 0);
  });

  it('is unknown only when an unknown element could be the match', () => {
    expect(run('contains', ['a', unknownString], 'a')).toBe(true);
    expect(run('contains', ['a', unknownString], 'b')).toBe(UNKNOWN);
  });
});

describe('distinct, compact, reverse, slice, sort', () => {
  it('removes duplicates keeping the first (documented example)', () => {
    expect(run('distinct', ['a', 'b', 'a', 'c', 'd', 'b'])).toEqual(['a', 'b', 'c', 'd']);
    expect(run('distinct', ['a', 1, 'a', '1'])).toEqual(['a', '1']);
    expect(typeString(call('distinct', ['a']).type)).toBe('list(string)');
    expect(call('distinct', ['a', unknownString]).isKnown).toBe(false);
  });

  it('removes empty strings and nulls (documented example)', () => {
    expect(run('compact', ['a', '', 'b', 'c'])).toEqual(['a', 'b', 'c']);
    expect(run('compact', ['a', Value.null(T.string)])).toEqual(['a']);
    expect(typeString(call('compact', []).type)).toBe('list(string)');
  });

  it('reverses lists, sets and tuples (documented example)', () => {
    expect(run('reverse', [1, 2, 3])).toEqual([3, 2, 1]);
    expect(typeString(call('reverse', [1, 'a']).type)).toBe('tuple([string, number])');
    expect(typeString(call('reverse', list(['a'])).type)).toBe('list(string)');
    expect(run('reverse', set(['b', 'a']))).toEqual(['b', 'a']);
    fails('reverse', ['abc'], 'can only reverse list or tuple values, not string', 0);
  });

  it('slices lists and tuples (documented example)', () => {
    expect(run('slice', ['a', 'b', 'c', 'd'], 1, 3)).toEqual(['b', 'c']);
    expect(run('slice', list(['a', 'b']), 2, 2)).toEqual([]);
    expect(typeString(call('slice', list(['a', 'b']), 0, 1).type)).toBe('list(string)');
    expect(typeString(call('slice', ['a', 1], 1, 2).type)).toBe('tuple([number])');
  });

  it('checks slice bounds as cty does', () => {
    fails('slice', [set(['a']), 0, 1], 'cannot slice a set', 0);
    fails('slice', [['a'], -1, 1], 'start index must not be less than zero', 1);
    fails('slice', [['a'], 0, 2], 'end index must not be greater than the length of the list', 2);
    fails('slice', [['a', 'b'], 2, 1], 'start index must not be greater than end index', 1);
  });

  it('sorts strings by code point (documented example)', () => {
    expect(run('sort', ['e', 'd', 'a', 'x'])).toEqual(['a', 'd', 'e', 'x']);
    expect(run('sort', [3, 10, 2])).toEqual(['10', '2', '3']);
    expect(run('sort', ['😀', '\ufffd', 'z'])).toEqual(['z', '\ufffd', '😀']);
    fails('sort', [['a', Value.null(T.string)]], 'given list element 1 is null; a null string cannot be sorted');
    expect(call('sort', ['a', unknownString]).isKnown).toBe(false);
  });
});

describe('chunklist and flatten', () => {
  it('splits into chunks (documented examples)', () => {
    expect(run('chunklist', ['a', 'b', 'c', 'd', 'e'], 2)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(run('chunklist', ['a', 'b', 'c', 'd', 'e'], 1)).toEqual([['a'], ['b'], ['c'], ['d'], ['e']]);
    expect(typeString(call('chunklist', ['a'], 2).type)).toBe('list(list(string))');
  });

  it('keeps the list whole for size 0 and refuses a negative size', () => {
    expect(run('chunklist', ['a', 'b'], 0)).toEqual([['a', 'b']]);
    expect(run('chunklist', list([], T.string), 3)).toEqual([]);
    fails('chunklist', [['a'], -1], 'the size argument must be positive', 1);
  });

  it('flattens nested sequences but not maps (documented examples)', () => {
    expect(run('flatten', [['a', 'b'], [], ['c']])).toEqual(['a', 'b', 'c']);
    expect(run('flatten', [[['a', 'b'], []], ['c']])).toEqual(['a', 'b', 'c']);
    expect(run('flatten', [{ a: 1 }, [2], set(['x'])])).toEqual([{ a: 1 }, 2, 'x']);
    expect(typeString(call('flatten', [['a'], [1]]).type)).toBe('tuple([string, number])');
    fails('flatten', ['a'], 'can only flatten lists, sets and tuples', 0);
  });

  it('is unknown when a nested list is unknown', () => {
    expect(call('flatten', [['a'], Value.unknown(T.list(T.string))]).isKnown).toBe(false);
    expect(run('flatten', [['a', unknownString]])).toEqual(['a', UNKNOWN]);
  });
});

describe('concat', () => {
  it('joins sequences (documented example)', () => {
    expect(run('concat', ['a', ''], ['b', 'c'])).toEqual(['a', '', 'b', 'c']);
  });

  it('gives a list when every argument is a list, unifying element types', () => {
    expect(typeString(call('concat', list(['a']), list(['b'])).type)).toBe('list(string)');
    expect(run('concat', list([1]), list(['a']))).toEqual(['1', 'a']);
    expect(typeString(call('concat', list(['a']), [1]).type)).toBe('tuple([string, number])');
  });

  it('refuses other arguments', () => {
    fails('concat', [['a'], 'b'], 'Invalid value for "seqs" parameter: all arguments must be lists or tuples; got string', 1);
    fails('concat', [], 'at least one argument is required');
  });
});

describe('coalesce and coalescelist', () => {
  it('picks the first non-null, non-empty value (documented examples)', () => {
    expect(run('coalesce', 'a', 'b')).toBe('a');
    expect(run('coalesce', '', 'b')).toBe('b');
    expect(run('coalesce', 1, 2)).toBe(1);
    expect(run('coalesce', null, 'x')).toBe('x');
    expect(run('coalesce', 1, 'a')).toBe('1');
  });

  it('reports mixed types, no candidates and unknown values', () => {
    fails('coalesce', [['a'], 'b'], 'all arguments must have the same type');
    fails('coalesce', [null, ''], 'no non-null, non-empty-string arguments');
    expect(run('coalesce', unknownString, 'x')).toBe(UNKNOWN);
    expect(run('coalesce', 'y', unknownString)).toBe('y');
  });

  it('picks the first non-empty list (documented examples)', () => {
    expect(run('coalescelist', ['a', 'b'], ['c', 'd'])).toEqual(['a', 'b']);
    expect(run('coalescelist', [], ['c', 'd'])).toEqual(['c', 'd']);
    expect(run('coalescelist', Value.null(T.list(T.string)), list(['x']))).toEqual(['x']);
    fails('coalescelist', ['a'], 'coalescelist arguments must be lists or tuples', 0);
    fails('coalescelist', [[], []], 'no non-null arguments');
  });
});

describe('alltrue, anytrue, sum', () => {
  it('answers the documented examples', () => {
    expect(run('alltrue', ['true', true])).toBe(true);
    expect(run('alltrue', [true, false])).toBe(false);
    expect(run('alltrue', [])).toBe(true);
    expect(run('anytrue', ['true'])).toBe(true);
    expect(run('anytrue', [true])).toBe(true);
    expect(run('anytrue', [true, false])).toBe(true);
    expect(run('anytrue', [])).toBe(false);
  });

  it('handles unknown elements as Packer does', () => {
    const u = Value.unknown(T.bool);
    expect(run('alltrue', [u, false])).toBe(UNKNOWN);
    expect(run('anytrue', [u, true])).toBe(true);
    expect(run('anytrue', [u, false])).toBe(UNKNOWN);
  });

  it('sums numbers (documented example)', () => {
    expect(run('sum', [10, 13, 6, 4.5])).toBe(33.5);
    expect(run('sum', set([1, 2]))).toBe(3);
    expect(run('sum', ['1', 2])).toBe(3);
  });

  it('refuses what it cannot sum', () => {
    fails('sum', [[]], 'cannot sum an empty list', 0);
    fails('sum', ['x'], 'cannot sum noniterable', 0);
    fails('sum', [{ a: 1 }], 'argument must be list, set, or tuple. Received object', 0);
    fails('sum', [['a']], 'argument must be list, set, or tuple of number values', 0);
    fails('sum', [[Value.number(Infinity), Value.number(-Infinity)]], "can't compute sum of opposing infinities");
  });
});

describe('range', () => {
  it('generates the documented sequences', () => {
    expect(run('range', 3)).toEqual([0, 1, 2]);
    expect(run('range', 1, 4)).toEqual([1, 2, 3]);
    expect(run('range', 1, 8, 2)).toEqual([1, 3, 5, 7]);
    expect(run('range', 1, 4, 0.5)).toEqual([1, 1.5, 2, 2.5, 3, 3.5]);
    expect(run('range', 4, 1)).toEqual([4, 3, 2]);
    expect(run('range', 10, 5, -2)).toEqual([10, 8, 6]);
  });

  it('counts down from zero for a negative limit and gives clean decimal steps', () => {
    expect(run('range', -3)).toEqual([0, -1, -2]);
    expect(run('range', 0)).toEqual([]);
    expect(run('range', 0, 0.5, 0.1)).toEqual([0, 0.1, 0.2, 0.3, 0.4]);
    expect(typeString(call('range', 0).type)).toBe('list(number)');
  });

  it('reports bad arguments as cty does', () => {
    fails('range', [], 'must have one, two, or three arguments');
    fails('range', [1, 2, 3, 4], 'must have one, two, or three arguments');
    fails('range', [0, 5, 0], 'step must not be zero', 2);
    fails('range', [5, 0, 1], 'end must be greater than start when step is positive', 1);
    fails('range', [0, 5, -1], 'end must be less than start when step is negative', 1);
    fails('range', [2000], 'more than 1024 values were generated');
    expect((run('range', 1024) as number[]).length).toBe(1024);
  });
});

describe('keys and values', () => {
  it('lists keys in lexical order (documented example)', () => {
    expect(run('keys', { a: 1, c: 2, d: 3 })).toEqual(['a', 'c', 'd']);
    expect(typeString(call('keys', { a: 1 }).type)).toBe('list(string)');
    expect(run('keys', map({ b: 1, a: 2 }))).toEqual(['a', 'b']);
  });

  it('knows the keys of an unknown object from its type', () => {
    expect(run('keys', Value.unknown(T.object({ y: T.string, x: T.number })))).toEqual(['x', 'y']);
    expect(run('keys', Value.unknown(T.map(T.string)))).toBe(UNKNOWN);
    fails('keys', [['a']], 'must have map or object type', 0);
  });

  it('lists values in key order (documented example)', () => {
    expect(run('values', { a: 3, c: 2, d: 1 })).toEqual([3, 2, 1]);
    expect(typeString(call('values', map({ a: 1 })).type)).toBe('list(number)');
    expect(typeString(call('values', { a: 1, b: 'x' }).type)).toBe('tuple([number, string])');
    fails('values', ['a'], 'values() requires a map as the first argument', 0);
  });
});

describe('lookup', () => {
  it('finds a key or gives the default (documented examples)', () => {
    expect(run('lookup', { a: 'ay', b: 'bee' }, 'a', 'what?')).toBe('ay');
    expect(run('lookup', { a: 'ay', b: 'bee' }, 'c', 'what?')).toBe('what?');
  });

  it('works without a default when the key exists', () => {
    expect(run('lookup', map({ a: 'x' }), 'a')).toBe('x');
    fails('lookup', [{ a: 1 }, 'c'], 'the given object has no attribute "c"', 0);
    fails('lookup', [map({ a: 'x' }), 'c'], 'lookup failed to find key "c"', 1);
  });

  it('converts the default to a map element type', () => {
    const r = call('lookup', map({ a: 'x' }), 'c', 1);
    expect(r.type).toEqual(T.string);
    expect(r.str()).toBe('1');
    fails('lookup', [map({ a: 1 }), 'c', 'y'], 'the default value must have the same type as the map elements', 2);
    fails('lookup', [['a'], 'c', 'y'], 'lookup() requires a map as the first argument', 0);
  });
});

describe('merge', () => {
  it('merges with later keys winning (documented example)', () => {
    expect(run('merge', { a: 'b', c: 'd' }, { e: 'f', c: 'z' })).toEqual({ a: 'b', c: 'z', e: 'f' });
  });

  it('keeps a map type only when every argument has it', () => {
    expect(typeString(call('merge', map({ a: 'x' }), map({ b: 'y' })).type)).toBe('map(string)');
    expect(typeString(call('merge', map({ a: 'x' }), map({ b: 1 })).type)).toBe('object({a=string, b=number})');
    expect(typeString(call('merge', { a: 1 }, { a: 'x' }).type)).toBe('object({a=string})');
    expect(run('merge')).toEqual({});
    expect(run('merge', null, { a: 1 })).toEqual({ a: 1 });
  });

  it('refuses other arguments', () => {
    fails('merge', [{ a: 1 }, 'x'], 'arguments must be maps or objects, got "string"', 1);
  });
});

describe('zipmap', () => {
  it('builds a map or object (documented example)', () => {
    expect(run('zipmap', ['a', 'b'], [1, 2])).toEqual({ a: 1, b: 2 });
    expect(typeString(call('zipmap', ['a', 'b'], [1, 'x']).type)).toBe('object({a=number, b=string})');
    expect(typeString(call('zipmap', ['a'], list([1])).type)).toBe('map(number)');
  });

  it('uses the last value for a repeated key and checks lengths', () => {
    expect(run('zipmap', ['a', 'a'], list([1, 2]))).toEqual({ a: 2 });
    fails('zipmap', [['a'], [1, 2]], 'number of keys (1) does not match number of values (2)');
    fails('zipmap', [['a'], 'x'], 'values argument must be a list or tuple value', 1);
    fails('zipmap', [[Value.null(T.string)], [1]], 'keys list has null value at index 0', 0);
  });
});

describe('sets', () => {
  it('computes the documented intersections and unions', () => {
    expect(run('setintersection', ['a', 'b'], ['b', 'c'], ['b', 'd'])).toEqual(['b']);
    expect(run('setunion', ['a', 'b'], ['b', 'c'], ['d'])).toEqual(['a', 'b', 'c', 'd']);
    expect(typeString(call('setunion', ['a'], [1]).type)).toBe('set(string)');
    expect(run('setunion', ['a'], [1])).toEqual(['1', 'a']);
    expect(typeString(call('setunion', [], ['a']).type)).toBe('set(string)');
  });

  it('refuses sets that cannot share an element type', () => {
    fails('setunion', [['a'], [['x']]], 'given sets must all have compatible element types');
  });

  it('is unknown when an intersection involves unknown elements', () => {
    expect(call('setintersection', ['a', unknownString], ['a']).isKnown).toBe(false);
    expect(run('setunion', ['a'], [unknownString])).toContain(UNKNOWN);
  });

  it('computes Cartesian products (documented examples)', () => {
    expect(run('setproduct', ['development', 'staging', 'production'], ['app1', 'app2'])).toEqual([
      ['development', 'app1'], ['development', 'app2'],
      ['staging', 'app1'], ['staging', 'app2'],
      ['production', 'app1'], ['production', 'app2'],
    ]);
    expect(run('setproduct', ['development', 'staging', 'production'], [])).toEqual([]);
    expect(run('setproduct', ['a'], ['b'])).toEqual([['a', 'b']]);
    expect(run('setproduct', ['staging', 'production'], ['a', 2])).toEqual([
      ['staging', 'a'], ['staging', '2'], ['production', 'a'], ['production', '2'],
    ]);
  });

  it('gives a list for lists only and a set otherwise', () => {
    expect(typeString(call('setproduct', list(['a']), [1]).type)).toBe('list(tuple([string, number]))');
    expect(typeString(call('setproduct', set(['a']), [1]).type)).toBe('set(tuple([string, number]))');
    fails('setproduct', [['a']], 'at least two arguments are required');
    fails('setproduct', [['a'], 'b'], 'a set or a list is required', 1);
    fails('setproduct', [['a'], ['b', ['c']]], 'all elements must be of the same type', 1);
    expect(typeString(call('setproduct', Value.unknown(T.list(T.string)), list(['a'])).type)).toBe('list(tuple([string, string]))');
  });
});
