/**
 * Entry points of the native syntax: whole files, standalone expressions (`-var` values,
 * `kiln console`, type strings in JSON) and standalone templates (templatefile). None of them
 * throws on bad input: problems come back as diagnostics worded like HCL's, in source order.
 */
import type { Diagnostic, Pos, SourceRange } from '../../core/errors/diagnostic.js';
import { error } from '../../core/errors/diagnostic.js';
import type * as A from './ast.js';
import { BodyParser } from './body-parser.js';
import { describeToken, TooDeep } from './cursor.js';
import { lex, lexTemplate, type Token } from './lexer.js';
import type { PositionSource } from './positions.js';
import { finishTemplate } from './template-parser.js';

/** The parser with the two standalone entry points the body parser does not need. */
class StandaloneParser extends BodyParser {
  standaloneExpression(): A.Expr | undefined {
    this.newlines(true);
    try {
      const e = this.expression();
      if (!e) return undefined;
      const rest = this.peek();
      if (rest.kind !== 'eof') {
        this.fail('Extra characters after expression', `An expression was successfully parsed, but extra characters were found after it: ${describeToken(rest)}.`, rest.range);
        return undefined;
      }
      return e;
    } catch (e) {
      if (e instanceof TooDeep) return undefined;
      throw e;
    }
  }

  wholeTemplate(): A.TemplatePart[] | undefined {
    try {
      return this.templateParts('eof');
    } catch (e) {
      if (e instanceof TooDeep) return undefined;
      throw e;
    }
  }
}

function byPosition(a: Diagnostic, b: Diagnostic): number {
  const pa = a.subject?.start;
  const pb = b.subject?.start;
  if (!pa || !pb) return 0;
  return pa.byte - pb.byte;
}

/**
 * Lexer errors first decide what is wrong on a line; parser errors on that same line are
 * mostly echoes of the same problem (a bad character, then "Invalid expression" at it).
 */
function merge(lexDiags: Diagnostic[], parserDiags: Diagnostic[]): Diagnostic[] {
  const lexLines = new Set(lexDiags.map((d) => d.subject?.start.line));
  return [...lexDiags, ...parserDiags.filter((d) => !lexLines.has(d.subject?.start.line))].sort(byPosition);
}

function wholeRange(tokens: readonly Token[], filename: string): SourceRange {
  return { filename, start: tokens[0]!.range.start, end: tokens[tokens.length - 1]!.range.end };
}

export function parseHCL(text: string, filename: string): { file: A.File; diagnostics: Diagnostic[] } {
  const { tokens, diags } = lex(text, filename);
  const parser = new BodyParser(tokens, filename);
  parser.lexerReported = diags.length > 0;
  const file = parser.parseFile();
  return { file, diagnostics: merge(diags, parser.diags) };
}

/**
 * One expression. `start` is where the text sits in its file (a JSON string, say), so ranges
 * point into that file.
 */
export function parseExpression(text: string, filename: string, start?: Pos): { expr: A.Expr; diagnostics: Diagnostic[] } {
  const { tokens, diags } = lex(text, filename, start);
  const parser = new StandaloneParser(tokens, filename);
  const expr = parser.standaloneExpression();
  const diagnostics = merge(diags, parser.diags);
  const range = wholeRange(tokens, filename);
  // Never fail without a word (a safety net: every failing path reports something).
  if (!expr && diagnostics.length === 0) diagnostics.push(error('Invalid expression', 'This text could not be read as an expression.', range));
  return { expr: expr ?? { kind: 'literal', value: null, range }, diagnostics };
}

/**
 * A whole text as a template, as templatefile reads it. Like a quoted string, a text that is
 * exactly one `${expr}` is that expression (TemplateWrapExpr); otherwise a TemplateExpr.
 */
export function parseTemplate(text: string, filename: string, start?: Pos | PositionSource): { expr: A.Expr; diagnostics: Diagnostic[] } {
  return parseTemplateAs(text, filename, start, false);
}

/** parseTemplate for JSON strings: positions mapped through escapes, `fromJson` set. */
export function parseTemplateAs(text: string, filename: string, start: Pos | PositionSource | undefined, fromJson: boolean, range?: SourceRange): { expr: A.TemplateExpr | A.TemplateWrapExpr; diagnostics: Diagnostic[] } {
  const { tokens, diags } = lexTemplate(text, filename, start);
  const parser = new StandaloneParser(tokens, filename);
  const parts = parser.wholeTemplate();
  const r = range ?? wholeRange(tokens, filename);
  const expr = finishTemplate(parts ?? [], r, fromJson);
  return { expr, diagnostics: merge(diags, parser.diags) };
}
