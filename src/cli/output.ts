/** Printing diagnostics and results for the CLI: colour only on a terminal and without NO_COLOR. */
import type { Diagnostic } from '../core/errors/diagnostic.js';
import { renderDiagnostics, type SourceTexts } from '../core/errors/render.js';

export function useColor(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
}

export function printDiagnostics(diags: readonly Diagnostic[], texts: SourceTexts): void {
  if (diags.length === 0) return;
  // Errors first, then warnings, each in the order found.
  const ordered = [...diags.filter((d) => d.severity === 'error'), ...diags.filter((d) => d.severity === 'warning')];
  process.stderr.write(renderDiagnostics(dedupe(ordered), texts, { color: useColor(process.stderr) }));
}

/** The same problem found twice (a variable used in two builds, say) is reported once. */
function dedupe(diags: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diags.filter((d) => {
    const key = `${d.severity}|${d.summary}|${d.detail ?? ''}|${d.subject ? `${d.subject.filename}:${d.subject.start.byte}` : ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Thrown by a command to end with an exit code after it has printed what it had to say. */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
    this.name = 'ExitCode';
  }
}
