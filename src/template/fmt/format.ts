/**
 * `kiln fmt`: the canonical layout `packer fmt` (Packer 1.6.6, hclwrite) writes. Only the
 * whitespace between tokens changes: indentation by bracket nesting, one space or none between
 * tokens by the kind of their neighbours, and `=` signs and trailing comments aligned across
 * neighbouring lines. A file with syntax errors is left alone: its diagnostics are returned.
 */
import type { Diagnostic } from '../../core/errors/diagnostic.js';
import { hasErrors } from '../../core/errors/diagnostic.js';
import { lex } from '../syntax/lexer.js';
import { parseHCL } from '../syntax/parser.js';
import { alignLines } from './align.js';
import { indentLines } from './indent.js';
import { splitLines } from './lines.js';
import { spaceLines } from './spacing.js';
import { fmtTokens } from './tokens.js';

export function formatHCL(text: string, filename: string): { output: string; diagnostics: Diagnostic[] } {
  const parsed = parseHCL(text, filename);
  if (hasErrors(parsed.diagnostics)) return { output: text, diagnostics: parsed.diagnostics };
  const { tokens, trailing } = fmtTokens(lex(text, filename).tokens, text);
  const lines = splitLines(tokens);
  indentLines(lines);
  spaceLines(lines);
  alignLines(lines);
  const out: string[] = [];
  for (const line of lines) {
    for (const cell of [line.lead, line.assign, line.comment]) {
      for (const t of cell ?? []) out.push(t.spaces > 0 ? ' '.repeat(t.spaces) + t.text : t.text);
    }
  }
  if (trailing > 0) out.push(' '.repeat(trailing));
  return { output: out.join(''), diagnostics: parsed.diagnostics };
}
