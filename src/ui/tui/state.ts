/**
 * What the terminal view shows, kept up to date from the event stream. Applying an event is
 * cheap (a map update or a ring-buffer push, nothing formatted): a script printing 100,000
 * lines costs 100,000 assignments, and the view reads the state only when it draws.
 */
import type { Stamped } from '../../core/events.js';

export type BuildStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface ProgressState {
  done: number;
  total: number;
  label?: string;
}

export interface BuildState {
  name: string;
  status: BuildStatus;
  startedAt?: number;
  durationMs?: number;
  step?: string;
  progress?: ProgressState;
  lastOutput?: string;
}

export type LogKind = 'say' | 'message' | 'error' | 'success';

export interface LogLine {
  kind: LogKind;
  text: string;
}

/** Enough log lines for any terminal height; older ones are in the per-build log files. */
const LOG_KEPT = 200;

export class TuiState {
  readonly builds = new Map<string, BuildState>();
  private readonly log: LogLine[] = [];
  /** Set by every event that changes what is shown; cleared by whoever draws. */
  dirty = true;
  finished = false;

  apply(e: Stamped): void {
    switch (e.type) {
      case 'run.started':
        for (const name of e.builds) if (!this.builds.has(name)) this.builds.set(name, { name, status: 'queued' });
        break;
      case 'build.started':
        Object.assign(this.build(e.build), { status: 'running', startedAt: e.time });
        break;
      case 'step.started': {
        const b = this.build(e.build);
        b.step = e.step;
        // A bar from an earlier step would look stuck.
        delete b.progress;
        break;
      }
      case 'progress':
        this.build(e.build).progress = { done: e.done, total: e.total, ...(e.label !== undefined && { label: e.label }) };
        break;
      case 'output':
        this.build(e.build).lastOutput = e.line;
        break;
      case 'say':
        this.push('say', e.build, e.message);
        break;
      case 'message':
        this.push('message', e.build, e.message);
        break;
      case 'error':
        this.push('error', e.build, e.message);
        break;
      case 'cleanup.pending':
        this.push('say', e.build, `Still cleaning up: ${e.steps.join(', ')}`);
        break;
      case 'build.finished': {
        const b = this.build(e.build);
        b.status = e.cancelled ? 'cancelled' : e.ok ? 'done' : 'failed';
        b.durationMs = e.durationMs;
        delete b.progress;
        if (e.ok) this.push('success', undefined, `Build '${e.build}' finished.`);
        else if (!e.cancelled) this.push('error', undefined, `Build '${e.build}' errored: ${e.error ?? 'unknown error'}`);
        break;
      }
      case 'run.finished':
        this.finished = true;
        break;
      default:
        // Artifacts and resources are in the final summary and the log files.
        return;
    }
    this.dirty = true;
  }

  /** The last `n` log lines, oldest first. */
  recentLog(n: number): readonly LogLine[] {
    return n <= 0 ? [] : this.log.slice(-n);
  }

  private build(name: string): BuildState {
    let b = this.builds.get(name);
    if (!b) {
      b = { name, status: 'queued' };
      this.builds.set(name, b);
    }
    return b;
  }

  private push(kind: LogKind, build: string | undefined, message: string): void {
    // The prefixes are the plain renderer's, so a line reads the same in both views.
    const prefix = kind === 'message' ? (build ? `    ${build}: ` : '    ') : build ? `==> ${build}: ` : '==> ';
    for (const l of message.split('\n')) this.log.push({ kind, text: prefix + l });
    if (this.log.length > LOG_KEPT * 2) this.log.splice(0, this.log.length - LOG_KEPT);
  }
}
