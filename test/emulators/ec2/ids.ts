/** Resource ids shaped like EC2's: a prefix and 17 lowercase hex digits (8 for reservations' old style is not used). */
import { randomBytes } from 'node:crypto';

export function newId(prefix: string): string {
  return `${prefix}-${randomBytes(9).toString('hex').slice(0, 17)}`;
}

/** EC2 rejects ids of the wrong shape with `<Kind>.Malformed` before looking them up. */
export function isWellFormed(prefix: string, id: string): boolean {
  return new RegExp(`^${prefix}-[0-9a-f]{8}([0-9a-f]{9})?$`).test(id);
}
