/**
 * The manifest, checksum and compress post-processors against Packer 1.6.6 and real tools:
 * the same template inputs must give the same manifest text (uuids and times aside), the same
 * checksum files, and archives that tar/gzip/zstd accept with the same entries as Packer's.
 * Also: 100 builds writing one manifest at once, in one process and from two processes.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import checksumPlugin from '../../plugins/postprocessor-checksum/index.js';
import compressPlugin from '../../plugins/postprocessor-compress/index.js';
import manifestPlugin from '../../plugins/postprocessor-manifest/index.js';
import type { Artifact } from '../../src/sdk/artifact.js';
import type { PostProcessorPlugin } from '../../src/sdk/plugin.js';
import { PACKER, skipWithout, ZSTD } from '../helpers/components.js';
import { fileArtifact, runPostProcessor, type FakeContextOptions } from '../helpers/postprocessor-context.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const manifest = manifestPlugin.postProcessors[0] as PostProcessorPlugin<unknown>;
const checksum = checksumPlugin.postProcessors[0] as PostProcessorPlugin<unknown>;
const compress = compressPlugin.postProcessors[0] as PostProcessorPlugin<unknown>;

const skipPacker = skipWithout(PACKER);

const dirs: string[] = [];
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `kiln-pp-${prefix}-`));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const ALL_TYPES = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'];
const CUSTOM = { foo: '<bar&>', '1': 'one', a: 'tab\there' };

const TEMPLATE = `
source "null" "a" { communicator = "none" }
source "file" "x" {
  content = "hello"
  target  = "out.txt"
}
build {
  sources = ["source.null.a"]
  post-processor "manifest" {
    output      = "null.json"
    custom_data = { foo = "<bar&>", "1" = "one", a = "tab\\there" }
  }
}
build {
  sources = ["source.file.x"]
  post-processors {
    post-processor "manifest" {
      output     = "file.json"
      strip_path = true
      strip_time = true
    }
    post-processor "checksum" {
      checksum_types = ${JSON.stringify(ALL_TYPES)}
    }
  }
  post-processor "compress" {
    output = "x.tar.gz"
  }
}
`;

/** The manifest text with what differs between any two runs (run ids, times) replaced. */
function masked(text: string): string {
  return text.replace(/"build_time": \d+/g, '"build_time": TIME').replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UUID');
}

function sh(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** What kiln's post-processors do for the template above, run as a build of it would run them. */
async function kilnRun(dir: string, runId: string): Promise<void> {
  const base: FakeContextOptions = { runId };
  const nullArtifact: Artifact = { builderId: 'packer.null', id: 'Null', files: [], description: 'null', state: {} };
  await runPostProcessor(manifest, { output: join(dir, 'null.json'), custom_data: CUSTOM }, nullArtifact, { ...base, sourceName: 'a', builderType: 'null' });
  const cwd = process.cwd();
  process.chdir(dir); // Packer's relative file names: the artifact lists "out.txt"
  try {
    const file = fileArtifact(['out.txt'], 'File');
    const x: FakeContextOptions = { ...base, sourceName: 'x', builderType: 'file' };
    await runPostProcessor(manifest, { output: 'file.json', strip_path: true, strip_time: true }, file, x);
    await runPostProcessor(checksum, { checksum_types: ALL_TYPES }, file, x);
    await runPostProcessor(compress, { output: 'x.tar.gz' }, file, x);
  } finally {
    process.chdir(cwd);
  }
}

describe.skipIf(skipPacker)('kiln post-processors vs Packer 1.6.6', () => {
  let packerDir = '';
  let kilnDir = '';

  beforeAll(async () => {
    packerDir = tempDir('packer');
    writeFileSync(join(packerDir, 'build.pkr.hcl'), TEMPLATE);
    // Twice, to see what Packer appends to files that already exist.
    for (let i = 0; i < 2; i++) {
      execFileSync('packer', ['build', '-color=false', 'build.pkr.hcl'], { cwd: packerDir, env: { ...process.env, CHECKPOINT_DISABLE: '1' }, stdio: 'pipe' });
    }
    kilnDir = tempDir('kiln');
    // Packer's file builder writes the target with mode 0600; the archives must agree on it.
    writeFileSync(join(kilnDir, 'out.txt'), 'hello', { mode: 0o600 });
    chmodSync(join(kilnDir, 'out.txt'), 0o600);
    await kilnRun(kilnDir, '11111111-2222-4333-8444-555555555555');
    await kilnRun(kilnDir, '11111111-2222-4333-8444-666666666666');
  }, 120_000);

  it('writes the same manifest text for null builds with custom_data, across two runs', () => {
    const packer = readFileSync(join(packerDir, 'null.json'), 'utf8');
    const kiln = readFileSync(join(kilnDir, 'null.json'), 'utf8');
    expect(masked(kiln)).toBe(masked(packer));
    // And the types a consumer sees: numbers, strings, null files, a string map.
    const m = JSON.parse(kiln);
    expect(m.builds).toHaveLength(2);
    expect(m.builds[0]).toEqual({ name: 'a', builder_type: 'null', build_time: expect.any(Number), files: null, artifact_id: 'Null', packer_run_uuid: expect.any(String), custom_data: CUSTOM });
    expect(m.last_run_uuid).toBe(m.builds[1].packer_run_uuid);
  });

  it('writes the same manifest text for a file build with strip_path and strip_time', () => {
    expect(masked(readFileSync(join(kilnDir, 'file.json'), 'utf8'))).toBe(masked(readFileSync(join(packerDir, 'file.json'), 'utf8')));
  });

  it('appends to a manifest Packer wrote, keeping its entries byte for byte', async () => {
    const dir = tempDir('interop');
    const packerText = readFileSync(join(packerDir, 'null.json'), 'utf8');
    writeFileSync(join(dir, 'null.json'), packerText);
    const nullArtifact: Artifact = { builderId: 'packer.null', id: 'Null', files: [], description: 'null', state: {} };
    await runPostProcessor(manifest, { output: join(dir, 'null.json') }, nullArtifact, { sourceName: 'b' });
    const text = readFileSync(join(dir, 'null.json'), 'utf8');
    const packerBuilds = packerText.slice(0, packerText.lastIndexOf('\n    }') + 6);
    expect(text.startsWith(packerBuilds)).toBe(true);
    expect(JSON.parse(text).builds.map((b: { name: string }) => b.name)).toEqual(['a', 'a', 'b']);
  });

  it('writes the same checksum files, byte for byte (appended on the second run)', () => {
    const names = (d: string) => readdirSync(d).filter((f) => f.endsWith('.checksum')).sort();
    expect(names(kilnDir)).toEqual(ALL_TYPES.map((t) => `packer_x_file_${t}.checksum`).sort());
    expect(names(kilnDir)).toEqual(names(packerDir));
    for (const f of names(packerDir)) {
      const packer = readFileSync(join(packerDir, f), 'utf8');
      expect(packer.split('\n')).toHaveLength(3); // two runs, two lines
      expect(readFileSync(join(kilnDir, f), 'utf8')).toBe(packer);
    }
  });

  it("writes a .tar.gz that gzip and tar accept, with Packer's entries (name, mode, owner, time)", () => {
    for (const d of [packerDir, kilnDir]) sh('gzip', ['-t', 'x.tar.gz'], d);
    const listing = (d: string) => sh('tar', ['-tvzf', 'x.tar.gz'], d);
    expect(listing(kilnDir)).toBe(listing(packerDir));
    expect(sh('tar', ['-xzOf', 'x.tar.gz', 'out.txt'], kilnDir)).toBe('hello');
  });
});

describe('archives checked by real tools', () => {
  let dir = '';
  const long = `${'n'.repeat(140)}.img`;
  const files: Record<string, Buffer> = {};

  beforeAll(() => {
    dir = tempDir('tools');
    files[long] = randomBytes(300_000);
    files['ünïcödé name.txt'] = Buffer.from('unicode');
    files['empty'] = Buffer.alloc(0);
    files['exact-block'] = randomBytes(1024);
    // Several of the parallel gzip's 1 MiB blocks, compressible so the dictionary matters.
    files['multi-block.txt'] = Buffer.from('kiln '.repeat(900_000));
    for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
  });

  async function make(output: string, names = Object.keys(files)): Promise<string> {
    const target = join(dir, 'out', output);
    await runPostProcessor(compress, { output: target }, fileArtifact(names.map((n) => join(dir, n))), { sourceName: 'x', builderType: 'file' });
    return target;
  }

  function checkExtracted(args: string[], archive: string) {
    const into = join(dir, `x-${randomBytes(3).toString('hex')}`);
    mkdirSync(into);
    sh('tar', [...args, archive, '-C', into], dir);
    for (const [name, data] of Object.entries(files)) expect(readFileSync(join(into, name)).equals(data)).toBe(true);
  }

  it('.tar.gz: gzip -t, tar -tzf lists every name (PAX long and non-ASCII names), extraction is byte-exact', async () => {
    const archive = await make('all.tar.gz');
    sh('gzip', ['-t', archive], dir);
    expect(sh('tar', ['-tzf', archive], dir).split('\n').filter(Boolean)).toEqual(Object.keys(files));
    checkExtracted(['-xzf'], archive);
  });

  it('.tar: tar -tf and extraction', async () => {
    const archive = await make('all.tar');
    expect(sh('tar', ['-tf', archive], dir).split('\n').filter(Boolean)).toEqual(Object.keys(files));
    checkExtracted(['-xf'], archive);
  });

  it('.gz of one file: gzip -t and gzip -dc give the file back', async () => {
    const archive = await make('one.img.gz', [long]);
    sh('gzip', ['-t', archive], dir);
    expect(execFileSync('gzip', ['-dc', archive]).equals(files[long]!)).toBe(true);
  });

  // Where node:zlib has no zstd (before Node.js 22.15) kiln itself writes these through the zstd command.
  it.skipIf(skipWithout(ZSTD))('.tar.zst and .zst: zstd -t, tar --zstd and zstd -d give the files back', async () => {
    const tarZst = await make('all.tar.zst');
    sh('zstd', ['-q', '-t', tarZst], dir);
    checkExtracted(['--zstd', '-xf'], tarZst);
    const zst = await make('one.img.zst', [long]);
    sh('zstd', ['-q', '-t', zst], dir);
    expect(execFileSync('zstd', ['-q', '-d', '-c', zst], { cwd: dir }).equals(files[long]!)).toBe(true);
  });
});

describe('100 builds writing one manifest at once', () => {
  let compiled = '';

  beforeAll(() => {
    // Child processes run plain Node: compile the plugin (and the SDK it imports) to JavaScript.
    const out = tempDir('compiled');
    symlinkSync(join(REPO, 'node_modules'), join(out, 'node_modules'));
    writeFileSync(
      join(out, 'tsconfig.json'),
      JSON.stringify({
        extends: join(REPO, 'tsconfig.json'),
        compilerOptions: { rootDir: REPO, outDir: join(out, 'js'), noEmit: false, declaration: false, sourceMap: false },
        files: [join(REPO, 'plugins/postprocessor-manifest/index.ts')],
        include: [],
      }),
    );
    try {
      execFileSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(out, 'tsconfig.json')], { stdio: 'pipe' });
    } catch {
      // Type errors elsewhere in a work-in-progress tree still emit JavaScript; the check below decides.
    }
    compiled = join(out, 'js/plugins/postprocessor-manifest/index.js');
    if (!existsSync(compiled)) throw new Error(`could not compile the manifest plugin for the child processes (expected ${compiled})`);
    writeFileSync(
      join(out, 'writer.mjs'),
      `
const [moduleUrl, output, prefix, count, startAt] = process.argv.slice(2);
const { default: set } = await import(moduleUrl);
const pp = set.postProcessors[0];
const config = pp.schema.parse({ output });
const noop = () => {};
const ctx = (i) => ({
  config, buildName: 'null.' + prefix + i, builderType: 'null', sourceName: prefix + i, runId: 'run-' + prefix,
  signal: new AbortController().signal, ui: { say: noop, message: noop, error: noop, output: noop, progress: noop },
  cleanup: { push: noop }, resources: { record: async () => ({ id: '', update: async () => {}, release: async () => {} }) },
  tempDir: async () => '', generatedData: new Map(), redact: (t) => t, pause: async () => {},
});
const artifact = { builderId: 'packer.null', id: 'Null', files: [], description: 'null', state: {} };
// Both processes start writing at the same moment.
await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
await Promise.all(Array.from({ length: Number(count) }, (_, i) => pp.process(ctx(i), artifact)));
`,
    );
  }, 120_000);

  function check(output: string, expected: string[]) {
    const m = JSON.parse(readFileSync(output, 'utf8'));
    expect(m.builds.map((b: { name: string }) => b.name).sort()).toEqual([...expected].sort());
    expect(readdirSync(dirname(output))).toEqual(['m.json']);
  }

  it('in one process', async () => {
    const output = join(tempDir('stress1'), 'm.json');
    await Promise.all(Array.from({ length: 100 }, (_, i) => runPostProcessor(manifest, { output }, { builderId: 'packer.null', id: 'Null', files: [], description: '', state: {} }, { sourceName: `s${i}` })));
    check(output, Array.from({ length: 100 }, (_, i) => `s${i}`));
  });

  it('from two processes, 50 builds each', async () => {
    const output = join(tempDir('stress2'), 'm.json');
    const url = pathToFileURL(compiled).href;
    const startAt = String(Date.now() + 1500);
    const child = (prefix: string) =>
      new Promise<void>((resolvePromise, reject) => {
        const p = spawn(process.execPath, [join(dirname(compiled), '../../../writer.mjs'), url, output, prefix, '50', startAt], { stdio: ['ignore', 'pipe', 'pipe'] });
        let err = '';
        p.stderr.on('data', (d: Buffer) => (err += d.toString()));
        p.on('error', reject);
        p.on('close', (code) => (code === 0 ? resolvePromise() : reject(new Error(`writer ${prefix} exited with ${code}: ${err}`))));
      });
    await Promise.all([child('p'), child('q')]);
    check(output, [...Array.from({ length: 50 }, (_, i) => `p${i}`), ...Array.from({ length: 50 }, (_, i) => `q${i}`)]);
  });
});
