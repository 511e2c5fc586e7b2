/**
 * The HCL native-syntax lexer. HCL is context-sensitive: inside quotes and heredocs the text is
 * a template, inside `${ … }` and `%{ … }` it is an expression again. The lexer keeps a mode
 * stack for that and hands out a flat token list; comments and newlines are tokens too, because
 * the parser needs newlines and `fmt` needs both.
 */
import type { Diagnostic, Pos, SourceRange } from '../../core/errors/diagnostic.js';
import { error } from '../../core/errors/diagnostic.js';

export type TokenKind =
  | 'ident'
  | 'number'
  | 'oquote' // opening "
  | 'cquote' // closing "
  | 'lit' // literal template text (escapes decoded in `value`)
  | 'interp' // ${
  | 'control' // %{
  | 'tmplEnd' // } closing an interpolation or directive
  | 'strip' // ~ inside ${~ / ~}
  | 'oheredoc' // <<EOT or <<-EOT plus its newline
  | 'cheredoc' // the closing marker line
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
  | 'newline'
  | 'comment'
  | 'invalid'
  | 'eof';

export interface Token {
  kind: TokenKind;
  /** Source text of the token. */
  text: string;
  /** Decoded value: literal text with escapes resolved; heredoc marker name. */
  value?: string;
  /** `<<-` heredocs strip indentation. */
  flush?: boolean;
  range: SourceRange;
}

type Mode = { kind: 'expr'; braces: number } | { kind: 'quoted' } | { kind: 'heredoc'; marker: string };

const PUNCT: Record<string, TokenKind> = {
  '{': 'obrace',
  '}': 'cbrace',
  '[': 'obrack',
  ']': 'cbrack',
  '(': 'oparen',
  ')': 'cparen',
  ',': 'comma',
  ':': 'colon',
  '?': 'question',
};

function isIdentStart(c: string): boolean {
  return /[\p{L}_]/u.test(c);
}
function isIdentPart(c: string): boolean {
  return /[\p{L}\p{N}_\-\p{Mn}\p{Mc}]/u.test(c);
}

export class Lexer {
  private i = 0;
  private line = 1;
  private col = 1;
  private tokens: Token[] = [];
  private modes: Mode[] = [{ kind: 'expr', braces: 0 }];
  readonly diags: Diagnostic[] = [];

  constructor(
    private readonly src: string,
    private readonly filename: string,
    start?: Pos,
  ) {
    if (start) {
      this.line = start.line;
      this.col = start.column;
      this.startByte = start.byte;
    }
  }

  /** Offset added to byte positions (when lexing a fragment of a larger file). */
  private startByte = 0;

  private pos(): Pos {
    return { line: this.line, column: this.col, byte: this.startByte + this.i };
  }

  private advance(n = 1): void {
    for (let k = 0; k < n && this.i < this.src.length; k++) {
      const code = this.src.charCodeAt(this.i);
      if (code === 10) {
        this.line++;
        this.col = 1;
        this.i++;
      } else if (code >= 0xd800 && code <= 0xdbff && this.i + 1 < this.src.length) {
        // A surrogate pair is one character, one column.
        this.i += 2;
        this.col++;
      } else {
        this.i++;
        this.col++;
      }
    }
  }

  private push(kind: TokenKind, start: Pos, extra: Partial<Token> = {}): Token {
    const t: Token = { kind, text: this.src.slice(start.byte - this.startByte, this.i), range: { filename: this.filename, start, end: this.pos() }, ...extra };
    this.tokens.push(t);
    return t;
  }

  private fail(summary: string, detail: string, start: Pos, end: Pos = this.pos()): void {
    this.diags.push(error(summary, detail, { filename: this.filename, start, end }));
  }

  private get mode(): Mode {
    return this.modes[this.modes.length - 1]!;
  }

  /** Lexes everything: the whole input is expression/body context (or a template, if `template`). */
  tokenize(template?: 'template'): Token[] {
    if (template) this.modes = [{ kind: 'heredoc', marker: '' }];
    while (this.i < this.src.length) {
      const m = this.mode;
      if (m.kind === 'expr') this.lexExpr(m);
      else this.lexTemplate(m);
    }
    const m = this.mode;
    if (m.kind === 'quoted') this.fail('Unterminated template string', 'No closing quote mark was found for this string before the end of the file.', this.lastOpen('oquote'));
    else if (m.kind === 'heredoc' && m.marker !== '') {
      this.fail('Unterminated template string', `There is no closing marker "${m.marker}" for this heredoc before the end of the file.`, this.lastOpen('oheredoc'));
    } else if (this.modes.length > 1) {
      this.fail('Unterminated template interpolation', 'There is no closing brace for this interpolation sequence before the end of the file.', this.lastOpen('interp', 'control'));
    }
    this.push('eof', this.pos());
    return this.tokens;
  }

  /** Where the outermost string still open on this line began. */
  private outermostOpenQuote(): Pos {
    let depth = 0;
    let found: Pos | undefined;
    for (let k = this.tokens.length - 1; k >= 0; k--) {
      const t = this.tokens[k]!;
      if (t.kind === 'newline' || t.kind === 'oheredoc') break;
      if (t.kind === 'cquote') depth++;
      if (t.kind === 'oquote') {
        if (depth === 0) found = t.range.start;
        else depth--;
      }
    }
    return found ?? this.lastOpen('oquote');
  }

  private lastOpen(...kinds: TokenKind[]): Pos {
    for (let k = this.tokens.length - 1; k >= 0; k--) if (kinds.includes(this.tokens[k]!.kind)) return this.tokens[k]!.range.start;
    return this.pos();
  }

  private lexExpr(m: { kind: 'expr'; braces: number }): void {
    const s = this.src;
    const c = s[this.i]!;
    const start = this.pos();
    if (c === ' ' || c === '\t' || c === '\r') {
      this.advance();
      return;
    }
    if (c === '\n') {
      this.advance();
      this.push('newline', start);
      return;
    }
    if (c === '#' || (c === '/' && s[this.i + 1] === '/')) {
      while (this.i < s.length && s[this.i] !== '\n') this.advance();
      // A line comment ends the line: it takes the newline's place.
      if (this.i < s.length) this.advance();
      this.push('comment', start);
      if (s[this.i - 1] === '\n') this.tokens.push({ kind: 'newline', text: '', range: { filename: this.filename, start: this.pos(), end: this.pos() } });
      return;
    }
    if (c === '/' && s[this.i + 1] === '*') {
      const end = s.indexOf('*/', this.i + 2);
      if (end < 0) {
        this.advance(s.length - this.i);
        this.fail('Unterminated comment', 'There is no closing */ for this comment before the end of the file.', start);
      } else this.advance(end + 2 - this.i);
      this.push('comment', start);
      return;
    }
    if (c === '"') {
      this.advance();
      this.push('oquote', start);
      this.modes.push({ kind: 'quoted' });
      return;
    }
    if (c === '<' && s[this.i + 1] === '<' && /[-A-Za-z_]/.test(s[this.i + 2] ?? '')) {
      const mm = /^<<(-?)([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n/.exec(s.slice(this.i, this.i + 200));
      if (mm) {
        this.advance(mm[0].length);
        this.push('oheredoc', start, { value: mm[2]!, flush: mm[1] === '-' });
        this.modes.push({ kind: 'heredoc', marker: mm[2]! });
        return;
      }
    }
    if (/[0-9]/.test(c)) {
      const mm = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(s.slice(this.i, this.i + 400))!;
      this.advance(mm[0].length);
      this.push('number', start);
      return;
    }
    if (isIdentStart(c)) {
      let j = this.i + 1;
      while (j < s.length && isIdentPart(s[j]!)) j++;
      this.advance(j - this.i);
      this.push('ident', start);
      return;
    }
    const two = s.slice(this.i, this.i + 2);
    if (two === '==' || two === '!=' || two === '<=' || two === '>=' || two === '&&' || two === '||') {
      this.advance(2);
      this.push('op', start);
      return;
    }
    if (two === '=>') {
      this.advance(2);
      this.push('fatArrow', start);
      return;
    }
    if (s.startsWith('...', this.i)) {
      this.advance(3);
      this.push('ellipsis', start);
      return;
    }
    if (c === '~' && s[this.i + 1] === '}' && this.modes.length > 1 && m.braces === 0) {
      this.advance();
      this.push('strip', start);
      return;
    }
    if (c === '}' && m.braces === 0 && this.modes.length > 1) {
      this.advance();
      this.push('tmplEnd', start);
      this.modes.pop();
      return;
    }
    if (c === '{') m.braces++;
    if (c === '}') m.braces--;
    const p = PUNCT[c];
    if (p) {
      this.advance();
      this.push(p, start);
      return;
    }
    if ('+-*/%<>!'.includes(c)) {
      this.advance();
      this.push('op', start);
      return;
    }
    if (c === '=') {
      this.advance();
      this.push('equal', start);
      return;
    }
    if (c === '.') {
      this.advance();
      this.push('dot', start);
      return;
    }
    this.advance();
    this.push('invalid', start);
    const shown = c === '\t' ? 'tab' : c.charCodeAt(0) < 32 ? `control character U+${c.charCodeAt(0).toString(16).padStart(4, '0')}` : `"${c}"`;
    const hint = c === "'" ? ' Single quotes are not valid: use double quotes (") to enclose strings.' : '';
    this.fail('Invalid character', `This character (${shown}) is not used within the language.${hint}`, start);
  }

  /** Literal text up to the next `${`, `%{`, closing quote or heredoc end marker. */
  private lexTemplate(m: Mode): void {
    const s = this.src;
    const quoted = m.kind === 'quoted';
    const marker = m.kind === 'heredoc' ? m.marker : '';
    const start = this.pos();
    let value = '';
    const flush = (): void => {
      if (this.pos().byte > start.byte) this.push('lit', start, { value });
    };
    // At the start of a heredoc line, check for the closing marker.
    const atMarker = (): number => {
      if (marker === '' || !(this.i === 0 || s[this.i - 1] === '\n')) return -1;
      const mm = /^[ \t]*([A-Za-z_][A-Za-z0-9_-]*)[ \t]*(\r?\n|$)/.exec(s.slice(this.i, this.i + marker.length + 100));
      return mm && mm[1] === marker ? mm[0].length - mm[2]!.length : -1;
    };
    while (this.i < s.length) {
      const c = s[this.i]!;
      if (!quoted) {
        const n = atMarker();
        if (n >= 0) {
          flush();
          const ms = this.pos();
          this.advance(n);
          this.push('cheredoc', ms);
          this.modes.pop();
          return;
        }
      }
      if ((c === '$' || c === '%') && s[this.i + 1] === '{') {
        flush();
        const ts = this.pos();
        this.advance(2);
        this.push(c === '$' ? 'interp' : 'control', ts);
        if (s[this.i] === '~') {
          const ss = this.pos();
          this.advance();
          this.push('strip', ss);
        }
        this.modes.push({ kind: 'expr', braces: 0 });
        return;
      }
      if ((c === '$' || c === '%') && s[this.i + 1] === c && s[this.i + 2] === '{') {
        value += `${c}{`;
        this.advance(3);
        continue;
      }
      if (quoted) {
        if (c === '"') {
          flush();
          const qs = this.pos();
          this.advance();
          this.push('cquote', qs);
          this.modes.pop();
          return;
        }
        if (c === '\n') {
          flush();
          this.fail('Unterminated template string', 'No closing quote mark was found for this string before the end of the line. Use a heredoc (<<EOT) for multi-line strings.', this.outermostOpenQuote());
          // Everything opened since the outermost string on this line is abandoned with it.
          while (this.modes.length > 1 && this.mode.kind !== 'heredoc') this.modes.pop();
          return;
        }
        if (c === '\\') {
          value += this.escape();
          continue;
        }
      }
      value += c;
      this.advance();
    }
    flush();
  }

  private escape(): string {
    const s = this.src;
    const start = this.pos();
    const n = s[this.i + 1];
    const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };
    if (n !== undefined && n in simple) {
      this.advance(2);
      return simple[n]!;
    }
    if (n === 'u' || n === 'U') {
      const len = n === 'u' ? 4 : 8;
      const hex = s.slice(this.i + 2, this.i + 2 + len);
      if (new RegExp(`^[0-9A-Fa-f]{${len}}$`).test(hex)) {
        const cp = parseInt(hex, 16);
        this.advance(2 + len);
        if (cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) return String.fromCodePoint(cp);
        this.fail('Invalid escape sequence', `The code point U+${hex} is not a valid Unicode character.`, start);
        return '';
      }
    }
    this.advance(n === undefined ? 1 : 2);
    this.fail('Invalid escape sequence', `The symbol "${n ?? ''}" is not a valid escape sequence selector. Valid escapes are \\n, \\r, \\t, \\", \\\\, \\uNNNN and \\UNNNNNNNN.`, start);
    return '';
  }
}

export function lex(src: string, filename: string, start?: Pos): { tokens: Token[]; diags: Diagnostic[] } {
  const l = new Lexer(src, filename, start);
  const tokens = l.tokenize();
  return { tokens, diags: l.diags };
}

export function lexTemplate(src: string, filename: string, start?: Pos): { tokens: Token[]; diags: Diagnostic[] } {
  const l = new Lexer(src, filename, start);
  const tokens = l.tokenize('template');
  return { tokens, diags: l.diags };
}
