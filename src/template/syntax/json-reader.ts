/**
 * A JSON reader (RFC 8259) that keeps what JSON.parse throws away: every value's position, the
 * order of object keys, and repeated keys (HCL's JSON syntax defines several blocks of one type
 * that way). For strings with escapes it also records where each decoded character came from,
 * so a template inside a JSON string still points at the right column.
 */
import type { Diagnostic, Pos, SourceRange } from '../../core/errors/diagnostic.js';
import { error } from '../../core/errors/diagnostic.js';
import { LineTracker, MappedPositions, type PositionSource } from './positions.js';

export interface JsonProp {
  key: string;
  keyRange: SourceRange;
  /** Positions inside the key's text (for templates in keys). */
  keyPositions: PositionSource;
  value: JsonValue;
}

export type JsonValue =
  | { kind: 'object'; props: JsonProp[]; range: SourceRange }
  | { kind: 'array'; items: JsonValue[]; range: SourceRange }
  | { kind: 'string'; value: string; range: SourceRange; positions: PositionSource }
  | { kind: 'number'; value: number; range: SourceRange }
  | { kind: 'literal'; value: boolean | null; range: SourceRange };

const MAX_DEPTH = 128;

class Stop extends Error {}

export class JsonReader {
  private i = 0;
  private readonly lines: LineTracker;
  readonly diags: Diagnostic[] = [];

  constructor(
    private readonly s: string,
    private readonly filename: string,
  ) {
    this.lines = new LineTracker(s);
    if (s.charCodeAt(0) === 0xfeff) this.i = 1;
  }

  /** The document's single value, or undefined after an error (reading stops at the first). */
  document(): JsonValue | undefined {
    try {
      this.ws();
      const v = this.value(0);
      this.ws();
      if (this.i < this.s.length) this.stop('Extraneous data after value', 'Extra characters appear after the JSON value: a JSON file holds exactly one value.');
      return v;
    } catch (e) {
      if (e instanceof Stop) return undefined;
      throw e;
    }
  }

  private pos(offset = this.i): Pos {
    return this.lines.at(offset);
  }

  private range(from: number, to = this.i): SourceRange {
    return { filename: this.filename, start: this.pos(from), end: this.pos(to) };
  }

  private stop(summary: string, detail: string, from = this.i, to = Math.min(this.s.length, from + 1)): never {
    this.diags.push(error(summary, detail, this.range(from, Math.max(from, to))));
    throw new Stop();
  }

  private ws(): void {
    const s = this.s;
    for (;;) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else return;
    }
  }

  private found(): string {
    if (this.i >= this.s.length) return 'the end of the file';
    return `"${String.fromCodePoint(this.s.codePointAt(this.i)!)}"`;
  }

  private value(depth: number): JsonValue {
    if (depth > MAX_DEPTH) this.stop('Too deeply nested', `This JSON value is nested more than ${MAX_DEPTH} levels deep, which is more than any real configuration needs.`);
    const c = this.s.charCodeAt(this.i);
    if (c === 0x7b) return this.object(depth);
    if (c === 0x5b) return this.array(depth);
    if (c === 0x22) return this.string();
    if (c === 0x2d || (c >= 48 && c <= 57)) return this.number();
    const start = this.i;
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i, this.i + 64));
    if (word) {
      this.i += word[0].length;
      if (word[0] === 'true' || word[0] === 'false') return { kind: 'literal', value: word[0] === 'true', range: this.range(start) };
      if (word[0] === 'null') return { kind: 'literal', value: null, range: this.range(start) };
      this.stop('Invalid JSON keyword', `The keyword "${word[0]}" is not valid. Valid keywords are true, false, and null; a string must be in double quotes.`, start, this.i);
    }
    this.refuseComment();
    this.stop('Missing JSON value', `Expected a JSON value (an object, array, string, number, true, false or null), but found ${this.found()}.`);
  }

  /** Line and block comments are common in hand-written JSON: say plainly that JSON has none. */
  private refuseComment(): void {
    const n = this.s[this.i + 1];
    if (this.s[this.i] === '/' && (n === '/' || n === '*')) {
      this.stop('Comments are not allowed in JSON', 'JSON has no comment syntax. In an HCL JSON configuration, a property named "//" holds a comment instead.', this.i, this.i + 2);
    }
  }

  private object(depth: number): JsonValue {
    const start = this.i;
    this.i++;
    const props: JsonProp[] = [];
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x7d) {
      this.i++;
      return { kind: 'object', props, range: this.range(start) };
    }
    for (;;) {
      this.ws();
      if (this.s.charCodeAt(this.i) !== 0x22) {
        this.refuseComment();
        const detail = this.i >= this.s.length ? 'The object is not closed before the end of the file.' : `An object property name must be a string in double quotes, but found ${this.found()}.`;
        this.stop('Invalid object property name', detail);
      }
      const key = this.string();
      this.ws();
      if (this.s.charCodeAt(this.i) !== 0x3a) {
        const detail = this.s[this.i] === '=' ? 'JSON uses a colon as its name/value delimiter, not an equals sign.' : `A colon must follow the property name "${key.value}", but found ${this.found()}.`;
        this.stop('Missing property value colon', detail);
      }
      this.i++;
      this.ws();
      const value = this.value(depth + 1);
      props.push({ key: key.value, keyRange: key.range, keyPositions: key.positions, value });
      this.ws();
      const c = this.s.charCodeAt(this.i);
      if (c === 0x2c) {
        const comma = this.i;
        this.i++;
        this.ws();
        if (this.s.charCodeAt(this.i) === 0x7d) this.stop('Trailing comma in object', 'JSON does not permit a trailing comma after the final property in an object.', comma);
        continue;
      }
      if (c === 0x7d) {
        this.i++;
        return { kind: 'object', props, range: this.range(start) };
      }
      const detail = this.i >= this.s.length ? 'The object is not closed before the end of the file.' : `A comma must appear between each property definition in an object, but found ${this.found()}.`;
      this.stop('Missing attribute separator comma', detail);
    }
  }

  private array(depth: number): JsonValue {
    const start = this.i;
    this.i++;
    const items: JsonValue[] = [];
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x5d) {
      this.i++;
      return { kind: 'array', items, range: this.range(start) };
    }
    for (;;) {
      this.ws();
      items.push(this.value(depth + 1));
      this.ws();
      const c = this.s.charCodeAt(this.i);
      if (c === 0x2c) {
        const comma = this.i;
        this.i++;
        this.ws();
        if (this.s.charCodeAt(this.i) === 0x5d) this.stop('Trailing comma in array', 'JSON does not permit a trailing comma after the final element in an array.', comma);
        continue;
      }
      if (c === 0x5d) {
        this.i++;
        return { kind: 'array', items, range: this.range(start) };
      }
      const detail = this.i >= this.s.length ? 'The array is not closed before the end of the file.' : `A comma must appear between each element of an array, but found ${this.found()}.`;
      this.stop('Missing array element separator comma', detail);
    }
  }

  private number(): JsonValue {
    const start = this.i;
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(this.s.slice(this.i, this.i + 512));
    if (!m || m[0] === '-' || m[0] === '') this.stop('Invalid JSON number', 'A number must have digits, as in 1, -2.5 or 1e3.', start);
    this.i += m[0].length;
    const next = this.s.charCodeAt(this.i);
    if ((next >= 48 && next <= 57) || next === 0x2e || next === 0x65 || next === 0x45) {
      this.stop('Invalid JSON number', 'JSON numbers have no leading zeros and need digits after a decimal point or exponent.', start, this.i + 1);
    }
    return { kind: 'number', value: Number(m[0]), range: this.range(start) };
  }

  private string(): Extract<JsonValue, { kind: 'string' }> {
    const s = this.s;
    const start = this.i;
    this.i++;
    let out = '';
    let run = this.i;
    /** Set once an escape shows up: positions then need a map. */
    let segments: Array<{ offset: number; pos: Pos; escape: boolean }> | undefined;
    for (;;) {
      const c = s.charCodeAt(this.i);
      if (this.i >= s.length || c === 0x0a) {
        this.stop('Unterminated string', 'The string has no closing quote mark before the end of the line.', start, this.i);
      }
      if (c === 0x22) {
        out += s.slice(run, this.i);
        this.i++;
        break;
      }
      if (c < 0x20) this.stop('Invalid character in string', 'Control characters (such as tabs and newlines) must be escaped in JSON strings, as \\t or \\n.', this.i);
      if (c !== 0x5c) {
        this.i++;
        continue;
      }
      out += s.slice(run, this.i);
      // Plain text maps one to one onto the source; each escape starts a new segment.
      segments ??= [{ offset: 0, pos: this.pos(start + 1), escape: false }];
      segments.push({ offset: out.length, pos: this.pos(this.i), escape: true });
      out += this.escape();
      run = this.i;
      segments.push({ offset: out.length, pos: this.pos(run), escape: false });
    }
    const range = this.range(start);
    const inner = { line: range.start.line, column: range.start.column + 1, byte: range.start.byte + 1 };
    const positions: PositionSource = segments ? new MappedPositions(out, segments) : new LineTracker(out, inner);
    return { kind: 'string', value: out, range, positions };
  }

  private escape(): string {
    const s = this.s;
    const n = s[this.i + 1];
    const simple: Partial<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
    const v = n === undefined ? undefined : simple[n];
    if (v !== undefined) {
      this.i += 2;
      return v;
    }
    if (n === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(this.i + 2, this.i + 6))) {
      this.i += 6;
      return String.fromCharCode(parseInt(s.slice(this.i - 4, this.i), 16));
    }
    this.stop('Invalid escape sequence', `"\\${n ?? ''}" is not a valid JSON escape. Valid escapes are \\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t and \\uXXXX.`, this.i, this.i + 2);
  }
}
