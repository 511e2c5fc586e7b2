/**
 * HCL's JSON syntax (`*.pkr.json`, `*.pkrvars.json`). JSON cannot tell a block from an
 * object-valued argument, so a schema says which keys are blocks and how many label levels they
 * nest; every other key is an argument. Keys keep file order. JSON strings are templates.
 */
import type { Diagnostic, SourceRange } from '../../core/errors/diagnostic.js';
import { error } from '../../core/errors/diagnostic.js';
import type * as A from './ast.js';
import { JsonReader, type JsonProp, type JsonValue } from './json-reader.js';
import { parseTemplateAs } from './parser.js';
import type { PositionSource } from './positions.js';

export interface JsonBodySchema {
  /** Block types by name: how many labels each takes and the schema of its body. */
  blocks?: Record<string, { labels: number; body?: JsonBodySchema }>;
}

/** `${`, `%{` and their escaped forms: text without them is a plain string. */
const SEQUENCE = /[$%]\{/;

type JsonObject = Extract<JsonValue, { kind: 'object' }>;

/** Decodes a JSON document into a body using the schema. */
export function parseJSON(text: string, filename: string, schema: JsonBodySchema): { file: A.File; diagnostics: Diagnostic[] } {
  const reader = new JsonReader(text, filename);
  const doc = reader.document();
  const diags = [...reader.diags];
  const origin = { line: 1, column: 1, byte: 0 };
  const empty: A.Body = { kind: 'body', items: [], range: { filename, start: origin, end: origin } };
  if (!doc) return { file: { filename, body: empty, syntax: 'json' }, diagnostics: diags };
  if (doc.kind !== 'object') {
    diags.push(error('Invalid JSON configuration', 'The root of a JSON configuration file must be an object, with one property for each argument or block.', doc.range));
    return { file: { filename, body: empty, syntax: 'json' }, diagnostics: diags };
  }
  const body = new BodyDecoder(diags).body(doc, schema);
  return { file: { filename, body, syntax: 'json' }, diagnostics: diags };
}

class BodyDecoder {
  constructor(private readonly diags: Diagnostic[]) {}

  body(obj: JsonObject, schema: JsonBodySchema): A.Body {
    const items: A.BodyItem[] = [];
    const seen = new Map<string, SourceRange>();
    for (const prop of obj.props) {
      // The property "//" is a comment, in bodies only (as HCL's JSON spec says).
      if (prop.key === '//') continue;
      const blockSchema = Object.hasOwn(schema.blocks ?? {}, prop.key) ? schema.blocks![prop.key]! : undefined;
      if (blockSchema) {
        this.blocks(prop, prop.value, blockSchema.labels, [], blockSchema.body ?? {}, items);
        continue;
      }
      const prev = seen.get(prop.key);
      if (prev) {
        this.diags.push(error('Duplicate argument', `The argument "${prop.key}" was already set at ${prev.filename}:${prev.start.line},${prev.start.column}. Each argument may be set only once.`, prop.keyRange));
        continue;
      }
      seen.set(prop.key, prop.keyRange);
      items.push({
        kind: 'attribute',
        name: prop.key,
        nameRange: prop.keyRange,
        expr: this.expr(prop.value),
        range: { filename: prop.keyRange.filename, start: prop.keyRange.start, end: prop.value.range.end },
      });
    }
    return { kind: 'body', items, range: obj.range };
  }

  /**
   * One property of a block type: each label level is an object keyed by label (or an array of
   * such objects), and the last level is the body (or an array of bodies), all in file order.
   */
  private blocks(type: JsonProp, v: JsonValue, labelsLeft: number, labels: Array<{ value: string; range: SourceRange }>, schema: JsonBodySchema, out: A.BodyItem[]): void {
    if (v.kind === 'array') {
      for (const item of v.items) {
        if (item.kind !== 'object') this.wrongType(type.key, labelsLeft, item);
        else this.blocks(type, item, labelsLeft, labels, schema, out);
      }
      return;
    }
    if (v.kind !== 'object') {
      this.wrongType(type.key, labelsLeft, v);
      return;
    }
    if (labelsLeft > 0) {
      for (const p of v.props) this.blocks(type, p.value, labelsLeft - 1, [...labels, { value: p.key, range: p.keyRange }], schema, out);
      return;
    }
    const last = labels[labels.length - 1]?.range ?? type.keyRange;
    out.push({
      kind: 'block',
      type: type.key,
      typeRange: type.keyRange,
      labels: labels.map((l) => l.value),
      labelRanges: labels.map((l) => l.range),
      body: this.body(v, schema),
      range: { filename: type.keyRange.filename, start: type.keyRange.start, end: v.range.end },
      defRange: { filename: type.keyRange.filename, start: type.keyRange.start, end: last.end },
    });
  }

  private wrongType(type: string, labelsLeft: number, v: JsonValue): void {
    const what = labelsLeft > 0 ? `an object whose property names are the ${type} block's label${labelsLeft > 1 ? 's' : ''}` : `an object holding the body of a ${type} block`;
    this.diags.push(error('Incorrect JSON value type', `A JSON object is required here: ${what} (or an array of such objects).`, v.range));
  }

  expr(v: JsonValue): A.Expr {
    switch (v.kind) {
      case 'number':
      case 'literal':
        return { kind: 'literal', value: v.value, range: v.range };
      case 'array':
        return { kind: 'tuple', elems: v.items.map((i) => this.expr(i)), range: v.range };
      case 'object':
        return { kind: 'object', items: v.props.map((p) => ({ key: this.template(p.key, p.keyRange, p.keyPositions), value: this.expr(p.value) })), range: v.range };
      case 'string':
        return this.template(v.value, v.range, v.positions);
    }
  }

  /** A JSON string as an HCL template, with positions inside it mapped to the file. */
  private template(text: string, range: SourceRange, positions: PositionSource): A.Expr {
    if (!SEQUENCE.test(text)) {
      // Most strings are plain text: no need to run the template parser.
      const inner: SourceRange = { filename: range.filename, start: positions.at(0), end: positions.at(text.length) };
      return { kind: 'template', parts: [{ kind: 'literal', value: text, range: inner }], range, fromJson: true };
    }
    const r = parseTemplateAs(text, range.filename, positions, true, range);
    this.diags.push(...r.diagnostics);
    return r.expr;
  }
}
