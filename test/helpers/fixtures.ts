/** The template fixture corpus and its INDEX.md: what each template must give. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

export const TEMPLATES = join(ROOT, 'test', 'fixtures', 'templates');

export interface FixtureRow {
  folder: string;
  /** Expected build names for a valid template. */
  builds?: string[];
  /** For an invalid template: where the first error points (file:line:col), if anywhere, and its summary (never empty). */
  error?: { at?: string; summary: string };
  /** Packer 1.6.6 accepts it (not a "modern" template). */
  packerAccepts: boolean;
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
    const row: FixtureRow = { folder, args, packerAccepts: m[3]!.startsWith('accepts') };
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
