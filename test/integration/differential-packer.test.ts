/**
 * Differential: the same templates (null builders, shell-local, only/except/override, dynamic
 * blocks, failing provisioners, valid_exit_codes, manifest) built by Packer 1.6.6 and by kiln,
 * in the same run, with the same command line. Their exit codes, finished/errored builds, the
 * lines the provisioners wrote (and their order within each build) and the manifests agree.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { PACKER, skipWithout } from '../helpers/components.js';

const DIFF = join(ROOT, 'test', 'fixtures', 'differential');
const fixtures = readdirSync(DIFF).filter((n) => /^\d\d-/.test(n));
const work = mkdtempSync(join(tmpdir(), 'kiln-differential-'));
const kilnTmp = join(work, 'tmp');
mkdirSync(kilnTmp);
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(fixture: string, who: 'packer' | 'kiln', machineReadable = false): string {
  const out = join(work, `${fixture}-${who}${machineReadable ? '-mr' : ''}`);
  const env = {
    ...process.env,
    // kiln's temp dirs go to a folder of this test's own, so what other test files (running at
    // the same time) leave in /tmp is not mistaken for kiln's.
    ...(who === 'kiln' && { PACKER: join(ROOT, 'test', 'helpers', 'kiln-as-packer.sh'), KILN_STATE_DIR: join(work, 'state'), TMPDIR: kilnTmp }),
    ...(machineReadable && { MACHINE_READABLE: '1' }),
  };
  execFileSync('bash', [join(DIFF, 'run-packer.sh'), join(DIFF, fixture), out], { env, stdio: 'ignore' });
  return out;
}

function read(dir: string, name: string): string | undefined {
  return existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : undefined;
}

/** Trace lines grouped by their build prefix, in the order each build wrote them. */
function perBuild(trace: string | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of (trace ?? '').split('\n').filter(Boolean)) (out[line.split(' ')[0]!] ??= []).push(line);
  return out;
}

/** A manifest with run-specific values blanked and builds in a stable order. */
function normalizedManifest(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  const m = JSON.parse(text) as { builds: Array<Record<string, unknown>>; last_run_uuid: string };
  const builds = m.builds.map((b) => ({ ...b, build_time: typeof b.build_time, packer_run_uuid: typeof b.packer_run_uuid }));
  builds.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return { builds, last_run_uuid: typeof m.last_run_uuid };
}

/**
 * Machine-readable records without what differs between any two runs: the timestamp, how long
 * things took, the temporary script paths.
 */
function records(stdout: string | undefined, outDir: string): string[] {
  return (stdout ?? '')
    .split('\n')
    .filter(Boolean)
    .map((l) =>
      l
        .replaceAll(outDir, '<out>')
        .replace(/^\d+,/, '')
        .replace(/(finished|errored|completed) after [^:]*?(?=(: |\.$|$))/, '$1 after <duration>')
        .replace(/Running local shell script: \S+/, 'Running local shell script: <script>'),
    );
}

/**
 * An end summary as its build-independent records (in order) and each build's records (in order),
 * whatever order the builds come in: `<build>,…` records and `--> <build>: …` lines belong to it.
 */
function summaryByBuild(tail: string[]): { shared: string[]; builds: Record<string, string[]> } {
  const shared: string[] = [];
  const builds: Record<string, string[]> = {};
  for (const r of tail) {
    const name = /^([^,]+),/.exec(r)?.[1] ?? /^,ui,\w+,--> ([^:]+):/.exec(r)?.[1];
    if (name === undefined) shared.push(r);
    else (builds[name] ??= []).push(r);
  }
  return { shared, builds };
}

describe.skipIf(skipWithout(PACKER))('kiln against Packer 1.6.6 on the differential fixtures', () => {
  it('has the fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(15);
  });

  for (const fixture of fixtures) {
    it(`${fixture}: same exit code, builds, provisioner output and manifest`, () => {
      const p = run(fixture, 'packer');
      const k = run(fixture, 'kiln');
      const why = `\n--- packer ---\n${read(p, 'stdout')}${read(p, 'stderr')}\n--- kiln ---\n${read(k, 'stdout')}${read(k, 'stderr')}`;
      expect(read(k, 'exit-code'), why).toBe(read(p, 'exit-code'));
      expect(read(k, 'builds.txt'), why).toBe(read(p, 'builds.txt'));
      expect(read(k, 'trace.sorted.txt'), why).toBe(read(p, 'trace.sorted.txt'));
      expect(perBuild(read(k, 'trace.txt')), why).toEqual(perBuild(read(p, 'trace.txt')));
      expect(normalizedManifest(read(k, 'manifest.json')), why).toEqual(normalizedManifest(read(p, 'manifest.json')));
    });
  }

  for (const fixture of ['10-failing-provisioner', '13-manifest']) {
    it(`-machine-readable, ${fixture}: the same records, and the same end summary record for record`, () => {
      const pOut = run(fixture, 'packer', true);
      const kOut = run(fixture, 'kiln', true);
      const p = records(read(pOut, 'stdout'), pOut);
      const k = records(read(kOut, 'stdout'), kOut);
      const why = `\n--- packer ---\n${p.join('\n')}\n--- kiln ---\n${k.join('\n')}`;
      // Builds run in parallel, so the body is compared as a set; from "Wait completed" on, the
      // order is Packer's (error-count, the errors, then the artifacts) within each build. Packer
      // 1.6.6 walks its errors and artifacts out of Go maps, so the order of builds varies.
      expect([...k].sort(), why).toEqual([...p].sort());
      const tail = (r: string[]): string[] => r.slice(r.findIndex((l) => l.includes('==> Wait completed')));
      expect(summaryByBuild(tail(k)), why).toEqual(summaryByBuild(tail(p)));
    });
  }

  it('100 parallel builds into one manifest: kiln keeps all 100 (Packer 1.6.6 is only recorded)', async ({ annotate }) => {
    const names = Array.from({ length: 100 }, (_, i) => `b${String(i).padStart(3, '0')}`);
    const tpl = `${names.map((n) => `source "null" "${n}" { communicator = "none" }`).join('\n')}
build {
  sources = [${names.map((n) => `"source.null.${n}"`).join(', ')}]
  provisioner "shell-local" { inline = ["echo one", "echo two", "echo three"] }
  post-processor "manifest" { output = "manifest.json" }
}
`;
    const count = (who: 'packer' | 'kiln'): number => {
      const dir = join(work, `hundred-${who}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 't.pkr.hcl'), tpl);
      const [cmd, args] = who === 'packer' ? ['packer', ['build', '-color=false', '.']] : [process.execPath, [join(ROOT, 'dist', 'bin', 'main.js'), 'build', '.']];
      spawnSync(cmd, args, { cwd: dir, env: { ...process.env, CHECKPOINT_DISABLE: '1', KILN_STATE_DIR: join(work, 'state') }, stdio: 'ignore' });
      try {
        return (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { builds: unknown[] }).builds.length;
      } catch {
        return 0;
      }
    };
    const packer = count('packer');
    await annotate(`Packer 1.6.6 kept ${packer} of 100 manifest entries`);
    expect(count('kiln')).toBe(100);
  }, 120_000);

  it('the kiln side left no temporary directory behind', () => {
    expect(readdirSync(kilnTmp)).toEqual([]);
  });
});
