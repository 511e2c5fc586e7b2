/**
 * Character classes of the HCL native syntax, on UTF-16 code units with an ASCII fast path: the
 * lexer calls these for every character, and Unicode property regexes are slow enough to show up
 * in a profile when run per character.
 */

const ID_START = /^[\p{ID_Start}_]$/u;
const ID_CONTINUE = /^[\p{ID_Continue}\p{Mn}\p{Mc}]$/u;

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isAsciiLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

/** A character that may begin an identifier: a Unicode ID_Start letter or `_`. */
export function isIdentStartAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (c < 128) return isAsciiLetter(c) || c === 95;
  return ID_START.test(String.fromCodePoint(s.codePointAt(i)!));
}

/** A character that may continue an identifier: ID_Continue, `_` and (unlike most languages) `-`. */
export function isIdentPartAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (c < 128) return isAsciiLetter(c) || isDigit(c) || c === 95 || c === 45;
  return ID_CONTINUE.test(String.fromCodePoint(s.codePointAt(i)!));
}

/** UTF-16 length of the character starting at `i` (2 for a surrogate pair). */
export function charLength(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 2;
  }
  return 1;
}

/** Index just past an identifier starting at `i` (which must be an identifier start). */
export function scanIdent(s: string, i: number): number {
  let j = i + charLength(s, i);
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (c < 128) {
      if (isAsciiLetter(c) || isDigit(c) || c === 95 || c === 45) {
        j++;
        continue;
      }
      break;
    }
    if (!isIdentPartAt(s, j)) break;
    j += charLength(s, j);
  }
  return j;
}

/** Index just past a number (`1`, `1.5`, `1e3`, `1.5E-3`) starting at digit `i`. */
export function scanNumber(s: string, i: number): number {
  let j = i;
  while (j < s.length && isDigit(s.charCodeAt(j))) j++;
  // A fraction needs digits after the dot: `1.` is a number then a dot, as in HCL.
  if (s.charCodeAt(j) === 46 && isDigit(s.charCodeAt(j + 1))) {
    j += 2;
    while (j < s.length && isDigit(s.charCodeAt(j))) j++;
  }
  const e = s.charCodeAt(j);
  if (e === 101 || e === 69) {
    let k = j + 1;
    const sign = s.charCodeAt(k);
    if (sign === 43 || sign === 45) k++;
    if (isDigit(s.charCodeAt(k))) {
      j = k;
      while (j < s.length && isDigit(s.charCodeAt(j))) j++;
    }
  }
  return j;
}

/** How a character is named in an "Invalid character" message. */
export function describeChar(s: string, i: number): string {
  const cp = s.codePointAt(i)!;
  if (cp === 9) return 'a tab';
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  if (cp < 32 || cp === 127) return `the control character ${hex}`;
  if (cp === 0xfeff) return `a byte order mark (${hex})`;
  if (cp < 128) return `"${String.fromCodePoint(cp)}"`;
  return `"${String.fromCodePoint(cp)}" (${hex})`;
}
