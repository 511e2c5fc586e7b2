/**
 * Small helpers shared by the function modules: argument errors worded as HCL words them,
 * whole-number arguments, grapheme clusters and code-point ordering (cty counts and orders
 * strings by Unicode characters, not by UTF-16 units).
 */
import { T, typeEquals } from '../types.js';
import { Value, deepEqual } from '../value.js';
import { FunctionError } from './define.js';

/**
 * An error about one argument, worded as HCL reports cty's argument errors
 * ("Invalid value for "x" parameter: …"), so the evaluator shows it as an invalid argument.
 */
export function invalidArg(param: string, index: number, message: string): FunctionError {
  return new FunctionError(`Invalid value for "${param}" parameter: ${message}.`, index);
}

/** A known number argument that must be a whole number (an index, a count, a size). */
export function wholeNumber(v: Value, param: string, index: number): number {
  const n = v.num();
  if (!Number.isSafeInteger(n)) throw invalidArg(param, index, 'a whole number is required');
  return n;
}

// Created on first use: building it loads ICU break data, which every kiln start would pay for.
let segmenter: Intl.Segmenter | undefined;

/** The user-perceived characters of a string: "é" written as e + U+0301 is one. */
export function graphemes(s: string): string[] {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  return Array.from(segmenter.segment(s), (seg) => seg.segment);
}

/** Orders strings by Unicode code point, as Go's byte-wise comparison of UTF-8 does. */
export function compareCodePoints(a: string, b: string): number {
  const ai = a[Symbol.iterator]();
  const bi = b[Symbol.iterator]();
  for (;;) {
    const x = ai.next();
    const y = bi.next();
    if (x.done || y.done) return x.done === y.done ? 0 : x.done ? -1 : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

export function stringList(items: readonly string[]): Value {
  return Value.list(items.map(Value.string), T.string);
}


/**
 * cty's `==` on two values: values of different types are never equal, and a comparison that
 * involves an unknown value has an unknown result (undefined here).
 */
export function ctyEqual(a: Value, b: Value): boolean | undefined {
  if (!a.isWhollyKnown || !b.isWhollyKnown) return undefined;
  if (a.isNull || b.isNull) return a.isNull && b.isNull;
  return typeEquals(a.type, b.type) && deepEqual(a, b);
}
