/**
 * `<<-EOT` heredocs: the smallest indentation shared by the heredoc's lines is removed from each
 * of them. This follows what HCL (and so Packer) does, checked against Packer 1.6.6:
 *
 * - It runs after strip markers (`~`) have trimmed the literal text, on the template's flat
 *   sequence of pieces (one literal per source line, split at sequences).
 * - Indentation is counted in characters: a tab is one.
 * - A line made only of spaces and tabs neither counts nor changes.
 * - A line that starts with a sequence, or whose indentation a `%{~`/`${~` trimmed away, has no
 *   indentation: nothing is then removed anywhere.
 * - A `~}` that ate the newline ending its line leaves the next line without its standing as a
 *   line start, so that line keeps its indentation (hashicorp/terraform#23710).
 */

/** A piece of a template's flat sequence: literal text, or a sequence (interpolation/directive). */
export type FlatPiece = { kind: 'literal'; value: string } | { kind: 'interp' | 'directive' };

function indentOf(text: string): number {
  let n = 0;
  while (n < text.length && (text.charCodeAt(n) === 0x20 || text.charCodeAt(n) === 9)) n++;
  return n;
}

const BLANK_LINE = /^[ \t]*\r?\n$/;

export function flushHeredoc(pieces: readonly FlatPiece[]): void {
  const lineStarts: Array<{ value: string }> = [];
  let min = Infinity;
  let atLineStart = true;
  for (const p of pieces) {
    if (p.kind !== 'literal') {
      if (atLineStart) min = 0;
      atLineStart = false;
      continue;
    }
    if (atLineStart && !BLANK_LINE.test(p.value)) {
      lineStarts.push(p);
      min = Math.min(min, indentOf(p.value));
    }
    atLineStart = p.value.endsWith('\n');
  }
  if (min === Infinity || min === 0) return;
  for (const p of lineStarts) p.value = p.value.slice(min);
}
