/**
 * The evaluated template environment: variables resolved, `required_version` checked, locals
 * and data sources evaluated in dependency order (a cycle is reported with its chain), and the
 * evaluation contexts each part of a template sees.
 */
import type { Diagnostic, SourceRange } from '../core/errors/diagnostic.js';
import { error } from '../core/errors/diagnostic.js';
import { evaluate } from './eval/evaluate.js';
import { evaluateBodies } from './eval/body.js';
import { FunctionError, type FuncDef, type FunctionContext } from './eval/functions/define.js';
import { references } from './eval/refs.js';
import type { EvalContext } from './eval/scope.js';
import { T, friendlyName } from './eval/types.js';
import { convert } from './eval/convert.js';
import { Value } from './eval/value.js';
import type { TemplateModel } from './model.js';
import { parseTemplate } from './syntax/index.js';
import { resolveVariables, type VariableInputs, type VariableValue } from './variables.js';
import { checkVersion, PACKER_COMPAT_VERSION } from './version.js';

export interface EnvironmentOptions extends VariableInputs {
  functions: ReadonlyMap<string, FuncDef>;
  /** The run's timestamp: `timestamp()` gives this everywhere. */
  now: Date;
  cwd: string;
}

export interface TemplateEnvironment {
  model: TemplateModel;
  variables: Map<string, VariableValue>;
  locals: Map<string, Value>;
  /** Values given to sensitive variables, including ones rejected: what every output must hide. */
  sensitiveInputs: Value[];
  /** Context for source bodies, build names and data-source bodies: var, local, data, path, packer. */
  baseContext: EvalContext;
  diags: Diagnostic[];
}

const ENV_ONLY_IN_DEFAULTS = 'The env function is only available in variable default values, as in Packer: declare a variable with default = env("NAME") and use var.NAME here.';

export function buildEnvironment(model: TemplateModel, opts: EnvironmentOptions): TemplateEnvironment {
  const diags: Diagnostic[] = [];
  const withoutEnv = new Map(opts.functions);
  withoutEnv.delete('env');

  // templatefile renders with only the variables it is given, and all functions but env.
  const renderTemplate = (text: string, filename: string, vars: ReadonlyMap<string, Value>): Value => {
    const parsed = parseTemplate(text, filename);
    if (parsed.diagnostics.length > 0) throw templateError(parsed.diagnostics, filename);
    const r = evaluate(parsed.expr, { ...common, variables: vars, sources: new Map([[filename, text]]) });
    if (r.diags.some((d) => d.severity === 'error')) throw templateError(r.diags, filename);
    // A template that is one interpolation yields that value; templatefile always gives a string.
    try {
      return convert(r.value, T.string);
    } catch {
      throw new FunctionError(`${filename}: the template gives a ${friendlyName(r.value.type)}, not a string; use jsonencode() or yamlencode() to render structured values`, 0);
    }
  };
  const fnContext: FunctionContext = { baseDir: model.root, now: opts.now, renderTemplate };
  const common = { functions: withoutEnv, fnContext, sources: model.sources };

  const pathValue = Value.object({ root: Value.string(model.root), cwd: Value.string(opts.cwd) });
  const packerValue = Value.object({ version: Value.string(PACKER_COMPAT_VERSION) });

  checkRequiredVersion(model, diags);

  const defaultCtx: EvalContext = {
    ...common,
    functions: opts.functions,
    variables: new Map(),
    unavailable: new Map([
      ['var', 'Variables may not be used in a variable default: a default must not depend on another variable. Use a local value instead.'],
      ['local', 'Local values may not be used in a variable default.'],
    ]),
  };
  const resolved = resolveVariables(model, opts, defaultCtx);
  diags.push(...resolved.diags);
  const varObject = Value.object(
    new Map(
      [...model.variables.keys()].map((name) => [name, resolved.values.get(name)?.value ?? Value.unknown(T.dynamic)] as const),
    ),
  );

  const locals = new Map<string, Value>();
  const data = new Map<string, Map<string, Value>>();
  const ctxNow = (): EvalContext => ({
    ...common,
    variables: new Map([
      ['var', varObject],
      ['local', Value.object(locals)],
      ['data', Value.object(new Map([...data].map(([t, m]) => [t, Value.object(m)] as const)))],
      ['path', pathValue],
      ['packer', packerValue],
    ]),
    unavailable: new Map([
      ['env()', ENV_ONLY_IN_DEFAULTS],
      ['source', 'source.name and source.type are only available inside a build block (provisioners, post-processors, nested sources).'],
      ['build', 'build.* values exist only while a build runs: they can be used in provisioners and post-processors.'],
    ]),
  });

  // Locals and data sources form one dependency graph: `local.a` may use `data.x.y` and back.
  const state = new Map<string, 'running' | 'done'>();
  const visit = (node: string, chain: string[], refRange?: SourceRange): void => {
    const s = state.get(node);
    if (s === 'done') return;
    if (s === 'running') {
      const cycle = [...chain.slice(chain.indexOf(node)), node];
      diags.push(error('Cycle in local values', `These values refer to each other in a loop: ${cycle.join(' → ')}. Break the loop so each value can be computed from the others.`, refRange));
      return;
    }
    state.set(node, 'running');
    const [kind, ...rest] = node.split('.');
    if (kind === 'local') {
      const decl = model.locals.get(rest[0]!)!;
      for (const ref of references(decl.expr)) visitRef(ref.root, ref.path, [...chain, node], ref.range);
      if (locals.has(decl.name)) {
        // A cycle left a placeholder here: keep it unknown.
      } else {
        const r = evaluate(decl.expr, ctxNow());
        diags.push(...r.diags);
        locals.set(decl.name, decl.sensitive ? r.value.markSensitive() : r.value);
      }
    } else {
      const key = rest.join('.');
      const decl = model.dataSources.get(key)!;
      const ctx = ctxNow();
      for (const item of decl.body.items) {
        const exprs = item.kind === 'attribute' ? [item.expr] : [];
        for (const e of exprs) for (const ref of references(e)) visitRef(ref.root, ref.path, [...chain, node], ref.range);
      }
      diags.push(...evaluateBodies([decl.body], ctx).diags);
      // A data source's result comes from its plugin when the build runs; until then it is unknown.
      const byType = data.get(decl.type) ?? new Map<string, Value>();
      byType.set(decl.name, Value.unknown(T.dynamic, `data.${key}`));
      data.set(decl.type, byType);
    }
    state.set(node, 'done');
  };
  const visitRef = (root: string, path: string[], chain: string[], range: SourceRange): void => {
    if (root === 'local' && path[0] !== undefined && model.locals.has(path[0])) {
      const node = `local.${path[0]}`;
      if (state.get(node) === 'running') {
        visit(node, chain, range);
        locals.set(path[0], Value.unknown(T.dynamic));
      } else visit(node, chain, range);
    } else if (root === 'data' && path.length >= 2 && model.dataSources.has(`${path[0]}.${path[1]}`)) {
      visit(`data.${path[0]}.${path[1]}`, chain, range);
    }
  };
  for (const key of model.dataSources.keys()) visit(`data.${key}`, []);
  for (const name of model.locals.keys()) visit(`local.${name}`, []);

  return { model, variables: resolved.values, locals, sensitiveInputs: resolved.sensitiveInputs, baseContext: ctxNow(), diags };
}

function checkRequiredVersion(model: TemplateModel, diags: Diagnostic[]): void {
  const expr = model.packer?.requiredVersion;
  if (!expr) return;
  const text = expr.kind === 'template' && expr.parts.length === 1 && expr.parts[0]!.kind === 'literal' ? expr.parts[0]!.value : undefined;
  if (text === undefined) {
    diags.push(error('Invalid required_version', 'required_version must be a literal string such as ">= 1.7.0".', expr.range));
    return;
  }
  const r = checkVersion(PACKER_COMPAT_VERSION, text);
  if ('error' in r) diags.push(error('Invalid required_version', `${r.error}.`, expr.range));
  else if (!r.ok) {
    diags.push(
      error(
        'Unsupported Packer version',
        `This template requires Packer ${text}; kiln implements the template language of Packer ${PACKER_COMPAT_VERSION}.`,
        expr.range,
      ),
    );
  }
}

/** Errors inside a templatefile's template, carried out of the function as one message. */
function templateError(diags: readonly Diagnostic[], filename: string): FunctionError {
  const first = diags.find((d) => d.severity === 'error') ?? diags[0]!;
  const where = first.subject ? `${filename}:${first.subject.start.line},${first.subject.start.column}` : filename;
  return new FunctionError(`${where}: ${first.summary}${first.detail ? `; ${first.detail.replace(/\.$/, '')}` : ''}`, 0);
}
