/**
 * Lays the state out as lines that fit the terminal: one header line per build (status, elapsed
 * time, current step), under a running build its progress bar and last output line, then as
 * many recent log lines as the height leaves. Pure, so what a frame shows depends only on the
 * state, the clock and the terminal size; the ink view only draws these lines.
 */
import { bar, humanBytes, printable, shortDuration } from './format.js';
import type { BuildState, BuildStatus, LogKind, TuiState } from './state.js';

export type Tone = 'red' | 'green' | 'yellow' | 'cyan' | 'dim' | 'bold';

export interface Segment {
  text: string;
  tone?: Tone;
}

export type Line = Segment[];

export interface Size {
  columns: number;
  rows: number;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

const STATUS_TONE: Record<BuildStatus, Tone> = { queued: 'dim', running: 'cyan', done: 'green', failed: 'red', cancelled: 'yellow' };
const STATUS_ICON: Record<Exclude<BuildStatus, 'running'>, string> = { queued: '·', done: '✔', failed: '✘', cancelled: '⊘' };
const LOG_TONE: Record<LogKind, Tone | undefined> = { say: 'bold', message: undefined, error: 'red', success: 'green' };
// Builds that need attention are kept when not all fit.
const PRIORITY: Record<BuildStatus, number> = { running: 0, failed: 1, queued: 2, cancelled: 3, done: 4 };

/** The live frame while the run goes on. */
export function liveFrame(state: TuiState, now: number, size: Size): Line[] {
  const builds = [...state.builds.values()];
  const nameWidth = nameColumn(builds, size.columns);
  // ink redraws by moving the cursor up over its last frame; a frame as tall as the terminal
  // would scroll and be redrawn from scratch each time, so one row stays free.
  const budget = Math.max(1, size.rows - 1);
  const header = [summaryLine(builds, now)];
  const minLog = Math.min(3, Math.max(0, budget - header.length - builds.length - 1));
  const forBuilds = budget - header.length - (minLog > 0 ? minLog + 1 : 0);

  let detailed = builds.map((b) => buildLines(b, now, nameWidth, size.columns, true));
  if (detailed.flat().length > forBuilds) detailed = builds.map((b) => buildLines(b, now, nameWidth, size.columns, false));
  let buildBlock = detailed.flat();
  if (buildBlock.length > forBuilds) buildBlock = fewestBuilds(builds, now, nameWidth, size.columns, forBuilds);

  const logRoom = budget - header.length - buildBlock.length - 1;
  const log = state.recentLog(logRoom).map((l): Line => [{ text: l.text, ...toned(LOG_TONE[l.kind]) }]);
  const rule: Line[] = logRoom > 0 ? [[{ text: '─'.repeat(size.columns), tone: 'dim' }]] : [];
  return [...header, ...buildBlock, ...rule, ...log];
}

/** The frame left in the scrollback when the run is over: each build's final status. */
export function finalFrame(state: TuiState, now: number, size: Size): Line[] {
  const builds = [...state.builds.values()];
  const nameWidth = nameColumn(builds, size.columns);
  return [summaryLine(builds, now), ...builds.flatMap((b) => buildLines(b, now, nameWidth, size.columns, false))];
}

function summaryLine(builds: readonly BuildState[], now: number): Line {
  const count = (s: BuildStatus): number => builds.filter((b) => b.status === s).length;
  const started = builds.map((b) => b.startedAt).filter((t): t is number => t !== undefined);
  const since = started.length > 0 ? `  ${shortDuration(now - Math.min(...started))}` : '';
  const parts = (['running', 'queued', 'done', 'failed', 'cancelled'] as const).filter((s) => count(s) > 0).map((s) => `${count(s)} ${s}`);
  return [{ text: `kiln build: ${builds.length} build${builds.length === 1 ? '' : 's'}`, tone: 'bold' }, { text: ` (${parts.join(', ')})${since}` }];
}

function nameColumn(builds: readonly BuildState[], columns: number): number {
  const longest = Math.max(0, ...builds.map((b) => b.name.length));
  return Math.max(4, Math.min(longest, Math.floor(columns * 0.4)));
}

function buildLines(b: BuildState, now: number, nameWidth: number, columns: number, details: boolean): Line[] {
  const tone = STATUS_TONE[b.status];
  const icon = b.status === 'running' ? SPINNER[Math.floor(now / 100) % SPINNER.length]! : STATUS_ICON[b.status];
  const elapsed = b.durationMs !== undefined ? shortDuration(b.durationMs) : b.startedAt !== undefined ? shortDuration(now - b.startedAt) : '';
  const name = b.name.length > nameWidth ? `${b.name.slice(0, nameWidth - 1)}…` : b.name.padEnd(nameWidth);
  const step = b.status === 'running' && b.step !== undefined ? `  ${b.step}` : '';
  const lines: Line[] = [[{ text: `${icon} `, tone }, { text: name }, { text: `  ${b.status.padEnd(9)}`, tone }, { text: `${elapsed.padStart(6)}${step}` }]];
  if (!details || b.status !== 'running') return lines;
  if (b.progress) lines.push([{ text: `    ${progressText(b.progress.done, b.progress.total, b.progress.label, columns)}`, tone: 'cyan' }]);
  if (b.lastOutput !== undefined) lines.push([{ text: `    │ ${printable(b.lastOutput)}`, tone: 'dim' }]);
  return lines;
}

function progressText(done: number, total: number, label: string | undefined, columns: number): string {
  const tail = label !== undefined ? `  ${label}` : '';
  // A total of 0 means the size is not known in advance (a layer being written): no bar.
  if (total <= 0) return `${humanBytes(done)}${tail}`;
  const pct = `${Math.floor((Math.min(done, total) / total) * 100)}%`.padStart(4);
  const width = Math.max(10, Math.min(30, columns - 50));
  return `${bar(done / total, width)} ${pct}  ${humanBytes(done)} / ${humanBytes(total)}${tail}`;
}

/** More builds than rows: one line each for the most important, and a count of the rest. */
function fewestBuilds(builds: readonly BuildState[], now: number, nameWidth: number, columns: number, room: number): Line[] {
  const shown = Math.max(0, room - 1);
  const ordered = [...builds].sort((a, b) => PRIORITY[a.status] - PRIORITY[b.status]);
  const rest = ordered.slice(shown);
  const kept = new Set(ordered.slice(0, shown));
  const lines = builds.filter((b) => kept.has(b)).flatMap((b) => buildLines(b, now, nameWidth, columns, false));
  return rest.length > 0 ? [...lines, [{ text: `  … ${rest.length} more build${rest.length === 1 ? '' : 's'}`, tone: 'dim' }]] : lines;
}

function toned(tone: Tone | undefined): { tone?: Tone } {
  return tone === undefined ? {} : { tone };
}
