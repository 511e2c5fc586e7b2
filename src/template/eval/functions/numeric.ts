/**
 * Numeric functions. Numbers are IEEE doubles in kiln's value model (cty uses big floats), so
 * results agree with Packer wherever a double holds the value exactly.
 */
import { T, friendlyName } from '../types.js';
import { Value } from '../value.js';
import { FunctionError, type FuncDef } from './define.js';
import { invalidArg, wholeNumber } from './support.js';

const num = (name: string) => ({ name, type: T.number });

/** A computed result; NaN cannot be represented as a cty number, so it is an error. */
function real(n: number, what: string): Value {
  if (Number.isNaN(n)) throw new FunctionError(`${what} is not a real number`);
  return Value.number(n);
}

const DIGITS = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A digit's value in a base, as Go's big.Int parses: case-insensitive up to base 36. */
function digitValue(c: string, base: number): number {
  const i = DIGITS.indexOf(base <= 36 ? c.toLowerCase() : c);
  return i >= 0 && i < base ? i : -1;
}

export const NUMERIC_FUNCTIONS: Record<string, FuncDef> = {
  abs: {
    description: 'The absolute value of a number.',
    params: [num('num')],
    returnType: T.number,
    impl: ([n]) => Value.number(Math.abs(n!.num())),
  },

  ceil: {
    description: 'The smallest whole number greater than or equal to a number.',
    params: [num('num')],
    returnType: T.number,
    impl: ([n]) => Value.number(Math.ceil(n!.num()) || 0),
  },

  floor: {
    description: 'The largest whole number less than or equal to a number.',
    params: [num('num')],
    returnType: T.number,
    impl: ([n]) => Value.number(Math.floor(n!.num())),
  },

  log: {
    description: 'The logarithm of a number in a base.',
    params: [num('num'), num('base')],
    returnType: T.number,
    impl: ([n, base]) => real(Math.log(n!.num()) / Math.log(base!.num()), `log(${n!.num()}, ${base!.num()})`),
  },

  pow: {
    description: 'A number raised to a power.',
    params: [num('num'), num('power')],
    returnType: T.number,
    impl: ([n, p]) => real(n!.num() ** p!.num(), `pow(${n!.num()}, ${p!.num()})`),
  },

  max: {
    description: 'The greatest of one or more numbers.',
    params: [],
    variadic: num('numbers'),
    returnType: T.number,
    impl(nums) {
      if (nums.length === 0) throw new FunctionError('must pass at least one number');
      return Value.number(Math.max(...nums.map((n) => n.num())));
    },
  },

  min: {
    description: 'The smallest of one or more numbers.',
    params: [],
    variadic: num('numbers'),
    returnType: T.number,
    impl(nums) {
      if (nums.length === 0) throw new FunctionError('must pass at least one number');
      return Value.number(Math.min(...nums.map((n) => n.num())));
    },
  },

  signum: {
    description: 'The sign of a number: -1, 0 or 1.',
    params: [num('num')],
    returnType: T.number,
    impl: ([n]) => Value.number(Math.sign(n!.num()) || 0),
  },

  parseint: {
    description: 'Parses a string as an integer in a base from 2 to 62.',
    params: [{ name: 'number', type: T.dynamic }, num('base')],
    returnType: T.number,
    impl([s, baseV]) {
      if (s!.type.kind !== 'string') throw invalidArg('number', 0, `first argument must be a string, not ${friendlyName(s!.type)}`);
      const base = wholeNumber(baseV!, 'base', 1);
      if (base < 2 || base > 62) throw invalidArg('base', 1, 'base must be a whole number between 2 and 62 inclusive');
      const text = s!.str();
      const m = /^([+-]?)(.+)$/s.exec(text);
      let value = 0n;
      const digits = m ? Array.from(m[2]!, (c) => digitValue(c, base)) : [];
      if (!m || digits.some((d) => d < 0)) throw invalidArg('number', 0, `cannot parse ${JSON.stringify(text)} as a base ${base} integer`);
      for (const d of digits) value = value * BigInt(base) + BigInt(d);
      return Value.number(Number(m[1] === '-' ? -value : value));
    },
  },
};
