/**
 * `format` and `formatlist`: Go-style verbs as cty implements them. A verb is
 * `%` flags width .precision [argindex] letter; %v picks a rendering by type (JSON for
 * collections), widths count grapheme clusters, and unused arguments are an error.
 */
import { convert, ConversionError } from '../convert.js';
import { T, isSequence, type Type } from '../types.js';
import { Value } from '../value.js';
import { FunctionError, type FuncDef } from './define.js';
import { goFloatText, goFormatFloat, goFormatInt, type NumberVerb } from './gofmt.js';
import { jsonString, toJSON } from './json.js';
import { graphemes, invalidArg } from './support.js';

interface Verb extends NumberVerb {
  raw: string;
  /** Byte offset of the verb in the format string, as cty reports it. */
  offset: number;
  /** 1-based index of the value argument the verb formats. */
  argNum: number;
}

const byteOffset = (s: string, i: number): number => Buffer.byteLength(s.slice(0, i));
/** Go's %q of a single character, as cty's messages quote one. */
const quoteChar = (c: string): string => `'${c === "'" ? "\\'" : c}'`;

/** Renders a format string against wholly known arguments. */
export function formatValues(format: string, args: readonly Value[]): string {
  let out = '';
  let nextArg = 1;
  let highest = 0;
  let i = 0;
  const badChar = (at: number): FunctionError => {
    const c = String.fromCodePoint(format.codePointAt(at)!);
    return new FunctionError(`unrecognized format character ${quoteChar(c)} at offset ${byteOffset(format, at)}`, 0);
  };
  while (i < format.length) {
    if (format[i] !== '%') {
      out += format[i++];
      continue;
    }
    if (format[i + 1] === '%') {
      out += '%';
      i += 2;
      continue;
    }
    const start = i++;
    const v: Verb = { raw: '', offset: byteOffset(format, start), argNum: nextArg, mode: '', plus: false, minus: false, space: false, zero: false, sharp: false, width: -1, prec: -1 };
    for (; i < format.length && '0#-+ '.includes(format[i]!); i++) {
      const f = format[i];
      if (f === '0') v.zero = true;
      else if (f === '#') v.sharp = true;
      else if (f === '-') v.minus = true;
      else if (f === '+') v.plus = true;
      else v.space = true;
    }
    if (/[1-9]/.test(format[i] ?? '')) {
      v.width = 0;
      for (; /[0-9]/.test(format[i] ?? ''); i++) v.width = v.width * 10 + Number(format[i]);
    }
    if (format[i] === '.') {
      v.prec = 0;
      for (i++; /[0-9]/.test(format[i] ?? ''); i++) v.prec = v.prec * 10 + Number(format[i]);
    }
    if (format[i] === '[') {
      i++;
      if (!/[1-9]/.test(format[i] ?? '')) throw i < format.length ? badChar(i) : incomplete(format, start);
      v.argNum = 0;
      for (; /[0-9]/.test(format[i] ?? ''); i++) v.argNum = v.argNum * 10 + Number(format[i]);
      if (format[i] !== ']') throw i < format.length ? badChar(i) : incomplete(format, start);
      i++;
    }
    if (i >= format.length) throw incomplete(format, start);
    if (!/[A-Za-z]/.test(format[i]!)) throw badChar(i);
    v.mode = format[i++]!;
    v.raw = format.slice(start, i);
    highest = Math.max(highest, v.argNum);
    out += formatVerb(v, args);
    nextArg = v.argNum + 1;
  }
  if (highest < args.length) {
    const first = highest + 1;
    throw invalidArg('args', first, highest === 0 ? 'too many arguments; no verbs in format string' : `too many arguments; only ${highest} used by format string`);
  }
  return out;
}

function incomplete(format: string, start: number): FunctionError {
  return new FunctionError(`invalid format string starting at offset ${byteOffset(format, start)}`, 0);
}

function formatVerb(v: Verb, args: readonly Value[]): string {
  const what = `${JSON.stringify(v.raw)} at ${v.offset}`;
  const arg = args[v.argNum - 1];
  if (arg === undefined) {
    throw new FunctionError(`not enough arguments for ${what}: need index ${v.argNum} but have ${args.length} total`, 0);
  }
  const fail = (reason: string): FunctionError => new FunctionError(`unsupported value for ${what}: ${reason}`, v.argNum);
  const as = (t: Type): Value => {
    try {
      return convert(arg, t);
    } catch (err) {
      if (err instanceof ConversionError) throw fail(err.message);
      throw err;
    }
  };
  if (v.mode !== 'v' && arg.isNull) throw fail('null value cannot be formatted');
  switch (v.mode) {
    case 'v':
      if (!v.sharp && !arg.isNull) {
        if (arg.type.kind === 'string') return pad(v, arg.str());
        if (arg.type.kind === 'number') return pad(v, goFloatText(arg.num(), 'g', -1));
      }
      try {
        return pad(v, toJSON(arg));
      } catch (err) {
        if (err instanceof FunctionError) throw fail(err.message);
        throw err;
      }
    case 't':
      // cty writes booleans without applying width.
      return as(T.bool).bool() ? 'true' : 'false';
    case 'b':
    case 'd':
    case 'o':
    case 'x':
    case 'X': {
      const n = as(T.number).num();
      if (!Number.isInteger(n)) throw fail('an integer is required');
      return goFormatInt(BigInt(n), v);
    }
    case 'e':
    case 'E':
    case 'f':
    case 'g':
    case 'G':
      return goFormatFloat(as(T.number).num(), v);
    case 's':
    case 'q': {
      let s = as(T.string).str();
      if (v.prec > 0) s = graphemes(s).slice(0, v.prec).join('');
      return pad(v, v.mode === 'q' ? jsonString(s) : s);
    }
    default:
      throw new FunctionError(`unsupported format verb ${quoteChar(v.mode)} in ${JSON.stringify(v.raw)} at offset ${v.offset}`, v.argNum);
  }
}

/** Pads to the verb's width in grapheme clusters: left by default, right with '-', zeros with '0'. */
function pad(v: Verb, s: string): string {
  const missing = v.width - graphemes(s).length;
  if (missing <= 0) return s;
  const fill = (v.zero ? '0' : ' ').repeat(missing);
  return v.minus ? s + fill : fill + s;
}

const valuesParam = { name: 'args', type: T.dynamic, allowNull: true, allowUnknown: true };

export const FORMAT_FUNCTIONS: Record<string, FuncDef> = {
  format: {
    description: 'Formats values with printf-style verbs (%s, %d, %5.2f, %[2]v, …).',
    params: [{ name: 'format', type: T.string }],
    variadic: valuesParam,
    returnType: T.string,
    impl([format, ...args]) {
      if (args.some((a) => !a.isWhollyKnown)) return Value.unknown(T.string);
      return Value.string(formatValues(format!.str(), args));
    },
  },

  formatlist: {
    description: 'Formats each element of the given lists with printf-style verbs, giving a list of strings; non-list arguments repeat.',
    params: [{ name: 'format', type: T.string }],
    variadic: valuesParam,
    returnType: T.list(T.string),
    impl([format, ...args]) {
      const spec = format!.str();
      let length = -1;
      let chooser = -1;
      let unknown = false;
      args.forEach((arg, i) => {
        if (!arg.isKnown) {
          unknown = true;
          return;
        }
        if (arg.isNull || !isSequence(arg.type)) return;
        if (length === -1) {
          length = arg.length;
          chooser = i;
        } else if (arg.length !== length) {
          throw invalidArg('args', i + 1, `argument ${i + 1} has length ${arg.length}, which is inconsistent with argument ${chooser + 1} of length ${length}`);
        }
      });
      if (unknown) return Value.unknown(T.list(T.string));
      const rows: Value[] = [];
      // Without any list argument the format is applied once.
      const count = length === -1 ? 1 : length;
      for (let row = 0; row < count; row++) {
        const rowArgs = args.map((a) => (!a.isNull && isSequence(a.type) ? a.elems()[row]! : a));
        if (rowArgs.some((a) => !a.isWhollyKnown)) {
          rows.push(Value.unknown(T.string));
          continue;
        }
        try {
          rows.push(Value.string(formatValues(spec, rowArgs)));
        } catch (err) {
          if (err instanceof FunctionError) throw new FunctionError(`error on format iteration ${row}: ${err.message}`, err.argIndex);
          throw err;
        }
      }
      return Value.list(rows, T.string);
    },
  },
};
