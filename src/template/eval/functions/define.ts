/**
 * The contract of the function library. Each function declares its parameters with types; the
 * generic `callFunction` checks arity, converts arguments, short-circuits unknown and null
 * arguments and carries the sensitive mark to the result, so implementations see only known,
 * converted, unmarked values (unless a parameter opts in to seeing more).
 */
import type { Type } from '../types.js';
import { T } from '../types.js';
import { Value } from '../value.js';
import { convert, ConversionError } from '../convert.js';

export interface Param {
  name: string;
  type: Type;
  /** The implementation handles null itself (otherwise a null argument is an error). */
  allowNull?: boolean;
  /** The implementation handles unknown values itself (otherwise any unknown argument gives an unknown result). */
  allowUnknown?: boolean;
}

export interface FunctionContext {
  /** Directory relative file paths resolve against (`path.root` in Packer). */
  baseDir: string;
  /** The run's single timestamp: `timestamp()` returns this for every call in a run. */
  now: Date;
  /** Renders a template file's text with variables: the body of `templatefile`. */
  renderTemplate(text: string, filename: string, vars: ReadonlyMap<string, Value>): Value;
}

export interface FuncDef {
  params: readonly Param[];
  /** Extra arguments after `params`, all of this parameter's type. */
  variadic?: Param;
  /** The return type, when it is known without running (used for the unknown result). */
  returnType?: Type;
  impl(args: readonly Value[], ctx: FunctionContext): Value;
  /** Description for `kiln console`'s help. */
  description?: string;
}

/**
 * A failure inside a function, optionally blaming one argument (0-based). `sensitiveMessage` is
 * what to say instead when an argument is sensitive, for a message that quotes part of its input.
 */
export class FunctionError extends Error {
  constructor(
    message: string,
    readonly argIndex?: number,
    readonly sensitiveMessage?: string,
  ) {
    super(message);
    this.name = 'FunctionError';
  }
}

export function callFunction(name: string, def: FuncDef, rawArgs: readonly Value[], ctx: FunctionContext): Value {
  const min = def.params.length;
  if (rawArgs.length < min) {
    const missing = def.params[rawArgs.length]!;
    throw new FunctionError(`Function "${name}" requires ${min === 1 ? 'an argument' : `${min} arguments`}; the "${missing.name}" argument is missing.`);
  }
  if (!def.variadic && rawArgs.length > min) {
    throw new FunctionError(
      `Function "${name}" expects only ${min} argument${min === 1 ? '' : 's'}.`,
      min,
    );
  }
  let sensitive = false;
  let unknown = false;
  const args: Value[] = [];
  rawArgs.forEach((arg, i) => {
    const p = i < min ? def.params[i]! : def.variadic!;
    let v = arg;
    if (v.sensitive) {
      sensitive = true;
      v = v.unmarked();
    }
    if (v.isNull && !p.allowNull && v.isKnown) {
      throw new FunctionError(`Invalid value for "${p.name}" parameter: argument must not be null.`, i);
    }
    if (!v.isKnown && !p.allowUnknown) unknown = true;
    try {
      v = convert(v, p.type);
    } catch (err) {
      if (err instanceof ConversionError) throw new FunctionError(`Invalid value for "${p.name}" parameter: ${err.message}.`, i);
      throw err;
    }
    if (v.containsSensitive) sensitive = true;
    args.push(v);
  });
  if (unknown) return Value.unknown(def.returnType ?? T.dynamic);
  if (!sensitive) return def.impl(args, ctx);
  try {
    return def.impl(args, ctx).markSensitive();
  } catch (err) {
    // Redacting the whole value later cannot catch a fragment of it ("Unexpected token 'h',
    // "hunter2-se"...", a regex's bad class "[secret-th"), so with a sensitive argument only a
    // message the function vouches for is shown; any other keeps just which parameter failed.
    if (!(err instanceof FunctionError)) throw err;
    if (err.sensitiveMessage !== undefined) throw new FunctionError(err.sensitiveMessage, err.argIndex);
    const param = /^Invalid value for "[^"]+" parameter: /.exec(err.message)?.[0] ?? '';
    throw new FunctionError(`${param}the reason is not shown, as it could quote part of a sensitive value`, err.argIndex);
  }
}
