/**
 * YAML as go-cty-yaml (Packer's and Terraform's YAML library) reads and writes it. The `yaml`
 * package parses with the failsafe schema so every scalar arrives as text with its style and
 * tag, and the scalar resolution below reproduces go-cty-yaml's: quoted scalars are strings,
 * plain ones may be null (~, null, empty), booleans (true/false and also yes/no/on/off/y/n,
 * which go-cty-yaml keeps from YAML 1.1), numbers (decimal, 0x, 0o, floats, .inf) or RFC 3339
 * timestamps (returned as strings). Encoding writes block style with double-quoted strings.
 */
import type { Document, LineCounter, Scalar, YAMLMap, YAMLSeq, Node, parseAllDocuments } from 'yaml';
import { yamlLib as Y } from './lazy-libraries.js';
import { convert, formatNumber } from '../convert.js';
import { T, friendlyName } from '../types.js';
import { Value } from '../value.js';
import { FunctionError, type FuncDef } from './define.js';
import { decodeBase64 } from './encoding.js';
import { goFloatText } from './gofmt.js';

/** What a YAML error says about a sensitive document: only where it is wrong. */
const sensitiveYamlError = (line: number, col: number): string => `invalid YAML on line ${line}, column ${col}; the text is sensitive, so it is not shown`;

const TAG = 'tag:yaml.org,2002:';
const shortTag = (tag: string): string => (tag.startsWith(TAG) ? `!!${tag.slice(TAG.length)}` : tag);

const BOOLS: Record<string, boolean> = Object.fromEntries([
  ...['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'].map((s) => [s, true]),
  ...['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'].map((s) => [s, false]),
]);
const NULLS = new Set(['', '~', 'null', 'Null', 'NULL']);
const INFINITIES: Record<string, number> = {
  '.inf': Infinity, '.Inf': Infinity, '.INF': Infinity,
  '+.inf': Infinity, '+.Inf': Infinity, '+.INF': Infinity,
  '-.inf': -Infinity, '-.Inf': -Infinity, '-.INF': -Infinity,
};
const INTEGER = /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const DECIMAL = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
// go-cty-yaml's timestamp forms: date-time with T/t and a zone, date and time with one space and no zone, or a date.
const TIMESTAMP = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d+)?(Z|[-+]\d{2}:\d{2})| (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d+)?)?$/;

const daysIn = (y: number, m: number): number =>
  m === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;

/** A YAML timestamp as an RFC 3339 string in its own offset, or undefined when the text is not one. */
function timestamp(src: string): string | undefined {
  const m = TIMESTAMP.exec(src);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [h, mi, s] = [m[4] ?? m[8] ?? '0', m[5] ?? m[9] ?? '0', m[6] ?? m[10] ?? '0'].map(Number) as [number, number, number];
  const zone = m[7] ?? 'Z';
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || s > 59) return undefined;
  if (zone !== 'Z' && (Number(zone.slice(1, 3)) > 23 || Number(zone.slice(4)) > 59)) return undefined;
  const pad = (x: number) => String(x).padStart(2, '0');
  return `${m[1]}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${zone === '+00:00' || zone === '-00:00' ? 'Z' : zone}`;
}

/** Go's strconv.ParseInt with base 0: 0x, 0o, 0b and leading-0 octal prefixes, underscores between digits. */
function parseGoInt(src: string): number | undefined {
  const m = /^([-+]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(src);
  if (!m) return undefined;
  let body = m[2]!.replaceAll('_', '');
  let radix = 10;
  if (/^0[xX]/.test(body)) [radix, body] = [16, body.slice(2)];
  else if (/^0[oO]/.test(body)) [radix, body] = [8, body.slice(2)];
  else if (/^0[bB]/.test(body)) [radix, body] = [2, body.slice(2)];
  else if (body.length > 1 && body.startsWith('0')) [radix, body] = [8, body.slice(1)];
  if (body === '') return undefined;
  const n = [...body].reduce((acc, c) => acc * BigInt(radix) + BigInt(parseInt(c, radix)), 0n);
  return Number(m[1] === '-' ? -n : n);
}

/** The value of a scalar, resolved as go-cty-yaml resolves it. */
function resolveScalar(src: string, tag: string | undefined, quoted: boolean): Value {
  const fail = (msg: string) => new Error(msg);
  const t = tag ?? '';
  const resolvable = ['', `${TAG}str`, `${TAG}bool`, `${TAG}int`, `${TAG}float`, `${TAG}null`, `${TAG}timestamp`, `${TAG}binary`];
  if (!resolvable.includes(t)) throw fail(`unsupported tag ${JSON.stringify(shortTag(t))}`);
  let effective = t;
  if (t !== `${TAG}str` && t !== `${TAG}binary`) {
    if (quoted) return Value.string(src);
    if (src in BOOLS && (t === '' || t === `${TAG}bool`)) return Value.bool(BOOLS[src]!);
    if (NULLS.has(src) && (t === '' || t === `${TAG}null`)) return Value.null(T.dynamic);
    if (src in INFINITIES && (t === '' || t === `${TAG}float`)) return Value.number(INFINITIES[src]!);
    if (t === '' && ['.nan', '.NaN', '.NAN'].includes(src)) throw fail('floating point NaN is not supported');
    const first = src[0] ?? '';
    if (first === '.' && DECIMAL.test(src)) return Value.number(Number(src));
    if (/[-+0-9]/.test(first)) {
      if (t === '' || t === `${TAG}timestamp`) {
        const ts = timestamp(src);
        if (ts !== undefined) return Value.string(ts);
      }
      if (t === '' && (INTEGER.test(src) || FLOAT.test(src))) effective = `${TAG}float`;
    }
  }
  switch (effective) {
    case `${TAG}binary`:
      if (!(decodeBase64(src.replace(/\s/g, '')) instanceof Uint8Array)) throw fail(`cannot parse ${JSON.stringify(src)} as ${t}: not valid base64`);
      return Value.string(src);
    case '':
    case `${TAG}str`:
      return Value.string(src);
    case `${TAG}bool`:
      if (!(src in BOOLS)) throw fail(`cannot parse ${JSON.stringify(src)} as ${t}`);
      return Value.bool(BOOLS[src]!);
    case `${TAG}int`:
    case `${TAG}float`: {
      const plain = src.replaceAll('_', '');
      const n = DECIMAL.test(plain) ? Number(plain) : parseGoInt(plain);
      if (n === undefined) throw fail(`cannot parse ${JSON.stringify(src)} as ${t}`);
      return Value.number(n);
    }
    case `${TAG}timestamp`: {
      const ts = timestamp(src);
      if (ts === undefined) throw fail(`cannot parse ${JSON.stringify(src)} as ${t}`);
      return Value.string(ts);
    }
    default:
      // Explicitly tagged null.
      return Value.null(T.dynamic);
  }
}

class YamlDecoder {
  /** Nodes being decoded, to refuse an alias to an anchor from inside its own definition. */
  private readonly open = new Set<Node>();

  constructor(
    private readonly doc: ReturnType<typeof parseAllDocuments>[number],
    private readonly lines: LineCounter,
  ) {}

  /** An error positioned as go-cty-yaml positions its errors. */
  private error(node: Node | null | undefined, message: string): FunctionError {
    const at = node?.range?.[0];
    if (at === undefined) return new FunctionError(message, 0);
    const { line, col } = this.lines.linePos(at);
    return new FunctionError(`on line ${line}, column ${col}: ${message}`, 0, sensitiveYamlError(line, col));
  }

  value(node: unknown): Value {
    if (node === null || node === undefined) return Value.null(T.dynamic);
    if (Y().isAlias(node)) {
      const target = node.resolve(this.doc);
      if (!target) throw this.error(node, `reference to undefined anchor ${JSON.stringify(node.source)}`);
      if (this.open.has(target)) throw this.error(node, `cannot refer to anchor ${JSON.stringify(node.source)} from inside its own definition`);
      return this.value(target);
    }
    if (Y().isScalar(node)) {
      try {
        return resolveScalar(String(node.value), node.tag, node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE');
      } catch (err) {
        throw this.error(node, (err as Error).message);
      }
    }
    this.open.add(node as Node);
    try {
      if (Y().isSeq(node)) {
        if (node.tag && node.tag !== `${TAG}seq`) throw this.error(node, `can't interpret sequence as ${node.tag}`);
        return Value.tuple(node.items.map((item) => this.value(item)));
      }
      if (Y().isMap(node)) return this.mapping(node);
      throw this.error(node as Node, 'unsupported YAML node');
    } finally {
      this.open.delete(node as Node);
    }
  }

  private mapping(node: YAMLMap): Value {
    if (node.tag && node.tag !== `${TAG}map`) throw this.error(node, `can't interpret mapping as ${node.tag}`);
    const attrs = new Map<string, Value>();
    for (const pair of node.items) {
      const key = pair.key as Node | null;
      if (!Y().isScalar(key)) throw this.error(key ?? node, 'only strings are allowed as mapping keys');
      const isMerge = (key.tag === undefined && key.type === 'PLAIN' && key.value === '<<') || key.tag === `${TAG}merge`;
      if (isMerge) {
        this.merge(attrs, pair.value, key);
        continue;
      }
      const k = this.value(key);
      if (k.isNull) throw this.error(key, 'mapping key cannot be null');
      if (k.type.kind !== 'string' && k.type.kind !== 'number' && k.type.kind !== 'bool') throw this.error(key, 'only strings are allowed as mapping keys');
      attrs.set(convert(k, T.string).str(), this.value(pair.value));
    }
    return Value.object(attrs);
  }

  /** A merge key (`<<`): the entries of a mapping, or of each mapping in a sequence, in order. */
  private merge(attrs: Map<string, Value>, valueNode: unknown, key: Node): void {
    const value = this.value(valueNode);
    const sources = value.type.kind === 'tuple' ? value.elems() : [value];
    for (const source of sources) {
      if (source.isNull || (source.type.kind !== 'object' && source.type.kind !== 'map')) {
        throw this.error(key, `cannot merge ${friendlyName(source.type)} into mapping`);
      }
      for (const [k, v] of source.entries()) attrs.set(k, v);
    }
  }
}

/** A wholly known value as a YAML node; strings always double-quoted, multi-line ones literal. */
function toNode(v: Value, doc: Document): Node {
  const scalar = (text: string, type: Scalar.Type): Scalar => {
    const s = new (Y().Scalar)(text);
    s.type = type;
    return s;
  };
  if (v.isNull) return scalar('null', 'PLAIN');
  switch (v.type.kind) {
    case 'string': {
      const s = v.str();
      return scalar(s, s.includes('\n') ? 'BLOCK_LITERAL' : 'QUOTE_DOUBLE');
    }
    case 'number': {
      const n = v.num();
      return scalar(Number.isFinite(n) ? formatNumber(n) : goFloatText(n, 'g', -1), 'PLAIN');
    }
    case 'bool':
      return scalar(v.bool() ? 'true' : 'false', 'PLAIN');
    case 'list':
    case 'set':
    case 'tuple': {
      const seq = new (Y().YAMLSeq)();
      for (const e of v.elems()) seq.items.push(toNode(e, doc));
      return seq;
    }
    case 'map':
    case 'object': {
      const map = new (Y().YAMLMap)();
      for (const [k, e] of v.entries()) map.items.push(doc.createPair(scalar(k, 'QUOTE_DOUBLE'), toNode(e, doc)));
      return map;
    }
    default:
      throw new FunctionError('cannot serialize unknown value as YAML');
  }
}

export const YAML_FUNCTIONS: Record<string, FuncDef> = {
  yamldecode: {
    description: 'Decodes a YAML document into a value (mappings become objects, sequences tuples).',
    params: [{ name: 'src', type: T.string }],
    impl([s]) {
      const lines = new (Y().LineCounter)();
      const docs = Y().parseAllDocuments(s!.str(), { schema: 'failsafe', uniqueKeys: false, resolveKnownTags: false, lineCounter: lines });
      const [doc, extra] = docs;
      if (!doc) return Value.null(T.dynamic);
      const syntax = docs.flatMap((d) => d.errors)[0];
      if (syntax) {
        const pos = syntax.linePos?.[0];
        const reason = syntax.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
        throw new FunctionError(pos ? `on line ${pos.line}, column ${pos.col}: ${reason}` : reason, 0, pos && sensitiveYamlError(pos.line, pos.col));
      }
      if (extra) {
        const { line, col } = lines.linePos(extra.range[0]);
        const message = `on line ${line}, column ${col}: unexpected extra content after value`;
        throw new FunctionError(message, 0, message);
      }
      return new YamlDecoder(doc, lines).value(doc.contents);
    },
  },

  yamlencode: {
    description: 'Encodes a value as YAML in block style.',
    params: [{ name: 'value', type: T.dynamic, allowNull: true, allowUnknown: true }],
    returnType: T.string,
    impl([v]) {
      if (!v!.isWhollyKnown) return Value.unknown(T.string);
      const doc = new (Y().Document)(null, { schema: 'failsafe' });
      const root = toNode(v!, doc);
      const type = Y().isScalar(root) ? root.type : undefined;
      // libyaml indents a block scalar at the root by two spaces, as the yaml package does only
      // for nested ones: render it as a sequence item and drop the "- ".
      const wrap = type === 'BLOCK_LITERAL';
      doc.contents = wrap ? new (Y().YAMLSeq)() : root;
      if (wrap) (doc.contents as YAMLSeq).items.push(root);
      const text = doc.toString({ lineWidth: 0, indentSeq: false });
      // libyaml ends a document whose root is a plain scalar with an explicit end marker.
      return Value.string(wrap ? text.slice(2) : type === 'PLAIN' ? `${text}...\n` : text);
    },
  },
};
