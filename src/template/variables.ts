/**
 * Input variable values, with Packer's precedence (lowest first): the default, `PKR_VAR_name`,
 * `*.auto.pkrvars.hcl|json` files (in name order), each `-var-file` in the order given, each
 * `-var` (last wins). Values are converted to the declared type, optional-attribute defaults
 * applied, `nullable` and validation blocks checked. Sensitive variables are marked.
 */
import type { Diagnostic, SourceRange } from '../core/errors/diagnostic.js';
import { error, warning } from '../core/errors/diagnostic.js';
import { didYouMean } from '../core/errors/suggest.js';
import type { File } from './syntax/ast.js';
import { parseExpression } from './syntax/index.js';
import { convert, ConversionError } from './eval/convert.js';
import { evaluate } from './eval/evaluate.js';
import type { EvalContext } from './eval/scope.js';
import { staticValue } from './eval/static.js';
import { ELEMENT_KEY, type TypeDefaults } from './eval/typeexpr.js';
import { T, friendlyName, isSequence, type Type } from './eval/types.js';
import { Value } from './eval/value.js';
import type { TemplateModel, VariableDecl } from './model.js';

export interface VariableInputs {
  /** `-var name=value` in command-line order. */
  vars: ReadonlyArray<readonly [string, string]>;
  /** Parsed `*.auto.pkrvars.*` files then `-var-file` files, in precedence order (lowest first). */
  varFiles: readonly File[];
  env: Readonly<Record<string, string | undefined>>;
}

interface Candidate {
  /** An unparsed string from `-var` or the environment, or a value already read from a file. */
  raw: string | Value;
  /** Where it came from, for messages. */
  origin: string;
  /** The kind of source, as Packer names it in messages: default, -var, env, varfile. */
  kind: 'default' | '-var' | 'env' | 'varfile';
  range?: SourceRange;
}

export interface VariableValue {
  value: Value;
  origin: string;
  range?: SourceRange;
}

/**
 * Resolves every variable. `defaultCtx` evaluates defaults: Packer allows functions (including
 * `env`) there but no references to other variables.
 */
export function resolveVariables(
  model: TemplateModel,
  inputs: VariableInputs,
  defaultCtx: EvalContext,
): { values: Map<string, VariableValue>; diags: Diagnostic[]; sensitiveInputs: Value[] } {
  const diags: Diagnostic[] = [];
  // Every value given to a sensitive variable, valid or not: error messages must hide them too.
  const sensitiveInputs: Value[] = [];
  const candidates = new Map<string, Candidate>();

  for (const [key, val] of Object.entries(inputs.env)) {
    if (!key.startsWith('PKR_VAR_') || val === undefined) continue;
    const name = key.slice('PKR_VAR_'.length);
    // Environment values for undeclared variables are ignored silently, as in Packer: the
    // environment is shared with other templates.
    if (model.variables.has(name)) candidates.set(name, { raw: val, origin: `environment variable ${key}`, kind: 'env' });
  }
  for (const file of inputs.varFiles) {
    for (const item of file.body.items) {
      if (item.kind === 'block') {
        diags.push(
          item.type === 'variable'
            ? error('Variable declaration in a .pkrvar file', `A .pkrvars file only sets values (name = value); declare variable "${item.labels[0] ?? ''}" in a .pkr.hcl file instead.`, item.typeRange)
            : error('Unexpected block', `A variables file may only assign values: name = value. Blocks such as "${item.type}" are not allowed here.`, item.typeRange),
        );
        continue;
      }
      if (!model.variables.has(item.name)) {
        diags.push(
          warning(
            'Undefined variable',
            `A "${item.name}" variable was set but was not declared; it will be ignored. Declare it with a variable "${item.name}" {} block to use it.${didYouMean(item.name, model.variables.keys())}`,
            item.nameRange,
          ),
        );
        continue;
      }
      const v = staticValue(item.expr, T.dynamic, diags, `the value of variable "${item.name}"`);
      if (v) candidates.set(item.name, { raw: v, origin: file.filename, kind: 'varfile', range: item.expr.range });
    }
  }
  for (const [name, val] of inputs.vars) {
    if (!model.variables.has(name)) {
      diags.push(warning('Undefined -var variable', `A "${name}" variable was passed with -var but was not declared; it will be ignored.${didYouMean(name, model.variables.keys())}`));
      continue;
    }
    candidates.set(name, { raw: val, origin: `-var ${name}=…`, kind: '-var' });
  }

  const values = new Map<string, VariableValue>();
  for (const decl of model.variables.values()) {
    const v = resolveOne(decl, candidates.get(decl.name), defaultCtx, diags, sensitiveInputs);
    if (v) values.set(decl.name, v);
  }
  return { values, diags, sensitiveInputs };
}

function resolveOne(decl: VariableDecl, cand: Candidate | undefined, defaultCtx: EvalContext, diags: Diagnostic[], sensitiveInputs: Value[]): VariableValue | undefined {
  let defaultValue: Value | undefined;
  if (decl.default) {
    const r = evaluate(decl.default, defaultCtx);
    diags.push(...r.diags);
    if (r.diags.some((d) => d.severity === 'error')) return undefined;
    defaultValue = r.value;
    if (decl.sensitive) sensitiveInputs.push(r.value.markSensitive());
  }
  if (decl.sensitive && cand) sensitiveInputs.push((typeof cand.raw === 'string' ? Value.string(cand.raw) : cand.raw).markSensitive());
  // Without a declared type, the default's type decides how -var strings are read, as Packer does.
  const declared = decl.constraint?.type;
  const want: Type = declared ?? (defaultValue && !defaultValue.isNull ? defaultValue.type : T.dynamic);

  let value: Value;
  let origin: string;
  let kind: Candidate['kind'];
  let range: SourceRange | undefined;
  if (cand) {
    origin = cand.origin;
    kind = cand.kind;
    range = cand.range;
    if (typeof cand.raw === 'string') {
      const parsed = parseRawValue(cand.raw, want, decl, cand.origin, diags);
      if (!parsed) return undefined;
      value = parsed;
    } else {
      value = cand.raw;
    }
  } else if (decl.default) {
    value = defaultValue!;
    origin = 'default';
    kind = 'default';
    range = decl.default.range;
  } else {
    diags.push(
      error(
        `Unset variable "${decl.name}"`,
        `The variable "${decl.name}" has no value. Set it with -var '${decl.name}=…', in a -var-file or a *.auto.pkrvars.hcl file, with the environment variable PKR_VAR_${decl.name}, or give it a default.`,
        decl.defRange,
      ),
    );
    return undefined;
  }

  try {
    value = convert(value, declared ?? T.dynamic);
  } catch (err) {
    if (!(err instanceof ConversionError)) throw err;
    diags.push(
      kind === 'default'
        ? error('Invalid default value for variable', `This default value is not compatible with the variable's type constraint: ${err.message}.`, range ?? decl.defRange)
        : error(
            `Invalid argument value for ${kind === 'varfile' ? 'variable' : `${kind} variable`}`,
            `The received value for ${decl.name} (from ${origin}) is not compatible with the variable's type constraint: ${err.message}.`,
            range ?? decl.defRange,
          ),
    );
    return undefined;
  }
  if (decl.constraint?.defaults && !value.isNull) {
    value = applyDefaults(value, decl.constraint.defaults, defaultCtx, diags);
  }
  if (value.isNull && !decl.nullable) {
    diags.push(error('Invalid value for variable', `The variable "${decl.name}" is not nullable, so its value must not be null.`, range ?? decl.defRange));
    return undefined;
  }
  if (decl.sensitive) value = value.markSensitive();
  if (!checkValidations(decl, value, defaultCtx, diags, range, kind)) return undefined;
  return { value, origin, ...(range && { range }) };
}

/** A `-var`/environment string: as-is for string (and untyped) variables, else an HCL expression. */
function parseRawValue(raw: string, want: Type, decl: VariableDecl, origin: string, diags: Diagnostic[]): Value | undefined {
  // Primitives convert from the text itself ("42", "true"); only collections need HCL syntax.
  if (want.kind === 'string' || want.kind === 'dynamic' || want.kind === 'number' || want.kind === 'bool') return Value.string(raw);
  const { expr, diagnostics } = parseExpression(raw, `<value for var.${decl.name} from ${origin}>`);
  if (diagnostics.length > 0) {
    diags.push(
      error(
        'Invalid value for variable',
        `The value for "${decl.name}" (from ${origin}) must be an HCL expression of type ${friendlyName(want)}, like ${example(want)}: ${diagnostics[0]!.summary}.`,
        decl.defRange,
      ),
    );
    return undefined;
  }
  const local: Diagnostic[] = [];
  const v = staticValue(expr, T.dynamic, local, `the value of "${decl.name}"`);
  if (!v) {
    diags.push(error('Invalid value for variable', `The value for "${decl.name}" (from ${origin}) must be a literal value of type ${friendlyName(want)}: ${local[0]?.summary ?? 'invalid'}.`, decl.defRange));
    return undefined;
  }
  return v;
}

function example(t: Type): string {
  switch (t.kind) {
    case 'number':
      return '42';
    case 'bool':
      return 'true';
    case 'list':
    case 'set':
    case 'tuple':
      return '["a","b"]';
    default:
      return '{key="value"}';
  }
}

/** Fills null optional attributes with their `optional(type, default)` defaults, recursively. */
function applyDefaults(v: Value, defaults: TypeDefaults, ctx: EvalContext, diags: Diagnostic[]): Value {
  if (!v.isKnown || v.isNull) return v;
  if (v.type.kind === 'object') {
    const out = new Map<string, Value>();
    for (const [k, av] of v.entries()) {
      let cur = av;
      const defExpr = defaults.attrs.get(k);
      if (cur.isNull && defExpr) {
        const r = evaluate(defExpr, ctx);
        diags.push(...r.diags);
        try {
          cur = convert(r.value, v.type.attrs.get(k) ?? T.dynamic);
        } catch (err) {
          if (!(err instanceof ConversionError)) throw err;
          diags.push(error('Invalid default value for optional attribute', `The default for "${k}" does not fit its type: ${err.message}.`, defExpr.range));
        }
      }
      const child = defaults.children.get(k);
      out.set(k, child ? applyDefaults(cur, child, ctx, diags) : cur);
    }
    return Value.of(v.type, out, v.sensitive);
  }
  const elemDefaults = defaults.children.get(ELEMENT_KEY);
  if (!elemDefaults) return v;
  if (isSequence(v.type)) {
    const elems = v.elems().map((e) => applyDefaults(e, elemDefaults, ctx, diags));
    return Value.of(v.type, elems, v.sensitive);
  }
  if (v.type.kind === 'map') {
    const m = new Map([...v.entries()].map(([k, e]) => [k, applyDefaults(e, elemDefaults, ctx, diags)] as const));
    return Value.of(v.type, m, v.sensitive);
  }
  return v;
}

function checkValidations(decl: VariableDecl, value: Value, baseCtx: EvalContext, diags: Diagnostic[], valueRange: SourceRange | undefined, kind: Candidate['kind']): boolean {
  let ok = true;
  const ctx: EvalContext = { ...baseCtx, variables: new Map([['var', Value.object({ [decl.name]: value })]]) };
  for (const v of decl.validations) {
    const c = evaluate(v.condition, ctx);
    if (c.diags.length > 0) {
      diags.push(...c.diags);
      ok = false;
      continue;
    }
    if (!c.value.isKnown) continue;
    let pass: boolean;
    try {
      pass = !c.value.isNull && convert(c.value, T.bool).bool();
    } catch {
      diags.push(error('Invalid validation condition', `The condition must give a bool, not ${friendlyName(c.value.type)}.`, v.condition.range));
      ok = false;
      continue;
    }
    if (pass) continue;
    const m = evaluate(v.errorMessage, ctx);
    let message = 'The value is invalid.';
    if (m.value.isKnown && !m.value.isNull && m.value.type.kind === 'string') message = m.value.sensitive ? 'The value is invalid (message hidden: it is sensitive).' : m.value.str();
    diags.push(error(`Invalid value for ${kind === 'varfile' ? 'file' : kind} variable`, `${message}\n\nThis was checked by the validation rule at ${v.range.filename}:${v.range.start.line},${v.range.start.column}.`, valueRange ?? decl.defRange));
    ok = false;
  }
  return ok;
}
