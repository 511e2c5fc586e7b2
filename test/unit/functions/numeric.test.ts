import { describe, expect, it } from 'vitest';
import { call, fails, run } from './helpers.js';

describe('numeric functions', () => {
  it('answer the documented examples', () => {
    expect([run('abs', 23), run('abs', 0), run('abs', -12.4)]).toEqual([23, 0, 12.4]);
    expect([run('ceil', 5), run('ceil', 5.1)]).toEqual([5, 6]);
    expect([run('floor', 5), run('floor', 4.9)]).toEqual([5, 4]);
    expect(run('log', 50, 10)).toBe(1.6989700043360185);
    expect(run('log', 16, 2)).toBe(4);
    expect([15, 16, 17].map((n) => run('ceil', call('log', n, 2)))).toEqual([4, 4, 5]);
    expect(run('max', 12, 54, 3)).toBe(54);
    expect(run('min', 12, 54, 3)).toBe(3);
    expect([run('pow', 3, 2), run('pow', 4, 0)]).toEqual([9, 1]);
    expect([run('signum', -13), run('signum', 0), run('signum', 344)]).toEqual([-1, 0, 1]);
  });

  it('never gives negative zero', () => {
    expect(Object.is(run('ceil', -0.5), 0)).toBe(true);
    expect(Object.is(run('signum', -0), 0)).toBe(true);
    expect(Object.is(run('abs', -0), 0)).toBe(true);
  });

  it('converts numeric strings and refuses results that are not real numbers', () => {
    expect(run('abs', '-3')).toBe(3);
    fails('pow', [-8, 1 / 3], 'is not a real number');
    fails('log', [-1, 10], 'is not a real number');
    fails('max', [], 'must pass at least one number');
    fails('abs', ['x'], 'Invalid value for "num" parameter: a number is required', 0);
  });

  it('parses integers in bases 2 to 62 (documented examples)', () => {
    expect(run('parseint', '100', 10)).toBe(100);
    expect(run('parseint', 'FF', 16)).toBe(255);
    expect(run('parseint', '-10', 16)).toBe(-16);
    expect(run('parseint', '1011111011101111', 2)).toBe(48879);
    expect(run('parseint', 'aA', 62)).toBe(656);
    expect(run('parseint', '+z', 36)).toBe(35);
    fails('parseint', ['12', 2], 'Invalid value for "number" parameter: cannot parse "12" as a base 2 integer.', 0);
  });

  it('refuses other parseint input', () => {
    fails('parseint', [10, 10], 'first argument must be a string, not number', 0);
    fails('parseint', ['1', 1], 'base must be a whole number between 2 and 62 inclusive', 1);
    fails('parseint', ['0x10', 16], 'cannot parse "0x10" as a base 16 integer', 0);
    fails('parseint', ['', 10], 'cannot parse "" as a base 10 integer', 0);
    fails('parseint', ['1_000', 10], 'cannot parse', 0);
  });
});
