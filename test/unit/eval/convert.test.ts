import { describe, expect, it } from 'vitest';
import { convert, ConversionError, formatNumber, unifyTypes } from '../../../src/template/eval/convert.js';
import { T, typeString } from '../../../src/template/eval/types.js';
import { Value } from '../../../src/template/eval/value.js';

describe('type conversion as cty does it', () => {
  it('converts between primitives the way HCL users expect', () => {
    expect(convert(Value.number(42), T.string).str()).toBe('42');
    expect(convert(Value.number(1.5), T.string).str()).toBe('1.5');
    expect(convert(Value.bool(true), T.string).str()).toBe('true');
    expect(convert(Value.string('12'), T.number).num()).toBe(12);
    expect(convert(Value.string('true'), T.bool).bool()).toBe(true);
  });

  it('refuses impossible conversions with cty wording', () => {
    expect(() => convert(Value.string('abc'), T.number)).toThrow('a number is required');
    expect(() => convert(Value.number(1), T.bool)).toThrow('bool required');
    expect(() => convert(Value.tuple([Value.string('x')]), T.string)).toThrow('string required');
  });

  it('names the element that failed inside a collection', () => {
    const v = Value.tuple([Value.number(1), Value.string('x')]);
    try {
      convert(v, T.list(T.number));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConversionError);
      expect((e as Error).message).toBe('element 1: a number is required');
    }
  });

  it('converts objects to declared object types, dropping extra attributes and filling optional ones', () => {
    const v = Value.object({ name: Value.string('a'), extra: Value.number(1) });
    const t = T.object({ name: T.string, port: T.number }, new Set(['port']));
    const out = convert(v, t);
    expect([...out.entries().keys()]).toEqual(['name', 'port']);
    expect(out.entries().get('port')!.isNull).toBe(true);
    expect(() => convert(Value.object({}), t)).toThrow('attribute "name" is required');
  });

  it('unifies mixed element types like cty', () => {
    expect(typeString(unifyTypes([T.string, T.number])!)).toBe('string');
    expect(typeString(unifyTypes([T.object({ a: T.string }), T.object({ b: T.string })])!)).toBe('map(string)');
    expect(unifyTypes([T.string, T.list(T.string)])).toBeUndefined();
  });

  it('keeps the sensitive mark through conversion', () => {
    expect(convert(Value.number(5).markSensitive(), T.string).sensitive).toBe(true);
  });

  it('formats numbers without exponents or trailing zeros', () => {
    expect(formatNumber(1e21)).toBe('1000000000000000000000');
    expect(formatNumber(0.1)).toBe('0.1');
    expect(formatNumber(-3)).toBe('-3');
    expect(formatNumber(-0)).toBe('-0');
    expect(formatNumber(1.23e-25)).toBe('0.000000000000000000000000123');
    expect(formatNumber(1.5e300)).toBe('15' + '0'.repeat(299));
    expect(formatNumber(-2.5e-7)).toBe('-0.00000025');
  });

  it('keeps sets de-duplicated in canonical order', () => {
    const s = Value.set([Value.string('b'), Value.string('a'), Value.string('b')]);
    expect(s.elems().map((e) => e.str())).toEqual(['a', 'b']);
  });
});
