/** The commander program: flags and commands, each command's module loaded when it runs. */
import { Command, CommanderError } from 'commander';
import { DiagnosticsError } from '../core/errors/diagnostic.js';
import { type FlagKind, normalizeArgv } from './argv.js';
import { ExitCode, printDiagnostics } from './output.js';
import { addFilterFlags, addVarFlags } from './template-flags.js';
import { KILN_VERSION } from './version.js';

function program(): Command {
  const p = new Command('kiln')
    .description('Build machine and container images from Packer-compatible HCL2 templates.')
    .version(`kiln ${KILN_VERSION}`, '-v, --version')
    .exitOverride()
    .showSuggestionAfterError(true);

  addFilterFlags(addVarFlags(p.command('validate').argument('<path>', 'template file or directory')))
    .description('check that a template is valid; every problem is listed')
    .option('--syntax-only', 'only check syntax; do not evaluate variables or configs')
    .action(async (path: string, flags) => (await import('./validate.js')).validateCommand(path, flags));

  addVarFlags(p.command('inspect').argument('<path>', 'template file or directory'))
    .description('show the variables, locals, builds, sources, provisioners and post-processors of a template')
    .action(async (path: string, flags) => (await import('./inspect.js')).inspectCommand(path, flags));

  addFilterFlags(addVarFlags(p.command('plan').argument('<path>', 'template file or directory')))
    .description('show the build jobs a template expands to')
    .option('--json', 'print the plan as JSON (schema in the README)')
    .action(async (path: string, flags) => (await import('./plan.js')).planCommand(path, flags));

  p.command('fmt')
    .argument('<path>', 'file, directory, or - for standard input')
    .description('rewrite templates in the canonical style')
    .option('--check', 'exit 3 if any file is not formatted; change nothing')
    .option('--diff', 'show the changes as a unified diff')
    .option('--write', 'write the result back to the files (the default; -write=false only lists them)')
    .option('--no-write', 'only list the files that would change')
    .option('--recursive', 'also format files in subdirectories')
    .action(async (path: string, flags) => (await import('./fmt.js')).fmtCommand(path, flags));

  addFilterFlags(addVarFlags(p.command('build').argument('<path>', 'template file or directory')))
    .description('run the builds of a template in parallel')
    .option('--parallel-builds <n>', 'run at most n builds at once (0 = no limit, the default)')
    .option('--on-error <mode>', 'what to do when a build fails: cleanup (default), abort, ask, run-cleanup-provisioner')
    .option('--debug', 'pause before each step')
    .option('--force', 'replace existing artifacts and output directories')
    .option('--timestamp-ui', 'prefix each output line with a timestamp')
    .option('--machine-readable', "print Packer's machine-readable format")
    .option('--json', 'print every event as a JSON line')
    .option('--tui', 'show a live view of the builds (on a terminal; plain output elsewhere)')
    .option('--color <bool>', 'colour the output (default: on a terminal, unless NO_COLOR is set)', (v: string) => v !== 'false')
    .action(async (path: string, flags) => (await import('./build.js')).buildCommand(path, flags));

  p.command('cleanup')
    .description('remove the temporary resources that interrupted or killed runs left behind')
    .option('--run <id>', 'only this run')
    .option('--dry-run', 'list what would be removed; remove nothing')
    .action(async (flags) => (await import('./cleanup.js')).cleanupCommand(flags));

  p.command('init')
    .argument('[dir]', 'where to write the template (default: the current folder)')
    .description('list the starter templates, or copy one (--template NAME) to start from')
    .option('--template <name>', 'the starter template to copy')
    .option('--force', 'overwrite files that are already there')
    .action(async (dir: string | undefined, flags) => (await import('./init.js')).initCommand(dir, flags));

  addVarFlags(p.command('console').argument('[path]', 'template file or directory'))
    .description('evaluate expressions against a template (a REPL on a terminal)')
    .option('--eval <expr>', 'evaluate this expression and exit (repeatable)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .action(async (path: string | undefined, flags) => (await import('./console.js')).consoleCommand(path, flags));

  return p;
}

/**
 * Every long flag of every command and whether it takes a value. A name that is a switch in one
 * command and takes a value in another is treated as taking a value, so no value is ever lost.
 */
function longFlags(cmd: Command): Map<string, FlagKind> {
  const flags = new Map<string, FlagKind>();
  const visit = (c: Command): void => {
    for (const o of c.options) {
      if (!o.long) continue;
      const name = o.long.replace(/^--/, '');
      const kind: FlagKind = o.required || o.optional ? 'value' : 'switch';
      flags.set(name, flags.get(name) === 'value' ? 'value' : kind);
    }
    c.commands.forEach(visit);
  };
  visit(cmd);
  return flags;
}

/** Runs the CLI and returns the exit code. User errors never show a stack trace. */
export async function run(args: readonly string[]): Promise<number> {
  const p = program();
  try {
    await p.parseAsync(normalizeArgv(args, longFlags(p)), { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof ExitCode) return err.code;
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof DiagnosticsError) {
      printDiagnostics(err.diagnostics, new Map());
      return 1;
    }
    const e = err as Error;
    process.stderr.write(`Error: ${e.message}\n`);
    if (process.env.KILN_DEBUG) process.stderr.write(`${e.stack ?? ''}\n`);
    else process.stderr.write('This is a bug in kiln, not in your template: set KILN_DEBUG=1 for details and report it.\n');
    return 70;
  }
}
