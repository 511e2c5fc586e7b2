/** Durations the way Packer prints them: "21 milliseconds 957 microseconds", "1 minute 3 seconds". */

const UNITS: Array<[string, number]> = [
  ['hour', 3_600_000_000],
  ['minute', 60_000_000],
  ['second', 1_000_000],
  ['millisecond', 1000],
  ['microsecond', 1],
];

export function humanDuration(ms: number): string {
  let us = Math.max(0, Math.round(ms * 1000));
  const parts: string[] = [];
  for (const [name, size] of UNITS) {
    const n = Math.floor(us / size);
    us -= n * size;
    if (n > 0) parts.push(`${n} ${name}${n === 1 ? '' : 's'}`);
    if (parts.length === 2) break;
  }
  return parts.length > 0 ? parts.join(' ') : '0 seconds';
}
