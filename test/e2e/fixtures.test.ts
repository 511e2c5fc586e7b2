/**
 * The fixture corpus (test/fixtures/templates, described by its INDEX.md): every valid template
 * plans to exactly the builds listed, and every invalid one is rejected by `kiln validate` with
 * the listed error at the listed file:line:col.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kiln } from '../helpers/cli.js';
import { fixtureRows, TEMPLATES } from '../helpers/fixtures.js';

const rows = fixtureRows();

/** Diagnostics as kiln prints them: summary and the position line under it. */
function printed(stderr: string): Array<{ severity: string; summary: string; at?: string }> {
  const out: Array<{ severity: string; summary: string; at?: string }> = [];
  const re = /^(Error|Warning): (.*)\n(?:\n {2}on (\S+):\n)?/gm;
  for (const m of stderr.matchAll(re)) out.push({ severity: m[1]!, summary: m[2]!, ...(m[3] !== undefined && { at: m[3] }) });
  return out;
}

describe('fixture corpus', () => {
  it('has at least 40 templates', () => {
    expect(rows.length).toBeGreaterThanOrEqual(40);
  });

  for (const row of rows.filter((r) => r.builds)) {
    it(`${row.folder}: plans ${row.builds!.join(', ')}`, () => {
      const r = kiln(['plan', '--json', ...row.args, '.'], { cwd: join(TEMPLATES, row.folder), env: { HOME: '/nonexistent', USER: 'ci' } });
      expect(r.stderr.split('\n').filter((l) => l.startsWith('Error'))).toEqual([]);
      expect(r.code).toBe(0);
      const plan = JSON.parse(r.stdout) as { builds: Array<{ name: string }> };
      expect(plan.builds.map((b) => b.name)).toEqual(row.builds);
    });
  }

  for (const row of rows.filter((r) => r.error)) {
    it(`${row.folder}: rejected with ${row.error!.summary || 'an error'}${row.error!.at ? ` at ${row.error!.at}` : ''}`, () => {
      const r = kiln(['validate', ...row.args, '.'], { cwd: join(TEMPLATES, row.folder) });
      expect(r.code).toBe(1);
      expect(r.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
      const errors = printed(r.stderr).filter((d) => d.severity === 'Error');
      const match = errors.find((d) => (row.error!.at === undefined || d.at === row.error!.at) && (row.error!.summary === '' || d.summary === row.error!.summary));
      expect(match, `expected ${JSON.stringify(row.error)} among ${JSON.stringify(errors)}`).toBeDefined();
    });
  }
});
