/**
 * The fixture corpus (test/fixtures/templates, described by its INDEX.md): every valid template
 * plans to exactly the builds listed and passes `kiln validate` when kiln has its builders, and
 * every invalid one is rejected by `kiln validate` with the listed error at the listed
 * file:line:col.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kiln } from '../helpers/cli.js';
import { fixtureRows, KILN_BUILDERS, printedDiagnostics as printed, TEMPLATES } from '../helpers/fixtures.js';

const rows = fixtureRows();
const ENV = { HOME: '/nonexistent', USER: 'ci' };

describe('fixture corpus', () => {
  it('has at least 40 templates', () => {
    expect(rows.length).toBeGreaterThanOrEqual(40);
  });

  for (const row of rows.filter((r) => r.builds)) {
    it(`${row.folder}: plans ${row.builds!.join(', ')} and validates as far as kiln has its builders`, () => {
      const cwd = join(TEMPLATES, row.folder);
      const r = kiln(['plan', '--json', ...row.args, '.'], { cwd, env: ENV });
      expect(r.stderr.split('\n').filter((l) => l.startsWith('Error'))).toEqual([]);
      expect(r.code).toBe(0);
      const plan = JSON.parse(r.stdout) as { builds: Array<{ name: string; type: string }> };
      expect(plan.builds.map((b) => b.name)).toEqual(row.builds);

      const v = kiln(['validate', ...row.args, '.'], { cwd, env: ENV });
      const errors = printed(v.stderr).filter((d) => d.severity === 'Error');
      const missing = [...new Set(plan.builds.map((b) => b.type).filter((t) => !KILN_BUILDERS.has(t)))];
      if (missing.length === 0) {
        expect(errors).toEqual([]);
        expect(v.stdout).toBe('The configuration is valid.\n');
        expect(v.code).toBe(0);
        return;
      }
      // Nothing but the missing builders is wrong: every error names one of them, or the
      // required plugin that would have provided it.
      expect(v.code).toBe(1);
      expect(errors.length).toBeGreaterThan(0);
      const allowed = new Set([...missing.map((t) => `Unknown source type "${t}"`), 'Plugin not available']);
      expect(errors.filter((d) => !allowed.has(d.summary))).toEqual([]);
      if (errors.some((d) => d.summary === 'Plugin not available')) expect(v.stderr).toMatch(/The plugin "[^"]+" \([^)]*\) is not installed/);
      else expect(new Set(errors.map((d) => d.summary))).toEqual(new Set(missing.map((t) => `Unknown source type "${t}"`)));
      expect(v.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
    });
  }

  for (const row of rows.filter((r) => r.error)) {
    it(`${row.folder}: rejected with ${row.error!.summary}${row.error!.at ? ` at ${row.error!.at}` : ''}`, () => {
      const r = kiln(['validate', ...row.args, '.'], { cwd: join(TEMPLATES, row.folder) });
      expect(r.code).toBe(1);
      expect(r.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
      const errors = printed(r.stderr).filter((d) => d.severity === 'Error');
      const match = errors.find((d) => (row.error!.at === undefined || d.at === row.error!.at) && d.summary === row.error!.summary);
      expect(match, `expected ${JSON.stringify(row.error)} among ${JSON.stringify(errors)}`).toBeDefined();
    });
  }
});
