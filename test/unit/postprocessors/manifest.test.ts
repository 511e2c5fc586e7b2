import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import plugin from '../../../plugins/postprocessor-manifest/index.js';
import { formatManifest, goQuote, parseManifest, type ManifestBuild } from '../../../plugins/postprocessor-manifest/format.js';
import { acquireLock } from '../../../plugins/postprocessor-manifest/lock-file.js';
import { withMutex } from '../../../plugins/postprocessor-manifest/mutex.js';
import type { Artifact } from '../../../src/sdk/artifact.js';
import type { PostProcessorPlugin } from '../../../src/sdk/plugin.js';
import { fileArtifact, runPostProcessor, type FakeContextOptions } from '../../helpers/postprocessor-context.js';

const manifest = plugin.postProcessors[0] as PostProcessorPlugin<unknown>;
const RUN1 = 'aaaaaaaa-0000-4000-8000-000000000001';
const RUN2 = 'aaaaaaaa-0000-4000-8000-000000000002';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kiln-manifest-test-'));
  dirs.push(d);
  return d;
}

const nullArtifact: Artifact = { builderId: 'packer.null', id: 'Null', files: [], description: 'Did not export anything. This is the null builder', state: {} };

function run(raw: Record<string, unknown>, input: Artifact = nullArtifact, opts: FakeContextOptions = {}) {
  return runPostProcessor(manifest, raw, input, opts);
}

/** Files in `dir` other than the manifest itself: locks, temp files. */
function leftovers(dir: string, keep: string[]): string[] {
  return readdirSync(dir).filter((f) => !keep.includes(f));
}

describe('manifest file format (Packer 1.6.6, Go MarshalIndent)', () => {
  const build: ManifestBuild = {
    name: 'a',
    builder_type: 'null',
    build_time: 1795373740,
    files: null,
    artifact_id: 'Null',
    packer_run_uuid: RUN1,
    custom_data: { foo: '<bar&>', a: '1' },
  };

  it('writes fields in Packer order, two-space indent, sorted custom_data, HTML-safe escapes, no final newline', () => {
    const text = formatManifest({ builds: [build], last_run_uuid: RUN1 });
    expect(text).toBe(
      [
        '{',
        '  "builds": [',
        '    {',
        '      "name": "a",',
        '      "builder_type": "null",',
        '      "build_time": 1795373740,',
        '      "files": null,',
        '      "artifact_id": "Null",',
        `      "packer_run_uuid": "${RUN1}",`,
        '      "custom_data": {',
        '        "a": "1",',
        '        "foo": "\\u003cbar\\u0026\\u003e"',
        '      }',
        '    }',
        '  ],',
        `  "last_run_uuid": "${RUN1}"`,
        '}',
      ].join('\n'),
    );
  });

  it('leaves build_time out when it is 0 (strip_time) and writes files as objects', () => {
    const text = formatManifest({ builds: [{ ...build, build_time: 0, files: [{ name: 'out.txt', size: 5 }], custom_data: null }], last_run_uuid: RUN1 });
    expect(text).not.toContain('build_time');
    expect(text).toContain('"files": [\n        {\n          "name": "out.txt",\n          "size": 5\n        }\n      ],');
    expect(text).toContain('"custom_data": null');
  });

  it('keeps integer-like custom_data keys in Go (byte) order, not JS object order', () => {
    const text = formatManifest({ builds: [{ ...build, custom_data: { b: 'x', '10': 'y', '9': 'z' } }], last_run_uuid: '' });
    expect(text.indexOf('"10"')).toBeLessThan(text.indexOf('"9"'));
    expect(text.indexOf('"9"')).toBeLessThan(text.indexOf('"b"'));
  });

  it('quotes strings as Go does', () => {
    expect(goQuote('a"b\\c\n\r\t')).toBe('"a\\"b\\\\c\\n\\r\\t"');
    expect(goQuote('\b\f\u0001\u001f')).toBe('"\\u0008\\u000c\\u0001\\u001f"');
    expect(goQuote('\u2028\u2029')).toBe('"\\u2028\\u2029"');
    expect(goQuote('é😀\u007f')).toBe('"é😀\u007f"');
    expect(goQuote('x\ud800y')).toBe('"x\\ufffdy"');
  });

  it('parses what it writes, and Packer manifests with fields it does not know', () => {
    const m = { builds: [build], last_run_uuid: RUN1 };
    expect(parseManifest(formatManifest(m))).toEqual(m);
    const withExtra = JSON.stringify({ builds: [{ name: 'x', extra: 1, files: [{ name: 'f', size: 3, more: true }] }], last_run_uuid: 'u', other: [] });
    expect(parseManifest(withExtra)).toEqual({
      builds: [{ name: 'x', builder_type: '', build_time: 0, files: [{ name: 'f', size: 3 }], artifact_id: '', packer_run_uuid: '', custom_data: null }],
      last_run_uuid: 'u',
    });
    expect(parseManifest('')).toEqual({ builds: null, last_run_uuid: '' });
  });

  it('rejects manifests with values of the wrong type', () => {
    expect(() => parseManifest('{"builds": {}}')).toThrow(/"builds" must be a list/);
    expect(() => parseManifest('{"builds": [{"files": [{"size": "5"}]}]}')).toThrow(/builds\[0\]\.files\[0\]\.size must be a whole number/);
    expect(() => parseManifest('[1]')).toThrow(/not a JSON object/);
    expect(() => parseManifest('{"builds": [')).toThrow(/not valid JSON/);
  });
});

describe('manifest post-processor', () => {
  it('creates the manifest with one entry and passes the artifact on, always kept', async () => {
    const dir = tempDir();
    const output = join(dir, 'packer-manifest.json');
    const before = Math.floor(Date.now() / 1000);
    const { result, recorded } = await run({ output, custom_data: { team: 'platform' } });
    expect(result).toEqual({ artifact: nullArtifact, keepInput: true, forceOverride: true });
    expect(recorded.ui).toEqual([]);
    const m = JSON.parse(readFileSync(output, 'utf8'));
    expect(m).toEqual({
      builds: [{ name: 'a', builder_type: 'null', build_time: expect.any(Number), files: null, artifact_id: 'Null', packer_run_uuid: expect.any(String), custom_data: { team: 'platform' } }],
      last_run_uuid: m.builds[0].packer_run_uuid,
    });
    expect(m.builds[0].build_time).toBeGreaterThanOrEqual(before);
    expect(leftovers(dir, ['packer-manifest.json'])).toEqual([]);
    expect(statSync(output).mode & 0o777).toBe(0o664 & ~process.umask());
  });

  it('defaults output to packer-manifest.json', () => {
    expect(manifest.schema.parse({})).toEqual({ output: 'packer-manifest.json', strip_path: false, strip_time: false });
  });

  it('takes numbers and bools in custom_data as strings, as HCL converts them for Packer', () => {
    expect(manifest.schema.parse({ custom_data: { v: 2, on: true, s: 'x' } })).toMatchObject({ custom_data: { v: '2', on: 'true', s: 'x' } });
  });

  it('rejects unknown options', () => {
    const r = manifest.schema.safeParse({ ouput: 'x.json' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.code).toBe('unrecognized_keys');
  });

  it('records files with sizes, strip_path and strip_time', async () => {
    const dir = tempDir();
    const f = join(dir, 'disk.img');
    writeFileSync(f, 'x'.repeat(1234));
    const output = join(dir, 'm.json');
    await run({ output, strip_path: true, strip_time: true }, fileArtifact([f, join(dir, 'gone.txt')], 'File'), { sourceName: 'x', builderType: 'file' });
    const text = readFileSync(output, 'utf8');
    const m = JSON.parse(text);
    expect(text).not.toContain('build_time');
    expect(m.builds[0].files).toEqual([
      { name: 'disk.img', size: 1234 },
      { name: 'gone.txt', size: 0 },
    ]);
    expect(m.builds[0]).toMatchObject({ name: 'x', builder_type: 'file', artifact_id: 'File', custom_data: null });
  });

  it('keeps full paths without strip_path', async () => {
    const dir = tempDir();
    const f = join(dir, 'disk.img');
    writeFileSync(f, 'abc');
    const output = join(dir, 'm.json');
    await run({ output }, fileArtifact([f]));
    expect(JSON.parse(readFileSync(output, 'utf8')).builds[0].files).toEqual([{ name: f, size: 3 }]);
  });

  it('appends across runs, keeping older entries byte for byte, and records the last run', async () => {
    const dir = tempDir();
    const output = join(dir, 'm.json');
    await run({ output }, nullArtifact, { runId: RUN1, sourceName: 'a' });
    await run({ output }, nullArtifact, { runId: RUN1, sourceName: 'b' });
    const first = readFileSync(output, 'utf8');
    await run({ output }, nullArtifact, { runId: RUN2, sourceName: 'a' });
    const m = JSON.parse(readFileSync(output, 'utf8'));
    expect(m.builds.map((b: ManifestBuild) => `${b.name}@${b.packer_run_uuid}`)).toEqual([`a@${RUN1}`, `b@${RUN1}`, `a@${RUN2}`]);
    expect(m.last_run_uuid).toBe(RUN2);
    // The earlier entries are rewritten exactly as they were.
    const firstBuilds = first.slice(0, first.lastIndexOf('\n    }') + 6);
    expect(readFileSync(output, 'utf8').startsWith(firstBuilds)).toBe(true);
  });

  it('redacts sensitive values in custom_data', async () => {
    const dir = tempDir();
    const output = join(dir, 'm.json');
    await run({ output, custom_data: { token: 'abc s3cr3t def' } }, nullArtifact, { redact: (t) => t.replaceAll('s3cr3t', '<sensitive>') });
    expect(JSON.parse(readFileSync(output, 'utf8')).builds[0].custom_data).toEqual({ token: 'abc <sensitive> def' });
  });

  it('refuses to overwrite a manifest that is not valid JSON, naming the file', async () => {
    const dir = tempDir();
    const output = join(dir, 'm.json');
    writeFileSync(output, '{"builds": [ oops');
    await expect(run({ output })).rejects.toThrow(`Unable to parse manifest ${output}: it is not valid JSON`);
    expect(readFileSync(output, 'utf8')).toBe('{"builds": [ oops');
    expect(leftovers(dir, ['m.json'])).toEqual([]);
  });

  it('creates missing parent directories and keeps an existing file mode', async () => {
    const dir = tempDir();
    const output = join(dir, 'sub', 'dir', 'm.json');
    await run({ output });
    const { chmodSync } = await import('node:fs');
    chmodSync(output, 0o600);
    await run({ output });
    expect(statSync(output).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(output, 'utf8')).builds).toHaveLength(2);
  });

  it('holds all 100 entries when 100 builds finish at once in one process', async () => {
    const dir = tempDir();
    const output = join(dir, 'm.json');
    await Promise.all(Array.from({ length: 100 }, (_, i) => run({ output }, nullArtifact, { sourceName: `s${i}` })));
    const m = JSON.parse(readFileSync(output, 'utf8'));
    expect(new Set(m.builds.map((b: ManifestBuild) => b.name)).size).toBe(100);
    expect(leftovers(dir, ['m.json'])).toEqual([]);
  });
});

describe('manifest lock file', () => {
  function deadPid(): number {
    const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    return Number(r.stdout);
  }

  it('breaks the stale lock of a dead process', async () => {
    const dir = tempDir();
    const output = join(dir, 'm.json');
    writeFileSync(`${output}.lock`, JSON.stringify({ host: (await import('node:os')).hostname(), pid: deadPid(), token: 'old', created: 'then' }));
    await run({ output });
    expect(JSON.parse(readFileSync(output, 'utf8')).builds).toHaveLength(1);
    expect(leftovers(dir, ['m.json'])).toEqual([]);
  });

  it("breaks an old unreadable lock (Packer's are empty) but waits for a fresh one", async () => {
    const dir = tempDir();
    const lock = join(dir, 'm.json.lock');
    writeFileSync(lock, '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    const release = await acquireLock(lock, { timeoutMs: 5_000 });
    await release();
    expect(leftovers(dir, [])).toEqual([]);

    writeFileSync(lock, '');
    await expect(acquireLock(lock, { timeoutMs: 300 })).rejects.toThrow(/held by an unknown process/);
  });

  it('waits for a live holder and goes on once it lets go', async () => {
    const dir = tempDir();
    const lock = join(dir, 'x.lock');
    const release = await acquireLock(lock);
    const order: string[] = [];
    const second = acquireLock(lock).then((r) => {
      order.push('second acquired');
      return r;
    });
    await new Promise((r) => setTimeout(r, 150));
    order.push('first releases');
    await release();
    await (await second)();
    expect(order).toEqual(['first releases', 'second acquired']);
    expect(leftovers(dir, [])).toEqual([]);
  });

  it('stops waiting when the build is cancelled, and writes nothing', async () => {
    const dir = tempDir();
    const output = join(dir, 'm.json');
    const release = await acquireLock(`${output}.lock`);
    const ac = new AbortController();
    const pending = run({ output }, nullArtifact, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('Build was cancelled.')), 50);
    await expect(pending).rejects.toThrow('Build was cancelled.');
    await release();
    expect(leftovers(dir, [])).toEqual([]);
  });

  it('in-process mutex: a cancelled waiter does not let the next one in early', async () => {
    const log: string[] = [];
    let finishFirst!: () => void;
    const first = withMutex('k', undefined, () => new Promise<void>((r) => (finishFirst = r)).then(() => void log.push('first done')));
    const ac = new AbortController();
    const cancelled = withMutex('k', ac.signal, async () => void log.push('cancelled ran'));
    const third = withMutex('k', undefined, async () => void log.push('third ran'));
    ac.abort(new Error('stop'));
    await expect(cancelled).rejects.toThrow('stop');
    await new Promise((r) => setTimeout(r, 20));
    expect(log).toEqual([]);
    finishFirst();
    await Promise.all([first, third]);
    expect(log).toEqual(['first done', 'third ran']);
  });
});

describe('leftovers of a killed write (the manifest-write reaper)', () => {
  const reap = plugin.reapers['manifest-write'];
  const token = '0123456789abcdef';

  it('a lock is never seen empty: it appears holding its owner, and its content file goes', async () => {
    const dir = tempDir();
    const lock = join(dir, 'm.json.lock');
    const release = await acquireLock(lock, { token });
    expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ pid: process.pid, token });
    expect(leftovers(dir, ['m.json.lock'])).toEqual([]);
    await release();
    expect(leftovers(dir, [])).toEqual([]);
  });

  it('removes the temp file and the lock the record names, but not a lock someone else holds now', async () => {
    const dir = tempDir();
    const path = join(dir, 'm.json');
    const temp = join(dir, `.m.json.4242.0badc0de.tmp`);
    writeFileSync(path, '{"builds":[],"last_run_uuid":""}');
    writeFileSync(temp, 'half a manifest');
    writeFileSync(`${path}.lock`, JSON.stringify({ host: 'h', pid: 4242, token, created: '' }));
    writeFileSync(`${path}.lock.${token}.new`, '{}');
    await reap({ manifest: path, lock: `${path}.lock`, token, temp }, AbortSignal.timeout(5000));
    expect(leftovers(dir, [])).toEqual(['m.json']);

    writeFileSync(`${path}.lock`, JSON.stringify({ host: 'h', pid: 1, token: 'ffffffffffffffff', created: '' }));
    await reap({ manifest: path, lock: `${path}.lock`, token, temp }, AbortSignal.timeout(5000));
    expect(leftovers(dir, []).sort()).toEqual(['m.json', 'm.json.lock']);
  });

  it('refuses a record that names anything but its own files', async () => {
    const dir = tempDir();
    const path = join(dir, 'm.json');
    const victim = join(dir, 'precious.txt');
    writeFileSync(victim, 'keep me');
    await expect(reap({ manifest: path, lock: `${path}.lock`, token, temp: victim }, AbortSignal.timeout(5000))).rejects.toThrow(/refusing/);
    await expect(reap({ manifest: path, lock: victim, token, temp: join(dir, '.m.json.1.0badc0de.tmp') }, AbortSignal.timeout(5000))).rejects.toThrow(/refusing/);
    await expect(reap({ manifest: path, lock: `${path}.lock`, token: '../../x', temp: join(dir, '.m.json.1.0badc0de.tmp') }, AbortSignal.timeout(5000))).rejects.toThrow(/refusing/);
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
  });
});
