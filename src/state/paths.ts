/** Where kiln keeps state between runs: ledgers of live runs, history, caches. */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function stateDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.KILN_STATE_DIR) return env.KILN_STATE_DIR;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'kiln');
  return join(homedir(), '.local', 'state', 'kiln');
}

/** Each run's folder (ledger, logs) lives here, named by its time-ordered run id. */
export function runsDir(env?: Readonly<Record<string, string | undefined>>): string {
  return join(stateDir(env), 'runs');
}

export function runDir(runId: string, env?: Readonly<Record<string, string | undefined>>): string {
  return join(runsDir(env), runId);
}
