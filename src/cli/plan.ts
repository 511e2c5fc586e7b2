/**
 * `kiln plan [--json]`: the jobs a build would run. The JSON is a stable, documented schema
 * (see README): builds with their evaluated configs, provisioners and post-processor chains,
 * and the input variables. Sensitive values are `"<sensitive>"`; values known only at run time
 * are `{"$deferred": "<expression>"}`.
 */
import { hasErrors } from '../core/errors/diagnostic.js';
import { planTemplate } from '../template/index.js';
import { toJson, type JsonValue } from '../template/display.js';
import { formatDuration } from '../template/duration.js';
import type { PlannedBuild, PlannedStep } from '../template/plan.js';
import { ExitCode, printDiagnostics } from './output.js';
import { templateOptions, type TemplateFlags } from './template-flags.js';

export interface PlanFlags extends TemplateFlags {
  json?: boolean;
}

export function planCommand(path: string, flags: PlanFlags): void {
  const r = planTemplate(templateOptions(path, flags));
  printDiagnostics(r.diags, r.texts, r.secrets);
  if (hasErrors(r.diags) || !r.plan || !r.env) throw new ExitCode(1);
  if (flags.json) {
    const variables: Record<string, JsonValue> = {};
    for (const [name, v] of r.env.variables) variables[name] = toJson(v.value);
    const doc = { builds: r.plan.builds.map(buildJson), variables };
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    return;
  }
  const lines: string[] = [];
  lines.push(`${r.plan.builds.length} build${r.plan.builds.length === 1 ? '' : 's'}:`);
  for (const b of r.plan.builds) {
    lines.push(`  ${b.name}`);
    for (const p of b.provisioners) lines.push(`    provisioner ${p.type}${p.name ? ` (${p.name})` : ''}`);
    if (b.errorCleanupProvisioner) lines.push(`    error-cleanup-provisioner ${b.errorCleanupProvisioner.type}`);
    b.postProcessors.forEach((chain, i) => lines.push(`    post-processors ${i}: ${chain.map((s) => s.type).join(' → ')}`));
  }
  process.stdout.write(lines.join('\n') + '\n');
}

// Every key is always present (null when the template leaves it unset), so the schema is stable.
function provisionerJson(s: PlannedStep): JsonValue {
  return {
    type: s.type,
    name: s.name ?? null,
    config: toJson(s.config),
    pause_before: s.pauseBefore === undefined ? null : formatDuration(s.pauseBefore),
    max_retries: s.maxRetries ?? null,
    timeout: s.timeout === undefined ? null : formatDuration(s.timeout),
  };
}

function postProcessorJson(s: PlannedStep): JsonValue {
  return { type: s.type, name: s.name ?? null, config: toJson(s.config), keep_input_artifact: s.keepInputArtifact ?? null };
}

export function buildJson(b: PlannedBuild): JsonValue {
  return {
    name: b.name,
    type: b.type,
    source: b.sourceName,
    build: b.buildName ?? null,
    config: toJson(b.config),
    provisioners: b.provisioners.map(provisionerJson),
    error_cleanup_provisioner: b.errorCleanupProvisioner ? provisionerJson(b.errorCleanupProvisioner) : null,
    post_processors: b.postProcessors.map((chain) => chain.map(postProcessorJson)),
  };
}
