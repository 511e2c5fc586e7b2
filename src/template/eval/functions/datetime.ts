/**
 * Date and time functions. `timestamp` and the legacy functions use the run's single time
 * (ctx.now), so every call in a run agrees; timestamps are RFC 3339 strings that keep their
 * UTC offset through formatdate and timeadd.
 */
import { T } from '../types.js';
import { Value } from '../value.js';
import { FunctionError, type FuncDef } from './define.js';
import { invalidArg } from './support.js';
import {
  addDuration,
  fields,
  formatGoLayout,
  formatRFC3339,
  formatStrftime,
  fromDate,
  monthName,
  parseDuration,
  parseRFC3339,
  weekdayName,
  type Instant,
} from './timefmt.js';

const str = (name: string) => ({ name, type: T.string });

function parseTime(s: string, param: string, index: number): Instant {
  try {
    return parseRFC3339(s);
  } catch (err) {
    throw invalidArg(param, index, (err as Error).message);
  }
}

/** formatdate's tokens: quoted literals, runs of one letter (verbs), and other text. */
function tokens(spec: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < spec.length) {
    let j = i + 1;
    if (spec[i] === "'") {
      if (spec[j] === "'") j++;
      else {
        // Up to the closing quote; doubled quotes inside are escaped quotes.
        while (j < spec.length && !(spec[j] === "'" && spec[j + 1] !== "'")) j += spec[j] === "'" ? 2 : 1;
        j = Math.min(j + 1, spec.length);
      }
    } else if (/[A-Za-z]/.test(spec[i]!)) {
      while (spec[j] === spec[i]) j++;
    } else {
      while (j < spec.length && spec[j] !== "'" && !/[A-Za-z]/.test(spec[j]!)) j++;
    }
    out.push(spec.slice(i, j));
    i = j;
  }
  return out;
}

function formatDate(spec: string, t: Instant): string {
  const f = fields(t);
  const pad = (n: number) => String(n).padStart(2, '0');
  const bad = (tok: string, why?: string) => invalidArg('format', 0, `invalid date format verb ${JSON.stringify(tok)}${why ? `: ${why}` : ''}`);
  const byLength = (tok: string, options: Record<number, () => string>, why: string): string => {
    const render = options[tok.length];
    if (!render) throw bad(tok, why);
    return render();
  };
  let out = '';
  for (const tok of tokens(spec)) {
    const c = tok[0]!;
    if (c === "'") {
      if (tok === "''") out += "'";
      else if (tok.length === 1 || !tok.endsWith("'")) throw invalidArg('format', 0, "unterminated literal '");
      else out += tok.slice(1, -1).replaceAll("''", "'");
      continue;
    }
    if (!/[A-Za-z]/.test(c)) {
      out += tok;
      continue;
    }
    const hour12 = f.hour % 12 || 12;
    const offset = formatGoLayout('-0700', t);
    switch (c) {
      case 'Y':
        out += byLength(tok, { 2: () => pad(f.year % 100), 4: () => String(f.year).padStart(4, '0') }, 'year must either be "YY" or "YYYY"');
        break;
      case 'M':
        out += byLength(tok, { 1: () => String(f.month), 2: () => pad(f.month), 3: () => monthName(f.month).slice(0, 3), 4: () => monthName(f.month) }, 'month must be "M", "MM", "MMM", or "MMMM"');
        break;
      case 'D':
        out += byLength(tok, { 1: () => String(f.day), 2: () => pad(f.day) }, 'day of month must either be "D" or "DD"');
        break;
      case 'E':
        out += byLength(tok, { 3: () => weekdayName(f.weekday).slice(0, 3), 4: () => weekdayName(f.weekday) }, 'day of week must either be "EEE" or "EEEE"');
        break;
      case 'h':
        out += byLength(tok, { 1: () => String(f.hour), 2: () => pad(f.hour) }, '24-hour must either be "h" or "hh"');
        break;
      case 'H':
        out += byLength(tok, { 1: () => String(hour12), 2: () => pad(hour12) }, '12-hour must either be "H" or "HH"');
        break;
      case 'A':
      case 'a': {
        if (tok.length !== 2) throw bad(tok, `must be "${c}${c}"`);
        const marker = f.hour < 12 ? 'AM' : 'PM';
        out += c === 'A' ? marker : marker.toLowerCase();
        break;
      }
      case 'm':
        out += byLength(tok, { 1: () => String(f.minute), 2: () => pad(f.minute) }, 'minute must either be "m" or "mm"');
        break;
      case 's':
        out += byLength(tok, { 1: () => String(f.second), 2: () => pad(f.second) }, 'second must either be "s" or "ss"');
        break;
      case 'Z':
        out += byLength(
          tok,
          {
            1: () => formatGoLayout('Z07:00', t),
            3: () => (t.offset === 0 ? 'UTC' : offset),
            4: () => offset,
            5: () => formatGoLayout('-07:00', t),
          },
          'timezone must be Z, ZZZZ, or ZZZZZ',
        );
        break;
      default:
        throw bad(tok);
    }
  }
  return out;
}

/** The legacy functions take an optional format; more than one argument is an error, as in Packer. */
function legacyFormat(args: readonly Value[], render: (format: string) => string, ctxNow: Date): Value {
  if (args.length > 1) throw new FunctionError('too many values, 1 needed', 1);
  if (args.length === 0) return Value.string(formatRFC3339(fromDate(ctxNow)));
  return Value.string(render(args[0]!.str()));
}

export const DATETIME_FUNCTIONS: Record<string, FuncDef> = {
  timestamp: {
    description: "The run's time as an RFC 3339 UTC timestamp (the same value for every call in a run).",
    params: [],
    returnType: T.string,
    impl: (_, ctx) => Value.string(formatRFC3339(fromDate(ctx.now))),
  },

  formatdate: {
    description: 'Formats an RFC 3339 timestamp: YYYY MM DD hh mm ss, MMM/EEE names, ZZZZZ offsets, \'quoted\' literals.',
    params: [str('format'), str('time')],
    returnType: T.string,
    impl: ([spec, time]) => Value.string(formatDate(spec!.str(), parseTime(time!.str(), 'time', 1))),
  },

  timeadd: {
    description: 'Adds a Go duration ("1h30m", "-10s") to an RFC 3339 timestamp.',
    params: [str('timestamp'), str('duration')],
    returnType: T.string,
    impl([ts, dur]) {
      const t = parseTime(ts!.str(), 'timestamp', 0);
      let ns: bigint;
      try {
        ns = parseDuration(dur!.str());
      } catch (err) {
        throw invalidArg('duration', 1, (err as Error).message);
      }
      return Value.string(formatRFC3339(addDuration(t, ns)));
    },
  },

  legacy_isotime: {
    description: "The run's time (UTC) formatted with a Go reference layout such as \"2006-01-02\".",
    params: [],
    variadic: str('format'),
    returnType: T.string,
    impl: (args, ctx) => legacyFormat(args, (layout) => formatGoLayout(layout, fromDate(ctx.now)), ctx.now),
  },

  legacy_strftime: {
    description: "The run's time (UTC) formatted with C strftime conversions such as \"%Y-%m-%d\".",
    params: [],
    variadic: str('format'),
    returnType: T.string,
    impl: (args, ctx) => legacyFormat(args, (format) => formatStrftime(format, fromDate(ctx.now)), ctx.now),
  },
};
