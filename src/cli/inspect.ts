/** `kiln inspect`: variables, locals and builds, laid out as `packer inspect` shows them. */
import { hasErrors } from '../core/errors/diagnostic.js';
import { formatValue, REDACTED } from '../template/display.js';
import type { Value } from '../template/eval/value.js';
import { planTemplate } from '../template/index.js';
import { ExitCode, printDiagnostics } from './output.js';
import { templateOptions, type TemplateFlags } from './template-flags.js';

export function inspectCommand(path: string, flags: TemplateFlags): void {
  const r = planTemplate(templateOptions(path, flags));
  printDiagnostics(r.diags, r.texts, r.secrets);
  if (hasErrors(r.diags) || !r.env || !r.model) throw new ExitCode(1);
  const out: string[] = ['Packer Inspect: HCL2 mode', '', '> input-variables:', ''];
  const vars = [...r.env.variables].sort(([a], [b]) => (a < b ? -1 : 1));
  for (const [name, v] of vars) out.push(`var.${name}: ${shown(v.value)}`);
  out.push('', '> local-variables:', '');
  for (const [name, v] of [...r.env.locals].sort(([a], [b]) => (a < b ? -1 : 1))) out.push(`local.${name}: ${shown(v)}`);
  out.push('', '> builds:', '');
  r.model.builds.forEach((b, i) => {
    const name = b.name && b.name.kind === 'template' && b.name.parts.length === 1 && b.name.parts[0]!.kind === 'literal' ? b.name.parts[0]!.value : undefined;
    out.push(`  > ${name ?? `<unnamed build ${i}>`}:`, '');
    if (b.description && b.description.kind === 'template' && b.description.parts[0]?.kind === 'literal') {
      out.push(`    description: ${b.description.parts[0].value}`, '');
    }
    out.push('    sources:', '');
    for (const s of b.sources) out.push(`      ${s.type}.${s.localName ?? s.name}`, '');
    out.push('    provisioners:', '');
    if (b.provisioners.length === 0) out.push('      <no provisioner>', '');
    else out.push(...b.provisioners.map((p) => `      ${p.type}${p.name ? `.${p.name}` : ''}`), '');
    out.push('    post-processors:', '');
    if (b.postProcessors.length === 0) out.push('      <no post-processor>', '');
    b.postProcessors.forEach((chain, ci) => {
      out.push(`      ${ci}:`, ...chain.map((p) => `        ${p.type}${p.name ? `.${p.name}` : ''}`), '');
    });
  });
  process.stdout.write(out.join('\n') + '\n');
}

function shown(v: Value): string {
  if (v.containsSensitive) return JSON.stringify(REDACTED);
  if (v.isKnown && !v.isNull && v.type.kind === 'string') return JSON.stringify(v.str());
  return JSON.stringify(formatValue(v));
}
