/**
 * The lexer's tokens as formatting sees them: source text plus the number of spaces to write
 * before each. Formatting only ever changes those spaces; token text is written back as it was,
 * so string contents, heredoc lines and comments come out byte for byte.
 */
import type { Token, TokenKind } from '../syntax/lexer.js';

export interface FmtToken {
  kind: TokenKind;
  text: string;
  /** Spaces written before the token. */
  spaces: number;
}

/**
 * Drops what is not text (the empty newline the lexer adds after a line comment, which already
 * holds its newline) and a byte order mark; the end of input keeps the blanks before it, written
 * as spaces, which is what `packer fmt` does.
 */
export function fmtTokens(tokens: readonly Token[], src: string): { tokens: FmtToken[]; trailing: number } {
  const out: FmtToken[] = [];
  let prevEnd = src.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (const t of tokens) {
    if (t.kind === 'eof') return { tokens: out, trailing: Math.max(0, t.range.start.byte - prevEnd) };
    prevEnd = t.range.end.byte;
    if (t.kind === 'newline' && t.text === '') continue;
    out.push({ kind: t.kind, text: t.text, spaces: 0 });
  }
  return { tokens: out, trailing: 0 };
}

/** +1 for tokens that open a nesting level, -1 for those that close one. */
export function bracketChange(t: FmtToken): number {
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

/** Tokens that end a line: newlines, and line comments (which include their newline). */
export function endsLine(t: FmtToken): boolean {
  return t.kind === 'newline' || (t.kind === 'comment' && t.text.endsWith('\n'));
}
