/**
 * The VM's disk, as Packer's qemu steps make it (all through qemu-img): a new empty disk for an
 * ISO install; for `disk_image = true` a converted copy of the image, or a qcow2 overlay on it
 * with `use_backing_file`; then grown to disk_size (never shrunk); any disk_additional_size disks;
 * and after the build compacted
 * with `qemu-img convert` (qcow2 only, unless skip_compaction).
 */
import { rename, rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type BuildContext } from '../../src/sdk/index.js';
import { detectImageFormat, qemuImg, qemuImgConvert, qemuImgInfo } from '../../src/sdk/images.js';
import type { QemuConfig } from './config.js';

/** qemu-img's names for the formats kiln detects. */
const QEMU_FORMAT: Record<string, string> = { raw: 'raw', qcow2: 'qcow2', vhd: 'vpc', vhdx: 'vhdx', vmdk: 'vmdk' };

export async function prepareDisk(ctx: BuildContext<QemuConfig>, disk: string, source: string | undefined, sizeBytes: number): Promise<void> {
  const c = ctx.config;
  const q = { signal: ctx.signal, resources: ctx.resources };
  if (!c.disk_image || source === undefined) {
    ctx.ui.say(`Creating ${c.format} disk ${disk} (${sizeBytes} bytes)`);
    await qemuImg(['create', '-q', '-f', c.format, disk, String(sizeBytes)], q);
    return;
  }
  const srcFormat = QEMU_FORMAT[await detectImageFormat(source)] ?? 'raw';
  if (c.use_backing_file) {
    ctx.ui.say(`Creating qcow2 overlay ${disk} on ${source}`);
    await qemuImg(['create', '-q', '-f', 'qcow2', '-b', resolve(source), '-F', srcFormat, disk], q);
  } else {
    ctx.ui.say(`Copying ${source} (${srcFormat}) to ${disk} (${c.format})`);
    await qemuImgConvert(source, disk, { srcFormat, dstFormat: c.format, ...q });
  }
  if (c.skip_resize_disk) return;
  const current = (await qemuImgInfo(disk, c.format, q)).virtualSize;
  if (sizeBytes > current) {
    ctx.ui.say(`Resizing ${disk} from ${current} to ${sizeBytes} bytes (disk_size)`);
    await qemuImg(['resize', '-q', '-f', c.format, disk, String(sizeBytes)], q);
  } else if (sizeBytes < current) {
    ctx.ui.message(`disk_size (${sizeBytes} bytes) is smaller than the image (${current} bytes): the disk keeps the image's size`);
  }
}

/** disk_additional_size's empty disks, in the VM's format (as Packer names them: `<vm_name>-1`, …). */
export async function createAdditionalDisks(ctx: BuildContext<QemuConfig>, disks: readonly string[], sizes: readonly number[]): Promise<void> {
  for (const [i, disk] of disks.entries()) {
    ctx.ui.say(`Creating additional ${ctx.config.format} disk ${disk} (${sizes[i]!} bytes)`);
    await qemuImg(['create', '-q', '-f', ctx.config.format, disk, String(sizes[i]!)], { signal: ctx.signal, resources: ctx.resources });
  }
}

/** Packer's compaction: rewrite the qcow2 (dropping freed clusters), compressed with disk_compression. */
export async function compactDisk(ctx: BuildContext<QemuConfig>, disk: string): Promise<void> {
  const c = ctx.config;
  if (c.skip_compaction || c.format !== 'qcow2' || c.use_backing_file) return;
  const tmp = `${disk}.kiln-compact`;
  ctx.ui.say(`Compacting ${disk}${c.disk_compression ? ' with compression' : ''} (qemu-img convert)`);
  const before = (await stat(disk)).blocks * 512;
  try {
    await qemuImgConvert(disk, tmp, { srcFormat: 'qcow2', dstFormat: 'qcow2', compress: c.disk_compression, signal: ctx.signal, resources: ctx.resources });
    await rename(tmp, disk);
  } finally {
    await rm(tmp, { force: true });
  }
  ctx.ui.message(`${disk}: ${Math.round(before / 2 ** 20)} MiB before compaction, ${Math.round(((await stat(disk)).blocks * 512) / 2 ** 20)} MiB after`);
}
