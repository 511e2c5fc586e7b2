/**
 * Choosing the accelerator when `accelerator` is not set. /dev/kvm existing proves nothing: on
 * nested or paravirtual hosts (like the machines kiln's CI runs on) it exists and guests hang.
 * So KVM is probed by booting a real guest: a 512-byte boot sector that writes to QEMU's
 * isa-debug-exit port, which makes QEMU exit with status 99. The same guest is booted under TCG
 * first, as the yardstick: a working KVM runs it about as fast as TCG does (both ≈ 0.15 s), while
 * a broken nested one finishes it but crawls (measured: 2.1 s against TCG's 0.14 s on a host
 * where Linux kernels never print a line under KVM) or hangs. So KVM is used only when its run is
 * no slower than twice TCG's plus half a second; machine load slows both runs alike. The verdict
 * is kept for the rest of the process.
 */
import { access, constants, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResourceTracker } from '../../src/sdk/index.js';
import { spawnQemu } from './process.js';

/** mov dx,0x501; mov al,0x31; out dx,al; hlt; jmp $-1 — then the boot signature. */
const BOOT_SECTOR = (() => {
  const b = Buffer.alloc(512);
  Buffer.from([0xba, 0x01, 0x05, 0xb0, 0x31, 0xee, 0xf4, 0xeb, 0xfd]).copy(b);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
})();
/** isa-debug-exit exits with (value << 1) | 1. */
const PROBE_EXIT = (0x31 << 1) | 1;
const PROBE_DEADLINE_MS = 3000;

export interface ProbeResult {
  ok: boolean;
  /** Why KVM is not used, for the build log. */
  reason?: string;
}

const verdicts = new Map<string, Promise<ProbeResult>>();

/** Whether `qemuBinary -accel kvm` really runs a guest here. `dir` holds the probe's boot sector. */
export function probeKvm(qemuBinary: string, dir: string, resources: ResourceTracker): Promise<ProbeResult> {
  let v = verdicts.get(qemuBinary);
  if (!v) {
    v = runProbe(qemuBinary, dir, resources);
    verdicts.set(qemuBinary, v);
  }
  return v;
}

async function runProbe(qemuBinary: string, dir: string, resources: ResourceTracker): Promise<ProbeResult> {
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return { ok: false, reason: '/dev/kvm is missing or not accessible' };
  }
  const disk = join(dir, 'kvm-probe.img');
  await writeFile(disk, BOOT_SECTOR);
  const tcg = await bootProbe(qemuBinary, 'tcg', disk, resources, PROBE_DEADLINE_MS);
  if (!tcg.ok) return { ok: false, reason: `the KVM probe's yardstick run under TCG failed: ${tcg.reason}` };
  const allowedMs = 2 * tcg.ms + 500;
  const kvm = await bootProbe(qemuBinary, 'kvm', disk, resources, Math.max(PROBE_DEADLINE_MS, allowedMs));
  if (!kvm.ok) return { ok: false, reason: kvm.reason };
  if (kvm.ms > allowedMs) {
    return { ok: false, reason: `a test guest took ${seconds(kvm.ms)} under KVM and ${seconds(tcg.ms)} under TCG (KVM is nested or paravirtual here; real guests crawl or hang under it)` };
  }
  return { ok: true };
}

type Boot = { ok: true; ms: number } | { ok: false; reason: string };

async function bootProbe(qemuBinary: string, accel: 'kvm' | 'tcg', disk: string, resources: ResourceTracker, deadlineMs: number): Promise<Boot> {
  const argv = [qemuBinary, '-accel', accel, '-machine', 'pc', '-nodefaults', '-display', 'none', '-m', '16', '-no-reboot'];
  argv.push('-drive', `file=${disk},format=raw,if=floppy`, '-device', 'isa-debug-exit,iobase=0x501,iosize=1');
  const started = performance.now();
  let vm;
  try {
    vm = await spawnQemu(resources, argv, `${accel.toUpperCase()} probe guest`);
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  const timer = setTimeout(() => vm.signal('SIGKILL'), deadlineMs);
  const { code, signal } = await vm.exited;
  clearTimeout(timer);
  const ms = performance.now() - started;
  if (code === PROBE_EXIT) return { ok: true, ms };
  if (signal) return { ok: false, reason: `a test guest under ${accel.toUpperCase()} did not finish within ${seconds(deadlineMs)} (it hangs on this host)` };
  return { ok: false, reason: `a test guest under ${accel.toUpperCase()} failed: ${vm.stderr().trim().split('\n').pop() ?? `exit ${code}`}` };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
