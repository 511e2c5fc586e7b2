import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger, listLedgers, openRecords, readEntries } from '../../../src/state/ledger.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'kiln-ledger-test-'));
  dirs.push(d);
  return d;
}

describe('resource ledger', () => {
  it('has the record on disk before record() resolves, and closes it on release', async () => {
    const runs = tmp();
    const l = Ledger.open('run-1', join(runs, 'run-1'));
    const h = await l.record('tempdir', 'a dir', { path: '/tmp/x' }, 'null.a');
    const onDisk = openRecords(readEntries(l.path));
    expect(onDisk).toHaveLength(1);
    expect(onDisk[0]).toMatchObject({ kind: 'tempdir', data: { path: '/tmp/x' }, build: 'null.a' });
    await h.update({ extra: 1 });
    expect(openRecords(readEntries(l.path))[0]!.data).toEqual({ path: '/tmp/x', extra: 1 });
    await h.release();
    expect(openRecords(readEntries(l.path))).toHaveLength(0);
    l.finish();
    expect(existsSync(l.path)).toBe(false);
  });

  it('batches concurrent records into few flushes without losing any', async () => {
    const runs = tmp();
    const l = Ledger.open('run-2', join(runs, 'run-2'));
    const handles = await Promise.all(Array.from({ length: 500 }, (_, i) => l.record('process', `p${i}`, { pid: i })));
    expect(openRecords(readEntries(l.path))).toHaveLength(500);
    await Promise.all(handles.slice(0, 250).map((h) => h.release()));
    expect(openRecords(readEntries(l.path)).map((r) => r.description)).toEqual(Array.from({ length: 250 }, (_, i) => `p${i + 250}`));
    l.abandon();
    expect(listLedgers(runs)).toEqual([l.path]);
  });

  it('reads a journal whose last line was torn by a crash', async () => {
    const runs = tmp();
    const l = Ledger.open('run-3', join(runs, 'run-3'));
    await l.record('tempdir', 'kept', { path: '/tmp/y' });
    l.abandon();
    const text = readFileSync(l.path, 'utf8') + '{"t":"create","id":"r9","ki';
    const { writeFileSync } = await import('node:fs');
    writeFileSync(l.path, text);
    expect(openRecords(readEntries(l.path)).map((r) => r.description)).toEqual(['kept']);
  });
});
