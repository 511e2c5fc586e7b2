import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KILN_BIN, kiln, kilnProcess, workspace } from '../helpers/cli.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function ws(files: Record<string, string>): string {
  const w = workspace(files);
  cleanups.push(w.cleanup);
  return w.dir;
}

/** Each test gets its own state dir, so ledgers and logs are its own. */
function stateEnv(dir: string): Record<string, string> {
  return { KILN_STATE_DIR: join(dir, '.state') };
}

const TWO_BUILDS = `
source "null" "a" { communicator = "none" }
source "null" "b" { communicator = "none" }
build {
  sources = ["source.null.a", "source.null.b"]
  provisioner "shell-local" {
    environment_vars = ["GREETING=it's \\"quoted\\" $HOME \`x\` ;|&"]
    inline = ["echo \\"$GREETING\\" > \${source.name}.txt", "echo \\"$GREETING\\"", "echo to-stderr >&2"]
  }
}
`;

describe('kiln build', () => {
  it('runs builds in parallel, streams output in Packer form, and lists artifacts', () => {
    const dir = ws({ 't.pkr.hcl': TWO_BUILDS });
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('null.a: output will be in this color.');
    expect(r.stdout).toMatch(/==> null\.a: Running local shell script: /);
    expect(r.stdout).toContain('==> null.b: to-stderr');
    expect(r.stdout).toContain("Build 'null.a' finished after");
    expect(r.stdout).toContain('==> Builds finished. The artifacts of successful builds are:\n--> null.a: Did not export anything. This is the null builder');
    // Environment values arrive byte for byte, whatever the shell would make of them.
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('it\'s "quoted" $HOME `x` ;|&\n');
    expect(readFileSync(join(dir, 'b.txt'), 'utf8')).toBe('it\'s "quoted" $HOME `x` ;|&\n');
  });

  it('writes a log file per build and leaves no ledger, temp dir or process behind', () => {
    const dir = ws({ 't.pkr.hcl': TWO_BUILDS });
    const before = readdirSync(tmpdir()).filter((n) => n.startsWith('kiln-shell-'));
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code).toBe(0);
    const runs = readdirSync(join(dir, '.state', 'runs'));
    expect(runs).toHaveLength(1);
    const logs = readdirSync(join(dir, '.state', 'runs', runs[0]!, 'logs')).sort();
    expect(logs).toEqual(['null.a.log', 'null.b.log']);
    expect(readFileSync(join(dir, '.state', 'runs', runs[0]!, 'logs', 'null.a.log'), 'utf8')).toContain('[stderr] to-stderr');
    expect(existsSync(join(dir, '.state', 'runs', runs[0]!, 'ledger.jsonl'))).toBe(false);
    const after = readdirSync(tmpdir()).filter((n) => n.startsWith('kiln-shell-'));
    expect(after.filter((n) => !before.includes(n))).toEqual([]);
  });

  it('fails the build on a disallowed exit code, accepts valid_exit_codes, and exits 1', () => {
    const dir = ws({
      't.pkr.hcl': `
source "null" "ok" { communicator = "none" }
source "null" "bad" { communicator = "none" }
build {
  sources = ["source.null.ok", "source.null.bad"]
  provisioner "shell-local" {
    inline = ["exit 3"]
    valid_exit_codes = [0, 3]
    only = ["null.ok"]
  }
  provisioner "shell-local" {
    inline = ["exit 4"]
    only = ["null.bad"]
  }
}
`,
    });
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("Build 'null.ok' finished");
    expect(r.stdout).toMatch(/Build 'null\.bad' errored after .*: Script exited with non-zero exit status: 4\.Allowed exit codes are: \[0\]$/m);
    expect(r.stdout).toContain('--> null.bad: Script exited with non-zero exit status: 4.Allowed exit codes are: [0]');
    expect(r.stdout).toContain("==> Some builds didn't complete successfully and had errors:");
  });

  it('speaks Packer\'s machine-readable format and JSON lines', () => {
    const dir = ws({ 't.pkr.hcl': TWO_BUILDS });
    const mr = kiln(['build', '-machine-readable', '-only=null.a', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(mr.code).toBe(0);
    const lines = mr.stdout.trim().split('\n');
    for (const l of lines) expect(l).toMatch(/^\d+,[^,]*,[a-z-]+,/);
    expect(lines).toContain(lines.find((l) => /^\d+,null\.a,artifact-count,1$/.test(l)));
    expect(mr.stdout).toMatch(/^\d+,null\.a,artifact,0,builder-id,fnoeding\.null$/m);
    expect(mr.stdout).toMatch(/^\d+,,ui,message, {4}null\.a: it's "quoted" \$HOME `x` ;\|&$/m);
    const js = kiln(['build', '--json', '-only=null.a', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    const events = js.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(events[0]!.type).toBe('run.started');
    expect(events[events.length - 1]!.type).toBe('run.finished');
    expect(events.map((e) => e.type)).toContain('output');
  });

  it('every artifact, the builder\'s and each post-processor\'s, reaches --json and the build\'s log file', () => {
    const dir = ws({
      't.pkr.hcl': `
source "file" "f" {
  content = "hello"
  target  = "out.txt"
}
build {
  sources = ["source.file.f"]
  post-processor "checksum" {
    checksum_types = ["sha256"]
    output         = "out.{{.ChecksumType}}"
  }
}
`,
    });
    const r = kiln(['build', '--json', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code).toBe(0);
    const made = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; build?: string; index?: number; from?: string; artifact?: { files: string[] } })
      .filter((e) => e.type === 'artifact');
    expect(made.map((e) => [e.build, e.index, e.from, e.artifact!.files])).toEqual([
      ['file.f', 0, 'builder file', ['out.txt']],
      // Packer's checksum artifact lists the input's files and the checksum file.
      ['file.f', 1, 'post-processor checksum', ['out.txt', 'out.sha256']],
    ]);
    const run = readdirSync(join(dir, '.state', 'runs'))[0]!;
    const log = readFileSync(join(dir, '.state', 'runs', run, 'logs', 'file.f.log'), 'utf8');
    expect(log).toMatch(/\[artifact\] builder file made .*\(files: out\.txt\)$/m);
    expect(log).toMatch(/\[artifact\] post-processor checksum made .*\(files: out\.txt, out\.sha256\)$/m);
  });

  it('file builder: says what Packer says (copy: "Copying" and "Copied N bytes"; content: nothing)', () => {
    const dir = ws({
      'src.txt': 'hello\n',
      't.pkr.hcl': 'source "file" "c" {\n  source = "src.txt"\n  target = "out/copy.txt"\n}\nsource "file" "w" {\n  content = "hi"\n  target = "out/w.txt"\n}\nbuild { sources = ["source.file.c", "source.file.w"] }\n',
    });
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code).toBe(0);
    const fileC = r.stdout.split('\n').filter((l) => l.startsWith('==> file.c:'));
    expect(fileC).toEqual(['==> file.c: Copying src.txt to out/copy.txt', '==> file.c: Copied 6 bytes']);
    expect(r.stdout).not.toMatch(/==> file\.w:/);
    expect(readFileSync(join(dir, 'out', 'copy.txt'), 'utf8')).toBe('hello\n');
    expect(readFileSync(join(dir, 'out', 'w.txt'), 'utf8')).toBe('hi');
  });

  it('redacts sensitive values from the output and the log files', () => {
    const dir = ws({
      't.pkr.hcl': `
variable "token" {
  default   = "tok-ABCDEF-123456"
  sensitive = true
}
source "null" "a" { communicator = "none" }
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo token=\${var.token}", "echo $SECRET"]
    environment_vars = ["SECRET=\${var.token}"]
  }
}
`,
    });
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('null.a: token=<sensitive>');
    expect(r.stdout).not.toContain('tok-ABCDEF-123456');
    const run = readdirSync(join(dir, '.state', 'runs'))[0]!;
    const log = readFileSync(join(dir, '.state', 'runs', run, 'logs', 'null.a.log'), 'utf8');
    expect(log).toContain('token=<sensitive>');
    expect(log).not.toContain('tok-ABCDEF-123456');
    const json = kiln(['build', '--json', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(json.code).toBe(0);
    expect(json.stdout).not.toContain('tok-ABCDEF-123456');
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; line?: string });
    expect(lines.filter((e) => e.type === 'output').map((e) => e.line)).toEqual(['token=<sensitive>', '<sensitive>']);
    const mr = kiln(['build', '-machine-readable', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(mr.code).toBe(0);
    expect(mr.stdout).not.toContain('tok-ABCDEF-123456');
    expect(mr.stdout).toMatch(/^\d+,,ui,message, {4}null\.a: token=<sensitive>$/m);
  });

  it('100 parallel builds with one manifest post-processor keep all 100 entries', () => {
    const names = Array.from({ length: 100 }, (_, i) => `b${String(i).padStart(3, '0')}`);
    const dir = ws({
      't.pkr.hcl': `${names.map((n) => `source "null" "${n}" { communicator = "none" }`).join('\n')}
build {
  sources = [${names.map((n) => `"source.null.${n}"`).join(', ')}]
  provisioner "shell-local" { inline = ["echo one", "echo two", "echo three"] }
  post-processor "manifest" { output = "manifest.json" }
}
`,
    });
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code).toBe(0);
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { builds: Array<{ name: string }> };
    expect(m.builds.map((b) => b.name).sort()).toEqual(names);
    expect(readdirSync(dir).filter((n) => n.includes('manifest.json') && n !== 'manifest.json')).toEqual([]);
  }, 60_000);

  it('validates every job before starting any', () => {
    const dir = ws({
      't.pkr.hcl': `
source "null" "a" { communicator = "none" }
source "null" "b" { communicator = "none" }
build {
  sources = ["source.null.a", "source.null.b"]
  provisioner "shell-local" {
    inline = ["touch started-\${source.name}"]
  }
  provisioner "shell-local" {
    only    = ["null.b"]
    inlin   = ["oops"]
  }
}
`,
    });
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('An argument named "inlin" is not expected');
    expect(existsSync(join(dir, 'started-a'))).toBe(false);
  });
});

describe('interrupting kiln build', () => {
  // Two slow builds hold a child process and a temp dir each; three quick ones have already
  // written the manifest when the signal comes.
  const SLOW = `
source "null" "a" { communicator = "none" }
source "null" "b" { communicator = "none" }
source "null" "q1" { communicator = "none" }
source "null" "q2" { communicator = "none" }
source "null" "q3" { communicator = "none" }
build {
  sources = ["source.null.a", "source.null.b", "source.null.q1", "source.null.q2", "source.null.q3"]
  provisioner "shell-local" {
    only   = ["null.a", "null.b"]
    inline = ["echo started > started-\${source.name}", "dirname \\"$0\\" > dir-\${source.name}", "echo $$ > pid-\${source.name}", "sleep 30", "touch finished-\${source.name}"]
  }
  post-processor "manifest" {
    output = "manifest.json"
  }
}
`;

  function manifestBuilds(dir: string): string[] {
    try {
      return (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { builds: Array<{ name: string }> }).builds.map((b) => b.name).sort();
    } catch {
      return [];
    }
  }

  /**
   * The manifest parses, holds the finished builds, and nothing is left beside it: no
   * manifest.json.lock, no atomic-write temp (.manifest.json.<pid>.<hex>.tmp), no stale lock.
   */
  function manifestIntact(dir: string): void {
    expect(manifestBuilds(dir)).toEqual(['q1', 'q2', 'q3']);
    expect(existsSync(join(dir, 'manifest.json.lock'))).toBe(false);
    expect(readdirSync(dir).filter((n) => n.includes('manifest.json') && n !== 'manifest.json')).toEqual([]);
  }

  /** The script folders (/tmp/kiln-shell-…) of the two slow builds, as their scripts saw them. */
  function scriptDirs(dir: string): string[] {
    const dirs = ['a', 'b'].map((s) => readFileSync(join(dir, `dir-${s}`), 'utf8').trim());
    for (const d of dirs) expect(d).toMatch(/\/kiln-shell-[^/]+$/);
    return dirs;
  }

  async function startAndWait(dir: string, extra: string[] = []): Promise<ReturnType<typeof kilnProcess>> {
    const p = kilnProcess(['build', ...extra, 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    for (let i = 0; i < 200 && !(existsSync(join(dir, 'pid-a')) && existsSync(join(dir, 'pid-b')) && manifestBuilds(dir).length === 3); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    return p;
  }

  function exitOf(p: ReturnType<typeof kilnProcess>): Promise<{ code: number | null; out: string }> {
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    return new Promise((resolve) => p.on('close', (code) => resolve({ code, out })));
  }

  /** Running (a zombie whose parent is gone counts as dead: PID 1 here may not reap). */
  function alive(pid: number): boolean {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return false;
    }
  }

  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${sig} cancels the builds, runs every cleanup and exits ${code}`, async () => {
      const dir = ws({ 't.pkr.hcl': SLOW });
      const p = await startAndWait(dir);
      const done = exitOf(p);
      const pids = ['a', 'b'].map((s) => Number(readFileSync(join(dir, `pid-${s}`), 'utf8')));
      const tmp = scriptDirs(dir);
      p.kill(sig);
      const r = await done;
      expect(r.code).toBe(code);
      for (const d of tmp) expect(existsSync(d)).toBe(false);
      // No post-processor runs after a cancel: the cancelled builds never reach the manifest.
      for (const b of ['a', 'b']) expect(r.out).not.toContain(`null.${b}: Running post-processor`);
      expect(r.out).toContain('Cleanly cancelled builds after being interrupted.');
      // As Packer 1.6.6: no error list or artifact list after an interrupt.
      expect(r.out).not.toContain("Some builds didn't complete successfully");
      expect(r.out).not.toContain('==> Builds finished');
      expect(existsSync(join(dir, 'finished-a'))).toBe(false);
      for (const pid of pids) expect(alive(pid)).toBe(false);
      const run = readdirSync(join(dir, '.state', 'runs'))[0]!;
      expect(existsSync(join(dir, '.state', 'runs', run, 'ledger.jsonl'))).toBe(false);
      manifestIntact(dir);
    });
  }

  it('-machine-readable after SIGINT ends as Packer does: "Cleanly cancelled", no error summary', async () => {
    const dir = ws({ 't.pkr.hcl': SLOW });
    const p = await startAndWait(dir, ['-machine-readable']);
    const done = exitOf(p);
    p.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    const tail = r.out.trim().split('\n').slice(-2).map((l) => l.replace(/^\d+,/, ''));
    expect(tail[0]).toMatch(/^,ui,say,\\n==> Wait completed after /);
    expect(tail[1]).toBe(',ui,say,Cleanly cancelled builds after being interrupted.');
    expect(r.out).not.toContain(',error-count,');
    manifestIntact(dir);
  });

  it('after SIGKILL, kiln cleanup removes the processes and temp dirs the run left', async () => {
    const dir = ws({ 't.pkr.hcl': SLOW });
    const p = await startAndWait(dir);
    const done = exitOf(p);
    const pids = ['a', 'b'].map((s) => Number(readFileSync(join(dir, `pid-${s}`), 'utf8')));
    const tmp = scriptDirs(dir);
    p.kill('SIGKILL');
    await done;
    for (const pid of pids) expect(alive(pid)).toBe(true);
    for (const d of tmp) expect(existsSync(d)).toBe(true);
    const run = readdirSync(join(dir, '.state', 'runs'))[0]!;
    const dry = kiln(['cleanup', '--dry-run'], { cwd: dir, env: stateEnv(dir) });
    expect(dry.stdout).toContain(`Run ${run}: 4 resource(s) left behind.`);
    expect(dry.stdout).toContain('would remove process');
    expect(dry.stdout).toContain('would remove tempdir');
    const r = kiln(['cleanup', '--run', run], { cwd: dir, env: stateEnv(dir) });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Removed 4 resource(s).');
    await new Promise((res) => setTimeout(res, 200));
    for (const pid of pids) expect(alive(pid)).toBe(false);
    for (const d of tmp) expect(existsSync(d)).toBe(false);
    expect(existsSync(join(dir, '.state', 'runs', run, 'ledger.jsonl'))).toBe(false);
    expect(kiln(['cleanup'], { cwd: dir, env: stateEnv(dir) }).stdout).toContain('Nothing to clean up.');
    manifestIntact(dir);
  });

  it('SIGKILL while the manifest is being written: kiln cleanup removes the lock and temp file, the manifest parses', async () => {
    const names = Array.from({ length: 50 }, (_, i) => `m${i}`);
    const dir = ws({
      't.pkr.hcl': `${names.map((n) => `source "null" "${n}" { communicator = "none" }`).join('\n')}
build {
  sources = [${names.map((n) => `"source.null.${n}"`).join(', ')}]
  post-processor "manifest" { output = "manifest.json" }
}
`,
    });
    const leftovers = (): string[] => readdirSync(dir).filter((n) => n.includes('manifest.json') && n !== 'manifest.json');
    // The kill has to land while the lock is held; the lock's creation is watched for, so a
    // few tries are enough.
    let left: string[] = [];
    for (let attempt = 0; attempt < 10 && left.length === 0; attempt++) {
      const p = kilnProcess(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
      const done = exitOf(p);
      const w = watch(dir, (_, f) => {
        if (f === 'manifest.json.lock') p.kill('SIGKILL');
      });
      await done;
      w.close();
      left = leftovers();
      if (left.length === 0) kiln(['cleanup'], { cwd: dir, env: stateEnv(dir) });
    }
    expect(left).toContain('manifest.json.lock');
    const dry = kiln(['cleanup', '--dry-run'], { cwd: dir, env: stateEnv(dir) });
    expect(dry.stdout).toContain('would remove manifest-write: lock and temporary file of manifest.json');
    const r = kiln(['cleanup'], { cwd: dir, env: stateEnv(dir) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(leftovers()).toEqual([]);
    if (existsSync(join(dir, 'manifest.json'))) expect(() => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as unknown).not.toThrow();
    // The next run writes the manifest as if nothing had happened.
    expect(kiln(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) }).code).toBe(0);
    expect(manifestBuilds(dir)).toEqual(expect.arrayContaining(names));
  });

  it('a sensitive value in a running command never reaches the ledger a killed run leaves', async () => {
    const secret = 'sekrit-Zq81-VALUE';
    const dir = ws({
      't.pkr.hcl': `
variable "token" {
  default   = "${secret}"
  sensitive = true
}
source "null" "a" { communicator = "none" }
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    environment_vars = ["TOKEN=\${var.token}"]
    inline           = ["echo $$ > pid-a", "sleep 30"]
  }
}
`,
    });
    const p = kilnProcess(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    const done = exitOf(p);
    for (let i = 0; i < 200 && !existsSync(join(dir, 'pid-a')); i++) await new Promise((r) => setTimeout(r, 50));
    const pid = Number(readFileSync(join(dir, 'pid-a'), 'utf8'));
    p.kill('SIGKILL');
    await done;
    const run = readdirSync(join(dir, '.state', 'runs'))[0]!;
    const ledger = readFileSync(join(dir, '.state', 'runs', run, 'ledger.jsonl'), 'utf8');
    expect(ledger).toContain('"kind":"process"');
    expect(ledger).not.toContain(secret);
    const dry = kiln(['cleanup', '--dry-run'], { cwd: dir, env: stateEnv(dir) });
    expect(dry.stdout).toMatch(/would remove process: shell-local script \/\S+kiln-shell-\S+\/script\.sh/);
    expect(dry.stdout + dry.stderr).not.toContain(secret);
    // What little the ledger keeps is still enough to reap the process.
    const r = kiln(['cleanup', '--run', run], { cwd: dir, env: stateEnv(dir) });
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(secret);
    await new Promise((res) => setTimeout(res, 200));
    expect(alive(pid)).toBe(false);
  });
});

describe('-on-error', () => {
  const FAILING = `
source "null" "a" { communicator = "none" }
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo $(dirname \\"$0\\") > script-dir", "exit 7"]
  }
  error-cleanup-provisioner "shell-local" {
    inline = ["touch ecp-ran"]
  }
}
`;

  for (const mode of ['abort', 'run-cleanup-provisioner'] as const) {
    it(`-on-error=${mode} leaves the build's temp dir, names the mode, and kiln cleanup --run removes it`, () => {
      const dir = ws({ 't.pkr.hcl': FAILING });
      // Should an assertion fail before the test's own cleanup, the left temp dirs still go.
      cleanups.unshift(() => void kiln(['cleanup'], { cwd: dir, env: stateEnv(dir) }));
      const r = kiln(['build', `-on-error=${mode}`, 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
      expect(r.code).toBe(1);
      // Packer runs the error-cleanup-provisioner under run-cleanup-provisioner, not under abort.
      expect(existsSync(join(dir, 'ecp-ran'))).toBe(mode === 'run-cleanup-provisioner');
      const scriptDir = readFileSync(join(dir, 'script-dir'), 'utf8').trim();
      expect(scriptDir).toMatch(/\/kiln-shell-/);
      expect(existsSync(scriptDir)).toBe(true);
      // The error-cleanup-provisioner's own script dir is left too: no cleanup runs after it.
      const left = mode === 'abort' ? 1 : 2;
      const m = /(\d+) temporary resource\(s\) were left in place \(-on-error=([a-z-]+)\): run "kiln cleanup --run (\S+)"/.exec(r.stderr);
      expect([m?.[1], m?.[2]]).toEqual([String(left), mode]);
      const c = kiln(['cleanup', '--run', m![3]!], { cwd: dir, env: stateEnv(dir) });
      expect(c.code).toBe(0);
      expect(c.stdout).toContain(`removed tempdir: temporary directory ${scriptDir}`);
      expect(c.stdout).toContain(`Removed ${left} resource(s).`);
      expect(existsSync(scriptDir)).toBe(false);
      expect(existsSync(join(dir, '.state', 'runs', m![3]!, 'ledger.jsonl'))).toBe(false);
    });
  }

  it('a resource whose path holds a sensitive value is still reaped, and the value is never shown', () => {
    const secret = 'builder-Wq42';
    // The temp dir sits under a folder named after the secret (a sensitive user name in $HOME, say).
    const dir = ws({ 't.pkr.hcl': `variable "user" {\n  default   = "${secret}"\n  sensitive = true\n}\n${FAILING}` });
    const tmp = join(dir, `home-${secret}`);
    mkdirSync(tmp);
    const env = { ...stateEnv(dir), TMPDIR: tmp };
    cleanups.unshift(() => void kiln(['cleanup'], { cwd: dir, env }));
    const r = kiln(['build', '-on-error=abort', 't.pkr.hcl'], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).not.toContain(secret);
    const scriptDir = readFileSync(join(dir, 'script-dir'), 'utf8').trim();
    expect(scriptDir.startsWith(join(tmp, 'kiln-shell-'))).toBe(true);
    const shown = scriptDir.replace(secret, '<sensitive>');
    const run = /kiln cleanup --run (\S+)"/.exec(r.stderr)![1]!;
    // The ledger is private to the user: it alone keeps the path as it is.
    expect(statSync(join(dir, '.state', 'runs', run, 'ledger.jsonl')).mode & 0o777).toBe(0o600);

    const dry = kiln(['cleanup', '--dry-run'], { cwd: dir, env });
    expect(dry.stdout).toContain(`would remove tempdir: temporary directory ${shown}`);
    expect(dry.stdout + dry.stderr).not.toContain(secret);
    // A reaper's refusal quotes the path: redacted too (another TMPDIR makes the reaper refuse).
    const refused = kiln(['cleanup', '--run', run], { cwd: dir, env: stateEnv(dir) });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`refusing to remove ${shown}: not a kiln temporary directory`);
    expect(refused.stdout + refused.stderr).not.toContain(secret);
    expect(existsSync(scriptDir)).toBe(true);

    const c = kiln(['cleanup', '--run', run], { cwd: dir, env });
    expect(c.stdout + c.stderr).not.toContain(secret);
    expect(c.stdout).toContain(`removed tempdir: temporary directory ${shown}`);
    expect(c.code).toBe(0);
    expect(existsSync(scriptDir)).toBe(false);
    expect(existsSync(join(dir, '.state', 'runs', run, 'ledger.jsonl'))).toBe(false);
  });

  it('-on-error=cleanup (the default) runs the error-cleanup-provisioner and removes everything', () => {
    const dir = ws({ 't.pkr.hcl': FAILING });
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code).toBe(1);
    expect(existsSync(join(dir, 'ecp-ran'))).toBe(true);
    expect(existsSync(readFileSync(join(dir, 'script-dir'), 'utf8').trim())).toBe(false);
    expect(r.stderr).not.toContain('left in place');
  });
});

/** Runs kiln on a pseudo-terminal (util-linux `script`), as a person at a terminal would. */
function kilnOnTty(args: readonly string[], dir: string, env: Record<string, string>): string {
  const q = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
  const cmd = [process.execPath, KILN_BIN, ...args].map(q).join(' ');
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NO_COLOR')) as Record<string, string>;
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: dir, env: { ...base, TERM: 'xterm', ...env }, encoding: 'utf8' });
  return r.stdout;
}

describe('build options and interactive provisioners', () => {
  const ONE = (steps: string) => `source "null" "a" { communicator = "none" }\nsource "null" "b" { communicator = "none" }\nbuild {\n  sources = ["source.null.a", "source.null.b"]\n${steps}\n}\n`;

  it('colours each build on a terminal; NO_COLOR and -color=false turn it off', () => {
    const dir = ws({ 't.pkr.hcl': ONE('  provisioner "shell-local" { inline = ["echo hi"] }') });
    const coloured = kilnOnTty(['build', 't.pkr.hcl'], dir, stateEnv(dir));
    expect(coloured).toContain('\u001b[1;32mnull.a: output will be in this color.\u001b[0m');
    expect(coloured).toContain('\u001b[1;36mnull.b: output will be in this color.\u001b[0m');
    expect(coloured).toContain('\u001b[0;32m    null.a: hi\u001b[0m');
    expect(coloured).toContain('\u001b[0;36m    null.b: hi\u001b[0m');
    for (const [args, env] of [[['build', 't.pkr.hcl'], { NO_COLOR: '1' }], [['build', '-color=false', 't.pkr.hcl'], {}]] as const) {
      const plain = kilnOnTty(args, dir, { ...stateEnv(dir), ...env });
      expect(plain).toContain('    null.a: hi');
      expect(plain).not.toContain('\u001b[');
    }
  });

  it('-parallel-builds 1 runs the builds one at a time; the default runs them all at once', () => {
    const tpl = `source "null" "a" { communicator = "none" }\nsource "null" "b" { communicator = "none" }\nsource "null" "c" { communicator = "none" }\nbuild {\n  sources = ["source.null.a", "source.null.b", "source.null.c"]\n  provisioner "shell-local" { inline = ["sleep 0.3"] }\n}\n`;
    const dir = ws({ 't.pkr.hcl': tpl });
    const order = (args: string[]): string[] => {
      const r = kiln(['build', '--json', ...args, 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
      expect(r.code).toBe(0);
      return r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; build?: string })
        .filter((e) => e.type === 'build.started' || e.type === 'build.finished')
        .map((e) => `${e.type === 'build.started' ? 'start' : 'end'} ${e.build}`);
    };
    expect(order(['-parallel-builds=1'])).toEqual(['start null.a', 'end null.a', 'start null.b', 'end null.b', 'start null.c', 'end null.c']);
    expect(order([]).slice(0, 3)).toEqual(['start null.a', 'start null.b', 'start null.c']);
    expect(order(['-parallel-builds', '2']).slice(0, 3)).toEqual(['start null.a', 'start null.b', expect.stringMatching(/^end /)]);
  });

  it('pause_before waits before the provisioner and says so', () => {
    const dir = ws({ 't.pkr.hcl': ONE('  provisioner "shell-local" { inline = ["date +%s%N > one-${source.name}"] }\n  provisioner "shell-local" {\n    pause_before = "1s"\n    inline = ["date +%s%N > two-${source.name}"]\n  }') });
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('==> null.a: Pausing 1s before the next provisioner...');
    for (const b of ['a', 'b']) {
      const ns = (f: string): bigint => BigInt(readFileSync(join(dir, `${f}-${b}`), 'utf8').trim());
      expect(Number((ns('two') - ns('one')) / 1_000_000n)).toBeGreaterThanOrEqual(1000);
    }
  });

  // Packer 1.6.6 does this for JSON templates; for HCL2 ones it ignores -force here (checked on
  // this machine: 2 runs, then -force, leave 3 entries), which later Packer versions fixed.
  it('-force starts the manifest afresh; without it the manifest keeps earlier runs', () => {
    const dir = ws({ 't.pkr.hcl': ONE('  post-processor "manifest" { output = "m.json" }') });
    const builds = (): Array<{ name: string; packer_run_uuid: string }> => (JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8')) as { builds: Array<{ name: string; packer_run_uuid: string }> }).builds;
    expect(kiln(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) }).code).toBe(0);
    expect(kiln(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) }).code).toBe(0);
    expect(builds()).toHaveLength(4);
    expect(new Set(builds().map((b) => b.packer_run_uuid)).size).toBe(2);
    expect(kiln(['build', '-force', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) }).code).toBe(0);
    expect(builds().map((b) => b.name).sort()).toEqual(['a', 'b']);
    expect(new Set(builds().map((b) => b.packer_run_uuid)).size).toBe(1);
  });

  it('shell-local command and env: the command runs with the env map\'s values, which win over environment_vars', () => {
    const dir = ws({
      't.pkr.hcl': ONE(`  provisioner "shell-local" {
    command          = "echo \\"$GREETING $WHO $PACKER_BUILD_NAME\\" > cmd-\${source.name}.txt"
    environment_vars = ["GREETING=hello", "WHO=list"]
    env              = { WHO = "map's \\"value\\" $HOME" }
  }`),
    });
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'cmd-a.txt'), 'utf8')).toBe('hello map\'s "value" $HOME a\n');
    expect(readFileSync(join(dir, 'cmd-b.txt'), 'utf8')).toBe('hello map\'s "value" $HOME b\n');
  });

  it('-timestamp-ui prefixes every output line with a UTC timestamp', () => {
    const dir = ws({ 't.pkr.hcl': 'source "null" "a" { communicator = "none" }\nbuild {\n  sources = ["source.null.a"]\n  provisioner "shell-local" { inline = ["echo hi"] }\n}\n' });
    const r = kiln(['build', '-timestamp-ui', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: {5}null\.a: hi$/m);
  });

  it('breakpoint: disabled continues; enabled without a terminal fails clearly', () => {
    const tpl = (disable: boolean) =>
      `source "null" "a" { communicator = "none" }\nbuild {\n  sources = ["source.null.a"]\n  provisioner "breakpoint" {\n    disable = ${disable}\n    note    = "check the disk"\n  }\n}\n`;
    const off = ws({ 't.pkr.hcl': tpl(true) });
    const r1 = kiln(['build', 't.pkr.hcl'], { cwd: off, env: stateEnv(off) });
    expect(r1.code).toBe(0);
    expect(r1.stdout).toContain('Breakpoint provisioner disabled, continuing...');
    const on = ws({ 't.pkr.hcl': tpl(false) });
    const r2 = kiln(['build', 't.pkr.hcl'], { cwd: on, env: stateEnv(on) });
    expect(r2.code).toBe(1);
    expect(r2.stdout).toContain('Pausing at breakpoint provisioner with note "check the disk".');
    expect(r2.stdout).toContain('needs a terminal');
  });

  it('-on-error=ask and -debug refuse to start without a terminal to ask on', () => {
    const dir = ws({ 't.pkr.hcl': TWO_BUILDS });
    const r = kiln(['build', '-on-error=ask', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('-on-error=ask needs a terminal');
  });
});

describe('output closed early', () => {
  it('a reader that stops reading (| head) does not crash the build', async () => {
    const dir = ws({ 't.pkr.hcl': TWO_BUILDS });
    const p = kilnProcess(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    let stderr = '';
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    p.stdout!.once('data', () => p.stdout!.destroy());
    const code = await new Promise<number | null>((resolve) => p.on('close', resolve));
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toContain('quoted');
  });
});
