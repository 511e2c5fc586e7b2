/**
 * Type conversion functions (tostring, tolist, …) with cty's conversion rules and Terraform's
 * messages. A null converts to a null of the target type; collections unify their element
 * types, so tolist(["a", 1]) is a list of strings.
 */
import { convert, ConversionError } from '../convert.js';
import { T, friendlyName, type Type } from '../types.js';
import { Value } from '../value.js';
import type { FuncDef } from './define.js';
import { invalidArg } from './support.js';

function conversion(want: Type, wantName: string): FuncDef {
  const primitive = want.kind === 'string' || want.kind === 'number' || want.kind === 'bool';
  return {
    description: `Converts a value to ${wantName}.`,
    params: [{ name: 'v', type: T.dynamic, allowNull: true, allowUnknown: true }],
    ...(primitive && { returnType: want }),
    impl([v]) {
      try {
        return convert(v!, want);
      } catch (err) {
        if (!(err instanceof ConversionError)) throw err;
        const given = v!.isKnown && !v!.isNull && v!.type.kind === 'string' ? JSON.stringify(v!.str()) : undefined;
        if (given !== undefined && want.kind === 'bool') {
          throw invalidArg('v', 0, `cannot convert ${given} to bool; only the strings "true" or "false" are allowed`);
        }
        if (given !== undefined && want.kind === 'number') {
          throw invalidArg('v', 0, `cannot convert ${given} to number; given string must be a decimal representation of a number`);
        }
        throw invalidArg('v', 0, `cannot convert ${friendlyName(v!.type)} to ${wantName}`);
      }
    },
  };
}

export const CONVERSION_FUNCTIONS: Record<string, FuncDef> = {
  tostring: conversion(T.string, 'string'),
  tonumber: conversion(T.number, 'number'),
  tobool: conversion(T.bool, 'bool'),
  tolist: conversion(T.list(T.dynamic), 'list of any single type'),
  toset: conversion(T.set(T.dynamic), 'set of any single type'),
  tomap: conversion(T.map(T.dynamic), 'map of any single type'),
};
