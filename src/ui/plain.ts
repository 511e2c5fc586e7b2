/**
 * The plain renderer: Packer's output. `==> build: …` for steps, `    build: …` for details,
 * a colour per build (off with NO_COLOR or when not a terminal), the artifact list at the end.
 */
import type { Listener, Stamped } from '../core/events.js';
import { humanDuration } from './humanize.js';

const BUILD_COLORS = [32, 36, 35, 33, 34];

export interface PlainOptions {
  write(text: string): void;
  color: boolean;
  timestamps: boolean;
}

export function plainRenderer(opts: PlainOptions): Listener {
  const colors = new Map<string, number>();
  const failures: Array<[string, string]> = [];
  const paint = (text: string, code: string): string => (opts.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const colorOf = (build: string | undefined): number => (build === undefined ? 0 : colors.get(build) ?? 0);
  const line = (e: Stamped, text: string): void => {
    const stamp = opts.timestamps ? `${new Date(e.time).toISOString().replace(/\.\d+Z$/, 'Z')}: ` : '';
    opts.write(`${stamp}${text}\n`);
  };
  const say = (e: Stamped, build: string | undefined, message: string, error = false): void => {
    const prefix = build ? `==> ${build}: ` : '==> ';
    const c = colorOf(build);
    for (const l of message.split('\n')) line(e, paint(prefix + l, error ? '1;31' : c ? `1;${c}` : '1'));
  };
  const detail = (e: Stamped, build: string | undefined, message: string): void => {
    const c = colorOf(build);
    for (const l of message.split('\n')) {
      const text = build ? `    ${build}: ${l}` : `    ${l}`;
      line(e, c ? paint(text, `0;${c}`) : text);
    }
  };

  return (e) => {
    switch (e.type) {
      case 'run.started':
        e.builds.forEach((b, i) => {
          colors.set(b, BUILD_COLORS[i % BUILD_COLORS.length]!);
          line(e, paint(`${b}: output will be in this color.`, `1;${colorOf(b)}`));
        });
        if (e.builds.length > 0) opts.write('\n');
        break;
      case 'say':
        say(e, e.build, e.message);
        break;
      case 'message':
        detail(e, e.build, e.message);
        break;
      case 'error':
        say(e, e.build, e.message, true);
        break;
      case 'output':
        if (e.stream === 'stderr') say(e, e.build, e.line, true);
        else detail(e, e.build, e.line);
        break;
      case 'cleanup.pending':
        say(e, e.build, `Still cleaning up: ${e.steps.join(', ')}`);
        break;
      case 'build.finished': {
        const c = colorOf(e.build);
        if (e.ok) line(e, paint(`Build '${e.build}' finished after ${humanDuration(e.durationMs)}.`, `1;${c}`));
        else {
          failures.push([e.build, e.error ?? 'unknown error']);
          line(e, paint(`Build '${e.build}' errored after ${humanDuration(e.durationMs)}: ${e.error ?? 'unknown error'}`, '1;31'));
        }
        break;
      }
      case 'run.finished': {
        opts.write('\n');
        line(e, `==> Wait completed after ${humanDuration(e.durationMs)}`);
        if (e.interrupted) {
          // As Packer: after an interrupt this line is the whole summary.
          opts.write('\n');
          line(e, paint('Cleanly cancelled builds after being interrupted.', '1;31'));
          break;
        }
        if (failures.length > 0) {
          opts.write('\n');
          line(e, paint("==> Some builds didn't complete successfully and had errors:", '1;31'));
          for (const [b, err] of failures) line(e, paint(`--> ${b}: ${err}`, '1;31'));
        }
        opts.write('\n');
        if (e.artifacts.length === 0) {
          line(e, '==> Builds finished but no artifacts were created.');
        } else {
          line(e, '==> Builds finished. The artifacts of successful builds are:');
          for (const { build, artifacts } of e.artifacts) for (const a of artifacts) line(e, `--> ${build}: ${a.description}`);
        }
        break;
      }
      default:
        break;
    }
  };
}
