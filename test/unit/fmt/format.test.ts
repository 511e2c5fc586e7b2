import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatHCL } from '../../../src/template/fmt/format.js';

const DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'fmt');
const inputs = readdirSync(DIR).filter((n) => n.endsWith('.pkr.hcl'));

function fmt(text: string): string {
  const r = formatHCL(text, 't.pkr.hcl');
  expect(r.diagnostics).toEqual([]);
  return r.output;
}

describe('kiln fmt', () => {
  // The golden files are what `packer fmt` (1.6.6) wrote for each input.
  for (const name of inputs) {
    it(`writes what packer fmt writes for ${name}`, () => {
      const golden = readFileSync(join(DIR, name.replace('.pkr.hcl', '.golden.hcl')), 'utf8');
      expect(fmt(readFileSync(join(DIR, name), 'utf8'))).toBe(golden);
    });
  }

  it('is idempotent', () => {
    for (const name of inputs) {
      const once = fmt(readFileSync(join(DIR, name), 'utf8'));
      expect(fmt(once)).toBe(once);
    }
  });

  it('aligns = in runs of single-line arguments, broken by blocks, blank lines and multi-line values', () => {
    expect(fmt('a = 1\nlonger = 2\n\nx = 3\nblock {\nk = 1\n}\n')).toBe('a      = 1\nlonger = 2\n\nx = 3\nblock {\n  k = 1\n}\n');
    expect(fmt('a = 1\nbb = {\nc = 1\n}\n')).toBe('a = 1\nbb = {\n  c = 1\n}\n');
  });

  it('normalizes spacing around operators, commas and brackets and keeps comments', () => {
    expect(fmt('x = f( a,b )[ 0 ]*-1 # note\n')).toBe('x = f(a, b)[0] * -1 # note\n');
    expect(fmt('x = {a=1,b=[1,2]}\n')).toBe('x = { a = 1, b = [1, 2] }\n');
  });

  it('keeps heredoc and string contents byte for byte', () => {
    const src = 'x = <<EOT\n  two  spaces   kept\n\ttab\nEOT\ny = "a   b"\n';
    expect(fmt(src)).toBe(src);
  });

  it('refuses a file with syntax errors and leaves it unchanged', () => {
    const r = formatHCL('a = {\n', 't.pkr.hcl');
    expect(r.diagnostics.length).toBeGreaterThan(0);
    expect(r.output).toBe('a = {\n');
  });
});
