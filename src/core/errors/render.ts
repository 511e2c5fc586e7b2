import type { Diagnostic, SourceRange } from './diagnostic.js';

/** Source texts by filename, so a diagnostic can quote the line it points at. */
export type SourceTexts = ReadonlyMap<string, string>;

export interface RenderOptions {
  color?: boolean;
}

const RED = '\u001b[31m';
const YELLOW = '\u001b[33m';
const BOLD = '\u001b[1m';
const RESET = '\u001b[0m';

/**
 * Renders a diagnostic the way Packer/HCL do, plus a caret line under the subject:
 *
 *   Error: Unsupported argument
 *
 *     on build.pkr.hcl:3:3:
 *        3 |   foo = "bar"
 *          |   ^^^
 *
 *   An argument named "foo" is not expected here. Did you mean "for"?
 */
export function renderDiagnostic(d: Diagnostic, sources: SourceTexts, opts: RenderOptions = {}): string {
  const c = opts.color ?? false;
  const label = d.severity === 'error' ? 'Error' : 'Warning';
  const tint = d.severity === 'error' ? RED : YELLOW;
  const out: string[] = [];
  out.push(c ? `${tint}${BOLD}${label}:${RESET}${BOLD} ${d.summary}${RESET}` : `${label}: ${d.summary}`);
  if (d.subject) {
    out.push('');
    out.push(`  on ${d.subject.filename}:${d.subject.start.line}:${d.subject.start.column}:`);
    out.push(...snippet(d.subject, sources.get(d.subject.filename)));
  }
  if (d.detail) {
    out.push('');
    out.push(d.detail);
  }
  return out.join('\n') + '\n';
}

export function renderDiagnostics(diags: readonly Diagnostic[], sources: SourceTexts, opts: RenderOptions = {}): string {
  return diags.map((d) => renderDiagnostic(d, sources, opts)).join('\n');
}

function snippet(r: SourceRange, text: string | undefined): string[] {
  if (text === undefined) return [];
  const lines = text.split(/\r?\n/);
  const lineText = lines[r.start.line - 1];
  if (lineText === undefined) return [];
  const num = String(r.start.line);
  const gutter = ' '.repeat(Math.max(0, 5 - num.length)) + num + ' | ';
  const blank = ' '.repeat(gutter.length - 2) + '| ';
  // Columns are code points; expand tabs identically on both lines so the caret lines up.
  const chars = Array.from(lineText);
  const startCol = Math.max(1, r.start.column);
  const endCol = r.end.line === r.start.line ? Math.max(startCol + 1, r.end.column) : chars.length + 1;
  let pad = '';
  for (let i = 0; i < startCol - 1 && i < chars.length; i++) pad += chars[i] === '\t' ? '\t' : ' ';
  const width = Math.max(1, Math.min(endCol, chars.length + 1) - startCol);
  return [gutter + lineText, blank + pad + '^'.repeat(width)];
}
