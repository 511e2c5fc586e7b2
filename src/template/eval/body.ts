/**
 * Evaluates a plugin body (a source, provisioner, post-processor or data block) into one object
 * value: attributes become attributes, nested blocks become objects (one block) or lists of
 * objects (several), `dynamic` blocks are expanded. Every value's source range is kept by path,
 * so a plugin's config schema can point its errors at the template.
 */
import type { Diagnostic, SourceRange } from '../../core/errors/diagnostic.js';
import { error } from '../../core/errors/diagnostic.js';
import type { Block, Body } from '../syntax/ast.js';
import { convert, ConversionError } from './convert.js';
import { evaluate } from './evaluate.js';
import { withVariables, type EvalContext } from './scope.js';
import { T, friendlyName, isSequence } from './types.js';
import { Value } from './value.js';

/** Where a config value came from: the argument's name and its expression. */
export interface ValueOrigin {
  name: SourceRange;
  value: SourceRange;
}

/** Paths like `tags`, `launch_block_device_mappings[1].volume_size`. */
export type OriginMap = Map<string, ValueOrigin>;

export interface EvaluatedBody {
  value: Value;
  origins: OriginMap;
  diags: Diagnostic[];
}

/**
 * Evaluates bodies as one: later bodies fill what earlier ones left unset, and setting an
 * argument twice is an error (a nested build source may not override its top-level source).
 */
export function evaluateBodies(bodies: readonly Body[], ctx: EvalContext): EvaluatedBody {
  const diags: Diagnostic[] = [];
  const origins: OriginMap = new Map();
  const value = evalInto(bodies, ctx, '', origins, diags);
  return { value, origins, diags };
}

function evalInto(bodies: readonly Body[], ctx: EvalContext, prefix: string, origins: OriginMap, diags: Diagnostic[]): Value {
  const attrs = new Map<string, Value>();
  const attrRanges = new Map<string, SourceRange>();
  const blocks = new Map<string, Value[]>();
  const blockSeen = new Map<string, SourceRange>();
  for (const body of bodies) {
    for (const item of body.items) {
      if (item.kind === 'attribute') {
        const prev = attrRanges.get(item.name) ?? blockSeen.get(item.name);
        if (prev) {
          diags.push(error('Duplicate argument', `The argument "${item.name}" was already set at ${prev.filename}:${prev.start.line},${prev.start.column}. Each argument may be set only once.`, item.nameRange));
          continue;
        }
        const r = evaluate(item.expr, ctx);
        diags.push(...r.diags);
        attrs.set(item.name, r.value);
        attrRanges.set(item.name, item.nameRange);
        origins.set(prefix + item.name, { name: item.nameRange, value: item.expr.range });
        continue;
      }
      const expanded = item.type === 'dynamic' ? expandDynamic(item, ctx, diags).map((x) => ({ block: x.block, ctx: withVariables(ctx, x.vars) })) : [{ block: item, ctx }];
      for (const { block, ctx: blockCtx } of expanded) {
        if (attrRanges.has(block.type)) {
          const prev = attrRanges.get(block.type)!;
          diags.push(error('Duplicate argument', `"${block.type}" was already set as an argument at ${prev.filename}:${prev.start.line},${prev.start.column}; it cannot also be a block.`, block.typeRange));
          continue;
        }
        if (block.labels.length > 0 && item.type !== 'dynamic') {
          diags.push(error('Extraneous label', `Blocks of type "${block.type}" here take no labels.`, block.labelRanges[0]));
          continue;
        }
        const list = blocks.get(block.type) ?? [];
        blockSeen.set(block.type, blockSeen.get(block.type) ?? block.typeRange);
        list.push(evalInto([block.body], blockCtx, '', new Map(), diags));
        blocks.set(block.type, list);
        const index = list.length - 1;
        recordBlockOrigins([block.body], blockCtx, `${prefix}${block.type}[${index}].`, origins);
        if (index === 0) origins.set(prefix + block.type, { name: block.typeRange, value: block.range });
      }
    }
  }
  for (const [type, list] of blocks) attrs.set(type, list.length === 1 ? list[0]! : Value.tuple(list));
  return Value.object(attrs);
}

/** Origins of a block's contents; evaluation already happened, so only ranges are walked. */
function recordBlockOrigins(bodies: readonly Body[], ctx: EvalContext, prefix: string, origins: OriginMap): void {
  const counts = new Map<string, number>();
  for (const body of bodies) {
    for (const item of body.items) {
      if (item.kind === 'attribute') {
        origins.set(prefix + item.name, { name: item.nameRange, value: item.expr.range });
        // Single-block form: the same attribute is also reachable without the [0].
        origins.set(prefix.replace(/\[0\]\.$/, '.') + item.name, { name: item.nameRange, value: item.expr.range });
      } else if (item.type !== 'dynamic') {
        const n = counts.get(item.type) ?? 0;
        counts.set(item.type, n + 1);
        recordBlockOrigins([item.body], ctx, `${prefix}${item.type}[${n}].`, origins);
      }
    }
  }
}

/** A block generated by a `dynamic` block, with the iterator variable its body refers to. */
export interface ExpandedBlock {
  block: Block;
  vars: ReadonlyMap<string, Value>;
}

/**
 * `dynamic "x" { for_each = …; iterator = it; labels = […]; content { … } }` → one `x` block
 * per element, each with its iterator (`it.key`, `it.value`) to evaluate its body with.
 */
export function expandDynamic(d: Block, ctx: EvalContext, diags: Diagnostic[]): ExpandedBlock[] {
  const type = d.labels[0];
  if (d.labels.length !== 1 || type === undefined) {
    diags.push(error('Invalid dynamic block', 'A dynamic block takes exactly one label: the type of the blocks it generates.', d.defRange));
    return [];
  }
  let forEach: Block['body']['items'][number] | undefined;
  let iteratorName = type;
  let labelsExpr: Block['body']['items'][number] | undefined;
  let content: Block | undefined;
  for (const item of d.body.items) {
    if (item.kind === 'attribute') {
      if (item.name === 'for_each') forEach = item;
      else if (item.name === 'iterator') {
        const e = item.expr;
        if (e.kind === 'variable') iteratorName = e.name;
        else diags.push(error('Invalid dynamic iterator name', 'The iterator must be a single identifier, like iterator = disk.', e.range));
      } else if (item.name === 'labels') labelsExpr = item;
      else diags.push(error('Unsupported argument', `An argument named "${item.name}" is not expected in a dynamic block. It takes for_each, iterator, labels and a content block.`, item.nameRange));
    } else if (item.type === 'content') {
      if (content) diags.push(error('Duplicate content block', 'A dynamic block may have only one content block.', item.typeRange));
      else content = item;
    } else {
      diags.push(error('Unsupported block type', `Blocks of type "${item.type}" are not expected in a dynamic block: put them inside its content block.`, item.typeRange));
    }
  }
  if (!forEach || forEach.kind !== 'attribute') {
    diags.push(error('Missing required argument', 'A dynamic block requires a for_each argument.', d.defRange));
    return [];
  }
  if (!content) {
    diags.push(error('Missing content block', 'A dynamic block requires a content block holding what each generated block contains.', d.defRange));
    return [];
  }
  const coll = evaluate(forEach.expr, ctx);
  diags.push(...coll.diags);
  const cv = coll.value;
  if (!cv.isKnown || coll.diags.length > 0) return [];
  if (cv.isNull) {
    diags.push(error('Invalid dynamic for_each value', 'Cannot use a null value in for_each.', forEach.expr.range));
    return [];
  }
  let pairs: Array<[Value, Value]>;
  if (isSequence(cv.type)) pairs = cv.elems().map((v, i) => [cv.type.kind === 'set' ? v : Value.number(i), v]);
  else if (cv.type.kind === 'map' || cv.type.kind === 'object') pairs = [...cv.entries()].map(([k, v]) => [Value.string(k), v]);
  else {
    diags.push(error('Invalid dynamic for_each value', `Cannot use a ${friendlyName(cv.type)} value in for_each. An iterable collection is required.`, forEach.expr.range));
    return [];
  }
  const out: ExpandedBlock[] = [];
  for (const [k, v] of pairs) {
    const vars = new Map([[iteratorName, Value.object({ key: k, value: v })]]);
    const innerCtx = withVariables(ctx, vars);
    let labels: string[] = [];
    if (labelsExpr && labelsExpr.kind === 'attribute') {
      const r = evaluate(labelsExpr.expr, innerCtx);
      diags.push(...r.diags);
      try {
        labels = convert(r.value, T.list(T.string)).elems().map((x) => x.str());
      } catch (err) {
        if (!(err instanceof ConversionError)) throw err;
        diags.push(error('Invalid dynamic block labels', `The labels must be a list of strings: ${err.message}.`, labelsExpr.expr.range));
      }
    }
    out.push({ block: { ...content, type, labels, labelRanges: labels.map(() => d.defRange), defRange: d.defRange }, vars });
  }
  return out;
}
