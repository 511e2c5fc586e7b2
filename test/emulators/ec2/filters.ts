/**
 * EC2's Describe* filters: each filter matches when any of its values matches (values may use
 * `*` and `?` wildcards, `\` escapes them), and all filters must match. `tag:KEY`, `tag-key` and
 * `tag-value` work on every resource; other names come from the resource's own field function,
 * and a name it does not know is an error as on EC2.
 */
import { invalidParameter } from './errors.js';
import type { Filter } from './query.js';

export function wildcardToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) re += (pattern[++i] as string).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Per filter name, the values a resource has for it. */
export type FilterFields<T> = Record<string, (item: T) => readonly (string | undefined)[]>;

export function applyFilters<T extends { tags: Record<string, string> }>(items: readonly T[], fs: readonly Filter[], fields: FilterFields<T>): T[] {
  const compiled = fs.map((f) => {
    const isTag = f.name.startsWith('tag:') || f.name === 'tag-key' || f.name === 'tag-value';
    // Unknown filter names fail even when there is nothing to filter, as on EC2.
    if (!isTag && !Object.hasOwn(fields, f.name)) throw invalidParameter(`The filter '${f.name}' is invalid`);
    return { name: f.name, res: f.values.map(wildcardToRegExp) };
  });
  return items.filter((item) =>
    compiled.every((f) => {
      let values: readonly (string | undefined)[];
      if (f.name.startsWith('tag:')) values = [item.tags[f.name.slice(4)]];
      else if (f.name === 'tag-key') values = Object.keys(item.tags);
      else if (f.name === 'tag-value') values = Object.values(item.tags);
      else values = fields[f.name]?.(item) ?? [];
      return values.some((v) => v !== undefined && f.res.some((re) => re.test(v)));
    }),
  );
}
