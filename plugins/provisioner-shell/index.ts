/**
 * The `shell` provisioner, as Packer's: each script (or the inline lines, made into one) is
 * uploaded to remote_path and run with execute_command, output streamed line by line. A script
 * that reboots the machine ends with the connection dropping: with expect_disconnect that is
 * success, and the next step reconnects (start_retry_timeout bounds how long it keeps trying).
 */
import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { duration, intList, provisioner, shellQuote, sleep, z, type Communicator, type PluginSet, type ProvisionContext } from '../../src/sdk/index.js';
import { envVars, formatVars } from './env-vars.js';
import { retryStart } from './retry.js';
import { inlineScript, scriptBytes } from './script.js';

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Packer's exit status for "the connection dropped before the command ended". */
const CMD_DISCONNECT = 2300218;

const schema = z
  .object({
    inline: z.array(z.string()).optional(),
    script: z.string().optional(),
    scripts: z.array(z.string()).optional(),
    environment_vars: z.array(z.string()).optional(),
    env: z.record(z.string(), z.string()).optional(),
    env_var_format: z.string().optional(),
    execute_command: z.string().optional(),
    inline_shebang: z.string().optional(),
    remote_folder: z.string().optional(),
    remote_file: z.string().optional(),
    remote_path: z.string().optional(),
    skip_clean: z.boolean().optional(),
    start_retry_timeout: duration().optional(),
    expect_disconnect: z.boolean().optional(),
    pause_after: duration().optional(),
    valid_exit_codes: intList().optional(),
    use_env_var_file: z.boolean().optional(),
    binary: z.boolean().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const inline = c.inline !== undefined && c.inline.length > 0;
    const scripted = c.script !== undefined || (c.scripts?.length ?? 0) > 0;
    if (c.script !== undefined && (c.scripts?.length ?? 0) > 0) ctx.addIssue({ code: 'custom', path: ['scripts'], message: 'Only one of script or scripts can be specified.' });
    if (!inline && !scripted) ctx.addIssue({ code: 'custom', message: 'Either a script file or inline script must be specified.' });
    if (inline && scripted) ctx.addIssue({ code: 'custom', message: 'Only a script file or an inline script can be specified, not both.' });
    const scripts = c.script !== undefined ? [c.script] : (c.scripts ?? []);
    scripts.forEach((p, i) => {
      if (!p.includes('${') && !existsSync(p)) ctx.addIssue({ code: 'custom', path: c.script !== undefined ? ['script'] : ['scripts', i], message: `Bad script '${p}': no such file` });
    });
    c.environment_vars?.forEach((kv, i) => {
      const eq = kv.indexOf('=');
      if (eq <= 0 || !envName.test(kv.slice(0, eq))) ctx.addIssue({ code: 'custom', path: ['environment_vars', i], message: `Environment variable not in format 'key=value': ${kv}` });
    });
    for (const k of Object.keys(c.env ?? {})) {
      if (!envName.test(k)) ctx.addIssue({ code: 'custom', path: ['env', k], message: `"${k}" is not a valid environment variable name` });
    }
  });

type Config = z.output<typeof schema>;

/** `{{.Vars}}`, `{{.Path}}`, `{{.EnvVarFile}}` and any `{{.Name}}` of the build's generated data. */
function renderCommand(template: string, values: Readonly<Record<string, string>>, generated: ReadonlyMap<string, string>): string {
  return template.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (whole, name: string) => values[name] ?? generated.get(name) ?? whole);
}

function randomSuffix(): number {
  return Math.floor(Math.random() * 10_000);
}

async function provision(ctx: ProvisionContext<Config>, comm: Communicator): Promise<void> {
  const c = ctx.config;
  const startTimeout = c.start_retry_timeout ?? 5 * 60_000;
  const folder = c.remote_folder ?? '/tmp';
  const remotePath = c.remote_path ?? `${folder}/${c.remote_file ?? `script_${randomSuffix()}.sh`}`;
  const format = c.env_var_format ?? (c.use_env_var_file ? "export %s='%s'\n" : "%s='%s' ");
  const executeCommand = c.execute_command ?? (c.use_env_var_file ? 'chmod +x {{.Path}}; . {{.EnvVarFile}} && {{.Path}}' : 'chmod +x {{.Path}}; {{.Vars}} {{.Path}}');
  const g = ctx.generatedData;
  const base: Record<string, string> = { PACKER_BUILD_NAME: ctx.sourceName, PACKER_BUILDER_TYPE: ctx.builderType };
  if (g.has('PackerHTTPAddr')) base.PACKER_HTTP_ADDR = g.get('PackerHTTPAddr')!;
  if (g.has('PackerHTTPIP')) base.PACKER_HTTP_IP = g.get('PackerHTTPIP')!;
  if (g.has('PackerHTTPPort')) base.PACKER_HTTP_PORT = g.get('PackerHTTPPort')!;
  const vars = formatVars(envVars(base, c.environment_vars, c.env), format);
  const retried = (what: string) => (err: Error, pause: number) => ctx.ui.message(`${what} failed (${err.message}); retrying in ${Math.round(pause / 1000)}s (start_retry_timeout)`);
  const upload = (data: Buffer, dst: string, mode: number) => comm.upload({ stream: Readable.from([data]), size: data.length }, dst, { mode, signal: ctx.signal });

  let envVarFile = '';
  if (c.use_env_var_file) {
    const path = `${folder}/varfile_${randomSuffix()}.sh`;
    // Written 0600 from the start: the values may be secrets.
    await retryStart(startTimeout, ctx.signal, retried('Uploading the environment file'), () => upload(Buffer.from(vars), path, 0o600));
    envVarFile = path;
  }

  const scripts: { label: string; data: () => Promise<Buffer> }[] =
    c.inline && c.inline.length > 0
      ? [{ label: 'inline script', data: async () => inlineScript(c.inline!, c.inline_shebang) }]
      : (c.script !== undefined ? [c.script] : c.scripts!).map((p) => ({ label: p, data: () => scriptBytes(p, c.binary ?? false) }));

  const command = renderCommand(executeCommand, { Vars: vars, Path: shellQuote(remotePath), EnvVarFile: shellQuote(envVarFile) }, g);
  const valid = c.valid_exit_codes ?? [0];
  for (const script of scripts) {
    ctx.ui.say(`Provisioning with shell script: ${script.label}`);
    const data = await script.data();
    const result = await retryStart(startTimeout, ctx.signal, retried('Starting the script'), async () => {
      await upload(data, remotePath, 0o755);
      return comm.exec(command, { signal: ctx.signal, onStdout: (l) => ctx.ui.output('stdout', l), onStderr: (l) => ctx.ui.output('stderr', l) });
    });
    if (ctx.signal.aborted) throw new Error('Build was cancelled.');
    if (result.disconnected) {
      if (!c.expect_disconnect && !valid.includes(CMD_DISCONNECT)) {
        throw new Error(
          'Script disconnected unexpectedly. If you expected your script to disconnect, i.e. from a restart, you can try adding `expect_disconnect = true` or `valid_exit_codes = [0, 2300218]` to the shell provisioner parameters.',
        );
      }
      ctx.ui.message('The connection dropped, as expect_disconnect allows: the next step reconnects.');
    } else if (result.exitCode === null) {
      throw new Error(`Script was ended by ${result.signal ?? 'a signal'} while executing ${script.label}.`);
    } else if (!valid.includes(result.exitCode)) {
      throw new Error(`Script exited with non-zero exit status: ${result.exitCode}. Allowed exit codes are: [${valid.join(' ')}]`);
    }
    if (!c.skip_clean) await removeRemote(ctx, comm, remotePath, startTimeout, retried);
  }
  if (!c.skip_clean && envVarFile) await removeRemote(ctx, comm, envVarFile, startTimeout, retried);

  if (c.pause_after) {
    ctx.ui.say(`Pausing ${Math.round(c.pause_after / 1000)}s after this provisioner...`);
    await sleep(c.pause_after, ctx.signal);
  }
}

/** Removes an uploaded file; after a reboot this is what reconnects, so it retries like a start. */
async function removeRemote(ctx: ProvisionContext<Config>, comm: Communicator, path: string, timeoutMs: number, retried: (what: string) => (err: Error, pause: number) => void): Promise<void> {
  await retryStart(timeoutMs, ctx.signal, retried(`Removing ${path}`), async () => {
    const r = await comm.exec(`rm -f ${shellQuote(path)}`, { signal: ctx.signal });
    if (r.disconnected) throw new Error('Disconnect while removing temporary script.');
    if (r.exitCode !== 0) throw new Error(`Error removing temporary script at ${path}!`);
  });
}

const shell = provisioner({ type: 'shell', schema, provision });

export default { provisioners: [shell] } satisfies PluginSet;
