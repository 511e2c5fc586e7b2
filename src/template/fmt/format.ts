/**
 * `kiln fmt`: the canonical layout `packer fmt` writes. Only whitespace between tokens changes:
 * indentation by bracket nesting (two spaces a level), one space or none between tokens by the
 * kind of their neighbours, and `=` signs and trailing comments aligned across consecutive
 * lines. Literal text inside strings and heredocs is kept byte for byte.
 */
import type { Diagnostic } from '../../core/errors/diagnostic.js';
import { lex, type Token, type TokenKind } from '../syntax/lexer.js';
import { parseHCL } from '../syntax/parser.js';

interface FTok {
  kind: TokenKind;
  text: string;
  /** Spaces to write before the token. */
  spaces: number;
}

interface Line {
  lead: FTok[];
  assign: FTok[] | undefined;
  comment: FTok[] | undefined;
}

export function formatHCL(text: string, filename: string): { output: string; diagnostics: Diagnostic[] } {
  const parsed = parseHCL(text, filename);
  if (parsed.diagnostics.some((d) => d.severity === 'error')) return { output: text, diagnostics: parsed.diagnostics };
  const toks = formatTokens(lex(text, filename).tokens, text);
  const lines = splitLines(toks);
  indent(lines);
  space(lines);
  align(lines);
  let out = '';
  for (const l of lines) for (const t of [...l.lead, ...(l.assign ?? []), ...(l.comment ?? [])]) out += ' '.repeat(t.spaces) + t.text;
  return { output: out, diagnostics: [] };
}

/** The lexer's tokens as formatting sees them: raw text, strip markers merged into their brackets. */
function formatTokens(tokens: readonly Token[], src: string): FTok[] {
  const out: FTok[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'eof') break;
    // A line comment already ends its line; the lexer's zero-width newline after it is not text.
    if (t.kind === 'newline' && t.text === '') continue;
    const raw = src.slice(t.range.start.byte, t.range.end.byte);
    if (t.kind === 'strip') {
      const prev = out[out.length - 1];
      const next = tokens[i + 1];
      if (prev && (prev.kind === 'interp' || prev.kind === 'control') && !prev.text.endsWith('~')) prev.text += '~';
      else if (next?.kind === 'tmplEnd') {
        out.push({ kind: 'tmplEnd', text: '~}', spaces: 0 });
        i++;
      }
      continue;
    }
    out.push({ kind: t.kind, text: t.kind === 'newline' ? '\n' : raw, spaces: 0 });
  }
  return out;
}

function endsLine(t: FTok): boolean {
  return t.kind === 'newline' || (t.kind === 'comment' && t.text.endsWith('\n'));
}

function bracketChange(t: FTok): number {
  switch (t.kind) {
    case 'obrace':
    case 'obrack':
    case 'oparen':
    case 'interp':
    case 'control':
      return 1;
    case 'cbrace':
    case 'cbrack':
    case 'cparen':
    case 'tmplEnd':
      return -1;
    default:
      return 0;
  }
}

function splitLines(toks: readonly FTok[]): Line[] {
  const lines: Line[] = [];
  let cur: FTok[] = [];
  for (const t of toks) {
    cur.push(t);
    if (endsLine(t)) {
      lines.push({ lead: cur, assign: undefined, comment: undefined });
      cur = [];
    }
  }
  if (cur.length > 0) lines.push({ lead: cur, assign: undefined, comment: undefined });
  for (const line of lines) {
    const last = line.lead[line.lead.length - 1];
    if (line.lead.length > 1 && last?.kind === 'comment') {
      line.comment = [last];
      line.lead = line.lead.slice(0, -1);
    }
    // An `=` starts the assign cell only when the value closes on this line.
    const eq = line.lead.findIndex((t, i) => i > 0 && t.kind === 'equal');
    if (eq > 0 && line.lead.slice(eq).reduce((n, t) => n + bracketChange(t), 0) === 0) {
      line.assign = line.lead.slice(eq);
      line.lead = line.lead.slice(0, eq);
    }
  }
  return lines;
}

/**
 * Each line that opens more brackets than it closes pushes one indent level, remembering how
 * many it opened; closing brackets pop levels as they are used up. Lopsided input stays sane.
 */
function indent(lines: Line[]): void {
  const levels: number[] = [];
  for (const line of lines) {
    const first = line.lead[0];
    if (!first) continue;
    if (first.kind === 'newline') {
      first.spaces = 0;
      continue;
    }
    const net = [...line.lead, ...(line.assign ?? [])].reduce((n, t) => n + bracketChange(t), 0);
    if (net > 0) {
      first.spaces = 2 * levels.length;
      levels.push(net);
      continue;
    }
    let closed = -net;
    while (closed > 0 && levels.length > 0) {
      const top = levels[levels.length - 1]!;
      if (closed >= top) {
        levels.pop();
        closed -= top;
      } else {
        levels[levels.length - 1] = top - closed;
        closed = 0;
      }
    }
    first.spaces = 2 * levels.length;
  }
}

const NEGATION_CONTEXT = new Set(['oparen', 'obrace', 'obrack', 'equal', 'colon', 'comma', 'question']);

function isOp(t: FTok | undefined, ...ops: string[]): boolean {
  return t !== undefined && t.kind === 'op' && ops.includes(t.text);
}

/** Whether `subject` is followed by a space, given its neighbours. */
function spaceAfter(subject: FTok, before: FTok | undefined, after: FTok | undefined): boolean {
  if (!after || endsLine(after)) return false;
  if (subject.kind === 'ident' && after.kind === 'oparen') return false;
  if (subject.kind === 'dot' || after.kind === 'dot') return false;
  if (after.kind === 'comma' || after.kind === 'ellipsis') return false;
  if (subject.kind === 'comma') return true;
  // Nothing is added inside template text, nor between a quote/heredoc marker and its text.
  if (subject.kind === 'lit' || subject.kind === 'oquote' || subject.kind === 'oheredoc') return false;
  if (after.kind === 'lit' || after.kind === 'cquote' || after.kind === 'cheredoc') return false;
  // `in` after an identifier is the for keyword, even when a tuple follows: `in [a, b]`.
  if (subject.kind === 'ident' && subject.text === 'in' && before?.kind === 'ident') return true;
  if (after.kind === 'obrack' && (subject.kind === 'ident' || subject.kind === 'number' || bracketChange(subject) < 0)) return false;
  if (isOp(subject, '-')) {
    // A minus that cannot follow the end of an expression is a negation: no space after it.
    if (!before) return false;
    if (NEGATION_CONTEXT.has(before.kind)) return false;
    if (isOp(before, '+', '*', '/', '%', '-', '==', '!=', '>', '>=', '<', '<=', '&&', '||', '!')) return false;
    return true;
  }
  if (subject.kind === 'obrace' || after.kind === 'cbrace') return !(subject.kind === 'obrace' && after.kind === 'cbrace');
  if ((subject.kind === 'interp' || subject.kind === 'control') && after.kind === 'obrace') return true;
  if (subject.kind === 'cbrace' && after.kind === 'tmplEnd') return true;
  if (bracketChange(subject) > 0) return false;
  if (bracketChange(after) < 0) return false;
  return true;
}

function spaceCell(cell: FTok[]): void {
  cell.forEach((t, i) => {
    const after = cell[i + 1];
    if (after) after.spaces = spaceAfter(t, cell[i - 1], after) ? 1 : 0;
  });
}

function space(lines: Line[]): void {
  for (const line of lines) {
    spaceCell(line.lead);
    if (line.assign) {
      spaceCell(line.assign);
      line.assign[0]!.spaces = 1;
    }
  }
}

function columns(cell: readonly FTok[] | undefined): number {
  let n = 0;
  for (const t of cell ?? []) n += t.spaces + Array.from(t.text).length;
  return n;
}

/** Aligns `=` across runs of lines that have one, then trailing comments across runs that have one. */
function align(lines: Line[]): void {
  alignRuns(lines, (l) => l.assign, (l) => columns(l.lead));
  alignRuns(lines, (l) => l.comment, (l) => columns(l.lead) + columns(l.assign));
}

function alignRuns(lines: Line[], cell: (l: Line) => FTok[] | undefined, width: (l: Line) => number): void {
  let start = -1;
  let max = 0;
  const close = (end: number): void => {
    for (const l of lines.slice(start, end)) cell(l)![0]!.spaces = max - width(l) + 1;
    start = -1;
    max = 0;
  };
  lines.forEach((l, i) => {
    if (!cell(l)) {
      if (start !== -1) close(i);
      return;
    }
    if (start === -1) start = i;
    max = Math.max(max, width(l));
  });
  if (start !== -1) close(lines.length);
}
