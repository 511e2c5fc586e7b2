/**
 * Offsets in a text → file positions (1-based line, 1-based column in code points, UTF-16 byte
 * offset). The lexer asks for positions in increasing order almost always, so the tracker walks
 * forward from the last answer; the rare backward question (an error pointing back at an opening
 * quote) is answered from a table of line starts.
 */
import type { Pos, SourceRange } from '../../core/errors/diagnostic.js';

export interface PositionSource {
  at(offset: number): Pos;
}

export class LineTracker implements PositionSource {
  private off = 0;
  private line: number;
  private col: number;
  /** Offsets (into the text) where lines 2, 3, … begin, as far as the walk has come. */
  private readonly lineStarts: number[] = [];

  /** `base` is where the text starts in its file: lexing a fragment keeps file positions. */
  constructor(
    private readonly text: string,
    private readonly base: Pos = { line: 1, column: 1, byte: 0 },
  ) {
    this.line = base.line;
    this.col = base.column;
  }

  at(offset: number): Pos {
    if (offset < this.off) return this.backward(offset);
    const s = this.text;
    let i = this.off;
    let line = this.line;
    let col = this.col;
    while (i < offset) {
      const c = s.charCodeAt(i);
      if (i === 0 && c === 0xfeff) {
        // A byte order mark takes no column.
        i++;
        continue;
      }
      if (c === 10) {
        line++;
        col = 1;
        i++;
        this.lineStarts.push(i);
      } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < offset && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        // A surrogate pair is one character: one column.
        col++;
        i += 2;
      } else {
        col++;
        i++;
      }
    }
    this.off = offset;
    this.line = line;
    this.col = col;
    return { line, column: col, byte: this.base.byte + offset };
  }

  private backward(offset: number): Pos {
    // The last line start at or before offset.
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    let idx = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.lineStarts[mid]! <= offset) {
        idx = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const lineStart = idx < 0 ? (this.text.charCodeAt(0) === 0xfeff ? 1 : 0) : this.lineStarts[idx]!;
    let col = idx < 0 ? this.base.column : 1;
    for (let i = Math.min(lineStart, offset); i < offset; i++) {
      const c = this.text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < offset && (this.text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
      col++;
    }
    return { line: this.base.line + idx + 1, column: col, byte: this.base.byte + offset };
  }
}

/**
 * Positions for text that was decoded from a JSON string: `segments` pairs an offset in the
 * decoded text with the file position of the source it came from. Inside a plain segment the
 * text and its source match character for character; an escape (`\"`, `\u00e9`) maps all it
 * decodes to to the escape's own position.
 */
export class MappedPositions implements PositionSource {
  constructor(
    private readonly text: string,
    private readonly segments: ReadonlyArray<{ offset: number; pos: Pos; escape: boolean }>,
  ) {}

  at(offset: number): Pos {
    // The last segment starting at or before offset.
    let lo = 0;
    let hi = this.segments.length - 1;
    let idx = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.segments[mid]!.offset <= offset) {
        idx = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const seg = this.segments[idx]!;
    if (seg.escape || offset <= seg.offset) return seg.pos;
    let columns = 0;
    for (let i = seg.offset; i < offset; i++) {
      const c = this.text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < offset) i++;
      columns++;
    }
    const units = offset - seg.offset;
    return { line: seg.pos.line, column: seg.pos.column + columns, byte: seg.pos.byte + units };
  }
}

export function span(a: SourceRange, b: SourceRange): SourceRange {
  return { filename: a.filename, start: a.start, end: b.end };
}

/** `file:line,col-col`, as HCL names a place in a message ("already set at main.pkr.hcl:3,3-8"). */
export function where(r: SourceRange): string {
  return `${r.filename}:${r.start.line},${r.start.column}-${r.end.column}`;
}
