/**
 * Writing an output image safely: under a temporary name next to the target (recorded in the
 * resource ledger first, so `kiln cleanup` can remove it if kiln is killed), renamed into place
 * only when complete. On any failure, a full disk included, the partial file is removed and the
 * error says what happened.
 *
 * Outputs are not fsynced, as `qemu-img convert` does not sync by default (cache=unsafe): the
 * rename makes a complete file appear at once to every other process, and forcing the bytes to
 * the platter would cost more than the conversion (an fsync of a just-written 800 MB image takes
 * ≈ 300 ms here, the in-place VHD conversion ≈ 1 ms). After a machine crash, rebuild.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { outputError } from '../disk-full.js';

/** Records a partial output before it is created; the handle is released when it is gone or renamed. */
export type PartialRecorder = (partPath: string) => Promise<{ release(): Promise<void> }>;

/** How partial outputs are named; the reaper removes nothing else. */
export const PARTIAL_NAME = /^\..+\.kiln-[0-9a-f]+\.part$/;

export function partialPath(target: string): string {
  return join(dirname(target), `.${basename(target)}.kiln-${randomBytes(4).toString('hex')}.part`);
}

/** Runs `write` on a temporary path and renames it to `target` when it succeeds. */
export async function writeAtomically<T>(target: string, write: (part: string) => Promise<T>, recordPartial?: PartialRecorder): Promise<T> {
  const part = partialPath(target);
  const record = await recordPartial?.(part);
  try {
    const result = await write(part);
    await rename(part, target);
    return result;
  } catch (err) {
    await rm(part, { force: true });
    throw outputError(err, target);
  } finally {
    await record?.release();
  }
}
