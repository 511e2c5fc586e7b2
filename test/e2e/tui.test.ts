/**
 * `kiln build -tui` as a person at a terminal sees it: the built CLI runs under a real
 * pseudo-terminal (python3's pty module, 100×30), and the tests read what reached the screen.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KILN_BIN, ROOT, kiln, workspace } from '../helpers/cli.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function ws(files: Record<string, string>): string {
  const w = workspace(files);
  cleanups.push(w.cleanup);
  return w.dir;
}

/**
 * Runs argv[3:] on a new pty of argv[1] columns × argv[2] rows as its controlling terminal, so
 * Ctrl-C written to it becomes SIGINT as at a real terminal. Copies the screen bytes to stdout
 * and this process's stdin to the terminal; exits with the child's code (128+n for signal n).
 */
const PTY_DRIVER = `
import fcntl, os, pty, select, struct, sys, termios
cols, rows, cmd = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
    os.execvp(cmd[0], cmd)
inputs = [fd, 0]
while True:
    ready, _, _ = select.select(inputs, [], [])
    if fd in ready:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b''
        if not data:
            break
        os.write(1, data)
    if 0 in ready:
        data = os.read(0, 1024)
        if data:
            os.write(fd, data)
        else:
            inputs.remove(0)
code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
sys.exit(code if code >= 0 else 128 - code)
`;

interface Screen {
  code: number | null;
  /** Everything written to the terminal, escape sequences included. */
  raw: string;
  /** The same without escape sequences and carriage returns: the text a person reads. */
  text: string;
}

/** The environment of a terminal session: a known TERM, and no CI variables (ink draws only a last frame under CI). */
function terminalEnv(dir: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k === 'CI' || k.startsWith('CI_') || k === 'CONTINUOUS_INTEGRATION' || k === 'NO_COLOR') delete env[k];
  return { ...env, TERM: 'xterm-256color', KILN_STATE_DIR: join(dir, '.state'), ...extra };
}

function onTerminal(dir: string, args: string[], opts: { env?: Record<string, string>; whenReady?: (send: (s: string) => void) => Promise<void> } = {}): Promise<Screen> {
  const p = spawn('python3', ['-c', PTY_DRIVER, '100', '30', process.execPath, KILN_BIN, ...args], { cwd: dir, env: terminalEnv(dir, opts.env ?? {}), stdio: ['pipe', 'pipe', 'inherit'] });
  let raw = '';
  p.stdout.on('data', (d: Buffer) => (raw += d.toString('utf8')));
  void opts.whenReady?.((s) => p.stdin.write(s));
  return new Promise((resolve, reject) => {
    p.on('error', reject);
    p.on('close', (code) => {
      // eslint-disable-next-line no-control-regex
      const text = raw.replace(/\u001b\[[0-?]*[ -/]*[@-~]|\u001b[@-_]/g, '').replace(/\r/g, '');
      resolve({ code, raw, text });
    });
  });
}

/** What stays on the screen at the end: the view's last frame and what follows it. */
function lastFrame(s: Screen): string {
  return s.text.slice(s.text.lastIndexOf('kiln build: '));
}

const TWO_BUILDS = `
source "null" "a" { communicator = "none" }
source "null" "b" { communicator = "none" }
build {
  sources = ["source.null.a", "source.null.b"]
  provisioner "shell-local" {
    inline = ["for i in 1 2 3 4 5; do echo line $i of \${source.name}; sleep 0.1; done"]
  }
}
`;

describe('kiln build -tui', () => {
  it('shows every build and its final status, then the artifact summary; exit 0', async () => {
    const dir = ws({ 't.pkr.hcl': TWO_BUILDS });
    const s = await onTerminal(dir, ['build', '-tui', 't.pkr.hcl'], { env: { NO_COLOR: '1' } });
    expect(s.code, s.text).toBe(0);
    // While running: a row per build with its step and last output line, and the log below.
    expect(s.text).toMatch(/null\.a +running +\d+s +provisioner shell-local/);
    expect(s.text).toMatch(/│ line \d of a/);
    expect(s.text).toMatch(/==> null\.b: Running local shell script: /);
    const end = lastFrame(s);
    expect(end).toMatch(/^kiln build: 2 builds \(2 done\)/);
    expect(end).toMatch(/✔ null\.a +done +\d+s/);
    expect(end).toMatch(/✔ null\.b +done +\d+s/);
    expect(end).toContain('==> Builds finished. The artifacts of successful builds are:\n--> null.a: Did not export anything. This is the null builder');
    // NO_COLOR: no colour codes at all.
    expect(s.raw).not.toMatch(/\u001b\[3\dm/);
    // The per-build log files are another subscriber, unchanged.
    const run = readdirSync(join(dir, '.state', 'runs'))[0]!;
    expect(readFileSync(join(dir, '.state', 'runs', run, 'logs', 'null.a.log'), 'utf8')).toContain('line 5 of a');
  });

  it('a failing build is shown failed in red, its error is in the summary, exit 1', async () => {
    const dir = ws({
      't.pkr.hcl': `
source "null" "ok" { communicator = "none" }
source "null" "bad" { communicator = "none" }
build {
  sources = ["source.null.ok", "source.null.bad"]
  provisioner "shell-local" {
    inline = ["echo fine"]
    only = ["null.ok"]
  }
  provisioner "shell-local" {
    inline = ["exit 4"]
    only = ["null.bad"]
  }
}
`,
    });
    const s = await onTerminal(dir, ['build', '-tui', 't.pkr.hcl']);
    expect(s.code, s.text).toBe(1);
    const end = lastFrame(s);
    expect(end).toMatch(/✔ null\.ok +done/);
    expect(end).toMatch(/✘ null\.bad +failed/);
    expect(end).toContain("==> Some builds didn't complete successfully and had errors:");
    expect(end).toContain('--> null.bad: Script exited with non-zero exit status: 4');
    expect(end).toContain('--> null.ok: Did not export anything.');
    expect(s.raw).toMatch(/\u001b\[31m +failed/);
  });

  it('Ctrl-C still cancels the builds, runs their cleanups and exits 130', async () => {
    const dir = ws({
      't.pkr.hcl': `
source "null" "a" { communicator = "none" }
source "null" "b" { communicator = "none" }
build {
  sources = ["source.null.a", "source.null.b"]
  provisioner "shell-local" {
    inline = ["dirname \\"$0\\" > dir-\${source.name}", "sleep 30", "touch finished-\${source.name}"]
  }
}
`,
    });
    const started = (): boolean => existsSync(join(dir, 'dir-a')) && existsSync(join(dir, 'dir-b'));
    const t0 = Date.now();
    const s = await onTerminal(dir, ['build', '-tui', 't.pkr.hcl'], {
      env: { NO_COLOR: '1' },
      whenReady: async (send) => {
        for (let i = 0; i < 200 && !started(); i++) await new Promise((r) => setTimeout(r, 50));
        // Let a frame or two be drawn, then press Ctrl-C on the terminal.
        await new Promise((r) => setTimeout(r, 300));
        send('\u0003');
      },
    });
    expect(s.code, s.text).toBe(130);
    expect(Date.now() - t0).toBeLessThan(20_000);
    const end = lastFrame(s);
    expect(end).toMatch(/⊘ null\.a +cancelled/);
    expect(end).toContain('Cleanly cancelled builds after being interrupted.');
    // The scripts' temp folders were removed: the cleanups ran.
    for (const b of ['a', 'b']) expect(existsSync(readFileSync(join(dir, `dir-${b}`), 'utf8').trim())).toBe(false);
    expect(existsSync(join(dir, 'finished-a'))).toBe(false);
    const run = readdirSync(join(dir, '.state', 'runs'))[0]!;
    expect(existsSync(join(dir, '.state', 'runs', run, 'ledger.jsonl'))).toBe(false);
  });

  it('when standard output is not a terminal: a one-line notice and plain output', () => {
    const dir = ws({ 't.pkr.hcl': TWO_BUILDS });
    const r = kiln(['build', '-tui', 't.pkr.hcl'], { cwd: dir, env: { KILN_STATE_DIR: join(dir, '.state') } });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('kiln: -tui needs a terminal (standard output is not a terminal); printing plain output instead.\n');
    expect(r.stdout).toContain("Build 'null.a' finished after");
    expect(r.stdout).toContain('==> Builds finished. The artifacts of successful builds are:');
    expect(r.stdout).not.toContain('\u001b');
  });

  it('is refused with -machine-readable, --json, -debug and -on-error=ask, and with a breakpoint that waits', () => {
    const dir = ws({ 't.pkr.hcl': TWO_BUILDS });
    const env = { KILN_STATE_DIR: join(dir, '.state') };
    for (const [flag, words] of [
      ['-machine-readable', '-tui and -machine-readable'],
      ['--json', '-tui and --json'],
      ['-debug', '-tui cannot be used with -debug'],
      ['-on-error=ask', '-tui cannot be used with -on-error=ask'],
    ] as const) {
      const r = kiln(['build', '-tui', flag, 't.pkr.hcl'], { cwd: dir, env });
      expect(r.code, flag).toBe(1);
      expect(r.stderr).toContain(`Error: ${words}`);
      expect(r.stdout).toBe('');
    }
    writeFileSync(join(dir, 'bp.pkr.hcl'), 'source "null" "a" {\n  communicator = "none"\n}\nbuild {\n  sources = ["source.null.a"]\n  provisioner "breakpoint" {}\n}\n');
    const bp = kiln(['build', '-tui', 'bp.pkr.hcl'], { cwd: dir, env });
    expect(bp.code).toBe(1);
    expect(bp.stderr).toContain('Error: -tui cannot be used with a breakpoint provisioner (in null.a)');
    expect(existsSync(join(dir, '.state', 'runs'))).toBe(false);
  });

  it('a build without -tui loads neither ink nor react', () => {
    const dir = ws({ 't.pkr.hcl': TWO_BUILDS });
    const log = join(dir, 'imports.txt');
    writeFileSync(log, '');
    const r = spawnSync(process.execPath, ['--import', join(ROOT, 'test', 'helpers', 'record-imports-register.mjs'), KILN_BIN, 'build', '-only=null.a', 't.pkr.hcl'], {
      cwd: dir,
      env: { ...process.env, KILN_IMPORT_LOG: log, KILN_STATE_DIR: join(dir, '.state') },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const files = readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('file:'));
    expect(files.some((u) => /dist\/bin\/build-/.test(u))).toBe(true);
    expect(files.filter((u) => /dist\/bin\/tui-|\/node_modules\/(ink|react)\//.test(u))).toEqual([]);
  });
});
