/**
 * Expressions of the HCL native syntax, by precedence from lowest: conditional `? :`, `||`,
 * `&&`, `== !=`, `< <= > >=`, `+ -`, `* / %`, unary `! -`, then terms with their traversals
 * (`.name`, `[key]`, splats) and calls. Every method returns undefined after reporting an error;
 * callers give up on the construct and let the body parser recover at the next line.
 */
import type * as A from './ast.js';
import { describeToken } from './cursor.js';
import type { Token } from './lexer.js';
import { span } from './positions.js';
import { finishTemplate, TemplateParser } from './template-parser.js';

const PRECEDENCE: Partial<Record<string, number>> = {
  '||': 1,
  '&&': 2,
  '==': 3,
  '!=': 3,
  '<': 4,
  '<=': 4,
  '>': 4,
  '>=': 4,
  '+': 5,
  '-': 5,
  '*': 6,
  '/': 6,
  '%': 6,
};

export class ExprParser extends TemplateParser {
  protected expression(): A.Expr | undefined {
    const start = this.peek();
    this.enter(start.range);
    try {
      return this.conditional();
    } finally {
      this.leave();
    }
  }

  private conditional(): A.Expr | undefined {
    const cond = this.binary(1);
    if (!cond || !this.is('question')) return cond;
    this.next();
    const then = this.expression();
    if (!then) return undefined;
    if (!this.expect('colon', 'Missing false expression in conditional', 'The conditional operator (...?...:...) requires a false expression, delimited by a colon.')) return undefined;
    const otherwise = this.expression();
    if (!otherwise) return undefined;
    return { kind: 'conditional', cond, then, else: otherwise, range: span(cond.range, otherwise.range) };
  }

  /** Operators of precedence `min` and up, left-associative (precedence climbing). */
  private binary(min: number): A.Expr | undefined {
    let left = this.unary();
    if (!left) return undefined;
    for (;;) {
      const t = this.peek();
      const prec = t.kind === 'op' ? PRECEDENCE[t.text] : undefined;
      if (prec === undefined || prec < min) return left;
      this.next();
      const right = this.binary(prec + 1);
      if (!right) return undefined;
      left = { kind: 'binary', op: t.text as A.BinaryOp, left, right, range: span(left.range, right.range) };
    }
  }

  private unary(): A.Expr | undefined {
    const t = this.peek();
    if (t.kind !== 'op' || (t.text !== '-' && t.text !== '!')) return this.postfix();
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

  /** A term followed by any number of traversal steps. */
  private postfix(): A.Expr | undefined {
    let e = this.term();
    while (e) {
      const t = this.peek();
      if (t.kind === 'dot') e = this.dotStep(e);
      else if (t.kind === 'obrack') e = this.bracketStep(e);
      else return e;
    }
    return undefined;
  }

  /** `.name`, legacy `.0`, or the attribute-only splat `.*`. */
  private dotStep(e: A.Expr): A.Expr | undefined {
    this.next();
    const n = this.peek();
    if (n.kind === 'op' && n.text === '*') {
      this.next();
      return this.attrSplat(e, n);
    }
    return this.attrOrLegacyIndex(e, n);
  }

  private attrOrLegacyIndex(object: A.Expr, n: Token): A.Expr | undefined {
    if (n.kind === 'ident') {
      this.next();
      return { kind: 'getAttr', object, name: n.text, nameRange: n.range, range: span(object.range, n.range) };
    }
    if (n.kind === 'number') {
      this.next();
      if (n.text.includes('.')) {
        const [a, b] = n.text.split('.');
        this.fail('Invalid legacy index syntax', `When using the legacy index syntax, chaining two indexes together is not permitted. Use the proper index syntax instead, like [${a}][${b}].`, n.range);
        return undefined;
      }
      return { kind: 'index', collection: object, key: { kind: 'literal', value: Number(n.text), range: n.range }, range: span(object.range, n.range) };
    }
    this.fail('Invalid attribute name', `An attribute name is required after a dot, but found ${describeToken(n)}.`, n.range);
    return undefined;
  }

  /** `[key]` or the full splat `[*]`. Newlines inside the brackets mean nothing. */
  private bracketStep(e: A.Expr): A.Expr | undefined {
    const open = this.next();
    const saved = this.newlines(true);
    try {
      const star = this.peek();
      if (star.kind === 'op' && star.text === '*') {
        this.next();
        const close = this.expect('cbrack', 'Missing close bracket on splat index', 'The star for a full splat operator must be immediately followed by a closing bracket ("]").');
        if (!close) return undefined;
        this.restoreNewlines(saved);
        return this.fullSplat(e, span(open.range, close.range));
      }
      const key = this.expression();
      if (!key) return undefined;
      const close = this.expect('cbrack', 'Missing close bracket on index', 'The index operator must end with a closing bracket ("]").');
      if (!close) return undefined;
      return { kind: 'index', collection: e, key, range: span(e.range, close.range) };
    } finally {
      this.restoreNewlines(saved);
    }
  }

  /** `src[*]` then any `.name`, `.0` and `[key]` steps: all of them apply to each element. */
  private fullSplat(source: A.Expr, starRange: A.SplatItemExpr['range']): A.Expr | undefined {
    let each: A.Expr = { kind: 'splatItem', range: starRange };
    for (;;) {
      const t = this.peek();
      if (t.kind === 'dot') {
        const n = this.peekSecond();
        if (n.kind === 'op' && n.text === '*') break;
        this.next();
        const step = this.attrOrLegacyIndex(each, n);
        if (!step) return undefined;
        each = step;
        continue;
      }
      if (t.kind === 'obrack') {
        const n = this.peekSecond();
        if (n.kind === 'op' && n.text === '*') break;
        const step = this.bracketStep(each);
        if (!step) return undefined;
        each = step;
        continue;
      }
      break;
    }
    return { kind: 'splat', source, each, range: span(source.range, each.range) };
  }

  /** `src.*` then any `.name` / `.0` steps; an index after them applies to the whole result. */
  private attrSplat(source: A.Expr, star: Token): A.Expr | undefined {
    let each: A.Expr = { kind: 'splatItem', range: star.range };
    while (this.is('dot')) {
      const n = this.peekSecond();
      if (n.kind === 'op' && n.text === '*') {
        this.fail('Nested splat expression not allowed', 'A splat expression (*) cannot be used inside another attribute-only splat expression.', n.range);
        return undefined;
      }
      this.next();
      const step = this.attrOrLegacyIndex(each, n);
      if (!step) return undefined;
      each = step;
    }
    return { kind: 'splat', source, each, range: span(source.range, each.range) };
  }

  private term(): A.Expr | undefined {
    const t = this.peek();
    switch (t.kind) {
      case 'number':
        this.next();
        return { kind: 'literal', value: Number(t.text), range: t.range };
      case 'ident':
        this.next();
        // A name followed by `(` is a call, whatever the name: HCL accepts `true(1)` as one.
        if (this.is('oparen')) return this.call(t);
        if (t.text === 'true' || t.text === 'false') return { kind: 'literal', value: t.text === 'true', range: t.range };
        if (t.text === 'null') return { kind: 'literal', value: null, range: t.range };
        return { kind: 'variable', name: t.text, range: t.range };
      case 'oparen':
        return this.parens();
      case 'oquote':
        return this.quoted();
      case 'oheredoc':
        return this.heredoc();
      case 'obrack':
        return this.tupleOrFor();
      case 'obrace':
        return this.objectOrFor();
      case 'invalid':
        // The lexer reported it.
        this.next();
        return undefined;
      default: {
        // Line ends and closing brackets are left for error recovery to find.
        const detail = `Expected the start of an expression, but found ${describeToken(t)}.`;
        this.fail('Invalid expression', detail, t.range);
        return undefined;
      }
    }
  }

  private parens(): A.Expr | undefined {
    const open = this.next();
    const saved = this.newlines(true);
    try {
      const inner = this.expression();
      if (!inner) return undefined;
      const close = this.expect('cparen', 'Unbalanced parentheses', 'Expected a closing parenthesis to terminate the expression.');
      if (!close) return undefined;
      return { kind: 'parens', expr: inner, range: span(open.range, close.range) };
    } finally {
      this.restoreNewlines(saved);
    }
  }

  private quoted(): A.Expr | undefined {
    const open = this.next();
    // Most strings are plain text: build those directly rather than through the template parser.
    const first = this.toks[this.p]!;
    const second = this.toks[this.p + 1];
    if (first.kind === 'cquote' || (first.kind === 'lit' && second?.kind === 'cquote')) {
      const close = first.kind === 'cquote' ? first : second!;
      this.p += first.kind === 'cquote' ? 1 : 2;
      const range = span(open.range, close.range);
      const literal: A.TemplateLiteral = first.kind === 'lit' ? { kind: 'literal', value: first.value ?? first.text, range: first.range } : { kind: 'literal', value: '', range };
      return { kind: 'template', parts: [literal], range };
    }
    const parts = this.templateParts('cquote');
    if (!parts) return undefined;
    const close = this.toks[this.p]!;
    if (close.kind !== 'cquote') {
      // At a newline or the end of the file the lexer has reported the unterminated string.
      if (close.kind !== 'newline' && close.kind !== 'eof') this.fail('Unterminated template string', 'No closing quote mark was found for this string.', close.range);
      return undefined;
    }
    this.p++;
    return finishTemplate(parts, span(open.range, close.range), false);
  }

  private heredoc(): A.Expr | undefined {
    const open = this.next();
    const parts = this.templateParts('cheredoc', open.flush === true);
    if (!parts) return undefined;
    const close = this.toks[this.p]!;
    if (close.kind !== 'cheredoc') {
      // Only the end of the file stops a heredoc early, and the lexer has reported that.
      if (close.kind !== 'eof') this.fail('Unterminated template string', 'No closing marker was found for this heredoc.', close.range);
      return undefined;
    }
    this.p++;
    // A heredoc is always a string template, never unwrapped.
    const t = finishTemplate(parts, span(open.range, close.range), false);
    if (t.kind === 'template') {
      t.heredoc = true;
      return t;
    }
    return { kind: 'template', parts, heredoc: true, range: t.range };
  }

  private call(name: Token): A.Expr | undefined {
    this.next(); // (
    const saved = this.newlines(true);
    try {
      const args: A.Expr[] = [];
      let expandFinal = false;
      while (!this.is('cparen')) {
        const a = this.expression();
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
        if (!this.accept('comma') && !this.is('cparen')) {
          const t = this.peek();
          const detail = t.kind === 'eof' ? 'The function call has no closing parenthesis before the end of the file.' : 'A comma is required to separate each function argument from the next.';
          this.fail('Missing argument separator', detail, t.range);
          return undefined;
        }
      }
      const close = this.next();
      return { kind: 'call', name: name.text, nameRange: name.range, args, expandFinal, range: span(name.range, close.range) };
    } finally {
      this.restoreNewlines(saved);
    }
  }

  private tupleOrFor(): A.Expr | undefined {
    const open = this.next();
    const saved = this.newlines(true);
    try {
      if (this.is('ident', 'for')) return this.forExpr(open, 'cbrack');
      const elems: A.Expr[] = [];
      while (!this.is('cbrack')) {
        const e = this.expression();
        if (!e) return undefined;
        elems.push(e);
        if (!this.accept('comma') && !this.is('cbrack')) {
          const t = this.peek();
          const detail = t.kind === 'eof' ? 'The list has no closing bracket ("]") before the end of the file.' : 'Expected a comma to mark the beginning of the next item.';
          this.fail('Missing item separator', detail, t.range);
          return undefined;
        }
      }
      const close = this.next();
      return { kind: 'tuple', elems, range: span(open.range, close.range) };
    } finally {
      this.restoreNewlines(saved);
    }
  }

  private objectOrFor(): A.Expr | undefined {
    const open = this.next();
    // Newlines separate object items, but a `for` may start on the next line.
    const saved = this.newlines(true);
    try {
      if (this.is('ident', 'for')) return this.forExpr(open, 'cbrace');
      this.newlines(false);
      return this.object(open);
    } finally {
      this.restoreNewlines(saved);
    }
  }

  private object(open: Token): A.Expr | undefined {
    const items: A.ObjectItem[] = [];
    for (;;) {
      while (this.accept('newline')) {
        // blank lines between items
      }
      if (this.is('cbrace')) break;
      const key = this.objectKey();
      if (!key) return undefined;
      if (!this.accept('equal') && !this.accept('colon')) {
        const t = this.peek();
        const detail = `Expected an equals sign ("=") to mark the beginning of the attribute value, but found ${describeToken(t)}.`;
        this.fail('Missing key/value separator', detail, t.range);
        return undefined;
      }
      const value = this.expression();
      if (!value) return undefined;
      items.push({ key, value });
      if (this.accept('comma') || this.is('newline') || this.is('cbrace')) continue;
      const t = this.peek();
      const detail = t.kind === 'eof' ? 'The object has no closing brace before the end of the file.' : 'Expected a newline or comma to mark the beginning of the next attribute.';
      this.fail('Missing attribute separator', detail, t.range);
      return undefined;
    }
    const close = this.next();
    return { kind: 'object', items, range: span(open.range, close.range) };
  }

  /** A bare name is a literal string key; `(expr)`, quoted and other keys are expressions. */
  private objectKey(): A.Expr | undefined {
    const t = this.peek();
    if (t.kind === 'ident') {
      const after = this.peekSecond();
      if (after.kind === 'equal' || after.kind === 'colon') {
        this.next();
        return { kind: 'literal', value: t.text, range: t.range };
      }
    }
    if (t.kind === 'eof') {
      this.fail('Missing attribute separator', 'The object has no closing brace before the end of the file.', t.range);
      return undefined;
    }
    return this.binary(1);
  }

  private forExpr(open: Token, closeKind: 'cbrack' | 'cbrace'): A.Expr | undefined {
    this.next(); // for
    const bad = (detail: string, at: Token): undefined => {
      this.fail("Invalid 'for' expression", detail, at.range);
      return undefined;
    };
    const v1 = this.peek();
    if (v1.kind !== 'ident') return bad("For expression requires a variable name after 'for'.", v1);
    this.next();
    let keyVar: string | undefined;
    let valVar = v1.text;
    if (this.accept('comma')) {
      const v2 = this.peek();
      if (v2.kind !== 'ident') return bad('For expression requires a value variable name after the comma.', v2);
      this.next();
      keyVar = v1.text;
      valVar = v2.text;
    }
    if (!this.accept('ident', 'in')) return bad("For expression requires the 'in' keyword after its name declarations.", this.peek());
    const collection = this.expression();
    if (!collection) return undefined;
    if (!this.accept('colon')) return bad('For expression requires a colon after the collection expression.', this.peek());
    let keyExpr: A.Expr | undefined;
    let valExpr = this.expression();
    if (!valExpr) return undefined;
    let group = false;
    if (this.is('fatArrow')) {
      if (closeKind === 'cbrack') return bad('Key expression is not valid when building a tuple: use {for …} to build an object.', this.peek());
      this.next();
      keyExpr = valExpr;
      valExpr = this.expression();
      if (!valExpr) return undefined;
      if (this.is('ellipsis')) {
        this.next();
        group = true;
      }
    } else if (closeKind === 'cbrace') {
      return bad('Key expression is required when building an object: write {for k, v in coll : key => value}.', this.peek());
    }
    if (this.is('ellipsis')) return bad('Grouping ellipsis (...) cannot be used when building a tuple.', this.peek());
    let cond: A.Expr | undefined;
    if (this.accept('ident', 'if')) {
      cond = this.expression();
      if (!cond) return undefined;
    }
    const close = this.peek();
    if (close.kind !== closeKind) return bad(`Extra characters after the end of the 'for' expression: expected "${closeKind === 'cbrack' ? ']' : '}'}" but found ${describeToken(close)}.`, close);
    this.next();
    const e: A.ForExpr = { kind: 'for', valVar, collection, valExpr, group, range: span(open.range, close.range) };
    if (keyVar !== undefined) e.keyVar = keyVar;
    if (keyExpr) e.keyExpr = keyExpr;
    if (cond) e.cond = cond;
    return e;
  }
}
