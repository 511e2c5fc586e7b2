/**
 * String functions. Lengths, offsets and reversal work on grapheme clusters and case mapping
 * on single code points, as cty (Go) does, so results match Packer for non-ASCII text too.
 */
import { T } from '../types.js';
import { Value } from '../value.js';
import { FunctionError, type FuncDef } from './define.js';
import { graphemes, invalidArg, stringList, wholeNumber } from './support.js';

const str = (name: string) => ({ name, type: T.string });
const num = (name: string) => ({ name, type: T.number });

/** Maps each code point on its own; a mapping that would expand one character (ß → SS) is not applied, as in Go. */
function mapRunes(s: string, f: (c: string) => string): string {
  let out = '';
  for (const c of s) {
    const m = f(c);
    out += [...m].length === 1 ? m : c;
  }
  return out;
}

// Title case differs from upper case only for the Latin digraphs (dž → Dž, not DŽ).
const DIGRAPH_TITLE: Record<string, string> = {
  '\u01C4': '\u01C5', '\u01C5': '\u01C5', '\u01C6': '\u01C5',
  '\u01C7': '\u01C8', '\u01C8': '\u01C8', '\u01C9': '\u01C8',
  '\u01CA': '\u01CB', '\u01CB': '\u01CB', '\u01CC': '\u01CB',
  '\u01F1': '\u01F2', '\u01F2': '\u01F2', '\u01F3': '\u01F2',
};

/** Go's word separator for strings.Title: ASCII punctuation and spaces, and Unicode spaces. */
function isSeparator(c: string): boolean {
  if (c.length === 1 && c.charCodeAt(0) <= 0x7f) return !/[0-9A-Za-z_]/.test(c);
  if (/[\p{L}\p{Nd}]/u.test(c)) return false;
  return SPACE.test(c);
}

// Go's unicode.IsSpace, which differs from JavaScript's \s (no U+FEFF, but U+0085).
const SPACE_CHARS = '\\t\\n\\v\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';
const SPACE = new RegExp(`^[${SPACE_CHARS}]$`);
const SPACE_EDGES = new RegExp(`^[${SPACE_CHARS}]+|[${SPACE_CHARS}]+$`, 'g');

export const STRING_FUNCTIONS: Record<string, FuncDef> = {
  join: {
    description: 'Concatenates the elements of one or more lists of strings with a separator.',
    params: [str('separator')],
    variadic: { name: 'lists', type: T.list(T.string) },
    returnType: T.string,
    impl([sep, ...lists]) {
      if (lists.length === 0) throw new FunctionError('at least one list is required');
      if (lists.some((l) => !l.isWhollyKnown)) return Value.unknown(T.string);
      const items: string[] = [];
      lists.forEach((list, li) => {
        list.elems().forEach((e, ei) => {
          if (e.isNull) {
            const where = lists.length > 1 ? `element ${ei} of list ${li + 1}` : `element ${ei}`;
            throw new FunctionError(`${where} is null; cannot concatenate null values`, li + 1);
          }
          items.push(e.str());
        });
      });
      return Value.string(items.join(sep!.str()));
    },
  },

  split: {
    description: 'Divides a string at every occurrence of a separator, giving a list of strings.',
    params: [str('separator'), str('str')],
    returnType: T.list(T.string),
    impl([sep, s]) {
      // Go splits around an empty separator into single characters (code points).
      const text = s!.str();
      const parts = sep!.str() === '' ? Array.from(text) : text.split(sep!.str());
      return stringList(parts);
    },
  },

  replace: {
    // Packer's replace is literal: unlike Terraform's, a "/…/" substring is not a regular
    // expression (regex_replace is), so a template replacing "/opt/" keeps working.
    description: 'Replaces every occurrence of a substring with another string.',
    params: [str('str'), str('substr'), str('replace')],
    returnType: T.string,
    impl([s, sub, rep]) {
      const text = s!.str();
      if (sub!.str() === '') {
        // Go inserts the replacement around every character when the substring is empty.
        return Value.string([rep!.str(), ...Array.from(text).flatMap((c) => [c, rep!.str()])].join(''));
      }
      return Value.string(text.split(sub!.str()).join(rep!.str()));
    },
  },

  lower: {
    description: 'Converts all letters in a string to lowercase.',
    params: [str('str')],
    returnType: T.string,
    impl: ([s]) => Value.string(mapRunes(s!.str(), (c) => c.toLowerCase())),
  },

  upper: {
    description: 'Converts all letters in a string to uppercase.',
    params: [str('str')],
    returnType: T.string,
    impl: ([s]) => Value.string(mapRunes(s!.str(), (c) => c.toUpperCase())),
  },

  title: {
    description: 'Converts the first letter of each word in a string to uppercase.',
    params: [str('str')],
    returnType: T.string,
    impl([s]) {
      let prev = ' ';
      let out = '';
      for (const c of s!.str()) {
        out += isSeparator(prev) ? (DIGRAPH_TITLE[c] ?? mapRunes(c, (x) => x.toUpperCase())) : c;
        prev = c;
      }
      return Value.string(out);
    },
  },

  trim: {
    description: 'Removes the given characters from the start and end of a string.',
    params: [str('str'), str('cutset')],
    returnType: T.string,
    impl([s, cutset]) {
      const cut = new Set(cutset!.str());
      const chars = Array.from(s!.str());
      let start = 0;
      let end = chars.length;
      while (start < end && cut.has(chars[start]!)) start++;
      while (end > start && cut.has(chars[end - 1]!)) end--;
      return Value.string(chars.slice(start, end).join(''));
    },
  },

  trimprefix: {
    description: 'Removes a prefix from a string, if it is there.',
    params: [str('str'), str('prefix')],
    returnType: T.string,
    impl([s, prefix]) {
      const text = s!.str();
      const p = prefix!.str();
      return Value.string(text.startsWith(p) ? text.slice(p.length) : text);
    },
  },

  trimsuffix: {
    description: 'Removes a suffix from a string, if it is there.',
    params: [str('str'), str('suffix')],
    returnType: T.string,
    impl([s, suffix]) {
      const text = s!.str();
      const p = suffix!.str();
      return Value.string(text.endsWith(p) ? text.slice(0, text.length - p.length) : text);
    },
  },

  trimspace: {
    description: 'Removes whitespace from the start and end of a string.',
    params: [str('str')],
    returnType: T.string,
    impl: ([s]) => Value.string(s!.str().replace(SPACE_EDGES, '')),
  },

  chomp: {
    description: 'Removes newline characters at the end of a string.',
    params: [str('str')],
    returnType: T.string,
    impl: ([s]) => Value.string(s!.str().replace(/(?:\r\n?|\n)*$/, '')),
  },

  indent: {
    description: 'Adds spaces to the start of every line of a string but the first.',
    params: [num('spaces'), str('str')],
    returnType: T.string,
    impl([spaces, s]) {
      const n = wholeNumber(spaces!, 'spaces', 0);
      if (n < 0) throw invalidArg('spaces', 0, 'must not be negative');
      return Value.string(s!.str().replaceAll('\n', `\n${' '.repeat(n)}`));
    },
  },

  substr: {
    description: 'Extracts part of a string by character offset and length (a negative offset counts from the end, length -1 means the rest).',
    params: [str('str'), num('offset'), num('length')],
    returnType: T.string,
    impl([s, offsetV, lengthV]) {
      const chars = graphemes(s!.str());
      let offset = wholeNumber(offsetV!, 'offset', 1);
      const length = wholeNumber(lengthV!, 'length', 2);
      // As cty: a negative offset counts back from the end; one still before the start means 0.
      if (offset < 0) offset = Math.max(0, offset + chars.length);
      if (length === 0 || offset >= chars.length) return Value.string('');
      const rest = chars.slice(offset);
      return Value.string((length < 0 ? rest : rest.slice(0, length)).join(''));
    },
  },

  strrev: {
    description: 'Reverses the characters of a string.',
    params: [str('str')],
    returnType: T.string,
    impl: ([s]) => Value.string(graphemes(s!.str()).reverse().join('')),
  },

  startswith: {
    description: 'Whether a string begins with the given prefix.',
    params: [str('str'), str('prefix')],
    returnType: T.bool,
    impl: ([s, p]) => Value.bool(s!.str().startsWith(p!.str())),
  },

  endswith: {
    description: 'Whether a string ends with the given suffix.',
    params: [str('str'), str('suffix')],
    returnType: T.bool,
    impl: ([s, p]) => Value.bool(s!.str().endsWith(p!.str())),
  },

  strcontains: {
    description: 'Whether a string contains the given substring.',
    params: [str('str'), str('substr')],
    returnType: T.bool,
    impl: ([s, p]) => Value.bool(s!.str().includes(p!.str())),
  },
};
