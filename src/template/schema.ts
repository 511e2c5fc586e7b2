/**
 * Checks a body against the attributes and blocks a Packer block allows, the way HCL's
 * `Body.Content(schema)` does: unknown names get a "did you mean", missing required ones and
 * wrong label counts are reported, all at once.
 */
import type { Diagnostic, SourceRange } from '../core/errors/diagnostic.js';
import { error } from '../core/errors/diagnostic.js';
import { didYouMean } from '../core/errors/suggest.js';
import type { Attribute, Block, Body } from './syntax/ast.js';

export interface BodySchema {
  attributes?: Record<string, { required?: boolean }>;
  /** Block type → the names of its labels (their count is what is checked). */
  blocks?: Record<string, { labels: readonly string[] }>;
  /** Accept any attribute (a `locals` block, say). */
  anyAttributes?: boolean;
}

export interface BodyContent {
  attributes: Map<string, Attribute>;
  blocks: Block[];
}

export function bodyContent(body: Body, schema: BodySchema, diags: Diagnostic[], where: string, blockRange?: SourceRange): BodyContent {
  const attributes = new Map<string, Attribute>();
  const blocks: Block[] = [];
  const attrNames = Object.keys(schema.attributes ?? {});
  const blockNames = Object.keys(schema.blocks ?? {});
  for (const item of body.items) {
    if (item.kind === 'attribute') {
      if (!schema.anyAttributes && !(item.name in (schema.attributes ?? {}))) {
        const isBlock = item.name in (schema.blocks ?? {});
        diags.push(
          error(
            'Unsupported argument',
            isBlock
              ? `An argument named "${item.name}" is not expected here. Did you mean to define a block of type "${item.name}"?`
              : `An argument named "${item.name}" is not expected ${where}.${didYouMean(item.name, attrNames)}`,
            item.nameRange,
          ),
        );
        continue;
      }
      const prev = attributes.get(item.name);
      if (prev) {
        diags.push(
          error(
            'Attribute redefined',
            `The argument "${item.name}" was already set at ${prev.nameRange.filename}:${prev.nameRange.start.line},${prev.nameRange.start.column}. Each argument may be set only once.`,
            item.nameRange,
          ),
        );
        continue;
      }
      attributes.set(item.name, item);
      continue;
    }
    const bs = schema.blocks?.[item.type];
    if (!bs) {
      const isAttr = item.type in (schema.attributes ?? {});
      diags.push(
        error(
          'Unsupported block type',
          isAttr
            ? `Blocks of type "${item.type}" are not expected here. Did you mean to define an argument named "${item.type}"? Write it as ${item.type} = …`
            : `Blocks of type "${item.type}" are not expected ${where}.${didYouMean(item.type, blockNames)}`,
          item.typeRange,
        ),
      );
      continue;
    }
    if (item.labels.length !== bs.labels.length) {
      const want = bs.labels.length;
      const summary = item.labels.length < want ? `Missing ${bs.labels[item.labels.length]} for ${item.type}` : `Extraneous label for ${item.type}`;
      const detail =
        want === 0
          ? `No labels are expected for ${item.type} blocks.`
          : `A ${item.type} block requires ${want} label${want === 1 ? '' : 's'}: ${bs.labels.map((l) => `"${l}"`).join(', ')}.`;
      diags.push(error(summary, detail, item.labels.length > want ? item.labelRanges[want]! : item.defRange));
      continue;
    }
    blocks.push(item);
  }
  for (const [name, a] of Object.entries(schema.attributes ?? {})) {
    if (a.required && !attributes.has(name)) {
      diags.push(error('Missing required argument', `The argument "${name}" is required, but no definition was found.`, blockRange ?? body.range));
    }
  }
  return { attributes, blocks };
}
