/**
 * `<<-EOT` heredocs: the smallest indentation shared by the heredoc's lines is removed from each
 * of them. As in HCL, indentation is counted in characters (a tab is one), a line made only of
 * spaces and tabs neither counts nor changes, and a line that starts with an interpolation or
 * directive has the indentation of the literal text before it (none if there is none).
 *
 * This works on the lexer's tokens, before strip markers (`~`) are applied, but it follows what
 * HCL (and so Packer) actually does with them: a `~}` that eats the newline ending its line also
 * takes away the next line's standing as a line start, so that line keeps its indentation.
 * (Known upstream as hashicorp/terraform#23710; kiln keeps templates producing Packer's bytes.)
 */
import type { Token } from './lexer.js';

function indentOf(text: string): number {
  let n = 0;
  while (n < text.length && (text.charCodeAt(n) === 0x20 || text.charCodeAt(n) === 9)) n++;
  return n;
}

/** Rewrites the `value` of each line-start literal of the heredoc opened at `tokens[open]`. */
export function flushHeredocTokens(tokens: Token[], open: number): void {
  // Literal tokens at the start of a line, directly in the heredoc (not inside a nested string).
  const lineStarts: Token[] = [];
  let min = Infinity;
  let depth = 0;
  let atLineStart = true;
  let stripPending = false;
  for (let k = open + 1; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (depth === 0 && t.kind === 'cheredoc') break;
    if (t.kind === 'interp' || t.kind === 'control') {
      if (depth === 0 && atLineStart) min = 0;
      depth++;
      atLineStart = false;
      continue;
    }
    if (t.kind === 'tmplEnd') {
      depth--;
      if (depth === 0 && t.strip) stripPending = true;
      continue;
    }
    if (depth !== 0 || t.kind !== 'lit') continue;
    if (stripPending) {
      stripPending = false;
      // The strip runs through the first newline: the text after it no longer starts a line.
      if (/^[ \t]*\r?\n/.test(t.text)) {
        atLineStart = false;
        const rest = t.text.replace(/^[ \t]*\r?\n/, '');
        if (rest === '') continue;
      }
    }
    if (atLineStart) {
      // A line of only blanks ends with its newline; blanks before `${` are indentation.
      if (!/^[ \t]*\r?\n$/.test(t.text)) {
        lineStarts.push(t);
        min = Math.min(min, indentOf(t.text));
      }
    }
    atLineStart = t.text.endsWith('\n');
  }
  if (min === Infinity || min === 0) return;
  for (const t of lineStarts) t.value = (t.value ?? t.text).slice(min);
}
