/**
 * Differential: `kiln fmt` and Packer 1.6.6's `packer fmt` write the same bytes for every HCL
 * file of the fixture corpus, and `kiln fmt -check` agrees with the result.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatHCL } from '../../src/template/fmt/format.js';
import { kiln, ROOT } from '../helpers/cli.js';
import { PACKER, skipWithout } from '../helpers/components.js';

function hclFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...hclFiles(p));
    else if (/\.(pkr|pkrvars)\.hcl$/.test(e)) out.push(p);
  }
  return out;
}

const files = hclFiles(join(ROOT, 'test', 'fixtures')).filter((f) => formatHCL(readFileSync(f, 'utf8'), f).diagnostics.length === 0);
const work = mkdtempSync(join(tmpdir(), 'kiln-fmt-diff-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(skipWithout(PACKER))('kiln fmt against packer fmt', () => {
  it(`formats all ${files.length} fixture files exactly as packer fmt does`, () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
    const mismatches: string[] = [];
    files.forEach((f, i) => {
      const copy = join(work, `f${i}.pkr.hcl`);
      copyFileSync(f, copy);
      execFileSync('packer', ['fmt', copy], { stdio: 'ignore' });
      const want = readFileSync(copy, 'utf8');
      const got = formatHCL(readFileSync(f, 'utf8'), f).output;
      if (got !== want) mismatches.push(relative(ROOT, f));
    });
    expect(mismatches).toEqual([]);
  });

  it('-check exits 3 for an unformatted file and 0 after kiln fmt rewrote it', () => {
    const copy = join(work, 'check.pkr.hcl');
    copyFileSync(join(ROOT, 'test', 'fixtures', 'fmt', 'mixed.pkr.hcl'), copy);
    expect(kiln(['fmt', '-check', copy]).code).toBe(3);
    const r = kiln(['fmt', copy]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${copy}\n`);
    expect(kiln(['fmt', '-check', copy]).code).toBe(0);
    const diff = kiln(['fmt', '-diff', '-write=false', join(ROOT, 'test', 'fixtures', 'fmt', 'mixed.pkr.hcl')]).stdout;
    expect(diff).toContain('\n-  ami_name = "foo" # c1\n-  instance_type = "t2.micro"   // c2\n+  ami_name      = "foo"      # c1\n');
  });
});
