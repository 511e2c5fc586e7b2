/**
 * Calls library functions the way the evaluator does (looked up in FUNCTIONS, run through
 * callFunction) and converts between plain JavaScript data and values for short assertions.
 */
import { expect } from 'vitest';
import { callFunction, FunctionError, type FunctionContext } from '../../../src/template/eval/functions/define.js';
import { FUNCTIONS } from '../../../src/template/eval/functions/index.js';
import { T, type Type } from '../../../src/template/eval/types.js';
import { Value } from '../../../src/template/eval/value.js';

export const NOW = new Date('2024-03-05T06:07:08.123Z');

export function makeCtx(overrides: Partial<FunctionContext> = {}): FunctionContext {
  return {
    baseDir: process.cwd(),
    now: NOW,
    renderTemplate: () => {
      throw new Error('renderTemplate not expected in this test');
    },
    ...overrides,
  };
}

type Plain = string | number | boolean | null | Value | readonly Plain[] | { readonly [k: string]: Plain };

/** A value from plain data: arrays become tuples and objects become objects, as literals do in HCL. */
export function v(x: Plain): Value {
  if (x instanceof Value) return x;
  if (x === null) return Value.null();
  if (typeof x === 'string') return Value.string(x);
  if (typeof x === 'number') return Value.number(x);
  if (typeof x === 'boolean') return Value.bool(x);
  if (Array.isArray(x)) return Value.tuple(x.map(v));
  return Value.object(Object.fromEntries(Object.entries(x).map(([k, e]) => [k, v(e as Plain)])));
}

/** A list of values of one type (the type is given for empty lists). */
export function list(items: readonly Plain[], elemType?: Type): Value {
  const elems = items.map(v);
  return Value.list(elems, elemType ?? elems[0]?.type ?? T.dynamic);
}

export function set(items: readonly Plain[], elemType?: Type): Value {
  const elems = items.map(v);
  return Value.set(elems, elemType ?? elems[0]?.type ?? T.dynamic);
}

export function map(entries: Record<string, Plain>, elemType?: Type): Value {
  const m = new Map(Object.entries(entries).map(([k, e]) => [k, v(e)] as const));
  return Value.map(m, elemType ?? m.values().next().value?.type ?? T.dynamic);
}

export const UNKNOWN = '<unknown>';

/** Plain data from a value: sequences become arrays, maps and objects plain objects. */
export function js(x: Value): unknown {
  if (!x.isKnown) return UNKNOWN;
  if (x.isNull) return null;
  if (Array.isArray(x.raw)) return x.elems().map(js);
  if (x.raw instanceof Map) return Object.fromEntries([...x.entries()].map(([k, e]) => [k, js(e)]));
  return x.raw;
}

export function callIn(ctx: FunctionContext, name: string, ...args: Plain[]): Value {
  const def = FUNCTIONS.get(name);
  if (!def) throw new Error(`no function ${name}`);
  return callFunction(name, def, args.map(v), ctx);
}

export function call(name: string, ...args: Plain[]): Value {
  return callIn(makeCtx(), name, ...args);
}

/** The plain result of a call. */
export function run(name: string, ...args: Plain[]): unknown {
  return js(call(name, ...args));
}

/** Asserts that a call fails with a FunctionError whose message contains `message`, blaming `argIndex` if given. */
export function fails(name: string, args: readonly Plain[], message: string | RegExp, argIndex?: number, ctx = makeCtx()): FunctionError {
  let error: unknown;
  try {
    callIn(ctx, name, ...args);
  } catch (err) {
    error = err;
  }
  expect(error, `${name} should fail`).toBeInstanceOf(FunctionError);
  const fe = error as FunctionError;
  if (typeof message === 'string') expect(fe.message).toContain(message);
  else expect(fe.message).toMatch(message);
  if (argIndex !== undefined) expect(fe.argIndex).toBe(argIndex);
  return fe;
}
