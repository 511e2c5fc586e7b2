/**
 * The HCL native-syntax parser: tokens → syntax tree (ast.ts). It never throws on bad input:
 * each problem becomes a diagnostic worded like HCL's, and parsing resumes at the next line or
 * closing brace so every problem in a file is reported in one run.
 */
import type { Diagnostic, Pos, SourceRange } from '../../core/errors/diagnostic.js';
import { error } from '../../core/errors/diagnostic.js';
import type * as A from './ast.js';
import { lex, lexTemplate, type Token, type TokenKind } from './lexer.js';

/** Deeper nesting than this is refused, instead of overflowing the stack on hostile input. */
const MAX_DEPTH = 200;

class TooDeep extends Error {}

const BINARY_LEVELS: ReadonlyArray<readonly string[]> = [['||'], ['&&'], ['==', '!='], ['<', '<=', '>', '>='], ['+', '-'], ['*', '/', '%']];

function span(a: SourceRange, b: SourceRange): SourceRange {
  return { filename: a.filename, start: a.start, end: b.end };
}

export class Parser {
  private p = 0;
  /** >0 while newlines are insignificant (inside parens, brackets, interpolations). */
  private nlSkip = 0;
  private depth = 0;
  readonly diags: Diagnostic[] = [];

  constructor(
    private readonly toks: Token[],
    private readonly filename: string,
  ) {}

  // ---- token helpers -------------------------------------------------------------------

  private peekRaw(): Token {
    let q = this.p;
    while (this.toks[q]!.kind === 'comment') q++;
    return this.toks[q]!;
  }

  /** The next significant token (comments always skipped; newlines when insignificant). */
  private peek(): Token {
    let q = this.p;
    for (;;) {
      const t = this.toks[q]!;
      if (t.kind === 'comment' || (t.kind === 'newline' && this.nlSkip > 0)) q++;
      else return t;
    }
  }

  private next(): Token {
    for (;;) {
      const t = this.toks[this.p]!;
      if (t.kind !== 'eof') this.p++;
      if (t.kind === 'comment' || (t.kind === 'newline' && this.nlSkip > 0)) continue;
      return t;
    }
  }

  private is(kind: TokenKind, text?: string): boolean {
    const t = this.peek();
    return t.kind === kind && (text === undefined || t.text === text);
  }

  private accept(kind: TokenKind, text?: string): Token | undefined {
    return this.is(kind, text) ? this.next() : undefined;
  }

  private fail(summary: string, detail: string, range: SourceRange): void {
    this.diags.push(error(summary, detail, range));
  }

  private expect(kind: TokenKind, summary: string, detail: string): Token | undefined {
    const t = this.accept(kind);
    if (!t) this.fail(summary, detail, this.peek().range);
    return t;
  }

  private enter(range: SourceRange): void {
    if (++this.depth > MAX_DEPTH) {
      this.fail('Nesting too deep', `This expression is nested more than ${MAX_DEPTH} levels deep.`, range);
      throw new TooDeep();
    }
  }

  private leave(): void {
    this.depth--;
  }

  private withNewlines<T>(skip: boolean, f: () => T): T {
    const saved = this.nlSkip;
    this.nlSkip = skip ? saved + 1 : 0;
    try {
      return f();
    } finally {
      this.nlSkip = saved;
    }
  }

  // ---- bodies ---------------------------------------------------------------------------

  parseFile(): A.File {
    const start = this.toks[0]!.range.start;
    let body: A.Body;
    try {
      body = this.body(undefined);
    } catch (e) {
      if (!(e instanceof TooDeep)) throw e;
      body = { kind: 'body', items: [], range: this.rangeFrom(start) };
    }
    return { filename: this.filename, body, syntax: 'hcl' };
  }

  private rangeFrom(start: Pos): SourceRange {
    const prev = this.toks[Math.max(0, this.p - 1)]!;
    return { filename: this.filename, start, end: prev.range.end.byte >= start.byte ? prev.range.end : start };
  }

  /** Items until `}` (of `open`) or end of file. */
  private body(open: Token | undefined): A.Body {
    const items: A.BodyItem[] = [];
    const startTok = this.peekRaw();
    const seen = new Map<string, A.Attribute>();
    this.nlSkip = 0;
    for (;;) {
      const t = this.peek();
      if (t.kind === 'newline') {
        this.next();
        continue;
      }
      if (t.kind === 'eof') {
        if (open) {
          this.fail(
            'Unclosed configuration block',
            'There is no closing brace for this block before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.',
            open.range,
          );
        }
        break;
      }
      if (t.kind === 'cbrace') {
        if (open) break;
        this.next();
        this.fail('Argument or block definition required', 'An argument or block definition is required here: this closing brace has no matching opening brace.', t.range);
        continue;
      }
      const item = this.bodyItem();
      if (!item) {
        this.recover();
        continue;
      }
      if (item.kind === 'attribute') {
        const prev = seen.get(item.name);
        if (prev) {
          this.fail(
            'Attribute redefined',
            `The argument "${item.name}" was already set at ${prev.nameRange.filename}:${prev.nameRange.start.line},${prev.nameRange.start.column}. Each argument may be set only once.`,
            item.nameRange,
          );
        } else seen.set(item.name, item);
      }
      items.push(item);
    }
    const end = this.peekRaw().range.start;
    return { kind: 'body', items, range: { filename: this.filename, start: open ? open.range.end : startTok.range.start, end } };
  }

  /** Skips to the start of the next line (or a closing brace) after an error. */
  private recover(): void {
    let braces = 0;
    for (;;) {
      const t = this.toks[this.p]!;
      if (t.kind === 'eof') return;
      if (t.kind === 'newline' && braces <= 0) {
        this.p++;
        return;
      }
      if (t.kind === 'cbrace' && braces <= 0) return;
      if (t.kind === 'obrace') braces++;
      if (t.kind === 'cbrace') braces--;
      this.p++;
    }
  }

  private bodyItem(): A.BodyItem | undefined {
    const name = this.peek();
    if (name.kind !== 'ident') {
      this.next();
      this.fail('Argument or block definition required', 'An argument or block definition is required here.', name.range);
      return undefined;
    }
    this.next();
    if (this.is('equal')) {
      this.next();
      const expr = this.expression();
      if (!expr) return undefined;
      if (!this.endOfLine('argument')) return undefined;
      return { kind: 'attribute', name: name.text, nameRange: name.range, expr, range: span(name.range, expr.range) };
    }
    const labels: string[] = [];
    const labelRanges: SourceRange[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'ident') {
        this.next();
        labels.push(t.text);
        labelRanges.push(t.range);
        continue;
      }
      if (t.kind === 'oquote') {
        const lbl = this.quotedLabel();
        if (lbl === undefined) return undefined;
        labels.push(lbl.value);
        labelRanges.push(lbl.range);
        continue;
      }
      break;
    }
    const open = this.peek();
    if (open.kind !== 'obrace') {
      if (labels.length === 0) {
        this.fail('Argument or block definition required', `An argument or block definition is required here. To set an argument, use the equals sign "=" to introduce the argument value.`, open.range);
      } else {
        this.fail('Invalid block definition', 'Either a quoted string block label or an opening brace ("{") is expected here.', open.range);
      }
      return undefined;
    }
    this.next();
    const defRange = span(name.range, labelRanges[labelRanges.length - 1] ?? name.range);
    this.enter(open.range);
    let body: A.Body;
    try {
      if (this.peekRaw().kind === 'newline' || this.peekRaw().kind === 'cbrace' || this.peekRaw().kind === 'eof') {
        body = this.body(open);
      } else {
        body = this.oneLineBody(open);
      }
    } finally {
      this.leave();
    }
    const close = this.peek();
    if (close.kind !== 'cbrace') return { kind: 'block', type: name.text, typeRange: name.range, labels, labelRanges, body, range: span(name.range, body.range), defRange };
    this.next();
    const block: A.Block = { kind: 'block', type: name.text, typeRange: name.range, labels, labelRanges, body, range: span(name.range, close.range), defRange };
    const after = this.peekRaw();
    if (after.kind !== 'newline' && after.kind !== 'eof' && after.kind !== 'cbrace') {
      this.fail('Missing newline after block definition', 'A block definition must end with a newline.', after.range);
      this.recover();
    }
    return block;
  }

  /** `a { b = 1 }`: at most one argument, on the same line as the braces. */
  private oneLineBody(open: Token): A.Body {
    const items: A.BodyItem[] = [];
    const name = this.peek();
    if (name.kind === 'ident') {
      this.next();
      if (!this.accept('equal')) {
        this.fail('Invalid single-argument block definition', 'A single-line block definition may contain only a single argument: put nested blocks on their own lines.', name.range);
        this.recover();
        return { kind: 'body', items, range: span(open.range, name.range) };
      }
      const expr = this.expression();
      if (expr) items.push({ kind: 'attribute', name: name.text, nameRange: name.range, expr, range: span(name.range, expr.range) });
    } else if (name.kind !== 'cbrace') {
      this.fail('Argument or block definition required', 'An argument or block definition is required here.', name.range);
    }
    const close = this.peek();
    if (close.kind !== 'cbrace') {
      this.fail('Invalid single-argument block definition', 'A single-line block definition must end with a closing brace immediately after its single argument.', close.range);
      this.recover();
    }
    return { kind: 'body', items, range: { filename: this.filename, start: open.range.end, end: close.range.start } };
  }

  private endOfLine(what: string): boolean {
    const t = this.peekRaw();
    if (t.kind === 'newline' || t.kind === 'eof' || t.kind === 'cbrace') return true;
    this.fail(`Missing newline after ${what}`, `An ${what} definition must end with a newline.`, t.range);
    return false;
  }

  private quotedLabel(): { value: string; range: SourceRange } | undefined {
    const open = this.next();
    let value = '';
    for (;;) {
      const t = this.next();
      if (t.kind === 'lit') value += t.value ?? '';
      else if (t.kind === 'cquote') return { value, range: span(open.range, t.range) };
      else {
        this.fail('Invalid block label', t.kind === 'interp' || t.kind === 'control' ? 'Template sequences are not allowed in block labels.' : 'A block label must be a quoted string.', t.range);
        return undefined;
      }
    }
  }

  // ---- expressions -----------------------------------------------------------------------

  /** An expression on its own (console input, -var values): newlines are insignificant. */
  standaloneExpression(): A.Expr | undefined {
    return this.withNewlines(true, () => this.expression());
  }

  /** The first significant token not yet consumed, if any. */
  remaining(): Token | undefined {
    const t = this.withNewlines(true, () => this.peek());
    return t.kind === 'eof' ? undefined : t;
  }

  /** An expression, or undefined after reporting why there is none. */
  expression(): A.Expr | undefined {
    try {
      return this.conditional();
    } catch (e) {
      if (e instanceof TooDeep) return undefined;
      throw e;
    }
  }

  private conditional(): A.Expr | undefined {
    const cond = this.binary(0);
    if (!cond) return undefined;
    if (!this.is('question')) return cond;
    this.next();
    return this.withNewlines(true, () => {
      const then = this.conditional();
      if (!then) return undefined;
      if (!this.expect('colon', 'Missing false expression in conditional', 'The conditional operator (...?...:...) requires a false expression, delimited by a colon.')) return undefined;
      const els = this.conditional();
      if (!els) return undefined;
      return { kind: 'conditional', cond, then, else: els, range: span(cond.range, els.range) } satisfies A.ConditionalExpr;
    });
  }

  private binary(level: number): A.Expr | undefined {
    if (level >= BINARY_LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    if (!left) return undefined;
    const ops = BINARY_LEVELS[level]!;
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op' || !ops.includes(t.text)) return left;
      this.next();
      const right = this.binary(level + 1);
      if (!right) return undefined;
      left = { kind: 'binary', op: t.text as A.BinaryOp, left, right, range: span(left.range, right.range) };
    }
  }

  private unary(): A.Expr | undefined {
    const t = this.peek();
    if (t.kind === 'op' && (t.text === '-' || t.text === '!')) {
      this.next();
      this.enter(t.range);
      try {
        const operand = this.unary();
        if (!operand) return undefined;
        return { kind: 'unary', op: t.text, operand, range: span(t.range, operand.range) };
      } finally {
        this.leave();
      }
    }
    return this.postfix();
  }

  private postfix(): A.Expr | undefined {
    let e = this.term();
    if (!e) return undefined;
    for (;;) {
      const t = this.peek();
      if (t.kind === 'dot') {
        this.next();
        const n = this.peek();
        if (n.kind === 'ident') {
          this.next();
          e = { kind: 'getAttr', object: e, name: n.text, nameRange: n.range, range: span(e.range, n.range) };
        } else if (n.kind === 'number' && /^[0-9]+$/.test(n.text)) {
          this.next();
          e = { kind: 'index', collection: e, key: { kind: 'literal', value: Number(n.text), range: n.range }, range: span(e.range, n.range) };
        } else if (n.kind === 'op' && n.text === '*') {
          this.next();
          e = this.splat(e, n, false);
        } else {
          this.fail('Invalid attribute name', 'An attribute name is required after a dot.', n.range);
          return undefined;
        }
        continue;
      }
      if (t.kind === 'obrack') {
        this.next();
        const star = this.peek();
        if (star.kind === 'op' && star.text === '*') {
          this.next();
          const close = this.expect('cbrack', 'Missing close bracket on splat index', 'The star for a full splat operator must be immediately followed by a closing bracket ("]").');
          if (!close) return undefined;
          e = this.splat(e, close, true);
          continue;
        }
        const key = this.withNewlines(true, () => this.conditional());
        if (!key) return undefined;
        const close = this.withNewlines(true, () => this.expect('cbrack', 'Missing close bracket on index', 'The index operator must end with a closing bracket ("]").'));
        if (!close) return undefined;
        e = { kind: 'index', collection: e, key, range: span(e.range, close.range) };
        continue;
      }
      return e;
    }
  }

  /** `src[*].a.b[0]` (full) or `src.*.a.b` (attribute-only): the steps after the star apply to each element. */
  private splat(source: A.Expr, starTok: Token, full: boolean): A.Expr {
    let each: A.Expr = { kind: 'splatItem', range: starTok.range };
    for (;;) {
      const t = this.peek();
      if (t.kind === 'dot') {
        const n = this.toks[this.indexAfter(t)]!;
        if (n.kind === 'ident') {
          this.next();
          this.next();
          each = { kind: 'getAttr', object: each, name: n.text, nameRange: n.range, range: span(each.range, n.range) };
          continue;
        }
        if (full && n.kind === 'number' && /^[0-9]+$/.test(n.text)) {
          this.next();
          this.next();
          each = { kind: 'index', collection: each, key: { kind: 'literal', value: Number(n.text), range: n.range }, range: span(each.range, n.range) };
          continue;
        }
        break;
      }
      if (full && t.kind === 'obrack') {
        const n = this.toks[this.indexAfter(t)]!;
        if (n.kind === 'op' && n.text === '*') break;
        this.next();
        const key = this.withNewlines(true, () => this.conditional());
        const close = key && this.withNewlines(true, () => this.expect('cbrack', 'Missing close bracket on index', 'The index operator must end with a closing bracket ("]").'));
        if (!key || !close) break;
        each = { kind: 'index', collection: each, key, range: span(each.range, close.range) };
        continue;
      }
      break;
    }
    return { kind: 'splat', source, each, range: span(source.range, each.range) };
  }

  private indexAfter(t: Token): number {
    const q = this.toks.indexOf(t, this.p);
    return Math.min(q + 1, this.toks.length - 1);
  }

  private term(): A.Expr | undefined {
    const t = this.peek();
    switch (t.kind) {
      case 'number': {
        this.next();
        return { kind: 'literal', value: Number(t.text), range: t.range };
      }
      case 'ident': {
        this.next();
        if (t.text === 'true' || t.text === 'false') return { kind: 'literal', value: t.text === 'true', range: t.range };
        if (t.text === 'null') return { kind: 'literal', value: null, range: t.range };
        if (this.peek().kind === 'oparen' && this.peekRaw().kind === 'oparen') return this.call(t);
        return { kind: 'variable', name: t.text, range: t.range };
      }
      case 'oparen': {
        this.next();
        this.enter(t.range);
        try {
          return this.withNewlines(true, () => {
            const inner = this.conditional();
            if (!inner) return undefined;
            const close = this.expect('cparen', 'Unbalanced parentheses', 'Expected a closing parenthesis to terminate the expression.');
            if (!close) return undefined;
            return { kind: 'parens', expr: inner, range: span(t.range, close.range) } satisfies A.ParensExpr;
          });
        } finally {
          this.leave();
        }
      }
      case 'oquote':
        return this.quotedTemplate();
      case 'oheredoc':
        return this.heredoc();
      case 'obrack':
        return this.tupleOrFor();
      case 'obrace':
        return this.objectOrFor();
      default: {
        // Leave line ends and closing braces for error recovery to find.
        if (t.kind !== 'newline' && t.kind !== 'eof' && t.kind !== 'cbrace') this.next();
        const detail =
          t.kind === 'eof' ? 'Expected the start of an expression, but found the end of the file.'
          : t.kind === 'newline' ? 'Expected the start of an expression, but found the end of the line.'
          : `Expected the start of an expression, but found ${describe(t)}.`;
        if (t.kind !== 'invalid') this.fail('Invalid expression', detail, t.range);
        return undefined;
      }
    }
  }

  private call(name: Token): A.Expr | undefined {
    const open = this.next();
    this.enter(open.range);
    try {
      return this.withNewlines(true, () => {
        const args: A.Expr[] = [];
        let expandFinal = false;
        while (!this.is('cparen')) {
          const a = this.conditional();
          if (!a) return undefined;
          args.push(a);
          if (this.accept('ellipsis')) {
            expandFinal = true;
            if (!this.is('cparen')) {
              this.fail('Missing closing parenthesis', 'An expanded function argument (with ...) must be immediately followed by closing parentheses.', this.peek().range);
              return undefined;
            }
            break;
          }
          if (!this.accept('comma')) {
            if (!this.is('cparen')) {
              this.fail('Missing argument separator', 'A comma is required to separate each function argument from the next.', this.peek().range);
              return undefined;
            }
          }
        }
        const close = this.next();
        return { kind: 'call', name: name.text, nameRange: name.range, args, expandFinal, range: span(name.range, close.range) } satisfies A.FunctionCallExpr;
      });
    } finally {
      this.leave();
    }
  }

  private tupleOrFor(): A.Expr | undefined {
    const open = this.next();
    this.enter(open.range);
    try {
      return this.withNewlines(true, () => {
        if (this.is('ident', 'for')) return this.forExpr(open, 'cbrack');
        const elems: A.Expr[] = [];
        while (!this.is('cbrack')) {
          if (this.is('eof')) break;
          const e = this.conditional();
          if (!e) return undefined;
          elems.push(e);
          if (!this.accept('comma') && !this.is('cbrack')) {
            this.fail('Missing item separator', 'Expected a comma to mark the beginning of the next item.', this.peek().range);
            return undefined;
          }
        }
        const close = this.expect('cbrack', 'Missing closing bracket', 'The list must end with a closing bracket ("]").');
        if (!close) return undefined;
        return { kind: 'tuple', elems, range: span(open.range, close.range) } satisfies A.TupleExpr;
      });
    } finally {
      this.leave();
    }
  }

  private objectOrFor(): A.Expr | undefined {
    const open = this.next();
    this.enter(open.range);
    try {
      if (this.withNewlines(true, () => this.is('ident', 'for'))) return this.withNewlines(true, () => this.forExpr(open, 'cbrace'));
      return this.withNewlines(false, () => {
        const items: A.ObjectItem[] = [];
        for (;;) {
          while (this.accept('newline')) {
            // blank lines between items
          }
          if (this.is('cbrace') || this.is('eof')) break;
          const key = this.objectKey();
          if (!key) return undefined;
          if (!this.accept('equal') && !this.accept('colon')) {
            this.fail('Missing key/value separator', 'Expected an equals sign ("=") to mark the beginning of the attribute value.', this.peek().range);
            return undefined;
          }
          const value = this.conditional();
          if (!value) return undefined;
          items.push({ key, value });
          if (this.accept('comma')) continue;
          if (this.is('newline') || this.is('cbrace')) continue;
          this.fail('Missing attribute separator', 'Expected a newline or comma to mark the beginning of the next attribute.', this.peek().range);
          return undefined;
        }
        const close = this.expect('cbrace', 'Missing closing brace', 'The object must end with a closing brace ("}").');
        if (!close) return undefined;
        return { kind: 'object', items, range: span(open.range, close.range) } satisfies A.ObjectExpr;
      });
    } finally {
      this.leave();
    }
  }

  /** A bare identifier key is a literal string; anything else is an expression. */
  private objectKey(): A.Expr | undefined {
    const t = this.peek();
    const after = this.toks[this.indexAfter(t)]!;
    if (t.kind === 'ident' && (after.kind === 'equal' || after.kind === 'colon')) {
      this.next();
      return { kind: 'literal', value: t.text, range: t.range };
    }
    return this.binary(0);
  }

  private forExpr(open: Token, closeKind: 'cbrack' | 'cbrace'): A.Expr | undefined {
    this.next(); // for
    const v1 = this.expect('ident', 'Invalid \'for\' expression', 'For expression requires a variable name after \'for\'.');
    if (!v1) return undefined;
    let keyVar: string | undefined;
    let valVar = v1.text;
    if (this.accept('comma')) {
      const v2 = this.expect('ident', 'Invalid \'for\' expression', 'For expression requires a value variable name after the comma.');
      if (!v2) return undefined;
      keyVar = v1.text;
      valVar = v2.text;
    }
    if (!this.accept('ident', 'in')) {
      this.fail('Invalid \'for\' expression', 'For expression requires the \'in\' keyword after its name declarations.', this.peek().range);
      return undefined;
    }
    const collection = this.conditional();
    if (!collection) return undefined;
    if (!this.expect('colon', 'Invalid \'for\' expression', 'For expression requires a colon after the collection expression.')) return undefined;
    let keyExpr: A.Expr | undefined;
    let valExpr = this.conditional();
    if (!valExpr) return undefined;
    let group = false;
    if (closeKind === 'cbrace') {
      if (!this.accept('fatArrow')) {
        this.fail('Invalid \'for\' expression', 'Key expression is required when building an object: write key => value.', this.peek().range);
        return undefined;
      }
      keyExpr = valExpr;
      valExpr = this.conditional();
      if (!valExpr) return undefined;
      if (this.accept('ellipsis')) group = true;
    }
    let cond: A.Expr | undefined;
    if (this.accept('ident', 'if')) {
      cond = this.conditional();
      if (!cond) return undefined;
    }
    const close = this.expect(closeKind, 'Invalid \'for\' expression', `Extra characters after the end of the 'for' expression: expected "${closeKind === 'cbrack' ? ']' : '}'}".`);
    if (!close) return undefined;
    const e: A.ForExpr = { kind: 'for', valVar, collection, valExpr, group, range: span(open.range, close.range) };
    if (keyVar !== undefined) e.keyVar = keyVar;
    if (keyExpr) e.keyExpr = keyExpr;
    if (cond) e.cond = cond;
    return e;
  }

  // ---- templates -------------------------------------------------------------------------

  private quotedTemplate(): A.Expr | undefined {
    const open = this.next();
    const parts = this.templateParts(['cquote']);
    if (!parts) return undefined;
    const close = this.next();
    return finishTemplate(parts.parts, span(open.range, close.range), false);
  }

  private heredoc(): A.Expr | undefined {
    const open = this.next();
    const parts = this.templateParts(['cheredoc']);
    if (!parts) return undefined;
    const close = this.next();
    let list = parts.parts;
    if (open.flush) list = flushHeredoc(list);
    // The parse result of a heredoc is always a template (never unwrapped).
    const expr: A.TemplateExpr = { kind: 'template', parts: list, heredoc: true, range: span(open.range, close.range) };
    return expr;
  }

  /**
   * Template parts until one of `ends` (not consumed). Directives are matched into if/for
   * parts; strip markers trim the neighbouring literal text.
   */
  templateParts(ends: readonly TokenKind[]): { parts: A.TemplatePart[] } | undefined {
    const saved = this.nlSkip;
    this.nlSkip = 0;
    try {
      const root = this.directiveBody(ends, []);
      if (!root) return undefined;
      return { parts: root.parts };
    } finally {
      this.nlSkip = saved;
    }
  }

  /** Parses parts until an end token or one of the given closing directive keywords. */
  private directiveBody(ends: readonly TokenKind[], closers: readonly string[]): { parts: A.TemplatePart[]; closer?: { word: string; tok: Token; stripRight: boolean; stripLeft: boolean } } | undefined {
    const parts: A.TemplatePart[] = [];
    let stripNextLeading = false;
    for (;;) {
      const t = this.toks[this.p]!;
      if (ends.includes(t.kind) || t.kind === 'eof') {
        if (closers.length > 0) {
          this.fail('Unterminated template directive', `Expected a %{ ${closers.join(' or ')} } directive before the end of the template.`, t.range);
          return undefined;
        }
        return { parts };
      }
      if (t.kind === 'lit') {
        this.p++;
        let value = t.value ?? '';
        if (stripNextLeading) value = value.replace(/^\s+/, '');
        stripNextLeading = false;
        parts.push({ kind: 'literal', value, range: t.range });
        continue;
      }
      if (t.kind === 'interp') {
        this.p++;
        const stripL = this.toks[this.p]!.kind === 'strip';
        if (stripL) this.p++;
        if (stripL) stripTrailing(parts);
        const expr = this.withNewlines(true, () => this.conditional());
        if (!expr) return undefined;
        const stripR = this.withNewlines(true, () => this.accept('strip')) !== undefined;
        const end = this.withNewlines(true, () => this.expect('tmplEnd', 'Extra characters after interpolation expression', 'Expected a closing brace to end the interpolation expression, but found extra characters.'));
        if (!end) return undefined;
        parts.push({ kind: 'interp', expr, range: span(t.range, end.range) });
        stripNextLeading = stripR;
        continue;
      }
      if (t.kind === 'control') {
        this.p++;
        const stripL = this.toks[this.p]!.kind === 'strip';
        if (stripL) this.p++;
        if (stripL) stripTrailing(parts);
        const word = this.withNewlines(true, () => this.peek());
        if (word.kind !== 'ident') {
          this.fail('Invalid template directive', 'A template directive keyword ("if", "for", etc) is expected at the beginning of a %{ sequence.', word.range);
          return undefined;
        }
        if (closers.includes(word.text)) {
          this.withNewlines(true, () => this.next());
          const stripR = this.withNewlines(true, () => this.accept('strip')) !== undefined;
          const end = this.withNewlines(true, () => this.expect('tmplEnd', 'Invalid template directive', `Expected a closing brace after "${word.text}".`));
          if (!end) return undefined;
          return { parts, closer: { word: word.text, tok: end, stripRight: stripR, stripLeft: stripL } };
        }
        const part = this.directive(t, word);
        if (!part) return undefined;
        parts.push(part.part);
        stripNextLeading = part.stripRight;
        continue;
      }
      this.p++;
      this.fail('Invalid template', `Unexpected ${describe(t)} in template.`, t.range);
      return undefined;
    }
  }

  private directive(open: Token, word: Token): { part: A.TemplatePart; stripRight: boolean } | undefined {
    this.enter(open.range);
    try {
      this.withNewlines(true, () => this.next());
      if (word.text === 'if') {
        const cond = this.withNewlines(true, () => this.conditional());
        if (!cond) return undefined;
        const headStrip = this.withNewlines(true, () => this.accept('strip')) !== undefined;
        if (!this.withNewlines(true, () => this.expect('tmplEnd', 'Invalid template directive', 'Expected a closing brace after the if condition.'))) return undefined;
        const thenBody = this.directiveBody(['cquote', 'cheredoc'], ['else', 'endif']);
        if (!thenBody) return undefined;
        if (headStrip) stripLeading(thenBody.parts);
        let elseParts: A.TemplatePart[] | undefined;
        let closer = thenBody.closer!;
        if (closer.word === 'else') {
          if (closer.stripLeft) stripTrailing(thenBody.parts);
          const elseBody = this.directiveBody(['cquote', 'cheredoc'], ['endif']);
          if (!elseBody) return undefined;
          if (closer.stripRight) stripLeading(elseBody.parts);
          elseParts = elseBody.parts;
          closer = elseBody.closer!;
          if (closer.stripLeft) stripTrailing(elseBody.parts);
        } else if (closer.stripLeft) stripTrailing(thenBody.parts);
        const part: A.TemplateIf = { kind: 'if', cond, then: thenBody.parts, range: span(open.range, closer.tok.range) };
        if (elseParts) part.else = elseParts;
        return { part, stripRight: closer.stripRight };
      }
      if (word.text === 'for') {
        const v1 = this.withNewlines(true, () => this.expect('ident', 'Invalid template directive', 'A for directive requires a variable name after "for".'));
        if (!v1) return undefined;
        let keyVar: string | undefined;
        let valVar = v1.text;
        if (this.withNewlines(true, () => this.accept('comma'))) {
          const v2 = this.withNewlines(true, () => this.expect('ident', 'Invalid template directive', 'A value variable name is required after the comma.'));
          if (!v2) return undefined;
          keyVar = v1.text;
          valVar = v2.text;
        }
        if (!this.withNewlines(true, () => this.accept('ident', 'in'))) {
          this.fail('Invalid template directive', 'A for directive requires the "in" keyword after its variable names.', this.peek().range);
          return undefined;
        }
        const collection = this.withNewlines(true, () => this.conditional());
        if (!collection) return undefined;
        const headStrip = this.withNewlines(true, () => this.accept('strip')) !== undefined;
        if (!this.withNewlines(true, () => this.expect('tmplEnd', 'Invalid template directive', 'Expected a closing brace after the for collection.'))) return undefined;
        const body = this.directiveBody(['cquote', 'cheredoc'], ['endfor']);
        if (!body) return undefined;
        if (headStrip) stripLeading(body.parts);
        if (body.closer!.stripLeft) stripTrailing(body.parts);
        const part: A.TemplateFor = { kind: 'for', valVar, collection, body: body.parts, range: span(open.range, body.closer!.tok.range) };
        if (keyVar !== undefined) part.keyVar = keyVar;
        return { part, stripRight: body.closer!.stripRight };
      }
      const known = ['else', 'endif', 'endfor'].includes(word.text);
      this.fail(
        'Invalid template directive',
        known ? `A %{ ${word.text} } directive is not expected here: there is no open directive it could close.` : `"${word.text}" is not a template directive: use if, else, endif, for or endfor.`,
        word.range,
      );
      return undefined;
    } finally {
      this.leave();
    }
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'the end of the file';
    case 'newline':
      return 'a newline';
    case 'cbrace':
      return 'a closing brace';
    case 'cbrack':
      return 'a closing bracket';
    case 'cparen':
      return 'a closing parenthesis';
    case 'equal':
      return 'an equals sign';
    default:
      return `"${t.text}"`;
  }
}

function stripTrailing(parts: A.TemplatePart[]): void {
  const last = parts[parts.length - 1];
  if (last && last.kind === 'literal') last.value = last.value.replace(/\s+$/, '');
}

function stripLeading(parts: A.TemplatePart[]): void {
  const first = parts[0];
  if (first && first.kind === 'literal') first.value = first.value.replace(/^\s+/, '');
}

/** `"${x}"` alone is the value of x; anything else is a string template. */
function finishTemplate(parts: A.TemplatePart[], range: SourceRange, fromJson: boolean): A.Expr {
  const only = parts.length === 1 ? parts[0]! : undefined;
  if (only && only.kind === 'interp') {
    const e: A.TemplateWrapExpr = { kind: 'templateWrap', wrapped: only.expr, range };
    if (fromJson) e.fromJson = true;
    return e;
  }
  const merged: A.TemplatePart[] = [];
  for (const p of parts) {
    const prev = merged[merged.length - 1];
    if (p.kind === 'literal' && prev && prev.kind === 'literal') {
      merged[merged.length - 1] = { kind: 'literal', value: prev.value + p.value, range: span(prev.range, p.range) };
    } else merged.push(p);
  }
  const e: A.TemplateExpr = { kind: 'template', parts: merged, range };
  if (fromJson) e.fromJson = true;
  return e;
}

/**
 * `<<-` heredocs: remove the smallest indentation shared by all non-blank lines. Line starts are
 * the beginning of the heredoc and every position after a newline in literal text.
 */
function flushHeredoc(parts: A.TemplatePart[]): A.TemplatePart[] {
  let min = Infinity;
  let atLineStart = true;
  const visit = (list: readonly A.TemplatePart[]): void => {
    for (const p of list) {
      if (p.kind === 'literal') {
        const lines = p.value.split('\n');
        lines.forEach((line, i) => {
          if (i > 0 || atLineStart) {
            const indent = /^[ \t]*/.exec(line)![0].length;
            const blank = indent === line.length && (i < lines.length - 1);
            if (!blank && !(i === lines.length - 1 && line.length === indent && i > 0)) min = Math.min(min, indent);
          }
        });
        atLineStart = p.value.endsWith('\n');
      } else {
        atLineStart = false;
        if (p.kind === 'if') {
          visit(p.then);
          visit(p.else ?? []);
        } else if (p.kind === 'for') visit(p.body);
      }
    }
  };
  visit(parts);
  if (min === Infinity || min === 0) return parts;
  const strip = (list: readonly A.TemplatePart[], lineStart: boolean): [A.TemplatePart[], boolean] => {
    let ls = lineStart;
    const out = list.map((p): A.TemplatePart => {
      if (p.kind === 'literal') {
        const lines = p.value.split('\n').map((line, i) => (i > 0 || ls ? line.replace(new RegExp(`^[ \\t]{0,${min}}`), '') : line));
        ls = p.value.endsWith('\n');
        return { ...p, value: lines.join('\n') };
      }
      ls = false;
      if (p.kind === 'if') {
        const [t] = strip(p.then, false);
        const r: A.TemplateIf = { ...p, then: t };
        if (p.else) r.else = strip(p.else, false)[0];
        return r;
      }
      if (p.kind === 'for') return { ...p, body: strip(p.body, false)[0] };
      return p;
    });
    return [out, ls];
  };
  return strip(parts, true)[0];
}

// ---- entry points ------------------------------------------------------------------------

export function parseHCL(text: string, filename: string): { file: A.File; diagnostics: Diagnostic[] } {
  const { tokens, diags } = lex(text, filename);
  const parser = new Parser(tokens, filename);
  const file = parser.parseFile();
  return { file, diagnostics: [...diags, ...withoutEchoes(parser.diags, diags)] };
}

/** Parser errors on a line the lexer already rejected are echoes of that one problem. */
function withoutEchoes(parserDiags: Diagnostic[], lexDiags: Diagnostic[]): Diagnostic[] {
  const lines = new Set(lexDiags.map((d) => d.subject?.start.line));
  return parserDiags.filter((d) => !lines.has(d.subject?.start.line));
}

export function parseExpression(text: string, filename: string, start?: Pos): { expr: A.Expr; diagnostics: Diagnostic[] } {
  const { tokens, diags } = lex(text, filename, start);
  const parser = new Parser(tokens, filename);
  const expr = parser.standaloneExpression();
  const diagnostics = [...diags, ...parser.diags];
  const fallback: A.Expr = { kind: 'literal', value: null, range: tokens[0]!.range };
  if (expr) {
    const trailing = parser.remaining();
    if (trailing) diagnostics.push(error('Extra characters after expression', 'An expression was successfully parsed, but extra characters were found after it.', trailing.range));
  }
  return { expr: expr ?? fallback, diagnostics };
}

export function parseTemplate(text: string, filename: string, start?: Pos): { expr: A.Expr; diagnostics: Diagnostic[] } {
  const { tokens, diags } = lexTemplate(text, filename, start);
  const parser = new Parser(tokens, filename);
  const parts = parser.templateParts(['eof']);
  const range: SourceRange = { filename, start: tokens[0]!.range.start, end: tokens[tokens.length - 1]!.range.end };
  const expr: A.Expr = parts ? { kind: 'template', parts: parts.parts, range } : { kind: 'literal', value: null, range };
  return { expr, diagnostics: [...diags, ...parser.diags] };
}

export { finishTemplate };
