/**
 * The Go template actions Packer's amazon builders still fill in ami_name, ami_description and
 * tag values, HCL templates included: `{{timestamp}}`, `{{uuid}}`, `{{build_name}}`,
 * `{{build_type}}`, `{{.SourceAMIName}}` and the other generated values, each optionally piped
 * through `clean_resource_name` (Packer's filter that makes any text a valid AMI name).
 * Anything else is refused when the template is validated, never sent to EC2 as text.
 */
import { randomUUID } from 'node:crypto';

const ACTION = /\{\{\s*(.*?)\s*\}\}/g;
const PIPE = /^(.*?)\s*\|\s*(clean_resource_name|clean_ami_name)$/;
const FUNCTIONS = new Set(['timestamp', 'uuid', 'build_name', 'build_type']);
const FIELD = /^\.([A-Za-z_][A-Za-z0-9_]*)$/;

/** Every run's builds agree on `{{timestamp}}`, as Packer's do (its value is the run's start). */
const runStart = Math.floor(Date.now() / 1000);

/** Why `text` cannot be filled, or undefined; `fields` are the `{{.Name}}` values there will be. */
export function checkActions(text: string, fields: readonly string[]): string | undefined {
  for (const m of text.matchAll(ACTION)) {
    const inner = PIPE.exec(m[1]!)?.[1] ?? m[1]!;
    const field = FIELD.exec(inner)?.[1];
    if (FUNCTIONS.has(inner) || (field !== undefined && fields.includes(field))) continue;
    return `"${m[0]}" is not something kiln fills in here: use {{timestamp}}, {{uuid}}, {{build_name}}, {{build_type}}, ${fields.map((f) => `{{.${f}}}`).join(', ')}, optionally piped through clean_resource_name`;
  }
  return undefined;
}

/** Packer's clean_resource_name: what EC2 refuses in a name becomes "-". */
export function cleanResourceName(s: string): string {
  return s.replace(/[^A-Za-z0-9()[\] ./\-'@_]/g, '-');
}

export interface ActionValues {
  buildName: string;
  buildType: string;
  fields: ReadonlyMap<string, string>;
}

export function fillActions(text: string, v: ActionValues): string {
  return text.replace(ACTION, (_whole, raw: string) => {
    const piped = PIPE.exec(raw);
    const inner = piped?.[1] ?? raw;
    const field = FIELD.exec(inner)?.[1];
    const value =
      inner === 'timestamp' ? String(runStart) : inner === 'uuid' ? randomUUID() : inner === 'build_name' ? v.buildName : inner === 'build_type' ? v.buildType : (v.fields.get(field ?? '') ?? '');
    return piped ? cleanResourceName(value) : value;
  });
}
