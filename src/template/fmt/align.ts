/**
 * Alignment: in a run of consecutive lines that each have an assignment cell, the `=` signs line
 * up one space after the longest lead; then, in a run of consecutive lines with a trailing
 * comment, the comments line up the same way. A blank line, a comment on its own line, a block
 * line or a multi-line value has no such cell and so ends the run.
 */
import { columns, type FmtLine } from './lines.js';
import type { FmtToken } from './tokens.js';

export function alignLines(lines: readonly FmtLine[]): void {
  alignRuns(lines, (l) => l.assign, (l) => columns(l.lead));
  alignRuns(lines, (l) => l.comment, (l) => columns(l.lead) + columns(l.assign));
}

function alignRuns(lines: readonly FmtLine[], cell: (l: FmtLine) => FmtToken[] | undefined, width: (l: FmtLine) => number): void {
  let start = -1;
  let max = 0;
  const close = (end: number): void => {
    for (let k = start; k < end; k++) cell(lines[k]!)![0]!.spaces = max - width(lines[k]!) + 1;
    start = -1;
    max = 0;
  };
  lines.forEach((l, i) => {
    if (!cell(l)) {
      if (start !== -1) close(i);
      return;
    }
    if (start === -1) start = i;
    max = Math.max(max, width(l));
  });
  if (start !== -1) close(lines.length);
}
