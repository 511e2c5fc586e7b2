/**
 * Indentation by bracket nesting, two spaces a level. A line that opens more brackets than it
 * closes adds one level (however many it opened) and remembers how many; closing brackets use
 * those counts up before a level is dropped. So `foo([{` indents the next line once, and
 * lopsided input never drifts far left or right. Brackets inside a heredoc's interpolations
 * count as hclwrite counts them, quirks included, so the output matches packer fmt's.
 */
import { netBrackets, type FmtLine } from './lines.js';

export function indentLines(lines: readonly FmtLine[]): void {
  const levels: number[] = [];
  for (const line of lines) {
    const first = line.lead[0];
    if (!first) continue;
    if (first.kind === 'newline') {
      // A blank line: no trailing whitespace.
      first.spaces = 0;
      continue;
    }
    // As hclwrite counts: brackets in the lead up to a heredoc opener, and all of the
    // assignment cell (whose own count is zero unless a heredoc hides a bracket).
    const net = netBrackets(line.lead, true) + netBrackets(line.assign, false);
    if (net > 0) {
      first.spaces = 2 * levels.length;
      levels.push(net);
      continue;
    }
    let closed = -net;
    while (closed > 0 && levels.length > 0) {
      const top = levels[levels.length - 1]!;
      if (closed >= top) {
        levels.pop();
        closed -= top;
      } else {
        levels[levels.length - 1] = top - closed;
        closed = 0;
      }
    }
    first.spaces = 2 * levels.length;
  }
}
