/**
 * Packer spells long flags with one dash (`-var k=v`, `-var-file=f`, `-only=a,b`); commander
 * wants two. Known long flags written with one dash are rewritten before parsing, so both
 * spellings work. Short flags (`-h`) and values are left alone.
 */
export function normalizeArgv(args: readonly string[], longFlags: ReadonlySet<string>): string[] {
  const out: string[] = [];
  let rest = false;
  for (const a of args) {
    if (rest || a === '--') {
      rest = true;
      out.push(a);
      continue;
    }
    const m = /^-([a-z][a-z0-9-]+)(=.*)?$/.exec(a);
    out.push(m && longFlags.has(m[1]!) ? `-${a}` : a);
  }
  return out;
}

/** `-var name=value`: split at the first `=`. */
export function parseVarFlag(text: string): readonly [string, string] | undefined {
  const i = text.indexOf('=');
  if (i <= 0) return undefined;
  return [text.slice(0, i).trim(), text.slice(i + 1)] as const;
}

/** `-only=a,b -only c` → ["a","b","c"]. */
export function splitList(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s.length > 0);
}
