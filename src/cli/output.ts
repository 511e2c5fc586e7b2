/** Printing diagnostics and results for the CLI: colour only on a terminal and without NO_COLOR. */
import type { Diagnostic } from '../core/errors/diagnostic.js';
import { renderDiagnostics, type SourceTexts } from '../core/errors/render.js';
import { Redactor } from '../core/redact.js';

export function useColor(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
}

/**
 * Prints diagnostics to stderr. `secrets` are replaced everywhere in the text, quoted source
 * lines included: a sensitive default written in the template must not reach a CI log.
 */
export function printDiagnostics(diags: readonly Diagnostic[], texts: SourceTexts, secrets: Iterable<string> = []): void {
  if (diags.length === 0) return;
  // Errors first, then warnings, each in the order found.
  const ordered = [...diags.filter((d) => d.severity === 'error'), ...diags.filter((d) => d.severity === 'warning')];
  const text = renderDiagnostics(dedupe(ordered), texts, { color: useColor(process.stderr) });
  process.stderr.write(new Redactor(secrets).text(text));
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
