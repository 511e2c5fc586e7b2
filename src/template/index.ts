/**
 * The template engine's entry points: read a template (file or directory) with its variable
 * inputs, and produce the evaluated environment and the plan of build jobs, with every
 * diagnostic found along the way.
 */
import type { Diagnostic } from '../core/errors/diagnostic.js';
import { hasErrors } from '../core/errors/diagnostic.js';
import { decodeBuilds, decodeTemplate } from './decode.js';
import { collectSecrets } from './display.js';
import { buildEnvironment, type TemplateEnvironment } from './environment.js';
import { FUNCTIONS } from './eval/functions/index.js';
import { loadTemplate } from './load.js';
import type { TemplateModel } from './model.js';
import type { File } from './syntax/ast.js';
import { planBuilds, type Plan, type PlanOptions } from './plan.js';

export interface TemplateOptions extends PlanOptions {
  path: string;
  vars?: ReadonlyArray<readonly [string, string]>;
  varFiles?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  /** The run's timestamp; defaults to now. */
  now?: Date;
}

export interface TemplateResult {
  /** File texts by name, for rendering diagnostics with their source lines. */
  texts: Map<string, string>;
  diags: Diagnostic[];
  /** Strings no output may show: values of sensitive variables and locals, and what they flow into. */
  secrets: Set<string>;
  model?: TemplateModel;
  env?: TemplateEnvironment;
  plan?: Plan;
}

/** A template read and decoded, not yet evaluated. */
export interface TemplateRead extends TemplateResult {
  varFiles: File[];
}

/** Parses and decodes only: what `validate -syntax-only` needs, and what plugin loading looks at. */
export function readTemplate(opts: TemplateOptions): TemplateRead {
  const loaded = loadTemplate(opts.path, opts.varFiles ?? []);
  const diags = [...loaded.diags];
  if (hasErrors(diags)) return { texts: loaded.texts, diags, secrets: new Set(), varFiles: [] };
  const { model, diags: decodeDiags } = decodeTemplate(loaded.templates, loaded.texts, loaded.root);
  diags.push(...decodeDiags);
  return { texts: loaded.texts, diags, secrets: new Set(), model, varFiles: loaded.varFiles };
}

/** Evaluates and plans a template already read. */
export function planRead(read: TemplateRead, opts: TemplateOptions): TemplateResult {
  const { texts, model, varFiles } = read;
  const diags = [...read.diags];
  // Parse errors stop here; structural errors found while decoding do not, so one run reports
  // problems of both kinds.
  if (!model) return { texts, diags, secrets: new Set() };
  const env = buildEnvironment(model, {
    vars: opts.vars ?? [],
    varFiles,
    env: opts.env ?? process.env,
    functions: FUNCTIONS,
    now: opts.now ?? new Date(),
    cwd: opts.cwd ?? process.cwd(),
  });
  diags.push(...env.diags);
  // With variables known, dynamic blocks inside builds can be expanded.
  const decoded = decodeBuilds(model, env.baseContext);
  model.builds = decoded.builds;
  diags.push(...decoded.diags);
  // Values that failed above are unknown from here on, so planning adds only new problems.
  const plan = planBuilds(env, opts);
  diags.push(...plan.diags);
  const secrets = collectSecrets([...env.sensitiveInputs, ...[...env.variables.values()].map((v) => v.value), ...env.locals.values()]);
  for (const b of plan.builds) collectSecrets([b.config, ...b.provisioners.map((p) => p.config), ...b.postProcessors.flat().map((p) => p.config)], secrets);
  return { texts, diags, secrets, model, env, plan };
}

/** Reads, evaluates and plans: what inspect, plan and console use. */
export function planTemplate(opts: TemplateOptions): TemplateResult {
  return planRead(readTemplate(opts), opts);
}
