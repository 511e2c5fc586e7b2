/**
 * `-machine-readable`: Packer's format, one record a line: `timestamp,target,type,data…`, with
 * commas in data written as `%!(PACKER_COMMA)` and newlines as `\n`.
 */
import type { Listener, Stamped } from '../core/events.js';
import { humanDuration } from './humanize.js';

function esc(s: string): string {
  return s.replace(/,/g, '%!(PACKER_COMMA)').replace(/\r/g, '\\r').replace(/\n/g, '\\n');
}

/**
 * Records come in Packer 1.6.6's order: the `<build>,error` records are part of the end
 * summary (after `,,error-count,N`), not of the build's finish; after an interrupt the summary
 * is the "Cleanly cancelled" line alone.
 */
export function machineReadableRenderer(write: (text: string) => void): Listener {
  const failures: Array<[string, string]> = [];
  const rec = (e: Stamped, target: string, type: string, ...data: Array<string | number>): void => {
    write(`${Math.floor(e.time / 1000)},${esc(target)},${type}${data.map((d) => `,${esc(String(d))}`).join('')}\n`);
  };
  const ui = (e: Stamped, kind: 'say' | 'message' | 'error', text: string): void => rec(e, '', 'ui', kind, text);
  return (e) => {
    switch (e.type) {
      case 'say':
        ui(e, 'say', e.build ? `==> ${e.build}: ${e.message}` : `==> ${e.message}`);
        break;
      case 'message':
        ui(e, 'message', e.build ? `    ${e.build}: ${e.message}` : `    ${e.message}`);
        break;
      case 'error':
        ui(e, 'error', e.build ? `==> ${e.build}: ${e.message}` : `==> ${e.message}`);
        break;
      case 'output':
        if (e.stream === 'stderr') ui(e, 'error', `==> ${e.build}: ${e.line}`);
        else ui(e, 'message', `    ${e.build}: ${e.line}`);
        break;
      case 'build.finished':
        if (e.ok) ui(e, 'say', `Build '${e.build}' finished after ${humanDuration(e.durationMs)}.`);
        else {
          ui(e, 'error', `Build '${e.build}' errored after ${humanDuration(e.durationMs)}: ${e.error ?? ''}`);
          failures.push([e.build, e.error ?? '']);
        }
        break;
      case 'run.finished':
        ui(e, 'say', `\n==> Wait completed after ${humanDuration(e.durationMs)}`);
        if (e.interrupted) {
          ui(e, 'say', 'Cleanly cancelled builds after being interrupted.');
          break;
        }
        if (failures.length > 0) {
          rec(e, '', 'error-count', failures.length);
          ui(e, 'error', "\n==> Some builds didn't complete successfully and had errors:");
          for (const [build, error] of failures) {
            rec(e, build, 'error', error);
            ui(e, 'error', `--> ${build}: ${error}`);
          }
        }
        if (e.artifacts.length === 0) {
          ui(e, 'say', '\n==> Builds finished but no artifacts were created.');
          break;
        }
        ui(e, 'say', '\n==> Builds finished. The artifacts of successful builds are:');
        for (const { build, artifacts } of e.artifacts) {
          rec(e, build, 'artifact-count', artifacts.length);
          artifacts.forEach((a, i) => {
            rec(e, build, 'artifact', i, 'builder-id', a.builderId);
            rec(e, build, 'artifact', i, 'id', a.id);
            rec(e, build, 'artifact', i, 'string', a.description);
            rec(e, build, 'artifact', i, 'files-count', a.files.length);
            a.files.forEach((f, j) => rec(e, build, 'artifact', i, 'file', j, f));
            rec(e, build, 'artifact', i, 'end');
            ui(e, 'say', `--> ${build}: ${a.description}`);
          });
        }
        break;
      default:
        break;
    }
  };
}
