/**
 * The resource ledger: an append-only journal, one file per run, of every temporary resource a
 * run creates. A record is written and flushed to disk *before* the resource is created, and
 * closed when it is deleted, so a run killed at any moment leaves a list of exactly what
 * `kiln cleanup` must remove. Concurrent records share one write+fsync (group commit): a
 * thousand parallel builds cost a few flushes, not thousands.
 */
import { closeSync, existsSync, fdatasyncSync, mkdirSync, openSync, readFileSync, readdirSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ResourceHandle } from '../sdk/plugin.js';
import { runsDir } from './paths.js';
import { processStartTime } from './proc.js';

export const LEDGER_FILE = 'ledger.jsonl';

/**
 * A record's `description` is redacted; its `data` is exact, for the reaper that must find the
 * resource, and `sensitive` lists the secrets that data holds, so that `kiln cleanup` (which has
 * no template to learn them from) can hide them in whatever it prints about the record.
 */
export type LedgerEntry =
  | { t: 'run'; runId: string; pid: number; procStart?: string; startedAt: string; cwd: string }
  | { t: 'create'; id: string; kind: string; description: string; data: Record<string, unknown>; build?: string; sensitive?: string[] }
  | { t: 'update'; id: string; data: Record<string, unknown>; sensitive?: string[] }
  | { t: 'delete'; id: string }
  | { t: 'end' };

/** A resource's handle in the ledger: an update may bring secrets of its own. */
export interface LedgerHandle extends ResourceHandle {
  update(data: Record<string, unknown>, sensitive?: readonly string[]): Promise<void>;
}

function withSensitive(sensitive: readonly string[]): { sensitive?: string[] } {
  return sensitive.length > 0 ? { sensitive: [...sensitive] } : {};
}

export class Ledger {
  private fd: number;
  private pending: string[] = [];
  private waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private flushing = false;
  private seq = 0;
  private closed = false;
  readonly path: string;

  private constructor(
    readonly runId: string,
    runDir: string,
  ) {
    mkdirSync(runDir, { recursive: true, mode: 0o700 });
    this.path = join(runDir, LEDGER_FILE);
    this.fd = openSync(this.path, 'a', 0o600);
  }

  /** Opens the journal of a new run in its run folder. */
  static open(runId: string, runDir: string): Ledger {
    const l = new Ledger(runId, runDir);
    const entry: LedgerEntry = { t: 'run', runId, pid: process.pid, startedAt: new Date().toISOString(), cwd: process.cwd() };
    const start = processStartTime(process.pid);
    if (start !== undefined) entry.procStart = start;
    l.writeNow(entry);
    return l;
  }

  async record(kind: string, description: string, data: Record<string, unknown>, build?: string, sensitive: readonly string[] = []): Promise<LedgerHandle> {
    const id = `r${++this.seq}`;
    await this.append({ t: 'create', id, kind, description, data, ...(build !== undefined && { build }), ...withSensitive(sensitive) });
    return {
      id,
      update: (more, moreSensitive = []) => this.append({ t: 'update', id, data: more, ...withSensitive(moreSensitive) }),
      release: () => this.append({ t: 'delete', id }),
    };
  }

  /** Marks the run finished with nothing left to reap, and removes the journal. */
  finish(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
    unlinkSync(this.path);
  }

  /** Closes the journal but keeps it: resources are still open (e.g. -on-error=abort). */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  /** Open records, oldest first. */
  openResources(): Array<Extract<LedgerEntry, { t: 'create' }>> {
    return openRecords(readEntries(this.path));
  }

  private writeNow(entry: LedgerEntry): void {
    writeSync(this.fd, JSON.stringify(entry) + '\n');
    fdatasyncSync(this.fd);
  }

  private append(entry: LedgerEntry): Promise<void> {
    if (this.closed) return Promise.reject(new Error('internal: the resource ledger is closed'));
    this.pending.push(JSON.stringify(entry) + '\n');
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.flushing) this.flushSoon();
    return p;
  }

  private flushSoon(): void {
    this.flushing = true;
    // Let records made in the same tick join this flush.
    setImmediate(() => {
      const batch = this.pending.join('');
      const waiters = this.waiters;
      this.pending = [];
      this.waiters = [];
      try {
        writeSync(this.fd, batch);
        fdatasyncSync(this.fd);
        waiters.forEach((w) => w.resolve());
      } catch (err) {
        waiters.forEach((w) => w.reject(err as Error));
      }
      this.flushing = false;
      if (this.pending.length > 0) this.flushSoon();
    });
  }
}

export function readEntries(path: string): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as LedgerEntry);
    } catch {
      // A torn last line from a crash mid-write: the record before it is complete, so stop here.
      break;
    }
  }
  return out;
}

/** Create records not yet deleted, with their updates (data and secrets) merged in, oldest first. */
export function openRecords(entries: readonly LedgerEntry[]): Array<Extract<LedgerEntry, { t: 'create' }>> {
  const open = new Map<string, Extract<LedgerEntry, { t: 'create' }>>();
  for (const e of entries) {
    if (e.t === 'create') open.set(e.id, { ...e, data: { ...e.data } });
    else if (e.t === 'update') {
      const r = open.get(e.id);
      if (!r) continue;
      Object.assign(r.data, e.data);
      if (e.sensitive) r.sensitive = [...new Set([...(r.sensitive ?? []), ...e.sensitive])];
    } else if (e.t === 'delete') open.delete(e.id);
  }
  return [...open.values()];
}

/** Journals of runs that have not finished cleanly, oldest first. */
export function listLedgers(dir: string = runsDir()): string[] {
  try {
    return readdirSync(dir)
      .sort()
      .map((n) => join(dir, n, LEDGER_FILE))
      .filter((p) => existsSync(p));
  } catch {
    return [];
  }
}
