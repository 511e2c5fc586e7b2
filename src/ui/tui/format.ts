/** Small text helpers for the terminal view: sizes, bars, short durations, safe output lines. */

const SIZE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** 1536 → "1.5 KiB": binary units, as disk and image sizes are usually given. */
export function humanBytes(n: number): string {
  let v = Math.max(0, n);
  let i = 0;
  while (v >= 1024 && i < SIZE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${SIZE_UNITS[i]}`;
}

/** "[██████░░░░░░]" for a fraction in 0..1. */
export function bar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.round(f * width);
  return `[${'█'.repeat(full)}${'░'.repeat(width - full)}]`;
}

/** A clock-like duration that fits a column: "7s", "2m05s", "1h02m". */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

// CSI and OSC sequences, then any other control character: a script's colours, cursor moves or
// carriage returns would move ink's cursor and garble the frame.
const ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-_]/g;
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** A line of command output made safe to draw inside the view: no escapes, tabs as spaces. */
export function printable(line: string): string {
  // A progress-style line ("50%\r60%\r") shows what it last drew.
  const lastPart = line.slice(line.lastIndexOf('\r', line.length - 2) + 1);
  return lastPart.replace(ESCAPES, '').replace(/\t/g, '  ').replace(CONTROLS, '');
}
