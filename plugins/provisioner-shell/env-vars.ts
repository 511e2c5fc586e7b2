/**
 * The `{{.Vars}}` text of Packer's shell provisioner: PACKER_* values, environment_vars and env,
 * sorted by name, each formatted with env_var_format (default `%s='%s' `) after every `'` in the
 * value became `'"'"'`, so any byte (quotes, $, backticks, ;|&, newlines) reaches the script unchanged.
 */
export function envVars(base: Readonly<Record<string, string>>, environmentVars: readonly string[] | undefined, env: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = { ...base };
  for (const kv of environmentVars ?? []) {
    const eq = kv.indexOf('=');
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  Object.assign(out, env ?? {});
  return out;
}

export function formatVars(vars: Readonly<Record<string, string>>, format: string): string {
  return Object.keys(vars)
    .sort()
    .map((k) => {
      const v = vars[k]!.replace(/'/g, `'"'"'`);
      let i = 0;
      // Go's Sprintf(format, key, value) for the %s verbs Packer's formats use.
      return format.replace(/%s/g, () => (i++ === 0 ? k : v));
    })
    .join('');
}
