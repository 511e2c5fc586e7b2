/**
 * Packer spells long flags with one dash (`-var k=v`, `-var-file=f`, `-only=a,b`) and, as Go's
 * flag package does, lets a switch take `=true`/`=false` (`-write=false`); commander wants two
 * dashes and switches without a value. Known long flags are rewritten before parsing, so both
 * spellings work. Short flags (`-h`) and values are left alone.
 */

/** How a long flag is used: `switch` takes no value (`--check`), `value` takes one (`--var x`). */
export type FlagKind = 'switch' | 'value';

// The spellings Go's strconv.ParseBool accepts, which is what Packer's flags accept.
const TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

export function normalizeArgv(args: readonly string[], flags: ReadonlyMap<string, FlagKind>): string[] {
  const out: string[] = [];
  let rest = false;
  for (const a of args) {
    if (rest || a === '--') {
      rest = true;
      out.push(a);
      continue;
    }
    const [, name, value] = /^--?([a-z][a-z0-9-]+)(?:=(.*))?$/s.exec(a) ?? [];
    const kind = name === undefined ? undefined : flags.get(name);
    if (kind === undefined) {
      out.push(a);
      continue;
    }
    if (kind === 'switch' && value !== undefined && TRUE.has(value)) {
      out.push(`--${name}`);
    } else if (kind === 'switch' && value !== undefined && FALSE.has(value)) {
      // Last one wins, as in Go: `-check -check=false` does not check. A switch that is on by
      // default (`--write`) has a `--no-` form that turns it off.
      for (let i = out.length - 1; i >= 0; i--) if (out[i] === `--${name}`) out.splice(i, 1);
      if (flags.has(`no-${name}`)) out.push(`--no-${name}`);
    } else {
      // A flag that takes a value, a bare switch, or a switch with a non-boolean value (which
      // commander then reports as it was written): only the second dash is added.
      out.push(a.startsWith('--') ? a : `-${a}`);
    }
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
