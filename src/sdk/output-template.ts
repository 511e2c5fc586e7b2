/**
 * Packer's `output` templates: Go template actions of the form `{{.Name}}` (spaces allowed
 * inside the braces), filled from the build (BuildName, BuilderType, …) and the builder's
 * generated data. Only that form is supported; anything else in `{{ }}` is reported, not
 * written out literally into a file name.
 * Shared by the checksum and compress post-processors (and any plugin with such an option).
 */

const ACTION = /\{\{(.*?)\}\}/g;
const FIELD = /^\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*$/;

/** Why `template` cannot be rendered, or undefined when every action is a `{{.Name}}`. */
export function checkTemplate(template: string): string | undefined {
  for (const m of template.matchAll(ACTION)) {
    if (!FIELD.test(m[1]!)) return `"${m[0]}" is not supported in output: only placeholders like {{.BuildName}} are`;
  }
  return undefined;
}

/** `template` with each `{{.Name}}` replaced by vars[Name]; an unknown name is an error listing the known ones. */
export function renderTemplate(template: string, vars: ReadonlyMap<string, string>): string {
  return template.replace(ACTION, (whole, inner: string) => {
    const name = FIELD.exec(inner)?.[1];
    if (name === undefined) throw new Error(`"${whole}" is not supported in output: only placeholders like {{.BuildName}} are`);
    const value = vars.get(name);
    if (value === undefined) throw new Error(`output "${template}": there is no {{.${name}}}; available: ${[...vars.keys()].map((k) => `{{.${k}}}`).join(', ')}`);
    return value;
  });
}

/**
 * What `{{.Name}}` can refer to: the builder's generated data (from the context and the input
 * artifact's `generated_data`), then the fixed variables, which win as in Packer.
 */
export function templateVars(generated: ReadonlyMap<string, string>, state: Record<string, unknown>, fixed: Record<string, string>): Map<string, string> {
  const vars = new Map(generated);
  const fromArtifact = state.generated_data;
  if (typeof fromArtifact === 'object' && fromArtifact !== null) {
    for (const [k, v] of Object.entries(fromArtifact)) if (typeof v === 'string') vars.set(k, v);
  }
  for (const [k, v] of Object.entries(fixed)) vars.set(k, v);
  return vars;
}
