/**
 * QEMU processes: each recorded in the resource ledger before it starts (then its PID and start
 * time), run in its own process group, and stopped by the build's cleanup or, if kiln was killed,
 * by `kiln cleanup` through the reaper below. A missing binary names the package to install.
 */
import { spawn } from 'node:child_process';
import { isSameProcessAlive, processStartTime, type Reaper, type ResourceTracker } from '../../src/sdk/index.js';

/** The ledger kind of a QEMU process. */
export const VM_KIND = 'qemu.vm';

export interface QemuProcess {
  readonly pid: number;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly running: boolean;
  /** What QEMU printed on stderr (its errors name the bad option). */
  stderr(): string;
  /** Signals the whole process group. */
  signal(sig: NodeJS.Signals): void;
}

export class QemuMissingError extends Error {
  override name = 'QemuMissingError';
}

/** The Debian package of a QEMU binary, for error messages. */
export function packageOf(binary: string): string {
  if (binary.endsWith('qemu-img')) return 'qemu-utils';
  const arch = /qemu-system-(\w+)/.exec(binary)?.[1] ?? 'x86_64';
  return arch === 'x86_64' || arch === 'i386' ? 'qemu-system-x86' : arch.startsWith('arm') || arch === 'aarch64' ? 'qemu-system-arm' : `qemu-system-${arch}`;
}

export async function spawnQemu(resources: ResourceTracker, argv: readonly string[], description: string): Promise<QemuProcess> {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('internal: empty QEMU command');
  const handle = await resources.record(VM_KIND, description, { argv: argv.slice(0, 1) });
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
    if (stderr.length > 64 << 10) stderr = stderr.slice(-(32 << 10));
  });
  let running = true;
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ENOENT' ? new QemuMissingError(`${cmd} is not installed: install the Debian package ${packageOf(cmd)} (apt-get install ${packageOf(cmd)})`) : err);
    });
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (!running) return;
      running = false;
      void handle.release().finally(() => resolve({ code, signal }));
    };
    child.once('close', done);
    child.once('error', () => done(null, null));
  });
  await spawned;
  const pid = child.pid!;
  await handle.update({ pid, startTime: processStartTime(pid) });
  return {
    pid,
    exited,
    get running() {
      return running;
    },
    stderr: () => stderr,
    signal(sig) {
      try {
        process.kill(-pid, sig);
      } catch {
        // already gone
      }
    },
  };
}

/** Stops a QEMU process group: SIGTERM (QEMU closes its images cleanly), then SIGKILL after `graceMs`. */
export async function stopQemu(p: QemuProcess, graceMs = 5000): Promise<void> {
  if (!p.running) return;
  p.signal('SIGTERM');
  const timer = setTimeout(() => p.signal('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
}

/** A QEMU left running by a killed kiln: its group is stopped unless the PID now belongs to another process. */
export const reapVm: Reaper = async (data) => {
  const pid = typeof data.pid === 'number' ? data.pid : undefined;
  if (pid === undefined || pid <= 1) return;
  const start = typeof data.startTime === 'string' ? data.startTime : undefined;
  if (!isSameProcessAlive(pid, start)) return;
  const kill = (sig: NodeJS.Signals): boolean => {
    try {
      process.kill(-pid, sig);
      return true;
    } catch {
      return false;
    }
  };
  if (!kill('SIGTERM')) return;
  for (let i = 0; i < 50 && isSameProcessAlive(pid, start); i++) await new Promise((r) => setTimeout(r, 100));
  kill('SIGKILL');
};
