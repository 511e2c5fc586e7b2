/**
 * Go's fmt rendering of numbers, which cty's `format` uses: %e %f %g on exact decimal digits
 * with round-half-even (JavaScript's toFixed rounds ties up), and %b %d %o %x on integers with
 * Go's flag, width and precision rules.
 */

export interface NumberVerb {
  mode: string;
  plus: boolean;
  minus: boolean;
  space: boolean;
  zero: boolean;
  sharp: boolean;
  /** -1 when not given. */
  width: number;
  /** -1 when not given. */
  prec: number;
}

/** A positive finite number as decimal digits: value = 0.digits × 10^dp, no trailing zeros. */
interface Decimal {
  digits: string;
  dp: number;
}

/** The exact decimal expansion of a double (every double is a finite binary fraction). */
function exactDecimal(x: number): Decimal {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const expBits = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let e = -1074;
  if (expBits !== 0) {
    mant |= 1n << 52n;
    e = expBits - 1075;
  }
  if (mant === 0n) return { digits: '', dp: 0 };
  const scaled = e >= 0 ? mant << BigInt(e) : mant * 5n ** BigInt(-e);
  const s = scaled.toString();
  return trim({ digits: s, dp: s.length - Math.max(0, -e) });
}

/** The shortest digits that read back as the same double (what Go's 'g' with precision -1 gives). */
function shortestDecimal(x: number): Decimal {
  const [mant, exp] = x.toExponential().split('e') as [string, string];
  return trim({ digits: mant.replace('.', ''), dp: Number(exp) + 1 });
}

function trim(d: Decimal): Decimal {
  const digits = d.digits.replace(/0+$/, '');
  return digits === '' ? { digits: '', dp: 0 } : { digits, dp: d.dp };
}

/** Rounds to `nd` significant digits, ties to even, as Go's decimal rounding does. */
function round(d: Decimal, nd: number): Decimal {
  if (nd < 0) return { digits: '', dp: 0 };
  if (d.digits.length <= nd) return d;
  const next = d.digits[nd]!;
  const exactHalf = next === '5' && nd + 1 === d.digits.length;
  const up = exactHalf ? nd > 0 && Number(d.digits[nd - 1]) % 2 === 1 : next >= '5';
  let head = d.digits.slice(0, nd);
  if (!up) return trim({ digits: head, dp: d.dp });
  let i = head.length - 1;
  while (i >= 0 && head[i] === '9') i--;
  if (i < 0) return { digits: '1', dp: d.dp + 1 };
  head = head.slice(0, i) + String(Number(head[i]) + 1);
  return trim({ digits: head, dp: d.dp });
}

function fmtE(d: Decimal, prec: number, e: string): string {
  let out = d.digits[0] ?? '0';
  if (prec > 0) out += `.${d.digits.slice(1, prec + 1).padEnd(prec, '0')}`;
  const exp = d.digits.length > 0 ? d.dp - 1 : 0;
  const abs = Math.abs(exp);
  return `${out}${e}${exp < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
}

function fmtF(d: Decimal, prec: number): string {
  const at = (i: number): string => (i >= 0 && i < d.digits.length ? d.digits[i]! : '0');
  let out = d.dp > 0 ? d.digits.slice(0, d.dp).padEnd(d.dp, '0') : '0';
  if (prec > 0) {
    out += '.';
    for (let i = 0; i < prec; i++) out += at(d.dp + i);
  }
  return out;
}

/** Go's strconv/big float text for mode e, E, f, g or G; prec -1 means shortest (%g only). */
export function goFloatText(x: number, mode: string, prec: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? '+Inf' : '-Inf';
  const neg = x < 0;
  const abs = Math.abs(x);
  const lower = mode.toLowerCase();
  let body: string;
  if (lower === 'g') {
    const shortest = prec < 0;
    let d: Decimal;
    let p: number;
    if (shortest) {
      d = shortestDecimal(abs);
      p = d.digits.length;
    } else {
      p = prec === 0 ? 1 : prec;
      d = round(exactDecimal(abs), p);
    }
    let eprec = p;
    if (eprec > d.digits.length && d.digits.length >= d.dp) eprec = d.digits.length;
    if (shortest) eprec = 6;
    const exp = d.dp - 1;
    const e = mode === 'G' ? 'E' : 'e';
    if (exp < -4 || exp >= eprec) {
      body = fmtE(d, Math.min(p, d.digits.length) - 1, e);
    } else {
      if (p > d.dp) p = d.digits.length;
      body = fmtF(d, Math.max(p - d.dp, 0));
    }
  } else {
    const p = prec < 0 ? 6 : prec;
    const exact = exactDecimal(abs);
    body = lower === 'e' ? fmtE(round(exact, p + 1), p, mode) : fmtF(round(exact, exact.dp + p), p);
  }
  return neg ? `-${body}` : body;
}

/** A number under a float verb, with Go's sign, padding and width handling. */
export function goFormatFloat(x: number, v: NumberVerb): string {
  let text = goFloatText(x, v.mode, v.prec);
  let sign = '';
  if (text.startsWith('-')) {
    sign = '-';
    text = text.slice(1);
  } else if (text.startsWith('+')) {
    sign = v.space ? ' ' : '+';
    text = text.slice(1);
  } else if (v.plus) sign = '+';
  else if (v.space) sign = ' ';
  const padding = Math.max(0, v.width - sign.length - text.length);
  if (v.zero && Number.isFinite(x)) return sign + '0'.repeat(padding) + text;
  if (v.minus) return sign + text + ' '.repeat(padding);
  return ' '.repeat(padding) + sign + text;
}

const RADIX: Record<string, number> = { b: 2, d: 10, o: 8, x: 16, X: 16 };
const PREFIX: Record<string, string> = { b: '0b', o: '0', x: '0x', X: '0X' };

/** An integer under %b %d %o %x %X, as Go's big.Int formatting renders it. */
export function goFormatInt(n: bigint, v: NumberVerb): string {
  let digits = (n < 0n ? -n : n).toString(RADIX[v.mode]!);
  if (v.mode === 'X') digits = digits.toUpperCase();
  const sign = n < 0n ? '-' : v.plus ? '+' : v.space ? ' ' : '';
  const prefix = v.sharp ? (PREFIX[v.mode] ?? '') : '';
  let zeros = 0;
  if (v.prec >= 0) {
    if (digits.length < v.prec) zeros = v.prec - digits.length;
    // Go prints nothing at all for zero with precision zero ("%.0d").
    else if (digits === '0' && v.prec === 0) return '';
  }
  let left = 0;
  let right = 0;
  const length = sign.length + prefix.length + zeros + digits.length;
  if (v.width > length) {
    const d = v.width - length;
    if (v.minus) right = d;
    else if (v.zero && v.prec < 0) zeros = d;
    else left = d;
  }
  return ' '.repeat(left) + sign + prefix + '0'.repeat(zeros) + digits + ' '.repeat(right);
}
