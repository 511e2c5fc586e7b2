/**
 * Reading the Query protocol's form parameters as the SDK serialises them: lists as `Name.1`,
 * `Name.2`…, structures as `Name.Member`, and the two shapes most actions share (filters and tag
 * specifications).
 */
import { Ec2Error, invalidParameter, missingParameter } from './errors.js';

export class QueryParams {
  constructor(private readonly values: ReadonlyMap<string, string>) {}

  static parse(body: string): QueryParams {
    return new QueryParams(new Map(new URLSearchParams(body)));
  }

  entries(): [string, string][] {
    return [...this.values];
  }

  str(name: string): string | undefined {
    return this.values.get(name);
  }

  required(name: string): string {
    const v = this.values.get(name);
    if (v === undefined || v === '') throw missingParameter(name);
    return v;
  }

  bool(name: string): boolean | undefined {
    const v = this.values.get(name);
    if (v === undefined) return undefined;
    if (v !== 'true' && v !== 'false') throw invalidParameter(`Invalid value '${v}' for ${name}: expected true or false`);
    return v === 'true';
  }

  int(name: string): number | undefined {
    const v = this.values.get(name);
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v)) throw invalidParameter(`Invalid value '${v}' for ${name}: expected an integer`);
    return Number(v);
  }

  /** The members of `prefix.N…`, in the order of N. */
  private indexed(prefix: string): Map<number, Map<string, string>> {
    const byIndex = new Map<number, Map<string, string>>();
    const start = `${prefix}.`;
    for (const [k, v] of this.values) {
      if (!k.startsWith(start)) continue;
      const rest = k.slice(start.length);
      const dot = rest.indexOf('.');
      const idx = Number(dot < 0 ? rest : rest.slice(0, dot));
      if (!Number.isInteger(idx)) continue;
      let m = byIndex.get(idx);
      if (!m) byIndex.set(idx, (m = new Map()));
      m.set(dot < 0 ? '' : rest.slice(dot + 1), v);
    }
    return new Map([...byIndex].sort((a, b) => a[0] - b[0]));
  }

  /** `prefix.1`, `prefix.2`…: a list of strings. */
  list(prefix: string): string[] {
    return [...this.indexed(prefix).values()].map((m) => m.get('')).filter((v): v is string => v !== undefined);
  }

  /** `prefix.N.member…`: a list of structures. */
  structs(prefix: string): QueryParams[] {
    return [...this.indexed(prefix).values()].map((m) => new QueryParams(m));
  }

  /** `prefix.member…`: one structure (empty when absent). */
  sub(prefix: string): QueryParams {
    const start = `${prefix}.`;
    return new QueryParams(new Map([...this.values].filter(([k]) => k.startsWith(start)).map(([k, v]) => [k.slice(start.length), v])));
  }

  isEmpty(): boolean {
    return this.values.size === 0;
  }
}

export interface Filter {
  name: string;
  values: string[];
}

export function filters(p: QueryParams): Filter[] {
  return p.structs('Filter').map((f) => ({ name: f.required('Name'), values: f.list('Value') }));
}

/** `Tag.N.Key` / `Tag.N.Value` into a record. */
export function tagList(p: QueryParams, prefix = 'Tag'): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const t of p.structs(prefix)) {
    const key = t.required('Key');
    if (key.toLowerCase().startsWith('aws:')) throw invalidParameter(`Tag keys starting with 'aws:' are reserved for internal use`);
    tags[key] = t.str('Value') ?? '';
  }
  return tags;
}

/**
 * TagSpecification.N: tags per resource type. A type the action cannot tag is an error, as on
 * EC2 ("'image' is not a valid taggable resource type for this operation").
 */
export function tagSpecifications(p: QueryParams, allowed: readonly string[]): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const spec of p.structs('TagSpecification')) {
    const type = spec.required('ResourceType');
    if (!allowed.includes(type)) throw new Ec2Error('InvalidParameterValue', `'${type}' is not a valid taggable resource type for this operation.`);
    out.set(type, { ...out.get(type), ...tagList(spec) });
  }
  return out;
}
