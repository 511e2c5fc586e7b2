/**
 * A log file per build in the run's folder: everything the build said and printed, with
 * timestamps. Written through streams; `close()` flushes them all.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Listener, Stamped } from '../core/events.js';

export interface LogFiles {
  listener: Listener;
  /** The log file of a build, for messages that point to it. */
  pathOf(build: string): string;
  close(): Promise<void>;
}

export function safeFileName(build: string): string {
  return build.replace(/[^A-Za-z0-9._-]/g, '_');
}

export function logFiles(dir: string): LogFiles {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const streams = new Map<string, WriteStream>();
  const closing: Array<Promise<void>> = [];
  const pathOf = (build: string): string => join(dir, `${safeFileName(build)}.log`);
  const stream = (build: string): WriteStream => {
    let s = streams.get(build);
    if (!s) {
      s = createWriteStream(pathOf(build), { flags: 'a', mode: 0o600 });
      streams.set(build, s);
    }
    return s;
  };
  const write = (e: Stamped, build: string, tag: string, text: string): void => {
    const t = new Date(e.time).toISOString();
    stream(build).write(text.split('\n').map((l) => `${t} ${tag} ${l}\n`).join(''));
  };
  const listener: Listener = (e) => {
    switch (e.type) {
      case 'build.started':
        write(e, e.build, '[build]', 'started');
        break;
      case 'say':
      case 'message':
      case 'error':
        if (e.build) write(e, e.build, `[${e.type}]`, e.message);
        break;
      case 'output':
        write(e, e.build, `[${e.stream}]`, e.line);
        break;
      case 'step.started':
        write(e, e.build, '[step]', `${e.step} started`);
        break;
      case 'step.finished':
        write(e, e.build, '[step]', `${e.step} ${e.ok ? 'finished' : 'failed'} in ${e.durationMs} ms`);
        break;
      case 'resource.created':
      case 'resource.deleted':
        if (e.build) write(e, e.build, '[resource]', `${e.type === 'resource.created' ? 'created' : 'deleted'} ${e.kind}: ${e.description}`);
        break;
      case 'artifact':
        write(e, e.build, '[artifact]', `${e.from} made ${e.artifact.id}: ${e.artifact.description}${e.artifact.files.length ? ` (files: ${e.artifact.files.join(', ')})` : ''}`);
        break;
      case 'build.finished': {
        write(e, e.build, '[build]', e.ok ? `finished in ${e.durationMs} ms` : `errored after ${e.durationMs} ms: ${e.error ?? ''}`);
        // A finished build writes no more: free its stream now, not at the end of a long run.
        const s = streams.get(e.build);
        streams.delete(e.build);
        if (s) closing.push(new Promise<void>((r) => s.end(r)));
        break;
      }
      default:
        break;
    }
  };
  return {
    listener,
    pathOf,
    close: () => Promise.all([...closing, ...[...streams.values()].map((s) => new Promise<void>((r) => s.end(r)))]).then(() => undefined),
  };
}
