/**
 * HCL's JSON syntax (`*.pkr.json`, `*.pkrvars.json`). Our own JSON reader keeps positions and
 * key order (JSON.parse keeps neither reliably), then a schema says which keys are blocks and
 * how many label levels they nest; every other key is an argument. JSON strings are templates.
 */
import type { Diagnostic, Pos, SourceRange } from '../../core/errors/diagnostic.js';
import { error } from '../../core/errors/diagnostic.js';
import type * as A from './ast.js';
import { finishTemplate, Parser } from './parser.js';
import { lexTemplate } from './lexer.js';

export interface JsonBodySchema {
  blocks?: Record<string, { labels: number; body?: JsonBodySchema }>;
}

type JV =
  | { kind: 'object'; props: Array<{ key: string; keyRange: SourceRange; value: JV }>; range: SourceRange }
  | { kind: 'array'; items: JV[]; range: SourceRange }
  | { kind: 'string'; value: string; range: SourceRange }
  | { kind: 'number'; value: number; range: SourceRange }
  | { kind: 'literal'; value: boolean | null; range: SourceRange };

const MAX_DEPTH = 200;

class JsonReader {
  private i = 0;
  private line = 1;
  private col = 1;
  readonly diags: Diagnostic[] = [];

  constructor(
    private readonly s: string,
    private readonly filename: string,
  ) {}

  private pos(): Pos {
    return { line: this.line, column: this.col, byte: this.i };
  }

  private adv(n = 1): void {
    for (let k = 0; k < n && this.i < this.s.length; k++) {
      const c = this.s.charCodeAt(this.i);
      if (c === 10) {
        this.line++;
        this.col = 1;
        this.i++;
      } else if (c >= 0xd800 && c <= 0xdbff) {
        this.i += 2;
        this.col++;
      } else {
        this.i++;
        this.col++;
      }
    }
  }

  private ws(): void {
    while (this.i < this.s.length && ' \t\r\n'.includes(this.s[this.i]!)) this.adv();
  }

  private range(start: Pos): SourceRange {
    return { filename: this.filename, start, end: this.pos() };
  }

  private fail(summary: string, detail: string, start: Pos = this.pos()): undefined {
    this.diags.push(error(summary, detail, { filename: this.filename, start, end: { ...start, column: start.column + 1, byte: start.byte + 1 } }));
    return undefined;
  }

  document(): JV | undefined {
    this.ws();
    const v = this.value(0);
    if (!v) return undefined;
    this.ws();
    if (this.i < this.s.length) return this.fail('Extraneous data after value', 'Extra characters appear after the JSON value.');
    return v;
  }

  private value(depth: number): JV | undefined {
    if (depth > MAX_DEPTH) return this.fail('Nesting too deep', `This JSON value is nested more than ${MAX_DEPTH} levels deep.`);
    this.ws();
    const start = this.pos();
    const c = this.s[this.i];
    if (c === undefined) return this.fail('Missing value', 'Expected a JSON value, but found the end of the file.');
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') {
      const str = this.string();
      return str === undefined ? undefined : { kind: 'string', value: str, range: this.range(start) };
    }
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (m && m[0] !== '' && m[0] !== '-') {
      this.adv(m[0].length);
      return { kind: 'number', value: Number(m[0]), range: this.range(start) };
    }
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.adv(word.length);
        return { kind: 'literal', value, range: this.range(start) };
      }
    }
    return this.fail('Invalid JSON value', `Expected a JSON value (object, array, string, number, true, false or null), but found "${c}".`);
  }

  private object(depth: number): JV | undefined {
    const start = this.pos();
    this.adv();
    const props: Array<{ key: string; keyRange: SourceRange; value: JV }> = [];
    this.ws();
    if (this.s[this.i] === '}') {
      this.adv();
      return { kind: 'object', props, range: this.range(start) };
    }
    for (;;) {
      this.ws();
      const ks = this.pos();
      if (this.s[this.i] !== '"') return this.fail('Invalid object key', 'Object keys must be quoted strings.');
      const key = this.string();
      if (key === undefined) return undefined;
      const keyRange = this.range(ks);
      this.ws();
      if (this.s[this.i] !== ':') return this.fail('Missing colon', 'A colon must follow an object key.');
      this.adv();
      const value = this.value(depth + 1);
      if (!value) return undefined;
      props.push({ key, keyRange, value });
      this.ws();
      if (this.s[this.i] === ',') {
        this.adv();
        this.ws();
        if (this.s[this.i] === '}') return this.fail('Trailing comma', 'JSON does not allow a comma after the last property of an object.');
        continue;
      }
      if (this.s[this.i] === '}') {
        this.adv();
        return { kind: 'object', props, range: this.range(start) };
      }
      return this.fail('Missing comma', this.i >= this.s.length ? 'The object is not closed before the end of the file.' : 'A comma must separate the properties of an object.');
    }
  }

  private array(depth: number): JV | undefined {
    const start = this.pos();
    this.adv();
    const items: JV[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.adv();
      return { kind: 'array', items, range: this.range(start) };
    }
    for (;;) {
      const v = this.value(depth + 1);
      if (!v) return undefined;
      items.push(v);
      this.ws();
      if (this.s[this.i] === ',') {
        this.adv();
        continue;
      }
      if (this.s[this.i] === ']') {
        this.adv();
        return { kind: 'array', items, range: this.range(start) };
      }
      return this.fail('Missing comma', this.i >= this.s.length ? 'The array is not closed before the end of the file.' : 'A comma must separate the elements of an array.');
    }
  }

  private string(): string | undefined {
    const start = this.pos();
    this.adv();
    let out = '';
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined || c === '\n') return this.fail('Unterminated string', 'The string is not closed before the end of the line.', start);
      if (c === '"') {
        this.adv();
        return out;
      }
      if (c === '\\') {
        const n = this.s[this.i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (n !== undefined && n in simple) {
          out += simple[n];
          this.adv(2);
          continue;
        }
        if (n === 'u' && /^[0-9a-fA-F]{4}$/.test(this.s.slice(this.i + 2, this.i + 6))) {
          out += String.fromCharCode(parseInt(this.s.slice(this.i + 2, this.i + 6), 16));
          this.adv(6);
          continue;
        }
        return this.fail('Invalid escape sequence', `"\\${n ?? ''}" is not a valid JSON escape.`);
      }
      out += c;
      this.adv();
    }
  }
}

/** Decodes a JSON document into a body using the schema. */
export function parseJSON(text: string, filename: string, schema: JsonBodySchema): { file: A.File; diagnostics: Diagnostic[] } {
  const reader = new JsonReader(text, filename);
  const doc = reader.document();
  const diags = [...reader.diags];
  const empty: A.Body = { kind: 'body', items: [], range: { filename, start: { line: 1, column: 1, byte: 0 }, end: { line: 1, column: 1, byte: 0 } } };
  if (!doc) return { file: { filename, body: empty, syntax: 'json' }, diagnostics: diags };
  if (doc.kind !== 'object') {
    diags.push(error('Invalid JSON template', 'The root of a JSON template must be an object.', doc.range));
    return { file: { filename, body: empty, syntax: 'json' }, diagnostics: diags };
  }
  const body = decodeBody(doc, schema, diags);
  return { file: { filename, body, syntax: 'json' }, diagnostics: diags };
}

function decodeBody(obj: Extract<JV, { kind: 'object' }>, schema: JsonBodySchema, diags: Diagnostic[]): A.Body {
  const items: A.BodyItem[] = [];
  const seen = new Map<string, SourceRange>();
  for (const { key, keyRange, value } of obj.props) {
    if (key === '//') continue;
    const bs = schema.blocks?.[key];
    if (bs) {
      decodeBlocks(key, keyRange, value, bs.labels, [], [], bs.body ?? {}, items, diags);
      continue;
    }
    const prev = seen.get(key);
    if (prev) {
      diags.push(error('Duplicate argument', `The argument "${key}" was already set at ${prev.filename}:${prev.start.line},${prev.start.column}. Each argument may be set only once.`, keyRange));
      continue;
    }
    seen.set(key, keyRange);
    const expr = toExpr(value, diags);
    items.push({ kind: 'attribute', name: key, nameRange: keyRange, expr, range: { filename: keyRange.filename, start: keyRange.start, end: value.range.end } });
  }
  return { kind: 'body', items, range: obj.range };
}

function decodeBlocks(
  type: string,
  typeRange: SourceRange,
  v: JV,
  labelsLeft: number,
  labels: string[],
  labelRanges: SourceRange[],
  schema: JsonBodySchema,
  out: A.BodyItem[],
  diags: Diagnostic[],
): void {
  if (v.kind === 'array') {
    for (const item of v.items) decodeBlocks(type, typeRange, item, labelsLeft, labels, labelRanges, schema, out, diags);
    return;
  }
  if (v.kind !== 'object') {
    diags.push(error('Incorrect JSON value type', `A JSON object is required here, to define ${labelsLeft > 0 ? `the labels of ${type} blocks` : `the body of a ${type} block`}.`, v.range));
    return;
  }
  if (labelsLeft > 0) {
    for (const p of v.props) {
      if (p.key === '//') continue;
      decodeBlocks(type, typeRange, p.value, labelsLeft - 1, [...labels, p.key], [...labelRanges, p.keyRange], schema, out, diags);
    }
    return;
  }
  const body = decodeBody(v, schema, diags);
  const defRange = { filename: typeRange.filename, start: typeRange.start, end: (labelRanges[labelRanges.length - 1] ?? typeRange).end };
  out.push({ kind: 'block', type, typeRange, labels, labelRanges, body, range: { filename: typeRange.filename, start: typeRange.start, end: v.range.end }, defRange });
}

function toExpr(v: JV, diags: Diagnostic[]): A.Expr {
  switch (v.kind) {
    case 'number':
      return { kind: 'literal', value: v.value, range: v.range };
    case 'literal':
      return { kind: 'literal', value: v.value, range: v.range };
    case 'array':
      return { kind: 'tuple', elems: v.items.map((i) => toExpr(i, diags)), range: v.range };
    case 'object':
      return {
        kind: 'object',
        items: v.props.filter((p) => p.key !== '//').map((p) => ({ key: { kind: 'literal', value: p.key, range: p.keyRange }, value: toExpr(p.value, diags) })),
        range: v.range,
      };
    case 'string': {
      // The string's content is a template; positions start just after the opening quote.
      const inner: Pos = { line: v.range.start.line, column: v.range.start.column + 1, byte: v.range.start.byte + 1 };
      const { tokens, diags: lexDiags } = lexTemplate(v.value, v.range.filename, inner);
      const parser = new Parser(tokens, v.range.filename);
      const parts = parser.templateParts(['eof']);
      diags.push(...lexDiags, ...parser.diags);
      return finishTemplate(parts?.parts ?? [], v.range, true);
    }
  }
}
