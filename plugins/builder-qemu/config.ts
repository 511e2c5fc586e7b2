/**
 * The qemu builder's configuration: the Packer qemu builder's options kiln implements, with
 * Packer's defaults, checked completely before anything is created.
 *
 * kiln differences (documented in the README): ports are forwarded on 127.0.0.1 only; the HTTP
 * server listens on 127.0.0.1 (the guest reaches it as 10.0.2.2 through QEMU's user network);
 * keys are typed over QMP (no VNC: vnc_* and disable_vnc are accepted and ignored, as is
 * qmp_enable: QMP is always on); with a temporary SSH key and `disk_image = true` and no CD of
 * its own, kiln attaches a cloud-init NoCloud seed that installs the key. Packer options kiln
 * does not implement are named as such in the error (UNSUPPORTED below).
 */
import { checkSsh, duration, sshFields, z } from '../../src/sdk/index.js';

/** Packer's disk_size: a number of MiB, or a number with a K/M/G/T suffix (binary units). */
export function parseDiskSize(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v > 0 ? v * 2 ** 20 : undefined;
  const m = /^\s*(\d+)\s*([kKmMgGtT]?)(i?[bB])?\s*$/.exec(v);
  if (!m) return undefined;
  const unit = { '': 20, k: 10, m: 20, g: 30, t: 40 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const bytes = Number(m[1]) * 2 ** unit;
  return bytes > 0 ? bytes : undefined;
}

const stringList = z.array(z.string());

/**
 * Packer qemu options kiln does not implement, and what to do instead. They are named in the
 * error (rather than "unknown key"), so a Packer template's author knows the option was
 * recognised and what to change.
 */
const UNSUPPORTED = {
  floppy_files: 'kiln attaches no floppy drive; put the files on a CD with cd_files (or cd_content)',
  floppy_dirs: 'kiln attaches no floppy drive; put the directories on a CD with cd_files',
  floppy_content: 'kiln attaches no floppy drive; use cd_content',
  floppy_label: 'kiln attaches no floppy drive; use cd_files with cd_label',
  efi_boot: 'pass the UEFI firmware with firmware (-bios) or the pflash drives with qemuargs',
  efi_firmware_code: 'pass the UEFI firmware with firmware (-bios) or the pflash drives with qemuargs',
  efi_firmware_vars: 'pass the UEFI variables drive with qemuargs',
  efi_drop_efivars: 'pass the UEFI drives with qemuargs',
  vtpm: 'add a TPM with qemuargs (-chardev, -tpmdev, -device)',
  tpm_device_type: 'add a TPM with qemuargs (-chardev, -tpmdev, -device)',
  qmp_socket: "kiln keeps its QMP socket in the build's temporary directory; remove the option",
  iso_skip_cache: 'kiln always downloads into its cache (local files are used in place)',
  net_bridge: 'kiln uses QEMU user networking only; a bridge can be set up with qemuargs (-netdev)',
  cdrom_interface: 'CDs are attached as IDE CD-ROMs; give another interface with qemuargs (-drive)',
  boot_steps: 'use boot_command',
} as const;
type UnsupportedOption = keyof typeof UNSUPPORTED;
const unsupportedFields = Object.fromEntries(Object.keys(UNSUPPORTED).map((k) => [k, z.unknown().optional()])) as {
  [K in UnsupportedOption]: z.ZodOptional<z.ZodUnknown>;
};
const diskSize = z.union([z.string(), z.number()]);

export const schema = z
  .object({
    ...sshFields,
    iso_url: z.string().min(1, 'iso_url must not be empty').optional(),
    iso_urls: stringList.min(1, 'iso_urls must list at least one URL').optional(),
    iso_checksum: z.string().min(1, 'iso_checksum must not be empty (write "none" to skip the check)').optional(),
    iso_target_path: z.string().optional(),
    disk_image: z.boolean().default(false),
    use_backing_file: z.boolean().default(false),
    disk_size: diskSize.default('40960M'),
    /** More empty disks, `<vm_name>-1`, `<vm_name>-2`…, on the same interface and in the same format. */
    disk_additional_size: z.array(diskSize).default([]),
    skip_resize_disk: z.boolean().default(false),
    format: z.enum(['qcow2', 'raw'], { message: 'format must be "qcow2" or "raw"' }).default('qcow2'),
    skip_compaction: z.boolean().default(false),
    disk_compression: z.boolean().default(false),
    accelerator: z.enum(['kvm', 'tcg', 'none'], { message: 'accelerator must be "kvm", "tcg" or "none" (kiln probes KVM when it is not set)' }).optional(),
    qemu_binary: z.string().default('qemu-system-x86_64'),
    cpus: z.number().int().min(1, 'cpus must be at least 1').default(1),
    memory: z.number().int().min(16, 'memory is in MiB and must be at least 16').default(512),
    machine_type: z.string().default('pc'),
    cpu_model: z.string().min(1, 'cpu_model must not be empty').optional(),
    /** A firmware file given to QEMU's -bios. */
    firmware: z.string().min(1, 'firmware must not be empty').optional(),
    /** QEMU's -display when a window is shown (not headless). */
    display: z.string().min(1, 'display must not be empty').optional(),
    /** Pass no -display at all and let QEMU choose, when a window is shown. */
    use_default_display: z.boolean().default(false),
    // Accepted so Packer templates run unchanged: kiln always drives the VM over QMP.
    qmp_enable: z.boolean().optional(),
    net_device: z.string().default('virtio-net'),
    disk_interface: z.string().default('virtio'),
    disk_cache: z.string().default('writeback'),
    disk_discard: z.string().default('ignore'),
    disk_detect_zeroes: z.string().default('off'),
    qemuargs: z.array(z.array(z.string())).default([]),
    headless: z.boolean().default(false),
    boot_wait: duration().default(10_000),
    boot_command: stringList.default([]),
    boot_key_interval: duration().optional(),
    http_directory: z.string().optional(),
    http_content: z.record(z.string(), z.string()).optional(),
    http_port_min: z.number().int().min(1).max(65535).default(8000),
    http_port_max: z.number().int().min(1).max(65535).default(9000),
    http_bind_address: z.string().optional(),
    cd_files: stringList.optional(),
    cd_content: z.record(z.string(), z.string()).optional(),
    cd_label: z.string().optional(),
    ssh_host_port_min: z.number().int().min(1).max(65535).default(2222),
    ssh_host_port_max: z.number().int().min(1).max(65535).default(4444),
    host_port_min: z.number().int().min(1).max(65535).optional(),
    host_port_max: z.number().int().min(1).max(65535).optional(),
    shutdown_command: z.string().optional(),
    shutdown_timeout: duration().default(5 * 60_000),
    output_directory: z.string().optional(),
    vm_name: z.string().optional(),
    // Accepted so Packer templates run unchanged; kiln types keys over QMP and opens no VNC server.
    vnc_bind_address: z.string().optional(),
    vnc_port_min: z.number().int().optional(),
    vnc_port_max: z.number().int().optional(),
    vnc_use_password: z.boolean().optional(),
    disable_vnc: z.boolean().optional(),
    ...unsupportedFields,
  })
  .strict()
  .superRefine((c, ctx) => {
    const urls = c.iso_urls ?? (c.iso_url !== undefined ? [c.iso_url] : []);
    if (urls.length === 0) ctx.addIssue({ code: 'custom', path: ['iso_url'], message: 'iso_url (or iso_urls) must be set: the install ISO, or the disk image with disk_image = true' });
    if (c.iso_url !== undefined && c.iso_urls !== undefined) ctx.addIssue({ code: 'custom', path: ['iso_urls'], message: 'set only one of iso_url and iso_urls' });
    if (c.iso_checksum === undefined) ctx.addIssue({ code: 'custom', path: ['iso_checksum'], message: 'iso_checksum must be set, e.g. "sha256:…", "file:https://…/SHA256SUMS", or "none"' });
    for (const key of Object.keys(UNSUPPORTED) as UnsupportedOption[]) {
      if (c[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `${key} is not supported by kiln: ${UNSUPPORTED[key]}` });
    }
    for (const [i, size] of c.disk_additional_size.entries()) {
      if (parseDiskSize(size) === undefined) ctx.addIssue({ code: 'custom', path: ['disk_additional_size', i], message: `disk_additional_size "${size}" is not a size: write MiB as a number, or like "10G"` });
    }
    if (parseDiskSize(c.disk_size) === undefined) ctx.addIssue({ code: 'custom', path: ['disk_size'], message: `disk_size "${c.disk_size}" is not a size: write MiB as a number, or like "10G" or "40960M"` });
    if (c.use_backing_file && (!c.disk_image || c.format !== 'qcow2')) {
      ctx.addIssue({ code: 'custom', path: ['use_backing_file'], message: 'use_backing_file needs disk_image = true and format = "qcow2"' });
    }
    const min = c.host_port_min ?? c.ssh_host_port_min;
    const max = c.host_port_max ?? c.ssh_host_port_max;
    if (min > max) ctx.addIssue({ code: 'custom', path: ['ssh_host_port_max'], message: `ssh_host_port_max (${max}) must not be below ssh_host_port_min (${min})` });
    if (c.http_port_min > c.http_port_max) ctx.addIssue({ code: 'custom', path: ['http_port_max'], message: 'http_port_max must not be below http_port_min' });
    if (c.http_directory !== undefined && c.http_content !== undefined) ctx.addIssue({ code: 'custom', path: ['http_content'], message: 'set only one of http_directory and http_content' });
    for (const [i, arg] of c.qemuargs.entries()) {
      if (arg.length === 0 || !arg[0]!.startsWith('-')) ctx.addIssue({ code: 'custom', path: ['qemuargs', i], message: 'each qemuargs entry is a list starting with a flag, e.g. ["-m", "1024M"]' });
    }
    if (c.cd_label !== undefined && (c.cd_label.length === 0 || c.cd_label.length > 32)) ctx.addIssue({ code: 'custom', path: ['cd_label'], message: 'cd_label must be 1 to 32 characters long' });
    checkSsh(c, ctx, { canInstallTemporaryKey: true, hostFromBuilder: true });
  });

export type QemuConfig = z.output<typeof schema>;
