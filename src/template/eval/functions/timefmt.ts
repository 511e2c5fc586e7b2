/**
 * Time values for the date functions: strict RFC 3339 parsing (as cty's timestamp parser),
 * Go durations, and the three format languages templates use: RFC 3339 output, Go's reference
 * layout ("2006-01-02", legacy_isotime) and C strftime (legacy_strftime). A time keeps its UTC
 * offset, as Go's does, so formatting shows the wall clock of the zone it was written in.
 */

export interface Instant {
  /** Whole seconds since the Unix epoch. */
  sec: number;
  /** Nanoseconds within the second. */
  nanos: number;
  /** The zone's offset from UTC, in seconds. */
  offset: number;
}

export function fromDate(d: Date): Instant {
  const ms = d.getTime();
  return { sec: Math.floor(ms / 1000), nanos: (ms - Math.floor(ms / 1000) * 1000) * 1e6, offset: 0 };
}

/** Days since the epoch of a proleptic Gregorian date (valid for any year, unlike Date.UTC's 0–99). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

export interface Fields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  /** 0 is Sunday. */
  weekday: number;
  /** 1-based day of the year. */
  yday: number;
  offset: number;
}

/** The wall-clock fields of an instant in its own zone. */
export function fields(t: Instant): Fields {
  const local = t.sec + t.offset;
  const days = Math.floor(local / 86400);
  const secOfDay = local - days * 86400;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return {
    year,
    month,
    day,
    hour: Math.floor(secOfDay / 3600),
    minute: Math.floor((secOfDay % 3600) / 60),
    second: secOfDay % 60,
    nanos: t.nanos,
    weekday: (((days + 4) % 7) + 7) % 7,
    yday: days - daysFromCivil(year, 1, 1) + 1,
    offset: t.offset,
  };
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** "+hh:mm" / "-hh:mm" (with a colon or not), for a zone offset in seconds. */
function offsetText(offset: number, colon: boolean, seconds = false): string {
  const abs = Math.abs(offset);
  const sep = colon ? ':' : '';
  const secs = seconds ? `${sep}${pad(abs % 60)}` : '';
  return `${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 3600))}${sep}${pad(Math.floor((abs % 3600) / 60))}${secs}`;
}

/** RFC 3339 with whole seconds, "Z" for UTC: Go's time.RFC3339 layout. */
export function formatRFC3339(t: Instant): string {
  const f = fields(t);
  const zone = t.offset === 0 ? 'Z' : offsetText(t.offset, true);
  return `${pad(f.year, 4)}-${pad(f.month)}-${pad(f.day)}T${pad(f.hour)}:${pad(f.minute)}:${pad(f.second)}${zone}`;
}

const daysIn = (y: number, m: number): number =>
  m === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;

/** Parses a strict RFC 3339 timestamp; the error message says what is wrong, as cty's does. */
export function parseRFC3339(s: string): Instant {
  const bad = (what: string): Error => new Error(`not a valid RFC3339 timestamp: ${what}`);
  let i = 0;
  const number = (digits: number, what: string): number => {
    const part = s.slice(i, i + digits);
    if (part === '') throw bad(`end of string before ${what}`);
    if (!new RegExp(`^\\d{${digits}}$`).test(part)) throw bad(`cannot use ${JSON.stringify(s.slice(i))} as ${what}`);
    i += digits;
    return Number(part);
  };
  const literal = (c: string): void => {
    if (i >= s.length) throw bad(`end of string where ${JSON.stringify(c)} is expected`);
    if (s[i] !== c) throw bad(`found ${JSON.stringify(s.slice(i))} where ${JSON.stringify(c)} is expected`);
    i++;
  };
  const year = number(4, 'year');
  literal('-');
  const month = number(2, 'month');
  literal('-');
  const day = number(2, 'day of month');
  if (s[i] !== 'T') throw bad("missing required time introducer 'T'");
  i++;
  const hour = number(2, 'hour');
  literal(':');
  const minute = number(2, 'minute');
  literal(':');
  const second = number(2, 'second');
  let nanos = 0;
  if (s[i] === '.' || s[i] === ',') {
    if (s[i] === ',') throw bad('sub-second separator must be a period');
    const frac = /^\.(\d+)/.exec(s.slice(i));
    if (!frac) throw bad(`cannot use ${JSON.stringify(s.slice(i))} as UTC offset`);
    nanos = Number(frac[1]!.slice(0, 9).padEnd(9, '0'));
    i += frac[0].length;
  }
  let offset = 0;
  const zone = s.slice(i);
  if (zone.startsWith('Z')) i++;
  else {
    const m = /^([-+])(\d{2}):(\d{2})/.exec(zone);
    if (!m) throw bad(zone === '' ? 'end of string before UTC offset' : `cannot use ${JSON.stringify(zone)} as UTC offset`);
    if (Number(m[2]) >= 24) throw bad('timezone hour out of range');
    if (Number(m[3]) >= 60) throw bad('timezone minute out of range');
    offset = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60);
    i += m[0].length;
  }
  if (i < s.length) throw bad(`extra text: ${JSON.stringify(s.slice(i))}`);
  if (month < 1 || month > 12) throw bad('month out of range');
  if (day < 1 || day > daysIn(year, month)) throw bad('day out of range');
  if (hour > 23) throw bad('hour out of range');
  if (minute > 59) throw bad('minute out of range');
  if (second > 59) throw bad('second out of range');
  const sec = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  return { sec, nanos, offset };
}

const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  'µs': 1000n, // U+00B5 micro sign
  'μs': 1000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const MAX_DURATION = (1n << 63n) - 1n;

/** Go's time.ParseDuration, in nanoseconds: "1h30m", "-1.5h", "300ms". */
export function parseDuration(s: string): bigint {
  const invalid = (): Error => new Error(`time: invalid duration ${JSON.stringify(s)}`);
  let rest = s;
  let neg = false;
  if (rest[0] === '-' || rest[0] === '+') {
    neg = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') throw invalid();
  let total = 0n;
  while (rest !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    const [whole, frac] = [m[1]!, m[2]];
    if (whole === '' && (frac ?? '') === '') throw invalid();
    rest = rest.slice(m[0].length);
    const unitText = /^[^.0-9]*/.exec(rest)![0];
    if (unitText === '') throw new Error(`time: missing unit in duration ${JSON.stringify(s)}`);
    rest = rest.slice(unitText.length);
    const unit = UNITS[unitText];
    if (unit === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unitText)} in duration ${JSON.stringify(s)}`);
    let v = BigInt(whole || '0') * unit;
    if (frac) v += BigInt(Math.trunc(Number(`0.${frac}`) * Number(unit)));
    total += v;
    if (total > MAX_DURATION + (neg ? 1n : 0n)) throw invalid();
  }
  return neg ? -total : total;
}

export function addDuration(t: Instant, ns: bigint): Instant {
  const total = BigInt(t.sec) * 1_000_000_000n + BigInt(t.nanos) + ns;
  let sec = total / 1_000_000_000n;
  let nanos = total % 1_000_000_000n;
  if (nanos < 0n) {
    nanos += 1_000_000_000n;
    sec -= 1n;
  }
  return { sec: Number(sec), nanos: Number(nanos), offset: t.offset };
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export const monthName = (m: number): string => MONTHS[m - 1]!;
export const weekdayName = (d: number): string => WEEKDAYS[d]!;

/** The layout elements of Go's reference time, longest first where one is a prefix of another. */
const GO_ELEMENTS: [RegExp, (f: Fields) => string][] = [
  [/^January/, (f) => monthName(f.month)],
  [/^Jan(?![a-z])/, (f) => monthName(f.month).slice(0, 3)],
  [/^Monday/, (f) => weekdayName(f.weekday)],
  [/^Mon(?![a-z])/, (f) => weekdayName(f.weekday).slice(0, 3)],
  // A zone without a name (any fixed offset but UTC) prints as -0700, as in Go.
  [/^MST/, (f) => (f.offset === 0 ? 'UTC' : offsetText(f.offset, false))],
  [/^01/, (f) => pad(f.month)],
  [/^02/, (f) => pad(f.day)],
  [/^03/, (f) => pad(f.hour % 12 || 12)],
  [/^04/, (f) => pad(f.minute)],
  [/^05/, (f) => pad(f.second)],
  [/^06/, (f) => pad(f.year % 100)],
  [/^002/, (f) => pad(f.yday, 3)],
  [/^15/, (f) => pad(f.hour)],
  [/^1/, (f) => String(f.month)],
  [/^2006/, (f) => pad(f.year, 4)],
  [/^2/, (f) => String(f.day)],
  [/^_2006/, (f) => `_${pad(f.year, 4)}`],
  [/^__2/, (f) => String(f.yday).padStart(3, ' ')],
  [/^_2/, (f) => String(f.day).padStart(2, ' ')],
  [/^3/, (f) => String(f.hour % 12 || 12)],
  [/^4/, (f) => String(f.minute)],
  [/^5/, (f) => String(f.second)],
  [/^PM/, (f) => (f.hour >= 12 ? 'PM' : 'AM')],
  [/^pm/, (f) => (f.hour >= 12 ? 'pm' : 'am')],
  [/^-07:00:00/, (f) => offsetText(f.offset, true, true)],
  [/^-070000/, (f) => offsetText(f.offset, false, true)],
  [/^-07:00/, (f) => offsetText(f.offset, true)],
  [/^-0700/, (f) => offsetText(f.offset, false)],
  [/^-07/, (f) => offsetText(f.offset, false).slice(0, 3)],
  [/^Z07:00:00/, (f) => (f.offset === 0 ? 'Z' : offsetText(f.offset, true, true))],
  [/^Z070000/, (f) => (f.offset === 0 ? 'Z' : offsetText(f.offset, false, true))],
  [/^Z07:00/, (f) => (f.offset === 0 ? 'Z' : offsetText(f.offset, true))],
  [/^Z0700/, (f) => (f.offset === 0 ? 'Z' : offsetText(f.offset, false))],
  [/^Z07/, (f) => (f.offset === 0 ? 'Z' : offsetText(f.offset, false).slice(0, 3))],
];

/** Formats with a Go reference-time layout ("Mon Jan 2 15:04:05 MST 2006"). */
export function formatGoLayout(layout: string, t: Instant): string {
  const f = fields(t);
  let out = '';
  let i = 0;
  while (i < layout.length) {
    const rest = layout.slice(i);
    // Fractional seconds: ".000" keeps trailing zeros, ".999" drops them (and the dot if all go).
    const frac = /^[.,](0+|9+)(?![0-9])/.exec(rest);
    if (frac) {
      const digits = String(f.nanos).padStart(9, '0').slice(0, frac[1]!.length);
      if (frac[1]![0] === '0') out += rest[0] + digits;
      else {
        const trimmed = digits.replace(/0+$/, '');
        if (trimmed) out += rest[0] + trimmed;
      }
      i += frac[0].length;
      continue;
    }
    const element = GO_ELEMENTS.find(([re]) => re.test(rest));
    if (element) {
      const len = element[0].exec(rest)![0].length;
      out += element[1](f);
      i += len;
    } else out += layout[i++];
  }
  return out;
}

// The conversions of the strftime package Packer uses, as Go layouts; others stay as written.
const STRFTIME: Record<string, string> = {
  B: 'January', b: 'Jan', m: '01', A: 'Monday', a: 'Mon', d: '02', H: '15', I: '03',
  M: '04', S: '05', Y: '2006', y: '06', p: 'PM', Z: 'MST', z: '-0700', L: '.000',
};

/** C strftime, limited to the conversions Packer's legacy_strftime supports. */
export function formatStrftime(format: string, t: Instant): string {
  return format.replace(/%(.?)/gs, (all, c: string) => {
    if (c === '%' || c === '') return '%';
    const layout = STRFTIME[c];
    return layout ? formatGoLayout(layout, t) : all;
  });
}
