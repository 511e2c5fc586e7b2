/**
 * Stopping the VM at the end of the build, gracefully first and each escalation said:
 * shutdown_command over SSH (or, without one, an ACPI power-button press through QMP), waiting up
 * to shutdown_timeout; then QMP system_powerdown, waiting once more (up to a minute); then the
 * process is killed, with a warning that the disk may not be clean. With communicator "none" the
 * guest is given shutdown_timeout to power off by itself (an installer that ends with poweroff).
 */
import type { BuildContext, Communicator } from '../../src/sdk/index.js';
import type { QemuConfig } from './config.js';
import { stopQemu, type QemuProcess } from './process.js';
import type { Qmp } from './qmp.js';

const POWERDOWN_GRACE_MS = 60_000;

/** Resolves true when the VM exits within `ms`, false otherwise (or on cancel). */
export function exitsWithin(vm: QemuProcess, ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(false), ms);
    const onAbort = (): void => finish(false);
    const finish = (v: boolean): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(v);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    void vm.exited.then(() => finish(true));
  });
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export interface ShutdownOutcome {
  /** How the VM stopped: "shutdown_command", "acpi", "self", "powerdown" or "killed". */
  how: string;
}

export async function shutdownVm(ctx: BuildContext<QemuConfig>, vm: QemuProcess, qmp: Qmp | undefined, comm: Communicator | undefined): Promise<ShutdownOutcome> {
  const c = ctx.config;
  const timeout = c.shutdown_timeout;
  const powerdown = async (): Promise<boolean> => {
    if (!qmp) return false;
    try {
      await qmp.execute('system_powerdown');
      return true;
    } catch {
      return false;
    }
  };
  let first: string;
  if (comm && c.shutdown_command !== undefined) {
    ctx.ui.say('Gracefully halting virtual machine...');
    // The command may end the connection before it reports an exit status; that is expected.
    const r = await comm.exec(c.shutdown_command, { signal: ctx.signal, onStdout: (l) => ctx.ui.output('stdout', l), onStderr: (l) => ctx.ui.output('stderr', l) }).catch(() => undefined);
    if (r && r.exitCode !== null && r.exitCode !== 0) ctx.ui.error(`shutdown_command exited ${r.exitCode}`);
    first = 'shutdown_command';
  } else if (comm) {
    ctx.ui.say('Halting the virtual machine (ACPI power button over QMP)...');
    await powerdown();
    first = 'acpi';
  } else {
    ctx.ui.say(`Waiting up to ${seconds(timeout)} for the guest to power off by itself (communicator "none")...`);
    first = 'self';
  }
  if (await exitsWithin(vm, timeout, ctx.signal)) return { how: first };
  ctx.signal.throwIfAborted();

  const grace = Math.min(timeout, POWERDOWN_GRACE_MS);
  if (first !== 'acpi') {
    ctx.ui.error(`The VM did not stop within shutdown_timeout (${seconds(timeout)}): sending an ACPI power-down through QMP and waiting up to ${seconds(grace)}`);
    if ((await powerdown()) && (await exitsWithin(vm, grace, ctx.signal))) return { how: 'powerdown' };
    ctx.signal.throwIfAborted();
  }
  ctx.ui.error(`The VM ignored the shutdown request: killing QEMU (forced after shutdown_timeout = ${seconds(timeout)}). The disk may not have been cleanly unmounted.`);
  await stopQemu(vm, 5000);
  return { how: 'killed' };
}
