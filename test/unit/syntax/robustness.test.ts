/**
 * The parsers must survive anything: truncated, mutated, binary or hostile input comes back as
 * diagnostics with sane positions, never as an exception or a hang. (The 10,000-case fuzz test
 * of `validate` lives with the CLI tests; this is the syntax layer's own quick version.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../../src/core/errors/diagnostic.js';
import { formatHCL } from '../../../src/template/fmt/format.js';
import { parseHCL, parseJSON } from '../../../src/template/syntax/index.js';
import { PACKER_JSON_SCHEMA } from '../../../src/template/syntax/packer-schema.js';

const DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'syntax');
const HCL = readFileSync(join(DIR, 'realistic.pkr.hcl'), 'utf8');
const JSON_TEXT = readFileSync(join(DIR, 'realistic.pkr.json'), 'utf8');

/** A small deterministic PRNG, mulberry32 (so a failure can be replayed). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const PIECES = ['{', '}', '[', ']', '(', ')', '"', '=', ',', '.', ':', '?', '!', '-', '*', '/', '<', '>', '&', '|', '$', '%', '~', '#', '\n', ' ', '\t', "'", 'a', '0', '\\', '${', '%{', '<<EOT\n', '<<-X\n', 'EOT\n', '...', '=>', '\r\n', 'é', '🙂', '\u0000', '\ufeff', '//', '/*', '*/', 'for', 'if', 'in', '\ud800'];

function mutate(text: string, rnd: () => number): string {
  let t = text;
  const edits = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < edits; k++) {
    const i = Math.floor(rnd() * (t.length + 1));
    const r = rnd();
    if (r < 0.25) t = t.slice(0, i) + t.slice(i + 1 + Math.floor(rnd() * 8));
    else if (r < 0.55) t = t.slice(0, i) + PIECES[Math.floor(rnd() * PIECES.length)]! + t.slice(i);
    else if (r < 0.7) t = t.slice(0, i);
    else if (r < 0.85) t = t.slice(0, i) + t.slice(Math.floor(rnd() * t.length));
    else t = t.slice(0, i) + t.slice(i, i + Math.floor(rnd() * 200)).repeat(2) + t.slice(i);
  }
  return t;
}

/** Problems with the diagnostics' shape, as text (one `expect` per file keeps this fast). */
function positionProblems(diags: readonly Diagnostic[], text: string, filename: string): string[] {
  const lines = text.split('\n').length;
  const problems: string[] = [];
  for (const d of diags) {
    const s = d.subject;
    if (d.severity !== 'error' || d.summary === '' || !s) problems.push(`malformed: ${JSON.stringify(d)}`);
    else if (s.filename !== filename || s.start.line < 1 || s.start.line > lines || s.start.column < 1 || s.start.byte < 0 || s.start.byte > text.length || s.end.byte < s.start.byte) {
      problems.push(`bad subject for "${d.summary}": ${JSON.stringify(s)}`);
    }
  }
  return problems;
}

function checkPositions(diags: readonly Diagnostic[], text: string, filename: string): void {
  const problems = positionProblems(diags, text, filename);
  if (problems.length > 0) expect({ text, problems }).toEqual({ text, problems: [] });
}

describe('robustness', () => {
  it('the realistic fixtures parse cleanly', () => {
    expect(parseHCL(HCL, 'r.pkr.hcl').diagnostics).toEqual([]);
    expect(parseJSON(JSON_TEXT, 'r.pkr.json', PACKER_JSON_SCHEMA).diagnostics).toEqual([]);
  });

  it('2,000 mutated and truncated templates: no exception, sane diagnostics, fmt idempotent when clean', () => {
    const rnd = random(20261122);
    let clean = 0;
    for (let n = 0; n < 1000; n++) {
      const text = mutate(HCL, rnd);
      const r = parseHCL(text, 'm.pkr.hcl');
      expect(r.file.syntax).toBe('hcl');
      checkPositions(r.diagnostics, text, 'm.pkr.hcl');
      if (r.diagnostics.length === 0) {
        clean++;
        const f = formatHCL(text, 'm.pkr.hcl');
        expect(formatHCL(f.output, 'm.pkr.hcl').output).toBe(f.output);
      }
    }
    for (let n = 0; n < 1000; n++) {
      const text = mutate(JSON_TEXT, rnd);
      const r = parseJSON(text, 'm.pkr.json', PACKER_JSON_SCHEMA);
      expect(r.file.syntax).toBe('json');
      checkPositions(r.diagnostics, text, 'm.pkr.json');
    }
    // Some mutations leave valid text (a changed name, a removed blank): those must stay valid.
    expect(clean).toBeGreaterThan(20);
  });

  it('hostile inputs terminate with diagnostics', () => {
    const inputs = [
      '\u0000\u0001\u0002\u00ff'.repeat(1000),
      Array.from({ length: 5000 }, (_, i) => String.fromCharCode((i * 7919) % 65536)).join(''),
      '"'.repeat(10001),
      '${'.repeat(5000),
      '{'.repeat(5000),
      '}'.repeat(5000),
      '<<EOT\n'.repeat(3000),
      'a = <<EOT\n' + 'x\n'.repeat(10000),
      '/*'.repeat(5000),
      'a '.repeat(5000),
      'a = ' + 'x.'.repeat(5000),
      'a = ' + '1 + '.repeat(5000) + '1',
      'a = "' + '%{ if x }'.repeat(5000),
      'a = [' + '"x",\n'.repeat(5000),
    ];
    for (const text of inputs) {
      const h = parseHCL(text, 'h.pkr.hcl');
      checkPositions(h.diagnostics, text, 'h.pkr.hcl');
      const j = parseJSON(text, 'h.pkr.json', PACKER_JSON_SCHEMA);
      expect(j.diagnostics.length).toBeGreaterThan(0);
    }
  });
});
