/**
 * Diagnostics: the one shape every user-facing problem takes, from a template syntax error to a
 * plugin config error. A diagnostic names a source range when one exists, so the renderer can
 * show the offending line with a caret.
 */

export interface Pos {
  /** 1-based line. */
  line: number;
  /** 1-based column, counted in characters (code points) as editors show them. */
  column: number;
  /** 0-based offset into the file's text (UTF-16 code units, as JS strings index). */
  byte: number;
}

export interface SourceRange {
  filename: string;
  start: Pos;
  end: Pos;
}

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  summary: string;
  detail?: string;
  /** The exact construct that is wrong. */
  subject?: SourceRange;
  /** A wider range around the subject (a whole block, say), used only for display. */
  context?: SourceRange;
}

export function error(summary: string, detail?: string, subject?: SourceRange): Diagnostic {
  return { severity: 'error', summary, ...(detail !== undefined && { detail }), ...(subject && { subject }) };
}

export function warning(summary: string, detail?: string, subject?: SourceRange): Diagnostic {
  return { severity: 'warning', summary, ...(detail !== undefined && { detail }), ...(subject && { subject }) };
}

export function hasErrors(diags: readonly Diagnostic[]): boolean {
  return diags.some((d) => d.severity === 'error');
}

/**
 * Thrown when work cannot continue past user errors. Carries every diagnostic found so far, so
 * the CLI can report all of them at once and exit 1 without a stack trace.
 */
export class DiagnosticsError extends Error {
  readonly diagnostics: readonly Diagnostic[];
  constructor(diagnostics: readonly Diagnostic[]) {
    const first = diagnostics.find((d) => d.severity === 'error') ?? diagnostics[0];
    super(first ? first.summary : 'unknown error');
    this.name = 'DiagnosticsError';
    this.diagnostics = diagnostics;
  }
}

/** A range covering both a and b (a must start first and both be in one file). */
export function spanRanges(a: SourceRange, b: SourceRange): SourceRange {
  return { filename: a.filename, start: a.start, end: b.end };
}

export function formatPos(r: SourceRange): string {
  return `${r.filename}:${r.start.line}:${r.start.column}`;
}
