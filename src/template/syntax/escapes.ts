/** Backslash escapes of HCL quoted strings: `\n \r \t \" \\ \uNNNN \UNNNNNNNN`. */

const SIMPLE: Partial<Record<string, string>> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/**
 * Decodes the escape starting with the backslash at `i`. `length` is how much source text it
 * used; on error `value` is empty and `error` says what is wrong (worded as HCL does).
 */
export function decodeEscape(s: string, i: number): { value: string; length: number; error?: string } {
  const sel = s[i + 1];
  if (sel === undefined || sel === '\n' || sel === '\r') {
    return { value: '', length: 1, error: 'A backslash must be followed by an escape sequence selector; to write a backslash, double it (\\\\).' };
  }
  const simple = SIMPLE[sel];
  if (simple !== undefined) return { value: simple, length: 2 };
  if (sel === 'u' || sel === 'U') {
    const want = sel === 'u' ? 4 : 8;
    let n = 0;
    while (n < want && isHex(s.charCodeAt(i + 2 + n))) n++;
    if (n < want) {
      return { value: '', length: 2 + n, error: `The escape sequence \\${sel} must be followed by exactly ${want} hexadecimal digits (\\${sel}${'0'.repeat(want - 1)}A).` };
    }
    const hex = s.slice(i + 2, i + 2 + want);
    const cp = parseInt(hex, 16);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return { value: '', length: 2 + want, error: `Cannot encode character U+${hex.toUpperCase()}: it is not a valid Unicode code point.` };
    }
    return { value: String.fromCodePoint(cp), length: 2 + want };
  }
  const len = s.codePointAt(i + 1)! > 0xffff ? 3 : 2;
  return {
    value: '',
    length: len,
    error: `The symbol "${s.slice(i + 1, i + len)}" is not a valid escape sequence selector. Valid escapes are \\n, \\r, \\t, \\", \\\\, \\uNNNN and \\UNNNNNNNN; to write a backslash, double it (\\\\).`,
  };
}
