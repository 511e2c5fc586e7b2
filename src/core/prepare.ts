/**
 * From a template to runnable jobs: plugins resolved (lazily, only the types the template
 * uses), every config of every job checked against its plugin's schema — all before any job
 * starts or any resource exists. Also collects the secrets every output must hide.
 */
import type { Diagnostic, SourceRange } from './errors/diagnostic.js';
import { error } from './errors/diagnostic.js';
import { didYouMean } from './errors/suggest.js';
import { planRead, readTemplate, type TemplateOptions, type TemplateResult } from '../template/index.js';
import type { RequiredPlugin } from '../template/model.js';
import { parseConstraint } from '../template/version.js';
import type { PlannedStep } from '../template/plan.js';
import { checkConfig } from './config.js';
import { PluginRegistry, type ComponentKind } from './registry.js';
import type { Job, Resolved } from './runner.js';
import type { BuilderPlugin, PostProcessorPlugin, ProvisionerPlugin } from '../sdk/plugin.js';

export interface Prepared extends TemplateResult {
  jobs: Job[];
  registry?: PluginRegistry;
}

export async function prepareJobs(opts: TemplateOptions): Promise<Prepared> {
  const read = readTemplate(opts);
  const base = { texts: read.texts, jobs: [] as Job[], secrets: new Set<string>() };
  if (!read.model) return { ...base, diags: read.diags };
  const model = read.model;

  const required = model.packer?.requiredPlugins ?? [];
  const registry = await PluginRegistry.create(
    required.map((p) => ({ name: p.name, ...(p.source !== undefined && { source: p.source }) })),
    model.root,
  );
  // Every required plugin is reported, and the rest of the template is still checked, so a
  // missing plugin hides none of the template's other problems.
  const diags: Diagnostic[] = requiredPluginDiags(required, registry);

  // Builders first: their `build.*` names are needed to plan provisioners.
  const builderTypes = new Set([...model.sourceBlocks.values()].map((s) => s.type));
  const builders = new Map<string, BuilderPlugin<unknown> | undefined>();
  for (const t of builderTypes) builders.set(t, await registry.get('builder', t));
  const generatedData = (t: string): readonly string[] => {
    return builders.get(t)?.generatedData ?? [];
  };

  const result = planRead(read, { ...opts, generatedData });
  diags.push(...result.diags);
  if (!result.plan || !result.env) return { ...base, ...result, diags, registry };

  const unknownType = (kind: ComponentKind, type: string, where: SourceRange): void => {
    // A type from a required plugin kiln could not provide is already reported at that plugin.
    if (registry.unavailable.some((u) => u.provides(type))) return;
    const label = kind === 'builder' ? 'source' : kind;
    const official = PluginRegistry.unimplementedOfficial(kind, type);
    const why = official
      ? `"${type}" is a ${kind} of HashiCorp's ${official} plugin that kiln does not implement yet.`
      : `kiln has no ${kind} plugin of type "${type}".${didYouMean(type, registry.types(kind))}`;
    diags.push(error(`Unknown ${label} type "${type}"`, `${why} Built-in and installed ${kind}s: ${registry.types(kind).sort().join(', ') || 'none'}.`, where));
  };
  const resolveStep = async <P extends ProvisionerPlugin<unknown> | PostProcessorPlugin<unknown>>(
    kind: 'provisioner' | 'post-processor',
    s: PlannedStep,
    build: string,
  ): Promise<Resolved<P> | undefined> => {
    const plugin = (await registry.get(kind, s.type)) as P | undefined;
    if (!plugin) {
      unknownType(kind, s.type, s.defRange);
      return undefined;
    }
    diags.push(...checkConfig(plugin.schema, s.config, s.origins, `${kind} "${s.type}" of build ${build}`, s.defRange).diags);
    return { planned: s, plugin };
  };

  const jobs: Job[] = [];
  for (const b of result.plan.builds) {
    const builder = await registry.get('builder', b.type);
    const src = model.sourceBlocks.get(b.sourceRef);
    if (!builder) {
      unknownType('builder', b.type, src?.defRange ?? b.defRange);
      continue;
    }
    const cfg = checkConfig(builder.schema, b.config, b.origins, `source "${b.sourceRef}"`, src?.defRange ?? b.defRange);
    diags.push(...cfg.diags);
    for (const field of builder.sensitive ?? []) {
      const v = (cfg.config as Record<string, unknown> | undefined)?.[field];
      if (typeof v === 'string') result.secrets.add(v);
    }
    const provisioners = await Promise.all(b.provisioners.map((p) => resolveStep<ProvisionerPlugin<unknown>>('provisioner', p, b.name)));
    const ecp = b.errorCleanupProvisioner ? await resolveStep<ProvisionerPlugin<unknown>>('provisioner', b.errorCleanupProvisioner, b.name) : undefined;
    const chains = await Promise.all(b.postProcessors.map((c) => Promise.all(c.map((p) => resolveStep<PostProcessorPlugin<unknown>>('post-processor', p, b.name)))));
    if (cfg.config === undefined && cfg.diags.length > 0) continue;
    jobs.push({
      build: b,
      builder,
      builderConfig: cfg.config,
      provisioners: provisioners.filter((p): p is Resolved<ProvisionerPlugin<unknown>> => p !== undefined),
      ...(ecp && { errorCleanupProvisioner: ecp }),
      postProcessors: chains.map((c) => c.filter((p): p is Resolved<PostProcessorPlugin<unknown>> => p !== undefined)),
    });
  }
  return { ...result, diags, jobs, registry };
}

/**
 * Each required plugin kiln cannot provide, at its own entry. A `version` constraint is checked
 * for form only: kiln's built-ins have no plugin versions of their own (they move with kiln), and
 * a third-party plugin's version is pinned where npm pins it, in package.json.
 */
function requiredPluginDiags(required: readonly RequiredPlugin[], registry: PluginRegistry): Diagnostic[] {
  const diags: Diagnostic[] = [];
  for (const p of required) {
    const missing = registry.unavailable.find((u) => u.name === p.name);
    if (missing) diags.push(error('Plugin not available', missing.reason, p.range));
    if (p.version === undefined) continue;
    const c = parseConstraint(p.version);
    if ('error' in c) diags.push(error('Invalid version constraint', `The version of the plugin "${p.name}": ${c.error}.`, p.range));
  }
  return diags;
}
