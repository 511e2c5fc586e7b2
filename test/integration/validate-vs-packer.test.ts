/**
 * Differential: `packer validate` of Packer 1.6.6 and `kiln validate` on every template of the
 * fixture corpus, in the same run. Where 1.6.6 can judge a template, both accept it or both reject
 * it; Packer's verdict is also the one INDEX.md records (what `packer-verdicts.sh --check` checks).
 *
 * Two differences are expected and checked as such, not skipped:
 * - "modern" rows use features newer than 1.6.6 (`local` blocks, `data`, `required_plugins`,
 *   `templatefile`, `optional()`…): 1.6.6 rejects them, kiln accepts them as today's Packer does.
 * - kiln has no amazon-ebs or azure-arm builder yet, so for templates using them kiln's verdict on
 *   the template is "accepts" when its only errors are about those missing builders.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KILN_BIN } from '../helpers/cli.js';
import { PACKER, skipWithout } from '../helpers/components.js';
import { fixtureRows, isMissingBuilder, printedDiagnostics, TEMPLATES, type FixtureRow } from '../helpers/fixtures.js';

// What packer-verdicts.sh runs Packer with: no network version check, no colours, and no
// variable values from the caller's environment (both tools read PKR_VAR_*).
const ENV: Record<string, string> = Object.fromEntries(
  Object.entries({ ...process.env, CHECKPOINT_DISABLE: '1', PACKER_NO_COLOR: '1', NO_COLOR: '1' }).filter(
    (e): e is [string, string] => e[1] !== undefined && !e[0].startsWith('PKR_VAR_'),
  ),
);

interface Verdict {
  accepts: boolean;
  output: string;
}

/** Runs one tool's `validate` on a fixture folder, as packer-verdicts.sh does. */
function validate(command: readonly string[], row: FixtureRow): { code: number | null; stdout: string; stderr: string } {
  const [cmd, ...args] = command;
  const r = spawnSync(cmd!, [...args, 'validate', ...row.args, '.'], { cwd: join(TEMPLATES, row.folder), env: ENV, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function packerValidate(row: FixtureRow): Verdict {
  const r = validate(['packer'], row);
  return { accepts: r.code === 0, output: `${r.stdout}${r.stderr}` };
}

/** kiln's verdict on the template itself: errors that only say a builder is missing don't count. */
function kilnValidate(row: FixtureRow): Verdict {
  const r = validate([process.execPath, KILN_BIN], row);
  const errors = printedDiagnostics(r.stderr).filter((d) => d.severity === 'Error');
  expect(r.stderr, 'no stack trace').not.toMatch(/\n\s+at .*\.js:\d+/);
  if (r.code === 0) return { accepts: true, output: r.stdout };
  expect(r.code, r.stderr).toBe(1);
  expect(errors.length, `exit 1 without a printed error:\n${r.stderr}`).toBeGreaterThan(0);
  return { accepts: errors.every(isMissingBuilder), output: r.stderr };
}

const rows = fixtureRows();
const judged = rows.filter((r) => r.packer !== 'modern');
const modern = rows.filter((r) => r.packer === 'modern');
const word = (accepts: boolean): string => (accepts ? 'accepts' : 'rejects');

describe.skipIf(skipWithout(PACKER))('kiln validate against packer validate (Packer 1.6.6)', () => {
  it('judges most of the corpus, valid and invalid alike', () => {
    expect(judged.filter((r) => r.builds).length).toBeGreaterThanOrEqual(30);
    expect(judged.filter((r) => r.error).length).toBeGreaterThanOrEqual(15);
  });

  for (const row of judged) {
    it(`${row.folder}: both ${row.packer === 'accepts' ? 'accept' : 'reject'} it`, { timeout: 60_000 }, () => {
      const p = packerValidate(row);
      expect(word(p.accepts), `INDEX.md records "${row.packerNote}"; packer said:\n${p.output}`).toBe(row.packer);
      const k = kilnValidate(row);
      expect(word(k.accepts), `packer ${word(p.accepts)}:\n${p.output}\n--- kiln:\n${k.output}`).toBe(word(p.accepts));
    });
  }

  for (const row of modern) {
    it(`${row.folder}: newer than 1.6.6, which rejects it; kiln accepts it as today's Packer does`, { timeout: 60_000 }, () => {
      const p = packerValidate(row);
      expect(p.accepts, `INDEX.md records "${row.packerNote}"; packer said:\n${p.output}`).toBe(false);
      const k = kilnValidate(row);
      expect(k.accepts, k.output).toBe(true);
    });
  }
});
