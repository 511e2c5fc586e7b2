/**
 * `kiln build`: validates every config of every job first, then runs the jobs in parallel.
 * Ctrl-C once cancels (cleanups run); twice shows what cleanup is still running; three times
 * exits at once, leaving the rest to `kiln cleanup`.
 */
import { hasErrors } from '../core/errors/diagnostic.js';
import { EventBus } from '../core/events.js';
import { startRun } from '../core/orchestrator.js';
import { missingPrograms } from '../core/preflight.js';
import { prepareJobs } from '../core/prepare.js';
import { terminalPrompter } from '../core/prompt.js';
import { Redactor } from '../core/redact.js';
import type { OnError } from '../core/runner.js';
import { Ledger } from '../state/ledger.js';
import { runDir } from '../state/paths.js';
import { newRunId } from '../state/run-id.js';
import { jsonLinesRenderer } from '../ui/json-lines.js';
import { logFiles } from '../ui/log-files.js';
import { machineReadableRenderer } from '../ui/machine-readable.js';
import { plainRenderer } from '../ui/plain.js';
import { buildsWithBreakpoints, tuiFlagConflict, tuiTerminalProblem } from '../ui/tui/availability.js';
import { ExitCode, printDiagnostics, useColor } from './output.js';
import { templateOptions, type TemplateFlags } from './template-flags.js';

export interface BuildFlags extends TemplateFlags {
  parallelBuilds?: string;
  onError?: string;
  debug?: boolean;
  force?: boolean;
  timestampUi?: boolean;
  machineReadable?: boolean;
  json?: boolean;
  tui?: boolean;
  color?: boolean;
}

const ON_ERROR: readonly OnError[] = ['cleanup', 'abort', 'ask', 'run-cleanup-provisioner'];

export async function buildCommand(path: string, flags: BuildFlags): Promise<void> {
  const onError = (flags.onError ?? 'cleanup') as OnError;
  if (!ON_ERROR.includes(onError)) {
    process.stderr.write(`Error: -on-error must be one of ${ON_ERROR.join(', ')}; got "${flags.onError}".\n`);
    throw new ExitCode(1);
  }
  const parallel = flags.parallelBuilds === undefined ? 0 : Number(flags.parallelBuilds);
  if (!Number.isInteger(parallel) || parallel < 0) {
    process.stderr.write(`Error: -parallel-builds must be a whole number (0 means no limit); got "${flags.parallelBuilds}".\n`);
    throw new ExitCode(1);
  }
  const tuiConflict = flags.tui ? tuiFlagConflict(flags) : undefined;
  if (tuiConflict !== undefined) {
    process.stderr.write(`Error: ${tuiConflict}\n`);
    throw new ExitCode(1);
  }
  const prompter = terminalPrompter();
  if ((onError === 'ask' || flags.debug) && !prompter.interactive) {
    process.stderr.write(`Error: ${flags.debug ? '-debug' : '-on-error=ask'} needs a terminal to ask on; standard input is not one.\n`);
    throw new ExitCode(1);
  }

  const prepared = await prepareJobs(templateOptions(path, flags));
  printDiagnostics(prepared.diags, prepared.texts, prepared.secrets);
  if (hasErrors(prepared.diags)) throw new ExitCode(1);
  if (prepared.jobs.length === 0) {
    process.stderr.write('Error: no builds to run: -only/-except matched none of the template\'s builds.\n');
    throw new ExitCode(1);
  }
  const missing = missingPrograms(prepared.jobs);
  printDiagnostics(missing, prepared.texts, prepared.secrets);
  if (missing.length > 0) throw new ExitCode(1);
  const paused = flags.tui ? buildsWithBreakpoints(prepared.jobs) : [];
  if (paused.length > 0) {
    process.stderr.write(`Error: -tui cannot be used with a breakpoint provisioner (in ${paused.join(', ')}): it waits for Enter on the terminal the view draws on. Leave out -tui, or set disable = true on the breakpoint.\n`);
    throw new ExitCode(1);
  }

  const runId = newRunId();
  const dir = runDir(runId);
  const redactor = new Redactor(prepared.secrets);
  const bus = new EventBus(redactor);
  const write = (t: string): boolean => process.stdout.write(t);
  const color = flags.color !== false && useColor(process.stdout);
  const noTerminal = flags.tui ? tuiTerminalProblem(process.stdout) : undefined;
  if (noTerminal !== undefined) process.stderr.write(`kiln: -tui needs a terminal (${noTerminal}); printing plain output instead.\n`);
  // ink and react are loaded only here, so no other command (or plain build) pays for them.
  const tui = flags.tui && noTerminal === undefined ? (await import('../ui/tui/tui.js')).startTui({ stdout: process.stdout, color, timestamps: flags.timestampUi === true }) : undefined;
  if (flags.json) bus.subscribe(jsonLinesRenderer(write));
  else if (flags.machineReadable) bus.subscribe(machineReadableRenderer(write));
  else if (tui) bus.subscribe(tui.listener);
  else bus.subscribe(plainRenderer({ write, color, timestamps: flags.timestampUi === true }));
  const logs = logFiles(`${dir}/logs`);
  bus.subscribe(logs.listener);
  const ledger = Ledger.open(runId, dir);

  let interrupts = 0;
  const onSignal = (sig: 'SIGINT' | 'SIGTERM'): void => {
    interrupts++;
    if (interrupts === 1) {
      bus.emit({ type: 'say', message: 'Interrupt received. Cancelling builds; cleanup runs before kiln exits. Press Ctrl-C again to see what is still being cleaned up.' });
      run.cancel(sig);
    } else if (interrupts === 2) {
      for (const p of run.pendingCleanups()) bus.emit({ type: 'cleanup.pending', build: p.build, steps: p.steps });
      bus.emit({ type: 'say', message: `Press Ctrl-C once more to exit now; "kiln cleanup --run ${runId}" will remove what is left.` });
    } else {
      ledger.abandon();
      // The view ends first: ink's exit hook would redraw over the lines written after it.
      tui?.stop();
      process.stderr.write(`\nExiting without finishing cleanup. Run "kiln cleanup --run ${runId}" to remove what was left.\n`);
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
  };
  const sigint = (): void => onSignal('SIGINT');
  const sigterm = (): void => onSignal('SIGTERM');
  // Listen before the run starts: its first output can reach a user (or a test) who presses
  // Ctrl-C at once, and a SIGINT with no listener would kill kiln before any cleanup. The
  // handlers run from the event loop, so `run` is always set by then.
  process.on('SIGINT', sigint);
  process.on('SIGTERM', sigterm);
  const run = startRun(
    prepared.jobs,
    {
      runId,
      bus,
      ledger,
      redactor,
      onError,
      debug: flags.debug === true,
      force: flags.force === true,
      prompter,
      retryBackoffMs: 2000,
      pluginModule: (kind, type) => prepared.registry?.moduleOf(kind, type),
    },
    parallel,
  );

  try {
    // A ref'd timer keeps the process up while builds run: a step that waits only on the
    // AbortSignal (a plugin awaiting Ctrl-C, say) holds no handle of its own, and Node would
    // otherwise exit with "unsettled top-level await" (13) before any cleanup.
    const keepAlive = setInterval(() => {}, 1 << 30);
    const result = await run.done.finally(() => clearInterval(keepAlive));
    await logs.close();
    const open = ledger.openResources();
    if (open.length === 0) ledger.finish();
    else {
      ledger.abandon();
      const why = result.leftResources ? `were left in place (-on-error=${onError})` : 'could not be removed';
      process.stderr.write(`\n${open.length} temporary resource(s) ${why}: run "kiln cleanup --run ${runId}" to remove them.\n`);
    }
    if (result.exitCode !== 0) throw new ExitCode(result.exitCode);
  } finally {
    // A run that ended without run.finished (a bug) must still give the terminal back.
    tui?.stop();
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
  }
}
