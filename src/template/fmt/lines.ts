/**
 * A file as formatting lines. Each line has up to three cells: the lead (indentation and what
 * comes before an `=`), the assignment (from `=` to the end of a value that closes on this line),
 * and a trailing comment. `=` signs and comments are aligned cell by cell across neighbouring
 * lines. A heredoc has no newline tokens inside (its lines are literal text), so a heredoc and
 * the line it starts on are one formatting line and its text is never re-indented.
 */
import { bracketChange, endsLine, type FmtToken } from './tokens.js';

export interface FmtLine {
  lead: FmtToken[];
  assign?: FmtToken[];
  comment?: FmtToken[];
}

/** Net bracket change of a cell; with `stopAtHeredoc`, the count ends at a heredoc's opener. */
export function netBrackets(cell: readonly FmtToken[] | undefined, stopAtHeredoc: boolean): number {
  let n = 0;
  for (const t of cell ?? []) {
    n += bracketChange(t);
    if (stopAtHeredoc && t.kind === 'oheredoc') return n;
  }
  return n;
}

export function splitLines(tokens: readonly FmtToken[]): FmtLine[] {
  const lines: FmtLine[] = [];
  let cur: FmtToken[] = [];
  for (const t of tokens) {
    cur.push(t);
    if (endsLine(t)) {
      lines.push({ lead: cur });
      cur = [];
    }
  }
  if (cur.length > 0) lines.push({ lead: cur });
  for (const line of lines) splitCells(line);
  return lines;
}

function splitCells(line: FmtLine): void {
  const last = line.lead[line.lead.length - 1];
  // A comment alone on its line is not a trailing comment: it stays in the lead.
  if (line.lead.length > 1 && last?.kind === 'comment') {
    line.comment = [last];
    line.lead = line.lead.slice(0, -1);
  }
  for (let i = 1; i < line.lead.length; i++) {
    if (line.lead[i]!.kind !== 'equal') continue;
    // Only a value that closes on this line is aligned; `x = {` starts a multi-line value.
    // The count goes on into a heredoc, as hclwrite's does: a heredoc whose interpolation
    // spans lines keeps its line out of the alignment.
    const assign = line.lead.slice(i);
    if (netBrackets(assign, false) === 0) {
      line.assign = assign;
      line.lead = line.lead.slice(0, i);
    }
    return;
  }
}

/** Display width of a cell: spaces plus characters (code points, as hclwrite counts). */
export function columns(cell: readonly FmtToken[] | undefined): number {
  let n = 0;
  for (const t of cell ?? []) {
    n += t.spaces;
    for (let i = 0; i < t.text.length; i++) {
      const c = t.text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff) i++;
      n++;
    }
  }
  return n;
}
