/**
 * The qemu builder's configuration: the Packer qemu builder's options kiln implements, with
 * Packer's defaults, checked completely before anything is created.
 *
 * kiln differences (documented in the README): ports are forwarded on 127.0.0.1 only; the HTTP
 * server listens on 127.0.0.1 (the guest reaches it as 10.0.2.2 through QEMU's user network);
 * keys are typed over QMP (no VNC: vnc_* options are accepted and ignored); with a temporary SSH
 * key and `disk_image = true` and no CD of its own, kiln attaches a cloud-init NoCloud seed that
 * installs the key.
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

export const schema = z
  .object({
    ...sshFields,
    iso_url: z.string().min(1, 'iso_url must not be empty').optional(),
    iso_urls: stringList.min(1, 'iso_urls must list at least one URL').optional(),
    iso_checksum: z.string().min(1, 'iso_checksum must not be empty (write "none" to skip the check)').optional(),
    iso_target_path: z.string().optional(),
    disk_image: z.boolean().default(false),
    use_backing_file: z.boolean().default(false),
    disk_size: z.union([z.string(), z.number()]).default('40960M'),
    skip_resize_disk: z.boolean().default(false),
    format: z.enum(['qcow2', 'raw'], { message: 'format must be "qcow2" or "raw"' }).default('qcow2'),
    skip_compaction: z.boolean().default(false),
    disk_compression: z.boolean().default(false),
    accelerator: z.enum(['kvm', 'tcg', 'none'], { message: 'accelerator must be "kvm", "tcg" or "none" (kiln probes KVM when it is not set)' }).optional(),
    qemu_binary: z.string().default('qemu-system-x86_64'),
    cpus: z.number().int().min(1, 'cpus must be at least 1').default(1),
    memory: z.number().int().min(16, 'memory is in MiB and must be at least 16').default(512),
    machine_type: z.string().default('pc'),
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
  })
  .strict()
  .superRefine((c, ctx) => {
    const urls = c.iso_urls ?? (c.iso_url !== undefined ? [c.iso_url] : []);
    if (urls.length === 0) ctx.addIssue({ code: 'custom', path: ['iso_url'], message: 'iso_url (or iso_urls) must be set: the install ISO, or the disk image with disk_image = true' });
    if (c.iso_url !== undefined && c.iso_urls !== undefined) ctx.addIssue({ code: 'custom', path: ['iso_urls'], message: 'set only one of iso_url and iso_urls' });
    if (c.iso_checksum === undefined) ctx.addIssue({ code: 'custom', path: ['iso_checksum'], message: 'iso_checksum must be set, e.g. "sha256:…", "file:https://…/SHA256SUMS", or "none"' });
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
