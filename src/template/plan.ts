/**
 * Expands a template into the jobs Packer would run: one per build × source, named
 * `<build.name>.<type>.<source>` or `<type>.<source>`, each with its evaluated source config,
 * its provisioners (only/except applied, override merged) and post-processor chains.
 * Provisioner and post-processor configs keep their syntax so the build can evaluate them
 * again once `build.*` values exist.
 */
import type { Diagnostic, SourceRange } from '../core/errors/diagnostic.js';
import { error } from '../core/errors/diagnostic.js';
import { didYouMean } from '../core/errors/suggest.js';
import { evaluateBodies, type EvaluatedBody, type OriginMap } from './eval/body.js';
import { convert, ConversionError } from './eval/convert.js';
import { evaluate } from './eval/evaluate.js';
import { withVariables, type EvalContext } from './eval/scope.js';
import { T, type Type } from './eval/types.js';
import { Value } from './eval/value.js';
import { parseDuration } from './duration.js';
import type { TemplateEnvironment } from './environment.js';
import { matchesAny } from './glob.js';
import type { BuildDecl, BuildSourceRef, StepDecl } from './model.js';
import type { Expr } from './syntax/ast.js';

/** `build.*` values every builder provides at run time (Packer's common generated data). */
export const COMMON_GENERATED_DATA = [
  'ID', 'Host', 'Port', 'User', 'Password', 'ConnType', 'PackerRunUUID', 'PackerHTTPAddr', 'PackerHTTPIP',
  'PackerHTTPPort', 'SSHPublicKey', 'SSHPrivateKey', 'WinRMPassword',
];

export interface PlanOptions {
  only?: readonly string[];
  except?: readonly string[];
  /** Extra `build.*` names a builder type declares (e.g. SourceAMI for amazon-ebs). */
  generatedData?: (builderType: string) => readonly string[];
}

export interface PlannedStep {
  type: string;
  name?: string;
  config: Value;
  origins: OriginMap;
  /** Milliseconds. */
  pauseBefore?: number;
  maxRetries?: number;
  /** Milliseconds. */
  timeout?: number;
  keepInputArtifact?: boolean;
  defRange: SourceRange;
  /** Evaluates the config again with the builder's generated data as `build.*`. */
  evaluateWith(generated: ReadonlyMap<string, string>): EvaluatedBody;
}

export interface PlannedBuild {
  /** The full build name: `<build.name>.<type>.<source>` or `<type>.<source>`. */
  name: string;
  buildName?: string;
  buildDescription?: string;
  type: string;
  /** The source's name in this build (a nested block's `name`, else the source's own). */
  sourceName: string;
  /** `type.name` of the top-level source block. */
  sourceRef: string;
  config: Value;
  origins: OriginMap;
  provisioners: PlannedStep[];
  errorCleanupProvisioner?: PlannedStep;
  postProcessors: PlannedStep[][];
  defRange: SourceRange;
}

export interface Plan {
  builds: PlannedBuild[];
  diags: Diagnostic[];
}

export function planBuilds(env: TemplateEnvironment, opts: PlanOptions = {}): Plan {
  const diags: Diagnostic[] = [];
  const builds: PlannedBuild[] = [];
  const seen = new Map<string, SourceRange>();
  env.model.builds.forEach((b) => {
    const buildName = b.name ? evalString(b.name, env.baseContext, diags, 'build name') : undefined;
    const buildDescription = b.description ? evalString(b.description, env.baseContext, diags, 'build description') : undefined;
    for (const ref of b.sources) {
      const job = planJob(env, b, ref, buildName, buildDescription, opts, diags);
      if (!job) continue;
      const prev = seen.get(job.name);
      if (prev) {
        diags.push(error('Duplicate build', `The build "${job.name}" is already defined at ${prev.filename}:${prev.start.line},${prev.start.column}. Give one of them another name with a nested source block: source "source.${ref.type}.${ref.name}" { name = "other" }.`, ref.range));
        continue;
      }
      seen.set(job.name, ref.range);
      if (opts.only && opts.only.length > 0 && !matchesAny(job.name, opts.only)) continue;
      if (opts.except && opts.except.length > 0 && matchesAny(job.name, opts.except)) continue;
      builds.push(job);
    }
  });
  return { builds, diags };
}

function planJob(
  env: TemplateEnvironment,
  b: BuildDecl,
  ref: BuildSourceRef,
  buildName: string | undefined,
  buildDescription: string | undefined,
  opts: PlanOptions,
  diags: Diagnostic[],
): PlannedBuild | undefined {
  const key = `${ref.type}.${ref.name}`;
  const src = env.model.sourceBlocks.get(key);
  if (!src) {
    diags.push(
      error(
        `Unknown source ${key}`,
        `There is no source "${key}" declared in this template.${didYouMean(key, env.model.sourceBlocks.keys())} Known: [${[...env.model.sourceBlocks.keys()].join(', ')}]. Declare it with source "${ref.type}" "${ref.name}" { … }.`,
        ref.range,
      ),
    );
    return undefined;
  }
  const sourceName = ref.localName ?? ref.name;
  const name = `${buildName ? `${buildName}.` : ''}${ref.type}.${sourceName}`;
  const sourceValue = Value.object({ name: Value.string(sourceName), type: Value.string(ref.type) });
  // A nested source generated by a dynamic block sees its iterator (which may shadow `source`).
  const srcCtx = withVariables(withVariables(env.baseContext, new Map([['source', sourceValue]])), ref.vars ?? new Map());
  const cfg = evaluateBodies(ref.body ? [src.body, ref.body] : [src.body], srcCtx);
  diags.push(...cfg.diags);

  const generated = [...COMMON_GENERATED_DATA, ...(opts.generatedData?.(ref.type) ?? [])];
  const buildValue = (known: ReadonlyMap<string, string>): Value =>
    Value.object(
      new Map<string, Value>([
        ['name', Value.string(buildName ?? '')],
        ...generated.map((g) => [g, known.has(g) ? Value.string(known.get(g)!) : Value.unknown(T.string, `build.${g}`)] as const),
        ...[...known].filter(([k]) => !generated.includes(k)).map(([k, v]) => [k, Value.string(v)] as const),
      ]),
    );
  const stepCtx = (known: ReadonlyMap<string, string>): EvalContext => {
    const ctx = withVariables(env.baseContext, new Map([['source', sourceValue], ['build', buildValue(known)]]));
    const unavailable = new Map(ctx.unavailable);
    unavailable.delete('source');
    unavailable.delete('build');
    return { ...ctx, unavailable };
  };
  const applies = (s: StepDecl): boolean => {
    const names = [key, `${ref.type}.${sourceName}`];
    if (s.only && !s.only.some((o) => names.includes(o))) return false;
    if (s.except && s.except.some((o) => names.includes(o))) return false;
    return true;
  };
  const plan = (s: StepDecl): PlannedStep => planStep(s, stepCtx, [key, `${ref.type}.${sourceName}`, sourceName], diags);

  const job: PlannedBuild = {
    name,
    ...(buildName !== undefined && { buildName }),
    ...(buildDescription !== undefined && { buildDescription }),
    type: ref.type,
    sourceName,
    sourceRef: key,
    config: cfg.value,
    origins: cfg.origins,
    provisioners: b.provisioners.filter(applies).map(plan),
    postProcessors: b.postProcessors.map((chain) => chain.filter(applies).map(plan)).filter((c) => c.length > 0),
    defRange: ref.range,
  };
  if (b.errorCleanupProvisioner && applies(b.errorCleanupProvisioner)) job.errorCleanupProvisioner = plan(b.errorCleanupProvisioner);
  return job;
}

function planStep(s: StepDecl, stepCtx: (known: ReadonlyMap<string, string>) => EvalContext, overrideKeys: readonly string[], diags: Diagnostic[]): PlannedStep {
  const ctxFor = (known: ReadonlyMap<string, string>): EvalContext => (s.vars ? withVariables(stepCtx(known), s.vars) : stepCtx(known));
  const evaluateWith = (known: ReadonlyMap<string, string>): EvaluatedBody => {
    const ctx = ctxFor(known);
    const r = evaluateBodies([s.body], ctx);
    if (!s.override) return r;
    const o = evaluate(s.override, ctx);
    r.diags.push(...o.diags);
    const ov = o.value;
    if (!ov.isKnown || ov.isNull || (ov.type.kind !== 'object' && ov.type.kind !== 'map')) {
      if (o.diags.length === 0 && ov.isKnown) r.diags.push(error('Invalid override', 'override must be a map from source names ("type.name") to the arguments to change for that source.', s.override.range));
      return r;
    }
    const forSource = overrideKeys.map((k) => ov.entries().get(k)).find((v) => v !== undefined);
    if (!forSource || !forSource.isKnown || forSource.isNull || (forSource.type.kind !== 'object' && forSource.type.kind !== 'map')) return r;
    // Override replaces whole arguments, as Packer's does (no deep merge).
    const merged = new Map(r.value.entries());
    for (const [k, v] of forSource.entries()) merged.set(k, v);
    return { ...r, value: Value.object(merged) };
  };
  const r = evaluateWith(new Map());
  diags.push(...r.diags);
  const ctx = ctxFor(new Map());
  const step: PlannedStep = { type: s.type, config: r.value, origins: r.origins, defRange: s.defRange, evaluateWith };
  if (s.name !== undefined) step.name = s.name;
  if (s.pauseBefore) step.pauseBefore = evalDuration(s.pauseBefore, ctx, diags, 'pause_before');
  if (s.timeout) step.timeout = evalDuration(s.timeout, ctx, diags, 'timeout');
  if (s.maxRetries) {
    const v = evalTyped(s.maxRetries, ctx, T.number, diags, 'max_retries');
    if (v !== undefined) {
      const n = v.num();
      if (!Number.isInteger(n) || n < 0) diags.push(error('Invalid max_retries', 'max_retries must be a whole number, 0 or more.', s.maxRetries.range));
      else step.maxRetries = n;
    }
  }
  if (s.keepInputArtifact) {
    const v = evalTyped(s.keepInputArtifact, ctx, T.bool, diags, 'keep_input_artifact');
    if (v !== undefined) step.keepInputArtifact = v.bool();
  }
  return step;
}

function evalTyped(expr: Expr, ctx: EvalContext, want: Type, diags: Diagnostic[], what: string): Value | undefined {
  const r = evaluate(expr, ctx);
  diags.push(...r.diags);
  if (r.diags.length > 0 || !r.value.isKnown || r.value.isNull) return undefined;
  try {
    return convert(r.value, want);
  } catch (err) {
    if (!(err instanceof ConversionError)) throw err;
    diags.push(error(`Invalid ${what}`, `${what}: ${err.message}.`, expr.range));
    return undefined;
  }
}

function evalString(expr: Expr, ctx: EvalContext, diags: Diagnostic[], what: string): string | undefined {
  return evalTyped(expr, ctx, T.string, diags, what)?.str();
}

function evalDuration(expr: Expr, ctx: EvalContext, diags: Diagnostic[], what: string): number | undefined {
  const s = evalString(expr, ctx, diags, what);
  if (s === undefined) return undefined;
  const ms = parseDuration(s);
  if (ms === undefined || ms < 0) {
    diags.push(error(`Invalid ${what}`, `"${s}" is not a duration: write it like "30s", "5m" or "1h30m".`, expr.range));
    return undefined;
  }
  return ms;
}
