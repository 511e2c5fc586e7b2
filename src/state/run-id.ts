/**
 * Run ids are UUIDv7 (RFC 9562): time-ordered, so run folders sort by start time, and a real
 * UUID, so Packer's `packer_run_uuid` manifest field and PACKER_RUN_UUID keep their shape.
 */
import { randomBytes } from 'node:crypto';

export function newRunId(now: number = Date.now()): string {
  const b = randomBytes(16);
  const ms = BigInt(now);
  for (let i = 0; i < 6; i++) b[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
