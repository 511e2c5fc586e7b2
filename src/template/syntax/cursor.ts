/**
 * The parser's view of the token list: lookahead that skips comments, and newlines too where
 * they mean nothing (inside parentheses, brackets, template sequences and `for` expressions);
 * the nesting guard; and diagnostics.
 */
import type { Diagnostic, SourceRange } from '../../core/errors/diagnostic.js';
import { error } from '../../core/errors/diagnostic.js';
import type { Token, TokenKind } from './lexer.js';

/** Deeper nesting than this is refused, instead of overflowing the stack on hostile input. */
export const MAX_NESTING = 128;

/** Unwinds the parser to its entry point once nesting is too deep (reported once). */
export class TooDeep extends Error {}

export class TokenCursor {
  protected p = 0;
  /** True while newlines are insignificant. */
  protected skipNewlines = false;
  private depth = 0;
  readonly diags: Diagnostic[] = [];

  constructor(
    protected readonly toks: readonly Token[],
    protected readonly filename: string,
  ) {}

  /** The next token, comments skipped but newlines kept. */
  protected peekRaw(): Token {
    let q = this.p;
    while (this.toks[q]!.kind === 'comment') q++;
    return this.toks[q]!;
  }

  /** The next significant token. */
  protected peek(): Token {
    let q = this.p;
    for (;;) {
      const t = this.toks[q]!;
      if (t.kind === 'comment' || (t.kind === 'newline' && this.skipNewlines)) q++;
      else return t;
    }
  }

  /** The significant token after the next one. */
  protected peekSecond(): Token {
    let q = this.p;
    let seen = 0;
    for (;;) {
      const t = this.toks[q]!;
      if (t.kind === 'eof') return t;
      q++;
      if (t.kind === 'comment' || (t.kind === 'newline' && this.skipNewlines)) continue;
      if (seen++ === 1) return t;
    }
  }

  protected next(): Token {
    for (;;) {
      const t = this.toks[this.p]!;
      if (t.kind !== 'eof') this.p++;
      if (t.kind === 'comment' || (t.kind === 'newline' && this.skipNewlines)) continue;
      return t;
    }
  }

  protected is(kind: TokenKind, text?: string): boolean {
    const t = this.peek();
    return t.kind === kind && (text === undefined || t.text === text);
  }

  protected accept(kind: TokenKind, text?: string): Token | undefined {
    return this.is(kind, text) ? this.next() : undefined;
  }

  protected fail(summary: string, detail: string, range: SourceRange): void {
    this.diags.push(error(summary, detail, range));
  }

  protected expect(kind: TokenKind, summary: string, detail: string): Token | undefined {
    const t = this.accept(kind);
    if (!t) this.fail(summary, detail, this.peek().range);
    return t;
  }

  /** Sets whether newlines are skipped; returns the previous setting for `restoreNewlines`. */
  protected newlines(skip: boolean): boolean {
    const saved = this.skipNewlines;
    this.skipNewlines = skip;
    return saved;
  }

  protected restoreNewlines(saved: boolean): void {
    this.skipNewlines = saved;
  }

  /** One level deeper into nested constructs; throws TooDeep (after reporting) past the limit. */
  protected enter(at: SourceRange): void {
    if (++this.depth > MAX_NESTING) {
      this.fail(
        'Too deeply nested',
        `This is nested more than ${MAX_NESTING} levels deep, which is more than any real configuration needs; parsing stops here. Flatten the structure, for example with locals.`,
        at,
      );
      throw new TooDeep();
    }
  }

  protected leave(): void {
    this.depth--;
  }

  /** After TooDeep: the cursor skips to the end so nothing more is parsed or reported. */
  protected abandon(): void {
    this.p = this.toks.length - 1;
    this.depth = 0;
  }
}

export function describeToken(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'the end of the file';
    case 'newline':
      return 'the end of the line';
    case 'cbrace':
      return 'a closing brace';
    case 'cbrack':
      return 'a closing bracket';
    case 'cparen':
      return 'a closing parenthesis';
    case 'equal':
      return 'an equals sign';
    case 'oquote':
      return 'a quoted string';
    case 'oheredoc':
      return 'a heredoc';
    case 'tmplEnd':
      return 'the end of the template sequence';
    default:
      return `"${t.text}"`;
  }
}
