/**
 * The HCL native-syntax lexer. HCL is context-sensitive: inside quotes and heredocs the text is
 * a template, inside `${ … }` and `%{ … }` it is an expression again. The lexer keeps a mode
 * stack for that and hands out one flat token list. Comments and newlines are tokens too: the
 * parser needs newlines (they end arguments) and `fmt` needs both. Every character of the input
 * belongs to exactly one token or to the whitespace between tokens, so `fmt` can rebuild a file.
 */
import type { Diagnostic, Pos, SourceRange } from '../../core/errors/diagnostic.js';
import { error } from '../../core/errors/diagnostic.js';
import { charLength, describeChar, isDigit, isIdentStartAt, scanIdent, scanNumber } from './chars.js';
import { decodeEscape } from './escapes.js';
import { LineTracker, type PositionSource } from './positions.js';

export type TokenKind =
  | 'ident'
  | 'number'
  | 'oquote' // opening "
  | 'cquote' // closing "
  | 'lit' // literal template text; `value` has escapes decoded
  | 'interp' // ${ (or ${~ : strip)
  | 'control' // %{ (or %{~ : strip)
  | 'tmplEnd' // } closing an interpolation or directive (or ~} : strip)
  | 'oheredoc' // <<EOT or <<-EOT, including the newline after it
  | 'cheredoc' // the closing marker line (leading whitespace + marker + trailing blanks)
  | 'obrace'
  | 'cbrace'
  | 'obrack'
  | 'cbrack'
  | 'oparen'
  | 'cparen'
  | 'comma'
  | 'dot'
  | 'ellipsis'
  | 'colon'
  | 'question'
  | 'equal'
  | 'fatArrow'
  | 'op' // + - * / % == != < <= > >= && || !
  | 'newline' // `\n` or `\r\n`; empty text right after a line comment (which ate the newline)
  | 'comment' // a line comment includes its newline, as in HCL
  | 'invalid'
  | 'eof';

export interface Token {
  kind: TokenKind;
  /** Source text of the token. */
  text: string;
  /** Decoded value: literal text with escapes resolved; the heredoc marker name. */
  value?: string;
  /** `<<-` heredocs strip indentation. */
  flush?: boolean;
  /** `${~`, `%{~` and `~}`: trim whitespace from the neighbouring literal text. */
  strip?: boolean;
  range: SourceRange;
}

type Mode =
  | { kind: 'expr'; braces: number }
  | { kind: 'quoted'; open: number }
  | { kind: 'heredoc'; marker: string; open: number }
  /** A whole text that is a template (templatefile, JSON strings): ends only at end of input. */
  | { kind: 'template' };

const PUNCT: Partial<Record<number, TokenKind>> = {
  0x7b: 'obrace',
  0x7d: 'cbrace',
  0x5b: 'obrack',
  0x5d: 'cbrack',
  0x28: 'oparen',
  0x29: 'cparen',
  0x2c: 'comma',
  0x3a: 'colon',
  0x3f: 'question',
};

/** = ! < > & | + - * / % . ~ */
const OPERATOR_CHARS = new Set([0x3d, 0x21, 0x3c, 0x3e, 0x26, 0x7c, 0x2b, 0x2d, 0x2a, 0x2f, 0x25, 0x2e, 0x7e]);

const HEREDOC_OPEN = /<<(-?)([\p{ID_Start}_][\p{ID_Continue}_-]*)/uy;

export class Lexer {
  private i = 0;
  private readonly tokens: Token[] = [];
  private readonly modes: Mode[];
  readonly diags: Diagnostic[] = [];
  private readonly positions: PositionSource;

  constructor(
    private readonly src: string,
    private readonly filename: string,
    start?: Pos | PositionSource,
    template = false,
  ) {
    this.positions = start && 'at' in start ? start : new LineTracker(src, start);
    this.modes = [template ? { kind: 'template' } : { kind: 'expr', braces: 0 }];
    // A byte order mark is not content (editors on Windows add one).
    if (src.charCodeAt(0) === 0xfeff) this.i = 1;
  }

  private pos(offset: number): Pos {
    return this.positions.at(offset);
  }

  private range(from: number, to: number): SourceRange {
    return { filename: this.filename, start: this.pos(from), end: this.pos(to) };
  }

  private push(kind: TokenKind, from: number, to: number): Token {
    const t: Token = { kind, text: this.src.slice(from, to), range: this.range(from, to) };
    this.tokens.push(t);
    return t;
  }

  private fail(summary: string, detail: string, subject: SourceRange): void {
    this.diags.push(error(summary, detail, subject));
  }

  private get mode(): Mode {
    return this.modes[this.modes.length - 1]!;
  }

  tokenize(): Token[] {
    while (this.i < this.src.length) {
      const m = this.mode;
      if (m.kind === 'expr') this.lexExpr(m);
      else if (m.kind === 'quoted') this.lexQuoted();
      else this.lexTemplateText(m.kind === 'heredoc' ? m : undefined);
    }
    this.reportUnclosed();
    this.push('eof', this.src.length, this.src.length);
    return this.tokens;
  }

  /** At end of input: the innermost construct still open is the one to report. */
  private reportUnclosed(): void {
    for (let k = this.modes.length - 1; k > 0; k--) {
      const m = this.modes[k]!;
      if (m.kind === 'quoted') {
        this.fail('Unterminated template string', 'No closing quote mark was found for this string before the end of the file.', this.tokens[m.open]!.range);
        return;
      }
      if (m.kind === 'heredoc') {
        const detail = `No closing marker "${m.marker}" was found for this heredoc. The marker must be alone on its line (indentation allowed) and followed by a newline.`;
        this.fail('Unterminated template string', detail, this.tokens[m.open]!.range);
        return;
      }
    }
    if (this.modes.length > 1) {
      // An open ${ or %{ inside a template that is not itself quoted (templatefile input).
      const open = [...this.tokens].reverse().find((t) => t.kind === 'interp' || t.kind === 'control');
      if (open) this.fail('Unterminated template interpolation', 'There is no closing brace for this template sequence before the end of the input.', open.range);
    }
  }

  private lexExpr(m: { kind: 'expr'; braces: number }): void {
    const s = this.src;
    const start = this.i;
    const c = s.charCodeAt(start);
    switch (c) {
      case 0x20: // space
      case 0x09: // tab
        this.i++;
        return;
      case 0x0d: // \r: part of a \r\n newline, else plain whitespace
        if (s.charCodeAt(start + 1) === 10) {
          this.i += 2;
          this.push('newline', start, this.i);
        } else this.i++;
        return;
      case 0x0a:
        this.i++;
        this.push('newline', start, this.i);
        return;
      case 0x23: // #
        this.lineComment();
        return;
      case 0x2f: // /
        if (s.charCodeAt(start + 1) === 0x2f) return this.lineComment();
        if (s.charCodeAt(start + 1) === 0x2a) return this.blockComment();
        break;
      case 0x22: // "
        this.i++;
        this.modes.push({ kind: 'quoted', open: this.tokens.length });
        this.push('oquote', start, this.i);
        return;
      case 0x3c: // <
        if (s.charCodeAt(start + 1) === 0x3c && this.heredocStart()) return;
        break;
      case 0x7e: // ~ : only as the strip marker of a closing `~}`
        if (s.charCodeAt(start + 1) === 0x7d && m.braces === 0 && this.modes.length > 1) {
          this.i += 2;
          this.push('tmplEnd', start, this.i).strip = true;
          this.modes.pop();
          return;
        }
        break;
      case 0x7b: // {
        m.braces++;
        break;
      case 0x7d: // }
        if (m.braces === 0 && this.modes.length > 1) {
          this.i++;
          this.push('tmplEnd', start, this.i);
          this.modes.pop();
          return;
        }
        if (m.braces > 0) m.braces--;
        break;
    }
    const p = PUNCT[c];
    if (p) {
      this.i++;
      this.push(p, start, this.i);
      return;
    }
    if (isDigit(c)) {
      this.i = scanNumber(s, start);
      this.push('number', start, this.i);
      return;
    }
    if (this.operator(c, start)) return;
    if (isIdentStartAt(s, start)) {
      this.i = scanIdent(s, start);
      this.push('ident', start, this.i);
      return;
    }
    this.invalidRun(start);
  }

  private operator(c: number, start: number): boolean {
    const s = this.src;
    const n = s.charCodeAt(start + 1);
    let kind: TokenKind = 'op';
    let len = 0;
    switch (c) {
      case 0x3d: // =
        if (n === 0x3d) len = 2;
        else if (n === 0x3e) {
          kind = 'fatArrow';
          len = 2;
        } else {
          kind = 'equal';
          len = 1;
        }
        break;
      case 0x21: // !
      case 0x3c: // <
      case 0x3e: // >
        len = n === 0x3d ? 2 : 1;
        break;
      case 0x26: // &
        len = n === 0x26 ? 2 : 0;
        break;
      case 0x7c: // |
        len = n === 0x7c ? 2 : 0;
        break;
      case 0x2b: // +
      case 0x2d: // -
      case 0x2a: // *
      case 0x2f: // /
      case 0x25: // %
        len = 1;
        break;
      case 0x2e: // .
        if (n === 0x2e && s.charCodeAt(start + 2) === 0x2e) {
          kind = 'ellipsis';
          len = 3;
        } else {
          kind = 'dot';
          len = 1;
        }
        break;
    }
    if (len === 0) return false;
    this.i = start + len;
    this.push(kind, start, this.i);
    return true;
  }

  /** A run of characters the language has no use for: one token and one diagnostic. */
  private invalidRun(start: number): void {
    const s = this.src;
    let j = start + charLength(s, start);
    while (j < s.length && !this.usable(j)) j += charLength(s, j);
    this.i = j;
    const t = this.push('invalid', start, j);
    const c = s.charCodeAt(start);
    const what = describeChar(s, start);
    const detail =
      c === 0x27 ? 'Single quotes are not valid. Use double quotes (") to enclose strings.'
      : c === 0x24 && s.charCodeAt(start + 1) === 0x7b ? 'A template interpolation ("${") is only valid inside a quoted string or heredoc: put quotes around it, or write the expression without "${ }".'
      : c === 0x7e ? 'A strip marker ("~") must touch the brace of its template sequence, as in "${~" or "~}".'
      : `This character (${what}) is not used within the language.`;
    this.fail('Invalid character', detail, t.range);
  }

  /** Whether a real token (or whitespace) could start at `j`: that ends a run of invalid characters. */
  private usable(j: number): boolean {
    const c = this.src.charCodeAt(j);
    if (c === 0x20 || c === 9 || c === 10 || c === 13 || c === 0x22 || c === 0x23 || isDigit(c)) return true;
    if (PUNCT[c] !== undefined || OPERATOR_CHARS.has(c)) return true;
    return isIdentStartAt(this.src, j);
  }

  private lineComment(): void {
    const s = this.src;
    const start = this.i;
    let j = s.indexOf('\n', start);
    j = j < 0 ? s.length : j + 1;
    this.i = j;
    this.push('comment', start, j);
    // The comment took its line's newline (as HCL's lexer does); the parser still needs one.
    if (s.charCodeAt(j - 1) === 10) this.push('newline', j, j);
  }

  private blockComment(): void {
    const s = this.src;
    const start = this.i;
    const end = s.indexOf('*/', start + 2);
    this.i = end < 0 ? s.length : end + 2;
    const t = this.push('comment', start, this.i);
    if (end < 0) this.fail('Unterminated comment', 'There is no closing "*/" for this comment before the end of the file.', { ...t.range, end: this.pos(start + 2) });
  }

  /**
   * `<<EOT` / `<<-EOT` and the rest of its line; false when this is no heredoc. HCL wants the
   * newline right after the marker; anything else there is reported, but the heredoc is still
   * read as one, so its lines do not turn into a cascade of errors.
   */
  private heredocStart(): boolean {
    const start = this.i;
    HEREDOC_OPEN.lastIndex = start;
    const m = HEREDOC_OPEN.exec(this.src);
    if (!m) return false;
    const markerEnd = start + m[0].length;
    let lineEnd = this.src.indexOf('\n', markerEnd);
    if (lineEnd < 0) lineEnd = this.src.length;
    const extra = this.src.slice(markerEnd, lineEnd).replace(/\r$/, '');
    this.i = Math.min(this.src.length, lineEnd + 1);
    this.modes.push({ kind: 'heredoc', marker: m[2]!, open: this.tokens.length });
    const t = this.push('oheredoc', start, this.i);
    t.value = m[2]!;
    if (m[1] === '-') t.flush = true;
    if (extra !== '') {
      const what = extra.trim() === '' ? 'spaces' : `"${extra.trim()}"`;
      this.fail('Invalid heredoc introduction', `The heredoc marker "${m[0]}" must be followed immediately by a newline (found ${what}): the heredoc's text starts on the next line.`, this.range(markerEnd, markerEnd + extra.length));
    }
    return true;
  }

  /** `${`, `${~`, `%{`, `%{~` at `i`: pushes the token and expression mode. */
  private sequenceStart(start: number): void {
    const s = this.src;
    const strip = s.charCodeAt(start + 2) === 0x7e;
    this.i = start + (strip ? 3 : 2);
    const t = this.push(s.charCodeAt(start) === 0x24 ? 'interp' : 'control', start, this.i);
    if (strip) t.strip = true;
    this.modes.push({ kind: 'expr', braces: 0 });
  }

  private literal(start: number, value: string): void {
    if (this.i > start) this.push('lit', start, this.i).value = value;
  }

  /** Text of a quoted string up to its closing quote, a template sequence or the end of the line. */
  private lexQuoted(): void {
    const s = this.src;
    const start = this.i;
    let value = '';
    let run = start;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x22 || c === 10 || (c === 13 && s.charCodeAt(this.i + 1) === 10)) break;
      if ((c === 0x24 || c === 0x25) && s.charCodeAt(this.i + 1) === 0x7b) break;
      if ((c === 0x24 || c === 0x25) && s.charCodeAt(this.i + 1) === c && s.charCodeAt(this.i + 2) === 0x7b) {
        // `$${` and `%%{` are a literal `${` and `%{`.
        value += s.slice(run, this.i + 1) + '{';
        this.i += 3;
        run = this.i;
        continue;
      }
      if (c === 0x5c) {
        value += s.slice(run, this.i);
        const e = decodeEscape(s, this.i);
        if (e.error) this.fail('Invalid escape sequence', e.error, this.range(this.i, this.i + e.length));
        value += e.value;
        this.i += e.length;
        run = this.i;
        continue;
      }
      this.i++;
    }
    value += s.slice(run, this.i);
    this.literal(start, value);
    if (this.i >= s.length) return;
    const c = s.charCodeAt(this.i);
    if (c === 0x22) {
      this.modes.pop();
      this.push('cquote', this.i, ++this.i);
    } else if (c === 10 || c === 13) this.unterminatedQuote();
    else this.sequenceStart(this.i);
  }

  /**
   * A newline inside a quoted string: the string (and everything opened inside it on this line)
   * is abandoned, so the next line is lexed as fresh code.
   */
  private unterminatedQuote(): void {
    const line = this.pos(this.i).line;
    let outer = this.modes.length - 1;
    for (let k = outer - 1; k > 0; k--) {
      const m = this.modes[k]!;
      if (m.kind === 'heredoc' || m.kind === 'template') break;
      if (m.kind === 'quoted' && this.tokens[m.open]!.range.start.line === line) outer = k;
    }
    const open = this.tokens[(this.modes[outer] as { open: number }).open]!;
    this.modes.length = outer;
    this.fail(
      'Unterminated template string',
      'No closing quote mark was found for this string before the end of the line. Quoted strings cannot span lines: use the \\n escape for a newline character, or a heredoc (<<EOT) for multi-line text.',
      { filename: this.filename, start: open.range.start, end: this.pos(this.i) },
    );
  }

  /** Heredoc or whole-template text: one literal per line, so heredoc markers are easy to find. */
  private lexTemplateText(heredoc: Extract<Mode, { kind: 'heredoc' }> | undefined): void {
    const s = this.src;
    const start = this.i;
    if (heredoc && this.atLineStart(start) && this.closingMarker(heredoc)) return;
    let value = '';
    let run = start;
    let sequence = false;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 10) {
        this.i++;
        break;
      }
      if ((c === 0x24 || c === 0x25) && s.charCodeAt(this.i + 1) === 0x7b) {
        sequence = true;
        break;
      }
      if ((c === 0x24 || c === 0x25) && s.charCodeAt(this.i + 1) === c && s.charCodeAt(this.i + 2) === 0x7b) {
        value += s.slice(run, this.i + 1) + '{';
        this.i += 3;
        run = this.i;
        continue;
      }
      this.i++;
    }
    value += s.slice(run, this.i);
    this.literal(start, value);
    if (sequence) this.sequenceStart(this.i);
  }

  private atLineStart(i: number): boolean {
    const prev = this.tokens[this.tokens.length - 1];
    return prev !== undefined && (prev.kind === 'oheredoc' || (prev.kind === 'lit' && prev.text.endsWith('\n'))) && i > 0 && this.src.charCodeAt(i - 1) === 10;
  }

  /** The closing marker line: optional indentation, the marker, optional blanks, a newline. */
  private closingMarker(m: Extract<Mode, { kind: 'heredoc' }>): boolean {
    const s = this.src;
    let j = this.i;
    while (s.charCodeAt(j) === 0x20 || s.charCodeAt(j) === 9) j++;
    if (!s.startsWith(m.marker, j)) return false;
    let k = j + m.marker.length;
    while (s.charCodeAt(k) === 0x20 || s.charCodeAt(k) === 9) k++;
    if (s.charCodeAt(k) === 13) k++;
    // HCL requires the newline: a marker at the very end of the file does not close the heredoc.
    if (s.charCodeAt(k) !== 10) return false;
    const end = s.charCodeAt(k - 1) === 13 ? k - 1 : k;
    const t = this.push('cheredoc', this.i, end);
    t.value = m.marker;
    this.i = end;
    this.modes.pop();
    return true;
  }
}

export function lex(src: string, filename: string, start?: Pos): { tokens: Token[]; diags: Diagnostic[] } {
  const l = new Lexer(src, filename, start);
  const tokens = l.tokenize();
  return { tokens, diags: l.diags };
}

/** Lexes a whole text as a template (templatefile, JSON strings): `${}` and `%{}` but no quotes. */
export function lexTemplate(src: string, filename: string, start?: Pos | PositionSource): { tokens: Token[]; diags: Diagnostic[] } {
  const l = new Lexer(src, filename, start, true);
  const tokens = l.tokenize();
  return { tokens, diags: l.diags };
}
