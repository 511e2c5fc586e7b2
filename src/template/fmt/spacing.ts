/**
 * One space or none between neighbouring tokens on a line, decided by their kinds, as `packer
 * fmt` (hclwrite) decides it: spaces around binary operators and `=`, after commas, inside
 * braces; none inside `()` and `[]`, around dots, before commas, or anywhere inside template
 * text.
 */
import type { FmtLine } from './lines.js';
import { bracketChange, type FmtToken } from './tokens.js';

/** After these a `-` is a negation (no space after it), not a subtraction. */
const BEFORE_NEGATION = new Set(['oparen', 'obrace', 'obrack', 'equal', 'colon', 'comma', 'question']);
const OPERATORS_BEFORE_NEGATION = new Set(['+', '-', '*', '/', '%', '==', '!=', '>', '>=', '<', '<=', '&&', '||', '!']);

function spaceAfter(subject: FmtToken, before: FmtToken | undefined, after: FmtToken): boolean {
  if (after.kind === 'newline') return false;
  if (subject.kind === 'ident' && after.kind === 'oparen') return false;
  if (subject.kind === 'dot' || after.kind === 'dot') return false;
  if (after.kind === 'comma' || after.kind === 'ellipsis') return false;
  if (subject.kind === 'comma') return true;
  // Template text is written as is, against its quotes, markers and sequences.
  if (subject.kind === 'lit' || subject.kind === 'oquote' || subject.kind === 'oheredoc') return false;
  if (after.kind === 'lit' || after.kind === 'cquote' || after.kind === 'cheredoc') return false;
  // `in` after a name is the for keyword, even when a tuple follows: `in [a, b]`.
  if (subject.kind === 'ident' && subject.text === 'in' && before?.kind === 'ident') return true;
  if (after.kind === 'obrack' && (subject.kind === 'ident' || subject.kind === 'number' || bracketChange(subject) < 0)) return false;
  if (subject.kind === 'op' && subject.text === '-') {
    if (!before) return false;
    if (BEFORE_NEGATION.has(before.kind)) return false;
    if (before.kind === 'op' && OPERATORS_BEFORE_NEGATION.has(before.text)) return false;
    return true;
  }
  if (subject.kind === 'obrace' || after.kind === 'cbrace') return !(subject.kind === 'obrace' && after.kind === 'cbrace');
  // `${ {` and `} }`: keep an object constructor visibly apart from the sequence's brace.
  if ((subject.kind === 'interp' || subject.kind === 'control') && after.kind === 'obrace') return true;
  if (subject.kind === 'cbrace' && after.kind === 'tmplEnd') return true;
  // Sequences follow each other directly: "${a}${b}", "%{ endif }${x}".
  if (subject.kind === 'tmplEnd' && (after.kind === 'interp' || after.kind === 'control')) return false;
  if (bracketChange(subject) > 0) return false;
  if (bracketChange(after) < 0) return false;
  return true;
}

function spaceCell(cell: readonly FmtToken[]): void {
  for (let i = 0; i + 1 < cell.length; i++) cell[i + 1]!.spaces = spaceAfter(cell[i]!, cell[i - 1], cell[i + 1]!) ? 1 : 0;
}

export function spaceLines(lines: readonly FmtLine[]): void {
  for (const line of lines) {
    spaceCell(line.lead);
    if (line.assign) {
      spaceCell(line.assign);
      line.assign[0]!.spaces = 1;
    }
  }
}
