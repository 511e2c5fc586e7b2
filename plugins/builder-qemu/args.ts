/**
 * The QEMU command line, built as Packer's qemu builder builds it: defaults from the config, then
 * `qemuargs`, where any flag the template gives replaces every default of that flag (as in
 * Packer: `["-m", "2048M"]` replaces kiln's -m; giving -device drops kiln's -device entries).
 * qemuargs may use {{ .HTTPIP }}, {{ .HTTPPort }}, {{ .Name }}, {{ .OutputDir }}, {{ .SSHHostPort }}.
 */
import { renderTemplate } from '../../src/sdk/index.js';
import type { QemuConfig } from './config.js';

export interface LaunchPlan {
  accel: 'kvm' | 'tcg' | 'none';
  vmName: string;
  disk: string;
  /** disk_additional_size's disks, in order. */
  additionalDisks: readonly string[];
  /** The install ISO (when not disk_image). */
  iso?: string;
  /** The cd_files/cd_content (or cloud-init seed) image. */
  cd?: string;
  /** Host port forwarded to the guest's port 22, on 127.0.0.1. */
  sshHostPort?: number;
  qmpSocket: string;
  serialLog: string;
  /** Show no window: headless, or no display to show one on. */
  noDisplay: boolean;
  /** Values for qemuargs templates. */
  templateVars: ReadonlyMap<string, string>;
}

/** A -drive file= value: commas in paths are doubled, as QEMU's option parser wants. */
function driveFile(path: string): string {
  return path.replace(/,/g, ',,');
}

export function qemuArgv(c: QemuConfig, p: LaunchPlan): string[] {
  const defaults: Array<[string, string?]> = [];
  defaults.push(['-name', p.vmName]);
  defaults.push(['-machine', p.accel === 'none' ? `type=${c.machine_type}` : `type=${c.machine_type},accel=${p.accel}`]);
  defaults.push(['-m', `${c.memory}M`]);
  defaults.push(['-smp', String(c.cpus)]);
  if (c.cpu_model !== undefined) defaults.push(['-cpu', c.cpu_model]);
  if (c.firmware !== undefined) defaults.push(['-bios', c.firmware]);
  if (p.noDisplay) defaults.push(['-display', 'none']);
  else if (c.display !== undefined && !c.use_default_display) defaults.push(['-display', c.display]);
  defaults.push(['-serial', `file:${p.serialLog}`]);
  defaults.push(['-qmp', `unix:${p.qmpSocket},server=on,wait=off`]);
  const fwd = p.sshHostPort !== undefined ? `,hostfwd=tcp:127.0.0.1:${p.sshHostPort}-:22` : '';
  defaults.push(['-netdev', `user,id=user.0${fwd}`]);
  defaults.push(['-device', `${c.net_device},netdev=user.0`]);
  const disks = [p.disk, ...p.additionalDisks];
  const drive = (path: string) => `file=${driveFile(path)},cache=${c.disk_cache},discard=${c.disk_discard},format=${c.format},detect-zeroes=${c.disk_detect_zeroes}`;
  if (c.disk_interface === 'virtio-scsi') {
    // One controller; each disk is a scsi-hd on it.
    defaults.push(['-device', 'virtio-scsi-pci,id=scsi0']);
    for (const [i, d] of disks.entries()) defaults.push(['-device', `scsi-hd,bus=scsi0.0,drive=drive${i}`], ['-drive', `if=none,id=drive${i},${drive(d)}`]);
  } else {
    for (const d of disks) defaults.push(['-drive', `if=${c.disk_interface},${drive(d)}`]);
  }
  if (p.iso !== undefined) defaults.push(['-drive', `file=${driveFile(p.iso)},media=cdrom,readonly=on`]);
  if (p.cd !== undefined) defaults.push(['-drive', `file=${driveFile(p.cd)},media=cdrom,readonly=on`]);
  defaults.push(['-boot', c.disk_image ? 'c' : 'once=d']);

  const user = c.qemuargs.map((arg) => arg.map((a) => renderTemplate(a, p.templateVars)));
  const overridden = new Set(user.map((a) => a[0]!));
  const argv = [c.qemu_binary];
  for (const [flag, value] of defaults) {
    if (overridden.has(flag)) continue;
    argv.push(flag);
    if (value !== undefined) argv.push(value);
  }
  for (const a of user) argv.push(...a);
  return argv;
}
