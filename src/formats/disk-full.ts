/**
 * A failed write of an output for want of space (a full disk, a quota, a file-size limit), said
 * plainly and in one wording by every writer (disk images, archives, OCI layouts and tarballs),
 * naming what was being written instead of Node's bare "ENOSPC: no space left on device, write".
 * Callers remove their partial files before throwing it.
 */
import { dirname } from 'node:path';

export class DiskFullError extends Error {
  override name = 'DiskFullError';
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export function isDiskFull(err: unknown): boolean {
  const code = errnoCode(err);
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG';
}

/** Why the write failed, ending with what to do; undefined when it was not for want of space. */
function spaceReason(code: string | undefined, dir: string): string | undefined {
  const removed = '(the partial output was removed)';
  switch (code) {
    case 'ENOSPC': return `no space left on the disk holding ${dir} ${removed}; free some space or write elsewhere`;
    case 'EDQUOT': return `the disk quota for ${dir} is used up ${removed}; free some space or write elsewhere`;
    case 'EFBIG': return `the file grew past the size limit of the file system holding ${dir} or of this process ${removed}; write elsewhere`;
    default: return undefined;
  }
}

/** `err` as shown for a failed write of `target` (a path the user named, or a layout folder). */
export function outputError(err: unknown, target: string): Error {
  const reason = spaceReason(errnoCode(err), dirname(target));
  return reason === undefined ? (err as Error) : new DiskFullError(`could not write ${target}: ${reason}`);
}
