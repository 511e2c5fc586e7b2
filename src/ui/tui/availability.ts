/**
 * When `kiln build -tui` can run its view. Kept apart from the view itself so checking costs no
 * import of ink or react: a refused or unneeded view loads neither.
 */
import type { Job } from '../../core/runner.js';

export interface TuiFlags {
  machineReadable?: boolean;
  json?: boolean;
  debug?: boolean;
  onError?: string;
}

/**
 * Why -tui cannot be combined with the other flags, or undefined. Two renderers cannot share
 * stdout, and a question asked on the terminal would be drawn over by the view.
 */
export function tuiFlagConflict(flags: TuiFlags): string | undefined {
  if (flags.machineReadable) return '-tui and -machine-readable both decide what standard output shows; use one of them.';
  if (flags.json) return '-tui and --json both decide what standard output shows; use one of them.';
  if (flags.debug) return '-tui cannot be used with -debug: its pauses ask on the terminal the view draws on. Leave out -tui to debug.';
  if (flags.onError === 'ask') return '-tui cannot be used with -on-error=ask: its question is asked on the terminal the view draws on. Leave out -tui, or pick another -on-error.';
  return undefined;
}

/** The builds with a breakpoint that will wait for Enter (not `disable = true`). */
export function buildsWithBreakpoints(jobs: readonly Job[]): string[] {
  return jobs.filter((j) => j.provisioners.some((p) => p.plugin.type === 'breakpoint' && !disabled(p.planned.config))).map((j) => j.build.name);
}

function disabled(config: { entries(): ReadonlyMap<string, { isKnown: boolean; isNull: boolean; bool(): boolean }> }): boolean {
  try {
    const v = config.entries().get('disable');
    return v !== undefined && v.isKnown && !v.isNull && v.bool();
  } catch {
    // Not a plain boolean: the provisioner's own validation has the say; assume it waits.
    return false;
  }
}

/** Why the view cannot be drawn on this stdout (a file, a pipe, a dumb terminal), or undefined. */
export function tuiTerminalProblem(stdout: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (stdout.isTTY !== true) return 'standard output is not a terminal';
  if (env.TERM === 'dumb') return 'TERM is "dumb"';
  return undefined;
}
