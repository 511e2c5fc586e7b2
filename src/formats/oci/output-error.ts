/**
 * The error a user sees when writing an image output fails: a full disk (or quota) is said
 * plainly, naming what was being written, instead of Node's bare "ENOSPC: no space left on
 * device, write". Callers remove their partial files before throwing it.
 */
import { dirname } from 'node:path';
import { isDiskFull } from '../disk-full.js';

export class OutputError extends Error {
  override name = 'OutputError';
}


/** `err` as shown for a failed write of `target` (a path the user named, or a layout folder). */
export function outputError(err: unknown, target: string): Error {
  if (isDiskFull(err)) return new OutputError(`could not write ${target}: no space left on the disk holding ${dirname(target)} (the partial output was removed); free some space or write elsewhere`);
  return err as Error;
}
