/**
 * The one event stream. Everything a run does is an event; renderers (plain, JSON lines,
 * machine-readable, TUI), per-build log files and the history all subscribe to the same bus.
 * Secrets are removed on the way in, so no consumer can leak one.
 */
import type { Redactor } from './redact.js';

export interface ArtifactInfo {
  builderId: string;
  id: string;
  files: string[];
  description: string;
}

export type KilnEvent =
  | { type: 'run.started'; runId: string; builds: string[] }
  | { type: 'run.finished'; runId: string; exitCode: number; artifacts: Array<{ build: string; artifacts: ArtifactInfo[] }>; durationMs: number; interrupted?: 'SIGINT' | 'SIGTERM' }
  | { type: 'build.started'; build: string }
  | { type: 'build.finished'; build: string; ok: boolean; error?: string; cancelled?: boolean; durationMs: number; artifacts: ArtifactInfo[] }
  | { type: 'step.started'; build: string; step: string }
  | { type: 'step.finished'; build: string; step: string; ok: boolean; durationMs: number }
  /** A step-level message (`==> build: …`). */
  | { type: 'say'; build?: string; message: string }
  /** A detail line (`    build: …`). */
  | { type: 'message'; build?: string; message: string }
  | { type: 'error'; build?: string; message: string }
  /** Output of a command run for a build, one line. */
  | { type: 'output'; build: string; stream: 'stdout' | 'stderr'; line: string }
  | { type: 'progress'; build: string; id: string; done: number; total: number; label?: string }
  /** An artifact made by the builder or a post-processor (`from`), numbered in the build's order. */
  | { type: 'artifact'; build: string; index: number; from: string; artifact: ArtifactInfo }
  | { type: 'resource.created'; build?: string; id: string; kind: string; description: string }
  | { type: 'resource.deleted'; build?: string; id: string; kind: string; description: string }
  | { type: 'cleanup.pending'; build: string; steps: string[] };

export type EventOf<T extends KilnEvent['type']> = Extract<KilnEvent, { type: T }>;

/** A timestamped event as subscribers receive it. */
export type Stamped = KilnEvent & { time: number };

export type Listener = (e: Stamped) => void;

export class EventBus {
  private listeners: Listener[] = [];
  constructor(private redactor: Redactor) {}

  subscribe(l: Listener): () => void {
    this.listeners.push(l);
    return () => {
      this.listeners = this.listeners.filter((x) => x !== l);
    };
  }

  emit(e: KilnEvent): void {
    const stamped = { ...this.redactor.value(e), time: Date.now() } as Stamped;
    for (const l of this.listeners) l(stamped);
  }
}
