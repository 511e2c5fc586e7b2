/**
 * Values shown to people and machines. Sensitive values are always shown as `<sensitive>`;
 * unknown values (known only when the build runs) as the expression that will give them.
 */
import { formatNumber } from './eval/convert.js';
import type { Value } from './eval/value.js';

export const REDACTED = '<sensitive>';

/** JSON for `kiln plan --json`: unknown values become `{"$deferred": "<expression>"}`. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

export function toJson(v: Value): JsonValue {
  if (v.sensitive) return REDACTED;
  if (!v.isKnown) return { $deferred: v.deferred ?? '(known after the build starts)' };
  if (v.isNull) return null;
  switch (v.type.kind) {
    case 'string':
      return v.str();
    case 'number':
      return v.num();
    case 'bool':
      return v.bool();
    case 'list':
    case 'set':
    case 'tuple':
      return v.elems().map(toJson);
    default: {
      const out: { [k: string]: JsonValue } = {};
      for (const [k, e] of v.entries()) out[k] = toJson(e);
      return out;
    }
  }
}

/** HCL-style text, as `kiln console` and `kiln inspect` print values. */
export function formatValue(v: Value, indent = ''): string {
  if (v.sensitive) return `(${REDACTED})`;
  if (!v.isKnown) return v.deferred ? `(known after build: ${v.deferred})` : '(known after build)';
  if (v.isNull) return 'null';
  switch (v.type.kind) {
    case 'string': {
      const s = v.str();
      if (s.includes('\n') && s.endsWith('\n')) {
        return `<<EOT\n${escapeTemplate(s)}EOT`;
      }
      return escapeTemplate(JSON.stringify(s));
    }
    case 'number':
      return formatNumber(v.num());
    case 'bool':
      return String(v.bool());
    case 'list':
    case 'set':
    case 'tuple': {
      const elems = v.elems();
      if (elems.length === 0) return '[]';
      const inner = indent + '  ';
      const open = v.type.kind === 'tuple' ? '[' : `to${v.type.kind}([`;
      const close = v.type.kind === 'tuple' ? ']' : '])';
      return `${open}\n${elems.map((e) => `${inner}${formatValue(e, inner)},`).join('\n')}\n${indent}${close}`;
    }
    default: {
      const entries = [...v.entries()];
      if (entries.length === 0) return '{}';
      const inner = indent + '  ';
      // Not aligned on `=`: Packer's inspect writes each attribute as it comes.
      const body = entries.map(([k, e]) => `${inner}${keyText(k)} = ${formatValue(e, inner)}`).join('\n');
      return `${v.type.kind === 'map' ? 'tomap(' : ''}{\n${body}\n${indent}}${v.type.kind === 'map' ? ')' : ''}`;
    }
  }
}

/**
 * A literal `${` or `%{` is shown escaped (`$${`, `%%{`), so what is printed reads back as the
 * same string. A function replacement: in a replacement string `$$` would mean one `$`.
 */
function escapeTemplate(text: string): string {
  return text.replace(/([$%])\{/g, (_m, sigil: string) => `${sigil}${sigil}{`);
}

function keyText(k: string): string {
  return JSON.stringify(k);
}

/** Every sensitive string inside the values: what the run redacts from logs and output. */
export function collectSecrets(values: Iterable<Value>, into: Set<string> = new Set()): Set<string> {
  const walk = (v: Value, inherited: boolean): void => {
    const sens = inherited || v.sensitive;
    if (!v.isKnown || v.isNull) return;
    if (Array.isArray(v.raw)) v.elems().forEach((e) => walk(e, sens));
    else if (v.raw instanceof Map) v.entries().forEach((e) => walk(e, sens));
    else if (sens) {
      const s = typeof v.raw === 'number' ? formatNumber(v.raw) : String(v.raw);
      // Very short values ("1", "true") would redact unrelated text everywhere; Packer skips them too.
      if (s.length >= 3) into.add(s);
    }
  };
  for (const v of values) walk(v, false);
  return into;
}
