/**
 * Bodies of the HCL native syntax: arguments (`name = expr`, one per line) and blocks
 * (`type "label" label2 { … }`, or `type { name = expr }` on one line), in source order. After an
 * error the parser skips to the end of the broken item (across the brackets it opened, when they
 * close) and carries on, so one run reports every problem in a file.
 */
import type { SourceRange } from '../../core/errors/diagnostic.js';
import type * as A from './ast.js';
import { describeToken, TooDeep } from './cursor.js';
import { ExprParser } from './expr-parser.js';
import type { Token } from './lexer.js';
import { span, where } from './positions.js';

export class BodyParser extends ExprParser {
  /** Set when the lexer reported errors: a silent failure is then one of their echoes. */
  lexerReported = false;

  /** Only the innermost unclosed block is reported: the outer ones are the same missing brace. */
  private reportedUnclosed = false;

  parseFile(): A.File {
    this.newlines(false);
    return { filename: this.filename, body: this.body(undefined), syntax: 'hcl' };
  }

  /** Items up to the `}` that closes `open` (not consumed), or to the end of the file. */
  private body(open: Token | undefined): A.Body {
    const items: A.BodyItem[] = [];
    const seen = new Map<string, A.Attribute>();
    const start = open ? open.range.end : this.toks[0]!.range.start;
    for (;;) {
      const t = this.peekRaw();
      if (t.kind === 'newline') {
        this.p++;
        this.skipComments();
        continue;
      }
      if (t.kind === 'eof') {
        if (open && !this.reportedUnclosed) {
          this.reportedUnclosed = true;
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
        this.recover(this.p, this.p);
        continue;
      }
      const itemStart = this.p;
      const reported = this.diags.length;
      let item: A.BodyItem | undefined;
      try {
        item = this.item();
      } catch (e) {
        if (!(e instanceof TooDeep) || open) throw e;
        // Reported where it happened; nothing after it is parsed.
        this.abandon();
        break;
      }
      if (!item) {
        if (this.diags.length === reported && !this.lexerReported) this.unexplained(itemStart);
        this.recover(itemStart, this.p);
        continue;
      }
      if (item.kind === 'attribute') {
        const prev = seen.get(item.name);
        if (prev) {
          this.fail('Attribute redefined', `The argument "${item.name}" was already set at ${where(prev.nameRange)}. Each argument may be set only once.`, item.nameRange);
          continue;
        }
        seen.set(item.name, item);
      }
      items.push(item);
    }
    return { kind: 'body', items, range: { filename: this.filename, start, end: this.peekRaw().range.start } };
  }

  /** A safety net: an item must never vanish without a word. */
  private unexplained(itemStart: number): void {
    const at = this.toks[Math.max(itemStart, this.p - 1)]!;
    this.fail('Invalid syntax', `This argument or block could not be read: the problem is at ${describeToken(at)}.`, at.range);
  }

  private skipComments(): void {
    while (this.toks[this.p]!.kind === 'comment') this.p++;
  }

  private item(): A.BodyItem | undefined {
    const name = this.peek();
    if (name.kind === 'oquote') return this.quotedName(name);
    if (name.kind !== 'ident') {
      if (name.kind !== 'invalid') this.fail('Argument or block definition required', `An argument or block definition is required here, but found ${describeToken(name)}.`, name.range);
      return undefined;
    }
    this.next();
    return this.is('equal') ? this.attribute(name) : this.block(name);
  }

  /** `"name" = …` is a common slip (from JSON habits): say so plainly. */
  private quotedName(open: Token): undefined {
    const label = this.label();
    if (label && this.is('equal')) {
      this.fail('Invalid argument name', 'Argument names must not be quoted.', label.range);
    } else if (label) {
      this.fail('Argument or block definition required', 'An argument or block definition is required here: a block type name is an identifier, not a quoted string.', open.range);
    }
    return undefined;
  }

  private attribute(name: Token): A.Attribute | undefined {
    const attr = this.attributeValue(name);
    if (!attr) return undefined;
    const end = this.peekRaw();
    if (end.kind !== 'newline' && end.kind !== 'eof') {
      this.fail('Missing newline after argument', 'An argument definition must end with a newline.', end.range);
      this.recover(this.p, this.p);
    }
    return attr;
  }

  private block(type: Token): A.Block | undefined {
    const labels: string[] = [];
    const labelRanges: SourceRange[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'ident') {
        this.next();
        labels.push(t.text);
        labelRanges.push(t.range);
      } else if (t.kind === 'oquote') {
        const l = this.label();
        if (!l) return undefined;
        labels.push(l.value);
        labelRanges.push(l.range);
      } else break;
    }
    const open = this.peek();
    if (open.kind !== 'obrace') {
      if (labels.length === 0) {
        const detail =
          open.kind === 'newline' || open.kind === 'eof' ? `An argument or block definition is required here. To set an argument, use the equals sign "=" to introduce the argument value; to define a block, follow "${type.text}" with an opening brace ("{").`
          : 'An argument or block definition is required here. To set an argument, use the equals sign "=" to introduce the argument value.';
        this.fail('Argument or block definition required', detail, open.range);
      } else {
        this.fail('Invalid block definition', 'Either a quoted string block label or an opening brace ("{") is expected here.', open.range);
      }
      return undefined;
    }
    this.next();
    const defRange = span(type.range, labelRanges[labelRanges.length - 1] ?? type.range);
    this.enter(open.range);
    let body: A.Body | undefined;
    try {
      const first = this.peekRaw();
      if (first.kind === 'newline' || first.kind === 'eof') body = this.body(open);
      else body = this.singleLineBody(open);
    } finally {
      this.leave();
    }
    if (!body) return undefined;
    const close = this.peek();
    if (close.kind !== 'cbrace') {
      // Unclosed at the end of the file (reported by body()): keep what was parsed.
      return { kind: 'block', type: type.text, typeRange: type.range, labels, labelRanges, body, range: span(type.range, body.range), defRange };
    }
    this.next();
    const block: A.Block = { kind: 'block', type: type.text, typeRange: type.range, labels, labelRanges, body, range: span(type.range, close.range), defRange };
    const after = this.peekRaw();
    if (after.kind !== 'newline' && after.kind !== 'eof') {
      this.fail('Missing newline after block definition', 'A block definition must end with a newline.', after.range);
      this.recover(this.p, this.p);
    }
    return block;
  }

  /** `a { }` or `a { b = 1 }`: at most one argument, and the closing brace on the same line. */
  private singleLineBody(open: Token): A.Body | undefined {
    const items: A.BodyItem[] = [];
    const t = this.peek();
    if (t.kind === 'ident' && this.peekSecond().kind === 'equal') {
      this.next();
      const attr = this.attributeValue(t);
      if (!attr) return undefined;
      items.push(attr);
    } else if (t.kind === 'ident') {
      this.fail(
        'Argument definition required',
        `A single-line block definition can contain only a single argument. If you meant to define argument "${t.text}", use an equals sign to assign it a value. To define a nested block, place it on a line of its own within its parent block.`,
        t.range,
      );
      return undefined;
    } else if (t.kind !== 'cbrace') {
      this.fail('Argument or block definition required', `An argument or block definition is required here, but found ${describeToken(t)}.`, t.range);
      return undefined;
    }
    const close = this.peek();
    if (close.kind !== 'cbrace') {
      this.fail('Invalid single-argument block definition', 'A single-line block definition must end with a closing brace immediately after its single argument; put a longer body on its own lines.', close.range);
      return undefined;
    }
    return { kind: 'body', items, range: { filename: this.filename, start: open.range.end, end: close.range.start } };
  }

  private attributeValue(name: Token): A.Attribute | undefined {
    this.next(); // =
    const expr = this.expression();
    if (!expr) return undefined;
    return { kind: 'attribute', name: name.text, nameRange: name.range, expr, range: span(name.range, expr.range) };
  }

  /** A quoted block label: a plain string, escapes allowed, template sequences not. */
  private label(): { value: string; range: SourceRange } | undefined {
    const open = this.next();
    let value = '';
    for (;;) {
      const t = this.toks[this.p]!;
      if (t.kind === 'lit') {
        this.p++;
        value += t.value ?? '';
      } else if (t.kind === 'cquote') {
        this.p++;
        return { value, range: span(open.range, t.range) };
      } else {
        // Unterminated strings were reported by the lexer.
        if (t.kind === 'interp' || t.kind === 'control') {
          const c = t.kind === 'interp' ? '$' : '%';
          this.fail('Invalid string literal', `Template sequences are not allowed in this string. To include a literal "${c}", double it (as "${c}${c}") to escape it.`, t.range);
        }
        return undefined;
      }
    }
  }

  /**
   * Skips past a broken item: from `from`, through any brackets it opened, to the end of its
   * line (or a `}` that may close the enclosing block), never stopping before `errorAt`. When
   * the brackets never close, only the rest of the error's own line is skipped.
   */
  private recover(from: number, errorAt: number): void {
    let depth = 0;
    for (let q = from; ; q++) {
      const t = this.toks[q]!;
      switch (t.kind) {
        case 'eof':
          this.p = depth > 0 ? this.lineEndFrom(errorAt) : q;
          return;
        case 'obrace':
        case 'obrack':
        case 'oparen':
        case 'interp':
        case 'control':
          depth++;
          break;
        case 'cbrack':
        case 'cparen':
        case 'tmplEnd':
          depth--;
          break;
        case 'cbrace':
          if (depth <= 0 && q >= errorAt) {
            this.p = q;
            return;
          }
          depth--;
          break;
        case 'newline':
          if (depth <= 0 && q >= errorAt) {
            this.p = q;
            return;
          }
          break;
      }
    }
  }

  private lineEndFrom(q: number): number {
    let k = q;
    while (this.toks[k]!.kind !== 'newline' && this.toks[k]!.kind !== 'eof') k++;
    return k;
  }
}
