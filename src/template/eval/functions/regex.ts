/**
 * Regular-expression functions with RE2 syntax (translated by re2.ts). As in cty, the result
 * of a match is a string without capture groups, a tuple of strings for unnamed groups and an
 * object for named ones; a group that took no part in the match is a null string.
 */
import { T, type Type } from '../types.js';
import { Value } from '../value.js';
import { FunctionError, type FuncDef } from './define.js';
import { compileRE2, findAll, PatternError, type CompiledPattern, type Match } from './re2.js';
import { invalidArg } from './support.js';

function compile(pattern: string, param: string, index: number): CompiledPattern {
  try {
    return compileRE2(pattern);
  } catch (err) {
    if (err instanceof PatternError) throw invalidArg(param, index, `invalid regular expression: ${err.message}`);
    throw err;
  }
}

/** The type one match produces, which depends only on the pattern's groups. */
function matchType(p: CompiledPattern): Type {
  const named = p.groups.filter((g) => g !== undefined);
  if (p.groups.length === 0) return T.string;
  if (named.length > 0 && named.length < p.groups.length) {
    throw invalidArg('pattern', 0, 'invalid regular expression: cannot mix both named and unnamed capture groups');
  }
  if (named.length === 0) return T.tuple(p.groups.map(() => T.string));
  return T.object(new Map(named.map((n) => [n, T.string] as const)));
}

function matchValue(p: CompiledPattern, m: Match, type: Type): Value {
  const group = (i: number): Value => {
    const g = m.groups[i + 1];
    return g === undefined ? Value.null(T.string) : Value.string(g);
  };
  if (type.kind === 'string') return Value.string(m.groups[0]!);
  if (type.kind === 'tuple') return Value.tuple(p.groups.map((_, i) => group(i)));
  return Value.object(new Map(p.groups.map((name, i) => [name!, group(i)] as const)));
}

/**
 * Go's Regexp.Expand: `$1`, `${1}`, `$name`, `${name}` insert groups (missing ones insert
 * nothing), `$$` is a dollar sign, and a `$` not followed by a name is kept as is. Unlike
 * JavaScript's replace, `$1W` names a group called "1W".
 */
function expand(template: string, p: CompiledPattern, m: Match): string {
  let out = '';
  let rest = template;
  for (;;) {
    const at = rest.indexOf('$');
    if (at < 0) break;
    out += rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (rest.startsWith('$')) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    const ref = /^(?:\{([\p{L}\p{Nd}_]+)\}|([\p{L}\p{Nd}_]+))/u.exec(rest);
    if (!ref) {
      out += '$';
      continue;
    }
    rest = rest.slice(ref[0].length);
    const name = ref[1] ?? ref[2]!;
    const num = /^(0|[1-9][0-9]{0,7})$/.test(name) ? Number(name) : -1;
    const index = num >= 0 ? num : p.groups.indexOf(name) + 1;
    if (index > 0 || num === 0) out += m.groups[index] ?? '';
  }
  return out + rest;
}

/** Go's ReplaceAllString, including how it treats empty matches next to other matches. */
function replaceAll(p: CompiledPattern, s: string, template: string): string {
  let out = '';
  let lastEnd = 0;
  let searchPos = 0;
  while (searchPos <= s.length) {
    p.regex.lastIndex = searchPos;
    const found = p.regex.exec(s);
    if (!found) break;
    const m: Match = { index: found.index, end: found.index + found[0].length, groups: [...found] };
    out += s.slice(lastEnd, m.index);
    // No replacement for an empty match right after another match.
    if (m.end > lastEnd || m.index === 0) out += expand(template, p, m);
    lastEnd = m.end;
    const width = searchPos < s.length ? (s.codePointAt(searchPos)! > 0xffff ? 2 : 1) : 0;
    if (searchPos + width > m.end) searchPos += width;
    else if (searchPos + 1 > m.end) searchPos++;
    else searchPos = m.end;
  }
  return out + s.slice(lastEnd);
}

export const REGEX_FUNCTIONS: Record<string, FuncDef> = {
  regex: {
    description: 'Applies an RE2 regular expression to a string and returns the first match (a tuple or object for capture groups).',
    params: [{ name: 'pattern', type: T.string }, { name: 'string', type: T.string }],
    impl([pattern, s]) {
      const p = compile(pattern!.str(), 'pattern', 0);
      const type = matchType(p);
      const [m] = findAll(p, s!.str(), 1);
      if (!m) throw new FunctionError('pattern did not match any part of the given string', 1);
      return matchValue(p, m, type);
    },
  },

  regexall: {
    description: 'Applies an RE2 regular expression to a string and returns a list of all matches.',
    params: [{ name: 'pattern', type: T.string }, { name: 'string', type: T.string }],
    impl([pattern, s]) {
      const p = compile(pattern!.str(), 'pattern', 0);
      const type = matchType(p);
      return Value.list(findAll(p, s!.str()).map((m) => matchValue(p, m, type)), type);
    },
  },

  regex_replace: {
    description: 'Replaces every match of an RE2 regular expression; $1, ${1} and ${name} insert capture groups.',
    params: [{ name: 'str', type: T.string }, { name: 'pattern', type: T.string }, { name: 'replace', type: T.string }],
    returnType: T.string,
    impl([s, pattern, rep]) {
      const p = compile(pattern!.str(), 'pattern', 1);
      return Value.string(replaceAll(p, s!.str(), rep!.str()));
    },
  },
};
