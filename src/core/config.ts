/**
 * Plugin config validation: an evaluated template body (a Value) becomes the plain object a
 * plugin's zod schema parses, and every schema error becomes a diagnostic at the template range
 * of the offending argument, with "did you mean" for unknown names.
 */
import type { ZodType } from 'zod';
import type { Diagnostic, SourceRange } from './errors/diagnostic.js';
import { error } from './errors/diagnostic.js';
import { didYouMean } from './errors/suggest.js';
import type { OriginMap } from '../template/eval/body.js';
import type { Value } from '../template/eval/value.js';

export type Native = string | number | boolean | null | Native[] | { [k: string]: Native };

/**
 * The plain value a plugin sees. Null attributes are left out (in HCL, null means "not set").
 * Values known only at run time become their expression text (`${build.Host}`), so a plan can
 * be checked before the build: the build checks again with the real values.
 */
export function toNative(v: Value): Native | undefined {
  if (!v.isKnown) return v.deferred !== undefined ? `\${${v.deferred}}` : '${unknown}';
  if (v.isNull) return undefined;
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
      return v.elems().map((e) => toNative(e) ?? null);
    default: {
      const out: { [k: string]: Native } = {};
      for (const [k, e] of v.entries()) {
        const n = toNative(e);
        if (n !== undefined) out[k] = n;
      }
      return out;
    }
  }
}

export interface ConfigCheck<C> {
  config?: C;
  diags: Diagnostic[];
}

/** Parses `value` with `schema`; `where` names the block ("source null.a") and `blockRange` is its header. */
export function checkConfig<C>(schema: ZodType<C>, value: Value, origins: OriginMap, where: string, blockRange: SourceRange): ConfigCheck<C> {
  const native = toNative(value) ?? {};
  const r = schema.safeParse(native);
  if (r.success) return { config: r.data, diags: [] };
  const diags: Diagnostic[] = [];
  for (const issue of r.error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(schema, path);
      for (const key of issue.keys) {
        const full = pathKey([...path, key]);
        const o = origins.get(full);
        diags.push(error('Unsupported argument', `An argument named "${key}" is not expected in ${where}.${didYouMean(key, known)}`, o?.name ?? blockRange));
      }
      continue;
    }
    const name = pathKey(path);
    const missing = issue.code === 'invalid_type' && valueAt(native, path) === undefined;
    if (missing) {
      diags.push(error('Missing required argument', `The argument "${name}" is required in ${where}, but no definition was found.`, nearestOrigin(origins, path)?.name ?? blockRange));
      continue;
    }
    const o = nearestOrigin(origins, path);
    diags.push(error('Invalid value', `${name ? `Invalid value for "${name}"` : 'Invalid configuration'} in ${where}: ${describe(issue.message, issue.code, 'expected' in issue ? String(issue.expected) : undefined)}.`, o?.value ?? blockRange));
  }
  return { diags };
}

function describe(message: string, code: string, expected: string | undefined): string {
  if (code === 'invalid_type' && expected) return `${expected === 'array' ? 'a list' : expected === 'object' ? 'an object or block' : `a ${expected}`} is required`;
  return message.replace(/^Invalid input: /, '').replace(/\.$/, '');
}

function pathKey(path: readonly (string | number)[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s;
}

function nearestOrigin(origins: OriginMap, path: readonly (string | number)[]): ReturnType<OriginMap['get']> {
  for (let n = path.length; n > 0; n--) {
    const o = origins.get(pathKey(path.slice(0, n)));
    if (o) return o;
  }
  return undefined;
}

function valueAt(v: Native | undefined, path: readonly (string | number)[]): Native | undefined {
  let cur: Native | undefined = v;
  for (const p of path) {
    if (cur === null || cur === undefined || typeof cur !== 'object') return undefined;
    cur = Array.isArray(cur) ? (typeof p === 'number' ? cur[p] : undefined) : cur[String(p)];
  }
  return cur;
}

interface ZodDefLike {
  type?: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  in?: unknown;
  options?: unknown[];
  element?: unknown;
}

function defOf(s: unknown): ZodDefLike | undefined {
  const zod = (s as { _zod?: { def?: ZodDefLike } } | undefined)?._zod;
  return zod?.def;
}

/** The argument names an object schema at `path` accepts (best effort through wrappers). */
function keysAt(schema: unknown, path: readonly (string | number)[]): string[] {
  let cur: unknown = schema;
  const unwrap = (s: unknown): unknown[] => {
    const d = defOf(s);
    if (!d) return [];
    if (d.type === 'object') return [s];
    if (d.type === 'optional' || d.type === 'nullable' || d.type === 'default' || d.type === 'prefault' || d.type === 'readonly' || d.type === 'catch') return unwrap(d.innerType);
    if (d.type === 'pipe') return unwrap(d.in);
    if (d.type === 'union') return (d.options ?? []).flatMap(unwrap);
    if (d.type === 'array') return unwrap(d.element);
    return [];
  };
  for (const p of path) {
    if (typeof p === 'number') continue;
    const next = unwrap(cur).map((o) => defOf(o)?.shape?.[p]).find((x) => x !== undefined);
    if (next === undefined) return [];
    cur = next;
  }
  return unwrap(cur).flatMap((o) => Object.keys(defOf(o)?.shape ?? {}));
}

