/** The template fixture corpus and its INDEX.md: what each template must give. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PluginRegistry } from '../../src/core/registry.js';
import { ROOT } from './cli.js';

export const TEMPLATES = join(ROOT, 'test', 'fixtures', 'templates');

/**
 * The builders kiln ships. amazon-ebs and azure-arm are not among them yet: templates using them
 * plan, but validate stops at the builder (or at the required plugin that would provide it).
 */
export const KILN_BUILDERS: ReadonlySet<string> = new Set((await PluginRegistry.create([], TEMPLATES)).types('builder'));

export interface PrintedDiagnostic {
  severity: string;
  summary: string;
  /** file:line:col */
  at?: string;
}

/** Diagnostics as kiln prints them: summary and the position line under it. */
export function printedDiagnostics(stderr: string): PrintedDiagnostic[] {
  const out: PrintedDiagnostic[] = [];
  const re = /^(Error|Warning): (.*)\n(?:\n {2}on (\S+):\n)?/gm;
  for (const m of stderr.matchAll(re)) out.push({ severity: m[1]!, summary: m[2]!, ...(m[3] !== undefined && { at: m[3] }) });
  return out;
}

/** An error that only says kiln lacks a builder the template uses (or the plugin providing it). */
export function isMissingBuilder(d: PrintedDiagnostic): boolean {
  if (d.summary === 'Plugin not available') return true;
  const type = /^Unknown source type "(.+)"$/.exec(d.summary)?.[1];
  return type !== undefined && !KILN_BUILDERS.has(type);
}

export interface FixtureRow {
  folder: string;
  /** Expected build names for a valid template. */
  builds?: string[];
  /** For an invalid template: where the first error points (file:line:col), if anywhere, and its summary (never empty). */
  error?: { at?: string; summary: string };
  /**
   * What `packer validate` of Packer 1.6.6 says (INDEX.md's last column): `modern` rows use
   * features that came after 1.6.6, which it rejects.
   */
  packer: 'accepts' | 'rejects' | 'modern';
  /** That column as written: the reason a row is modern, or what Packer reports. */
  packerNote: string;
  /** Extra command-line arguments (validate.args). */
  args: string[];
}

export function fixtureRows(): FixtureRow[] {
  const rows: FixtureRow[] = [];
  for (const line of readFileSync(join(TEMPLATES, 'INDEX.md'), 'utf8').split('\n')) {
    const m = /^\| `([^`]+)\/` \| .* \| (valid.*?|invalid.*?) \| (.*) \|$/.exec(line);
    if (!m) continue;
    const folder = m[1]!;
    const expected = m[2]!;
    const argsFile = join(TEMPLATES, folder, 'validate.args');
    const args = existsSync(argsFile) ? readFileSync(argsFile, 'utf8').split('\n').filter((l) => l.trim() !== '') : [];
    const note = m[3]!;
    const packer = note.startsWith('accepts') ? 'accepts' : note.startsWith('modern') ? 'modern' : 'rejects';
    const row: FixtureRow = { folder, args, packer, packerNote: note };
    if (expected.startsWith('valid')) {
      row.builds = [...expected.replace(/\(.*?\)/g, '').split(';')[0]!.matchAll(/`([^`]+)`/g)].map((x) => x[1]!);
    } else {
      const at = /^invalid: `([^`]+:\d+:\d+)`/.exec(expected)?.[1];
      const summary = /(?:`|\]|\)) (?:\(.*?\) )?([A-Z][^—]*?)(?: —|$)/.exec(expected)?.[1]?.trim();
      // A row whose summary cannot be read is a broken row, not a row that any error satisfies.
      if (!summary) throw new Error(`INDEX.md: the row for ${folder}/ gives no error summary (write it after the location, in Packer's words)`);
      row.error = { ...(at !== undefined && { at }), summary };
    }
    rows.push(row);
  }
  return rows;
}
