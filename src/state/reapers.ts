/**
 * Reapers for the resource kinds core itself creates: temporary directories and child
 * processes. Plugins bring reapers for their own kinds (containers, cloud instances).
 */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import type { Reaper } from '../sdk/plugin.js';
import { isSameProcessAlive, processStartTime } from './proc.js';

export const CORE_REAPERS: Readonly<Record<string, Reaper>> = {
  /** Only directories kiln made: under the temp dir and named kiln-…, never anything else. */
  async tempdir(data) {
    const path = typeof data.path === 'string' ? resolve(data.path) : undefined;
    if (!path || dirname(path) !== resolve(tmpdir()) || !basename(path).startsWith('kiln-')) {
      throw new Error(`refusing to remove ${String(data.path)}: not a kiln temporary directory`);
    }
    await rm(path, { recursive: true, force: true });
  },
  /**
   * A process group kiln started. If the leader's PID now belongs to another process (same PID,
   * other start time) nothing is touched; if the leader is gone, its group's remaining members
   * are ours (a group id cannot be reused while its members live).
   */
  async process(data) {
    const pid = typeof data.pid === 'number' ? data.pid : undefined;
    if (pid === undefined || pid <= 1) return;
    const start = typeof data.startTime === 'string' ? data.startTime : undefined;
    if (processStartTime(pid) !== undefined && !isSameProcessAlive(pid, start)) return;
    if (!signalGroup(pid, 'SIGTERM')) return;
    for (let i = 0; i < 50 && isSameProcessAlive(pid, start); i++) await new Promise((r) => setTimeout(r, 100));
    // Whatever in the group ignored SIGTERM goes now.
    signalGroup(pid, 'SIGKILL');
  },
};

function signalGroup(pgid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    return false;
  }
}
