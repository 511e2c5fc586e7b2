/**
 * Process identity on Linux: a PID plus its start time (from /proc), so a reaper never kills an
 * unrelated process that happens to reuse a dead run's PID.
 */
import { existsSync, readFileSync } from 'node:fs';

/**
 * The process start time in clock ticks since boot, or undefined if there is no such running
 * process. A zombie counts as gone: it runs nothing, and an init that does not reap (as in some
 * containers) may keep it around indefinitely.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parens, so count fields from its end.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
    return rest[19];
  } catch {
    return undefined;
  }
}

/** Whether the process that had this PID and start time is still running. */
export function isSameProcessAlive(pid: number, startTime: string | undefined): boolean {
  const now = processStartTime(pid);
  if (now === undefined) {
    // Gone, or no /proc (not Linux): then fall back to a signal-0 probe.
    if (startTime !== undefined || existsSync('/proc/self/stat')) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  return startTime === undefined || now === startTime;
}
