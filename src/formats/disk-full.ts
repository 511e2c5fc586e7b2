/**
 * Whether a failed write failed for want of space (a full disk, a quota, a file-size limit):
 * the disk and OCI writers both say so plainly instead of Node's bare errno text.
 */
export function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG';
}
