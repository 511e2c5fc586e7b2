/**
 * Packer's shell-local behaviour, shared by the provisioner and the post-processor of that
 * name: `command`, `inline`, `script`/`scripts`, environment values, `execute_command` with
 * `{{.Vars}}` and `{{.Script}}`, `valid_exit_codes`, output streamed line by line.
 */
import { chmod, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runLocal } from '../communicator/local.js';
import { shellQuote } from '../communicator/shell-quote.js';
import { z } from './config.js';
import type { ComponentContext } from './plugin.js';

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const shellLocalSchema = z
  .object({
    command: z.string().optional(),
    inline: z.array(z.string()).optional(),
    script: z.string().optional(),
    scripts: z.array(z.string()).optional(),
    inline_shebang: z.string().optional(),
    environment_vars: z.array(z.string()).optional(),
    env: z.record(z.string(), z.string()).optional(),
    env_var_format: z.string().optional(),
    execute_command: z.array(z.string()).min(1).optional(),
    valid_exit_codes: z.array(z.number().int()).optional(),
    only_on: z.array(z.string()).optional(),
    use_linux_pathing: z.boolean().optional(),
    tempfile_extension: z.string().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const given = [c.command !== undefined, c.inline !== undefined, c.script !== undefined, c.scripts !== undefined].filter(Boolean).length;
    if (given === 0) ctx.addIssue({ code: 'custom', message: 'one of command, inline, script or scripts must be set' });
    if (given > 1) ctx.addIssue({ code: 'custom', message: 'command, inline, script and scripts cannot be used together: choose one' });
    c.environment_vars?.forEach((kv, i) => {
      const eq = kv.indexOf('=');
      if (eq <= 0 || !envName.test(kv.slice(0, eq))) {
        ctx.addIssue({ code: 'custom', path: ['environment_vars', i], message: `"${kv}" is not in the form NAME=value` });
      }
    });
    for (const k of Object.keys(c.env ?? {})) {
      if (!envName.test(k)) ctx.addIssue({ code: 'custom', path: ['env', k], message: `"${k}" is not a valid environment variable name` });
    }
  });

export type ShellLocalConfig = z.output<typeof shellLocalSchema>;

const DEFAULT_EXECUTE = ['/bin/sh', '-c', '{{.Vars}} {{.Script}}'];

/** Runs the configured script(s) on this machine; rejects on a disallowed exit code. */
export async function runShellLocal(ctx: ComponentContext<ShellLocalConfig>, extraEnv: Readonly<Record<string, string>> = {}): Promise<void> {
  const c = ctx.config;
  if (c.only_on && !c.only_on.includes(process.platform)) {
    ctx.ui.say(`Skipping shell-local: only_on is ${c.only_on.join(', ')} and this is ${process.platform}.`);
    return;
  }
  const env: Record<string, string> = {
    PACKER_BUILD_NAME: ctx.sourceName,
    PACKER_BUILDER_TYPE: ctx.builderType,
    PACKER_RUN_UUID: ctx.runId,
    ...(ctx.generatedData.has('PackerHTTPAddr') && { PACKER_HTTP_ADDR: ctx.generatedData.get('PackerHTTPAddr')! }),
    ...extraEnv,
  };
  for (const kv of c.environment_vars ?? []) {
    const eq = kv.indexOf('=');
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  Object.assign(env, c.env ?? {});

  let scripts: string[];
  if (c.script !== undefined || c.scripts !== undefined) {
    scripts = (c.script !== undefined ? [c.script] : c.scripts!).map((s) => resolve(s));
  } else {
    const lines = c.inline ?? [c.command!];
    const dir = await ctx.tempDir('kiln-shell-');
    const path = join(dir, `script${c.tempfile_extension ?? '.sh'}`);
    await writeFile(path, `#!${c.inline_shebang ?? '/bin/sh -e'}\n${lines.join('\n')}\n`, { mode: 0o700 });
    scripts = [path];
  }
  const vars = Object.entries(env)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => formatVar(c.env_var_format, k, v))
    .join('');
  const valid = c.valid_exit_codes ?? [0];
  for (const script of scripts) {
    await chmod(script, 0o755).catch(() => undefined);
    const argv = (c.execute_command ?? DEFAULT_EXECUTE).map((part) =>
      part.replace(/\{\{\s*\.Vars\s*\}\}/g, vars).replace(/\{\{\s*\.Script\s*\}\}/g, shellQuote(script)).replace(/\{\{\s*\.Command\s*\}\}/g, c.command ?? ''),
    );
    ctx.ui.say(`Running local shell script: ${script}`);
    const r = await runLocal(argv, {
      env,
      signal: ctx.signal,
      resources: ctx.resources,
      description: `shell-local script ${script}`,
      onStdout: (l) => ctx.ui.output('stdout', l),
      onStderr: (l) => ctx.ui.output('stderr', l),
    });
    if (ctx.signal.aborted) throw new Error('Build was cancelled.');
    if (r.exitCode === null) throw new Error(`The script was killed by ${r.signal ?? 'a signal'}: ${script}`);
    // Packer 1.6.6's words, missing space included: scripts and CI logs grep for them.
    if (!valid.includes(r.exitCode)) throw new Error(`Script exited with non-zero exit status: ${r.exitCode}.Allowed exit codes are: [${valid.join(' ')}]`);
  }
}

/** `{{.Vars}}` entries: Packer's env_var_format (`%s='%s' `), with values quoted for the shell. */
function formatVar(format: string | undefined, k: string, v: string): string {
  if (format === undefined) return `${k}=${shellQuote(v)} `;
  let i = 0;
  return format.replace(/%s/g, () => (i++ === 0 ? k : v.replace(/'/g, `'"'"'`)));
}
