/**
 * kiln's ISO 9660 + Joliet writer, read back by xorriso (an independent implementation): names,
 * tree, contents and label; blkid sees the label cloud-init looks for.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IsoError, writeIso } from '../../../src/formats/iso9660.js';
import { skipWithout, XORRISO } from '../../helpers/components.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-iso-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ISO 9660 writer', () => {
  it('writes a cidata seed that xorriso reads with Joliet names, tree and contents', async () => {
    if (skipWithout(XORRISO)) return;
    const big = join(dir, 'big.bin');
    const bigData = Buffer.alloc(5000 + 2048 * 3, 7);
    writeFileSync(big, bigData);
    const iso = join(dir, 'seed.iso');
    const files: Record<string, string> = {
      'user-data': '#cloud-config\nssh_authorized_keys: [ "ssh-ed25519 AAAA test" ]\n',
      'meta-data': 'instance-id: kiln\n',
      'empty.txt': '',
      'scripts/Setup Script – ü.sh': 'echo hi\n',
    };
    // Enough entries that a directory extent spans more than one sector.
    for (let i = 0; i < 60; i++) files[`many/file-with-a-long-name-${String(i).padStart(3, '0')}.cfg`] = `n=${i}\n`;
    await writeIso(
      iso,
      [...Object.entries(files).map(([path, text]) => ({ path, source: { content: Buffer.from(text) } })), { path: 'bin/big.bin', source: { file: big } }],
      { label: 'cidata', unixTime: 1_700_000_000 },
    );
    const listing = execFileSync('xorriso', ['-indev', iso, '-find', '/', '-type', 'f'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    for (const name of Object.keys(files)) expect(listing).toContain(`'/${name}'`);
    const out = join(dir, 'extract');
    execFileSync('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/', out], { stdio: 'ignore' });
    for (const [name, text] of Object.entries(files)) expect(readFileSync(join(out, name), 'utf8')).toBe(text);
    expect(readFileSync(join(out, 'bin/big.bin')).equals(bigData)).toBe(true);
    const pvd = execFileSync('xorriso', ['-indev', iso, '-pvd_info'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(pvd).toMatch(/Volume Id\s*:\s*cidata/);
    expect(execFileSync('blkid', ['-o', 'value', '-s', 'LABEL', iso], { encoding: 'utf8' }).trim()).toBe('cidata');
  });

  it('is byte-identical for the same inputs and time', async () => {
    const a = join(dir, 'a.iso');
    const b = join(dir, 'b.iso');
    for (const p of [a, b]) await writeIso(p, [{ path: 'x', source: { content: Buffer.from('same') } }], { label: 'L', unixTime: 1 });
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
  });

  it('refuses paths given twice, paths through files, and long labels', async () => {
    const c = (path: string) => ({ path, source: { content: Buffer.from('') } });
    await expect(writeIso(join(dir, 'e1.iso'), [c('a'), c('a')], { label: 'x', unixTime: 0 })).rejects.toThrow(/given twice/);
    await expect(writeIso(join(dir, 'e2.iso'), [c('a'), c('a/b')], { label: 'x', unixTime: 0 })).rejects.toThrow(IsoError);
    await expect(writeIso(join(dir, 'e3.iso'), [c('a')], { label: 'x'.repeat(33), unixTime: 0 })).rejects.toThrow(/1 to 32 characters/);
  });
});
