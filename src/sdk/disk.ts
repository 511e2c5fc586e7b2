/**
 * What the disk post-processors (vhd, vmdk, qcow2) share: finding the disk image in an input
 * artifact, getting raw bytes from it, naming outputs, recording partial outputs so `kiln cleanup`
 * can remove them, and the identity (time, ids) written into images.
 */
import { rm } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import type { Artifact } from './artifact.js';
import type { ComponentContext, Reaper } from './plugin.js';
import { detectImageFormat, type ImageFormat } from '../formats/disk/detect.js';
import { imageIdentity, type ImageIdentity } from '../formats/disk/identity.js';
import { PARTIAL_NAME, type PartialRecorder } from '../formats/disk/output.js';
import { qemuImgConvert } from '../formats/disk/qemu-img.js';

/** The ledger kind of a partly written disk image. */
export const DISK_PARTIAL_KIND = 'disk.partial';

/** Files that travel with a VM's disk but are not disks. */
const NOT_A_DISK = /\.(log|txt|json|sha\d*|md5|ovf|mf|iso)$/i;

/**
 * The disk image of an artifact: the builder's `diskPaths` (Packer's qemu builder state) when
 * given, else its only file, else its only file that does not look like a log or metadata.
 */
export function diskImageOf(input: Artifact): string {
  const stated = input.state.diskPaths;
  if (Array.isArray(stated) && typeof stated[0] === 'string') return stated[0];
  if (input.files.length === 1) return input.files[0]!;
  const disks = input.files.filter((f) => !NOT_A_DISK.test(f));
  if (disks.length === 1) return disks[0]!;
  throw new Error(
    input.files.length === 0
      ? `the input artifact (${input.description}) has no files: a disk image is needed`
      : `cannot tell which file of the input artifact is the disk image: ${input.files.join(', ')}`,
  );
}

/**
 * The output path: `output` when set, else the input's path with its extension replaced by `ext`.
 * It must differ from the input.
 */
export function diskOutputPath(input: string, ext: string, output: string | undefined): string {
  const out = output ?? join(dirname(input), `${basename(input, extname(input))}${ext}`);
  if (resolve(out) === resolve(input)) throw new Error(`the output ${out} is the input image itself: set output to another path`);
  return out;
}

export interface RawInput {
  path: string;
  format: ImageFormat;
  /** True when kiln made this raw file (converted from another format): it may be consumed. */
  temporary: boolean;
}

/**
 * Raw bytes of the disk at `path`: the file itself when it is raw, else a sparse raw copy made by
 * qemu-img in a temporary directory of the build.
 */
export async function rawInputOf(ctx: ComponentContext<unknown>, path: string): Promise<RawInput> {
  const format = await detectImageFormat(path);
  if (format === 'raw') return { path, format, temporary: false };
  const dir = await ctx.tempDir('kiln-disk-');
  const raw = join(dir, `${basename(path, extname(path))}.raw`);
  ctx.ui.message(`Reading the ${format} image ${path} as raw (qemu-img convert)`);
  await qemuImgConvert(path, raw, { srcFormat: format === 'vhd' ? 'vpc' : format, dstFormat: 'raw', signal: ctx.signal, resources: ctx.resources });
  return { path: raw, format, temporary: true };
}

/** Records partial outputs in the ledger under DISK_PARTIAL_KIND. */
export function partialRecorder(ctx: ComponentContext<unknown>): PartialRecorder {
  return async (part) => ctx.resources.record(DISK_PARTIAL_KIND, `partial disk image ${part}`, { path: resolve(part) });
}

/** Removes a partial disk image left by a killed run; refuses anything not named like one. */
export const reapDiskPartial: Reaper = async (data) => {
  const path = data.path;
  if (typeof path !== 'string' || !isAbsolute(path) || !PARTIAL_NAME.test(basename(path))) {
    throw new Error(`refusing to remove ${String(path)}: not a partial disk image`);
  }
  await rm(path, { force: true });
};

/**
 * The identity for an output image. Time stamps come from SOURCE_DATE_EPOCH when it is set. The
 * ids are random unless `uuid_seed` is given: two disks must not share a VHD unique id or VMDK CID
 * just because they were built under one SOURCE_DATE_EPOCH (hypervisors and Azure tell disks
 * apart by them). The output's file name is mixed into the seed so one seed serves a whole chain.
 */
export function diskIdentity(seed: string | undefined, output: string): ImageIdentity {
  return imageIdentity(seed === undefined ? {} : { seed: `${seed}\0${basename(output)}` });
}

/** A progress callback that reports to the ui at most every 1 %. */
export function progressReporter(ctx: ComponentContext<unknown>, id: string, total: number, label: string): (done: number) => void {
  let last = -1;
  return (done) => {
    const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
    if (pct === last) return;
    last = pct;
    ctx.ui.progress(id, done, total, label);
  };
}
