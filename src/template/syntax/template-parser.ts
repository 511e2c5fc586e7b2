/**
 * Templates: the text of quoted strings, heredocs, templatefile input and JSON strings. Parsing
 * goes in steps, as HCL's does: first a flat sequence of literals (one per source line in a
 * heredoc), interpolations and directive markers; strip markers (`~`) trim the neighbouring
 * literal; a `<<-` heredoc loses its common indentation; then the `%{ if }` / `%{ for }` markers
 * are matched into nested parts.
 */
import type { SourceRange } from '../../core/errors/diagnostic.js';
import type * as A from './ast.js';
import { describeToken, TokenCursor } from './cursor.js';
import { flushHeredoc } from './heredoc.js';
import type { Token, TokenKind } from './lexer.js';
import { span, where } from './positions.js';

type Flat =
  | { kind: 'literal'; value: string; range: SourceRange }
  | { kind: 'interp'; expr: A.Expr; range: SourceRange; stripLeft: boolean; stripRight: boolean }
  | { kind: 'directive'; word: 'if' | 'else' | 'endif' | 'for' | 'endfor'; range: SourceRange; stripLeft: boolean; stripRight: boolean; cond?: A.Expr; keyVar?: string; valVar?: string; collection?: A.Expr };

type Directive = Extract<Flat, { kind: 'directive' }>;

const KEYWORDS = new Set(['if', 'else', 'endif', 'for', 'endfor']);

export abstract class TemplateParser extends TokenCursor {
  /** A full expression (conditional included), or undefined after reporting why not. */
  protected abstract expression(): A.Expr | undefined;

  /**
   * Template parts from here up to (not including) a token of kind `end`. Undefined after an
   * error, which has been reported.
   */
  protected templateParts(end: TokenKind, flushIndent = false): A.TemplatePart[] | undefined {
    const saved = this.newlines(false);
    try {
      const flat = this.flatTemplate(end);
      if (!flat) return undefined;
      applyStripMarkers(flat);
      // `<<-` indentation goes after the strip markers, as in HCL.
      if (flushIndent) flushHeredoc(flat);
      const nested = this.nestParts(flat, 0, undefined);
      return nested?.parts;
    } finally {
      this.restoreNewlines(saved);
    }
  }

  private flatTemplate(end: TokenKind): Flat[] | undefined {
    const flat: Flat[] = [];
    for (;;) {
      const t = this.toks[this.p]!;
      if (t.kind === end || t.kind === 'eof') return flat;
      if (t.kind === 'lit') {
        this.p++;
        flat.push({ kind: 'literal', value: t.value ?? t.text, range: t.range });
        continue;
      }
      if (t.kind === 'interp' || t.kind === 'control') {
        this.p++;
        const item = t.kind === 'interp' ? this.interpolation(t) : this.directive(t);
        if (!item) return undefined;
        flat.push(item);
        continue;
      }
      // A newline here is where the lexer abandoned an unterminated string (and reported it).
      if (t.kind !== 'newline') this.fail('Invalid template', `Expected template text or a template sequence, but found ${describeToken(t)}.`, t.range);
      return undefined;
    }
  }

  private interpolation(open: Token): Flat | undefined {
    const saved = this.newlines(true);
    try {
      const expr = this.expression();
      if (!expr) return undefined;
      const close = this.peek();
      if (close.kind !== 'tmplEnd') {
        this.fail('Extra characters after interpolation expression', `Expected a closing brace to end the interpolation expression, but found ${describeToken(close)}.`, close.range);
        return undefined;
      }
      // Consumed while newlines are still skipped: one may stand before the brace.
      this.next();
      return { kind: 'interp', expr, range: span(open.range, close.range), stripLeft: open.strip === true, stripRight: close.strip === true };
    } finally {
      this.restoreNewlines(saved);
    }
  }

  private directive(open: Token): Directive | undefined {
    const saved = this.newlines(true);
    try {
      const word = this.peek();
      if (word.kind !== 'ident' || !KEYWORDS.has(word.text)) {
        const detail =
          word.kind === 'ident' ? `"${word.text}" is not a valid template control keyword: use if, else, endif, for or endfor.`
          : 'A template control keyword (if, else, endif, for or endfor) is required at the start of a %{ } sequence.';
        this.fail('Invalid template control keyword', detail, word.range);
        return undefined;
      }
      this.next();
      const d: Directive = { kind: 'directive', word: word.text as Directive['word'], range: open.range, stripLeft: open.strip === true, stripRight: false };
      if (d.word === 'if') {
        const cond = this.expression();
        if (!cond) return undefined;
        d.cond = cond;
      } else if (d.word === 'for') {
        if (!this.forHead(d)) return undefined;
      }
      const close = this.peek();
      if (close.kind !== 'tmplEnd') {
        const detail =
          d.word === 'else' && close.kind === 'ident' && close.text === 'if' ? 'An else directive takes no condition: there is no "else if". Put a nested %{ if } inside the %{ else } instead.'
          : `Expected a closing brace to end the ${d.word} directive, but found ${describeToken(close)}.`;
        this.fail('Invalid template directive', detail, close.range);
        return undefined;
      }
      this.next();
      d.range = span(open.range, close.range);
      d.stripRight = close.strip === true;
      return d;
    } finally {
      this.restoreNewlines(saved);
    }
  }

  private forHead(d: Directive): boolean {
    const first = this.peek();
    if (first.kind !== 'ident') {
      this.fail('Invalid template directive', 'A for directive requires a variable name after "for".', first.range);
      return false;
    }
    this.next();
    d.valVar = first.text;
    if (this.accept('comma')) {
      const second = this.peek();
      if (second.kind !== 'ident') {
        this.fail('Invalid template directive', 'A value variable name is required after the comma in a for directive.', second.range);
        return false;
      }
      this.next();
      d.keyVar = first.text;
      d.valVar = second.text;
    }
    if (!this.accept('ident', 'in')) {
      this.fail('Invalid template directive', 'A for directive requires the "in" keyword after its variable names.', this.peek().range);
      return false;
    }
    const collection = this.expression();
    if (!collection) return false;
    d.collection = collection;
    return true;
  }

  /**
   * Matches directive markers from `flat[from]` on into parts. `opener` is the directive whose
   * body this is; returns where its closing (or else) marker is.
   */
  private nestParts(flat: Flat[], from: number, opener: Directive | undefined): { parts: A.TemplatePart[]; next: number; closer?: Directive } | undefined {
    const parts: A.TemplatePart[] = [];
    let k = from;
    while (k < flat.length) {
      const f = flat[k]!;
      if (f.kind === 'literal') {
        if (f.value !== '') parts.push({ kind: 'literal', value: f.value, range: f.range });
        k++;
        continue;
      }
      if (f.kind === 'interp') {
        parts.push({ kind: 'interp', expr: f.expr, range: f.range });
        k++;
        continue;
      }
      if (f.word === 'if' || f.word === 'for') {
        this.enter(f.range);
        const built = f.word === 'if' ? this.ifPart(flat, k) : this.forPart(flat, k);
        this.leave();
        if (!built) return undefined;
        parts.push(built.part);
        k = built.next;
        continue;
      }
      // else / endif / endfor: ends the body of the directive that opened it.
      if (!opener || !closes(opener, f)) {
        this.unexpectedCloser(f, opener);
        return undefined;
      }
      return { parts: mergeLiterals(parts), next: k + 1, closer: f };
    }
    if (opener) {
      const [name, want] = opener.word === 'for' ? ['for', 'endfor'] : ['if', 'endif'];
      this.fail('Unexpected end of template', `The ${name} directive at ${where(opener.range)} is missing its corresponding ${want} directive.`, opener.range);
      return undefined;
    }
    return { parts: mergeLiterals(parts), next: k };
  }

  private ifPart(flat: Flat[], k: number): { part: A.TemplateIf; next: number } | undefined {
    const open = flat[k] as Directive;
    const thenBody = this.nestParts(flat, k + 1, open);
    if (!thenBody) return undefined;
    const part: A.TemplateIf = { kind: 'if', cond: open.cond!, then: thenBody.parts, range: open.range };
    let closer = thenBody.closer!;
    let next = thenBody.next;
    if (closer.word === 'else') {
      // The else body is closed by endif; messages about it name the if directive.
      const elseBody = this.nestParts(flat, next, { ...open, word: 'else' });
      if (!elseBody) return undefined;
      part.else = elseBody.parts;
      closer = elseBody.closer!;
      next = elseBody.next;
    }
    part.range = span(open.range, closer.range);
    return { part, next };
  }

  private forPart(flat: Flat[], k: number): { part: A.TemplateFor; next: number } | undefined {
    const open = flat[k] as Directive;
    const body = this.nestParts(flat, k + 1, open);
    if (!body) return undefined;
    const part: A.TemplateFor = { kind: 'for', valVar: open.valVar!, collection: open.collection!, body: body.parts, range: span(open.range, body.closer!.range) };
    if (open.keyVar !== undefined) part.keyVar = open.keyVar;
    return { part, next: body.next };
  }

  private unexpectedCloser(f: Directive, opener: Directive | undefined): void {
    let detail: string;
    if (!opener) {
      const owner = f.word === 'endfor' ? 'for' : 'if';
      detail = `There is no %{ ${owner} } directive open here for this %{ ${f.word} } to ${f.word === 'else' ? 'belong to' : 'close'}: the control directives within this template are unbalanced.`;
    } else if (opener.word === 'else' && f.word === 'else') {
      detail = `The if directive at ${where(opener.range)} already has an else clause.`;
    } else {
      const want = opener.word === 'for' ? 'endfor' : 'endif';
      detail = `Expected an ${want} directive to close the ${opener.word === 'else' ? 'if' : opener.word} directive at ${where(opener.range)}, but found ${f.word}.`;
    }
    this.fail(`Unexpected ${f.word} directive`, detail, f.range);
  }
}

function closes(opener: Directive, f: Directive): boolean {
  if (opener.word === 'if') return f.word === 'else' || f.word === 'endif';
  if (opener.word === 'else') return f.word === 'endif';
  return f.word === 'endfor';
}

/** `~` next to a sequence trims all whitespace (newlines included) on that side of it. */
function applyStripMarkers(flat: Flat[]): void {
  for (let k = 0; k < flat.length; k++) {
    const f = flat[k]!;
    if (f.kind !== 'literal') continue;
    const prev = flat[k - 1];
    const next = flat[k + 1];
    if (prev && prev.kind !== 'literal' && prev.stripRight) f.value = f.value.replace(/^\s+/, '');
    if (next && next.kind !== 'literal' && next.stripLeft) f.value = f.value.replace(/\s+$/, '');
  }
}

/**
 * The expression a quoted string stands for: `"${x}"` alone is x itself (with its own type, as
 * HCL unwraps it); anything else is a string template. Adjacent literals are merged.
 */
export function finishTemplate(parts: A.TemplatePart[], range: SourceRange, fromJson: boolean): A.TemplateExpr | A.TemplateWrapExpr {
  const only = parts.length === 1 ? parts[0]! : undefined;
  if (only?.kind === 'interp') {
    const e: A.TemplateWrapExpr = { kind: 'templateWrap', wrapped: only.expr, range };
    if (fromJson) e.fromJson = true;
    return e;
  }
  const merged = mergeLiterals(parts);
  // A string without sequences is one literal part, even when empty.
  if (merged.length === 0) merged.push({ kind: 'literal', value: '', range });
  const e: A.TemplateExpr = { kind: 'template', parts: merged, range };
  if (fromJson) e.fromJson = true;
  return e;
}

export function mergeLiterals(parts: A.TemplatePart[]): A.TemplatePart[] {
  const merged: A.TemplatePart[] = [];
  for (const p of parts) {
    const prev = merged[merged.length - 1];
    if (p.kind === 'literal' && prev && prev.kind === 'literal') {
      merged[merged.length - 1] = { kind: 'literal', value: prev.value + p.value, range: span(prev.range, p.range) };
    } else merged.push(p);
  }
  return merged;
}
