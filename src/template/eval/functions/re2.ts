/**
 * Translates RE2 patterns (the syntax Packer documents for regex, regexall and regex_replace)
 * into JavaScript regular expressions with the same meaning: `(?P<name>…)` groups, leading
 * `(?imsU)` flags, `\A` `\z` `\Q…\E`, POSIX classes, ASCII-only `\s`, `.` and `^`/`$` that
 * treat only "\n" as a line break. Constructs RE2 rejects (backreferences, lookaround) or that
 * have no JavaScript equivalent (flag groups after the start) are rejected with a clear reason.
 */

export interface CompiledPattern {
  /** Global and unicode: callers search with lastIndex. */
  regex: RegExp;
  /** Capture group names in order; undefined for an unnamed group. */
  groups: (string | undefined)[];
}

/** Why a pattern cannot be used; the message is the reason alone. */
export class PatternError extends Error {}

type Range = readonly [number, number];

const POSIX: Record<string, Range[]> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0x00, 0x7f]],
  blank: [[0x09, 0x09], [0x20, 0x20]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[0x09, 0x0d], [0x20, 0x20]],
  upper: [[0x41, 0x5a]],
  word: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a], [0x5f, 0x5f]],
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};

// RE2's \s is ASCII whitespace without \v.
const SPACE: Range[] = [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]];

function complement(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= 0x10ffff) out.push([next, 0x10ffff]);
  return out;
}

/** A code point as it may appear anywhere in a /u pattern, in or out of a class. */
function lit(cp: number): string {
  const c = String.fromCodePoint(cp);
  return /[\p{L}\p{N}_ ]/u.test(c) ? c : `\\u{${cp.toString(16)}}`;
}

const rangesBody = (ranges: readonly Range[]): string => ranges.map(([lo, hi]) => (lo === hi ? lit(lo) : `${lit(lo)}-${lit(hi)}`)).join('');

/** An escape that stands for a set of characters: its text inside a class, or undefined. */
type ClassEscape = { body: string };

class Translator {
  private i = 0;
  private out = '';
  private depth = 0;
  private readonly groups: (string | undefined)[] = [];
  private flags = { i: false, m: false, s: false, U: false };
  /** True until something other than a leading flag group has been read. */
  private atStart = true;

  constructor(private readonly src: string) {}

  run(): CompiledPattern {
    while (this.i < this.src.length) this.term();
    if (this.depth > 0) throw new PatternError(`missing closing ): \`${this.src}\``);
    let regex: RegExp;
    try {
      regex = new RegExp(this.out, `gu${this.flags.i ? 'i' : ''}`);
    } catch (err) {
      throw new PatternError((err as Error).message.replace(/^.*: /, '').toLowerCase());
    }
    return { regex, groups: this.groups };
  }

  private cp(at = this.i): number {
    return this.src.codePointAt(at)!;
  }

  private advance(): number {
    const c = this.cp();
    this.i += c > 0xffff ? 2 : 1;
    return c;
  }

  private term(): void {
    const c = this.src[this.i]!;
    if (!(c === '(' && this.src[this.i + 1] === '?')) this.atStart = false;
    switch (c) {
      case '\\': {
        const esc = this.escape(false);
        this.out += typeof esc === 'number' ? lit(esc) : esc;
        return;
      }
      case '(':
        return this.group();
      case ')':
        if (this.depth === 0) throw new PatternError(`unexpected ): \`${this.src}\``);
        this.depth--;
        this.i++;
        this.out += ')';
        return;
      case '[':
        return this.charClass();
      case '*':
      case '+':
      case '?':
        this.i++;
        return this.quantifier(c);
      case '{': {
        const m = /^\{(\d+)(?:,(\d*))?\}/.exec(this.src.slice(this.i));
        if (!m) break;
        if (Number(m[1]) > 1000 || (m[2] !== undefined && m[2] !== '' && (Number(m[2]) > 1000 || Number(m[2]) < Number(m[1])))) {
          throw new PatternError(`invalid repeat count: \`${m[0]}\``);
        }
        this.i += m[0].length;
        return this.quantifier(m[0]);
      }
      case '.':
        this.i++;
        // RE2's dot stops only at "\n"; JavaScript's also at "\r", U+2028 and U+2029.
        this.out += this.flags.s ? '[\\s\\S]' : '[^\\n]';
        return;
      case '^':
        this.i++;
        this.out += this.flags.m ? '(?<![^\\n])' : '^';
        return;
      case '$':
        this.i++;
        this.out += this.flags.m ? '(?![^\\n])' : '$';
        return;
      case '|':
        this.i++;
        this.out += '|';
        return;
    }
    this.out += lit(this.advance());
  }

  private quantifier(q: string): void {
    let lazy = false;
    if (this.src[this.i] === '?') {
      lazy = true;
      this.i++;
    }
    // The U flag swaps greedy and lazy repetition.
    if (this.flags.U) lazy = !lazy;
    this.out += q + (lazy ? '?' : '');
  }

  private group(): void {
    const rest = this.src.slice(this.i);
    const named = /^\(\?P?<([^>]*)>/.exec(rest);
    if (named && !/^\(\?<[=!]/.test(rest)) {
      const name = named[1]!;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new PatternError(`invalid named capture: \`${named[0]}\``);
      this.i += named[0].length;
      this.out += `(?<${name}>`;
      this.groups.push(name);
      this.depth++;
      this.atStart = false;
      return;
    }
    if (rest.startsWith('(?:')) {
      this.atStart = false;
      this.i += 3;
      this.out += '(?:';
      this.depth++;
      return;
    }
    const flags = /^\(\?([imsU]*)(?:-([imsU]*))?([:)])/.exec(rest);
    if (flags && (flags[1] !== '' || (flags[2] ?? '') !== '')) {
      if (flags[3] === ':' || !this.atStart) {
        throw new PatternError(`flag groups are only supported at the start of the pattern, as in "(?i)abc": \`${flags[0]}\``);
      }
      for (const f of flags[1]!) this.flags[f as keyof Translator['flags']] = true;
      for (const f of flags[2] ?? '') this.flags[f as keyof Translator['flags']] = false;
      this.i += flags[0].length;
      return;
    }
    if (rest.startsWith('(?')) {
      throw new PatternError(`invalid or unsupported Perl syntax: \`${rest.slice(0, 3)}\``);
    }
    this.i++;
    this.out += '(';
    this.groups.push(undefined);
    this.depth++;
  }

  /**
   * Reads an escape at this.i (a backslash). Gives a code point, a class escape (inside a
   * bracket expression) or the JavaScript text for it outside one.
   */
  private escape(inClass: true): number | ClassEscape;
  private escape(inClass: false): number | string;
  private escape(inClass: boolean): number | string | ClassEscape {
    const start = this.i;
    this.i++;
    if (this.i >= this.src.length) throw new PatternError('trailing backslash at end of expression');
    const c = this.src[this.i]!;
    const bad = (): PatternError => new PatternError(`invalid escape sequence: \`${this.src.slice(start, this.i + 1)}\``);
    const cls = (body: string, outside: string): string | ClassEscape => {
      this.i++;
      return inClass ? { body } : outside;
    };
    if (/[0-7]/.test(c)) {
      // A lone non-zero digit would be a backreference, which RE2 does not support.
      if (c !== '0' && !/[0-7]/.test(this.src[this.i + 1] ?? '')) throw bad();
      const m = /^[0-7]{1,3}/.exec(this.src.slice(this.i))![0];
      this.i += m.length;
      return parseInt(m, 8);
    }
    switch (c) {
      case 'x': {
        const m = /^x(?:\{([0-9A-Fa-f]{1,6})\}|([0-9A-Fa-f]{2}))/.exec(this.src.slice(this.i));
        const cp = m ? parseInt(m[1] ?? m[2]!, 16) : NaN;
        if (!m || cp > 0x10ffff) throw bad();
        this.i += m[0].length;
        return cp;
      }
      case 'a': this.i++; return 0x07;
      case 'f': this.i++; return 0x0c;
      case 'n': this.i++; return 0x0a;
      case 'r': this.i++; return 0x0d;
      case 't': this.i++; return 0x09;
      case 'v': this.i++; return 0x0b;
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        return cls(`\\${c}`, `\\${c}`);
      case 's':
        return cls(rangesBody(SPACE), `[${rangesBody(SPACE)}]`);
      case 'S':
        return cls(rangesBody(complement(SPACE)), `[^${rangesBody(SPACE)}]`);
      case 'p':
      case 'P': {
        const m = /^[pP](?:\{(\^?)([A-Za-z_]+)\}|([A-Za-z]))/.exec(this.src.slice(this.i));
        if (!m) throw bad();
        this.i += m[0].length;
        const negated = (c === 'P') !== (m[1] === '^');
        const name = m[2] ?? m[3]!;
        // One- and two-letter names are general categories; longer ones are scripts.
        const prop = name.length <= 2 || name === 'Any' ? name : `Script=${name}`;
        const text = `\\${negated ? 'P' : 'p'}{${prop}}`;
        return inClass ? { body: text } : text;
      }
      case 'b':
      case 'B':
        if (inClass) throw bad();
        this.i++;
        return `\\${c}`;
      case 'A':
        if (inClass) throw bad();
        this.i++;
        return '(?<![\\s\\S])';
      case 'z':
        if (inClass) throw bad();
        this.i++;
        return '(?![\\s\\S])';
      case 'Q': {
        const end = this.src.indexOf('\\E', this.i + 1);
        const text = this.src.slice(this.i + 1, end < 0 ? undefined : end);
        this.i = end < 0 ? this.src.length : end + 2;
        const chars = Array.from(text, (ch) => lit(ch.codePointAt(0)!));
        return inClass ? { body: chars.join('') } : chars.join('');
      }
    }
    const cp = this.cp();
    // Any ASCII punctuation may be escaped to stand for itself.
    if (cp < 0x80 && !/[0-9A-Za-z_]/.test(c)) {
      this.i++;
      return cp;
    }
    throw bad();
  }

  private charClass(): void {
    const start = this.i;
    this.i++;
    let body = '';
    let negated = false;
    if (this.src[this.i] === '^') {
      negated = true;
      this.i++;
    }
    const unclosed = (): PatternError => new PatternError(`missing closing ]: \`${this.src.slice(start)}\``);
    let first = true;
    for (;;) {
      if (this.i >= this.src.length) throw unclosed();
      if (this.src[this.i] === ']' && !first) {
        this.i++;
        break;
      }
      first = false;
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.i));
      if (posix) {
        const ranges = POSIX[posix[2]!];
        if (!ranges) throw new PatternError(`invalid character class range: \`${posix[0]}\``);
        body += rangesBody(posix[1] === '^' ? complement(ranges) : ranges);
        this.i += posix[0].length;
        continue;
      }
      const lo = this.classAtom();
      if (typeof lo !== 'number') {
        body += lo.body;
        continue;
      }
      if (this.src[this.i] === '-' && this.i + 1 < this.src.length && this.src[this.i + 1] !== ']') {
        this.i++;
        const hi = this.classAtom();
        if (typeof hi !== 'number' || hi < lo) throw new PatternError(`invalid character class range: \`${this.src.slice(start, this.i)}\``);
        body += `${lit(lo)}-${lit(hi)}`;
      } else body += lit(lo);
    }
    this.out += `[${negated ? '^' : ''}${body}]`;
  }

  private classAtom(): number | ClassEscape {
    if (this.src[this.i] === '\\') return this.escape(true);
    return this.advance();
  }
}

export function compileRE2(pattern: string): CompiledPattern {
  return new Translator(pattern).run();
}

export interface Match {
  index: number;
  end: number;
  /** The whole match, then each group (undefined when it did not take part). */
  groups: (string | undefined)[];
}

/**
 * Every non-overlapping match, as Go's FindAll finds them: an empty match right where the
 * previous match ended is skipped (JavaScript's matchAll would keep it).
 */
export function findAll(p: CompiledPattern, s: string, limit = Infinity): Match[] {
  const out: Match[] = [];
  let pos = 0;
  let prevEnd = -1;
  while (out.length < limit && pos <= s.length) {
    p.regex.lastIndex = pos;
    const m = p.regex.exec(s);
    if (!m) break;
    const index = m.index;
    const end = index + m[0].length;
    let accept = true;
    if (end === pos) {
      if (index === prevEnd) accept = false;
      pos += pos < s.length ? (s.codePointAt(pos)! > 0xffff ? 2 : 1) : 1;
    } else pos = end;
    prevEnd = end;
    if (accept) out.push({ index, end, groups: [...m] });
  }
  return out;
}
