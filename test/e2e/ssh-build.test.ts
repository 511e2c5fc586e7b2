/**
 * `kiln build` with the null builder over SSH against a real OpenSSH sshd, as a user runs it:
 * shell and file provisioners, and the failures that hurt in practice (a machine that is late,
 * a wrong key, a reboot, a host key that changed, a connection lost mid-upload, a lot of output).
 */
import { chmodSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kiln, kilnProcess, workspace, type CliResult } from '../helpers/cli.js';
import { skipWithout, SSHD } from '../helpers/components.js';
import { Sshd } from '../helpers/sshd.js';

const skip = skipWithout(SSHD);

let sshd: Sshd;
beforeAll(async () => {
  if (!skip) sshd = await Sshd.start();
});
afterAll(() => sshd?.dispose());

const cleanups: Array<() => void> = [];
// Last registered, first undone: a scratch directory goes before the server that holds it.
afterEach(() => cleanups.splice(0).reverse().forEach((c) => c()));

function ws(files: Record<string, string>): string {
  const w = workspace(files);
  cleanups.push(w.cleanup);
  return w.dir;
}

/** A remote (here: local, the server is this machine) scratch directory the test user owns. */
function scratch(server: Sshd, name: string): string {
  const d = `/tmp/kiln-ssh-e2e-${server.port}-${name}`;
  server.ssh(`rm -rf '${d}' && mkdir -p '${d}'`);
  cleanups.push(() => server.ssh(`rm -rf '${d}'`));
  return d;
}

function env(dir: string): Record<string, string> {
  return { KILN_STATE_DIR: join(dir, '.state') };
}

/** kiln build in the background; `during` runs while it does (to restart sshd, say). */
async function buildWhile(dir: string, during: () => Promise<void>): Promise<CliResult> {
  const child = kilnProcess(['build', 't.pkr.hcl'], { cwd: dir, env: env(dir) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await during();
  return { code: await exited, stdout, stderr };
}

/** Resolves when `check` holds, polling; the test's own timeout bounds the wait. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 50));
}

function logOf(dir: string, build = 'null.t'): string {
  const runs = readdirSync(join(dir, '.state', 'runs'));
  return readFileSync(join(dir, '.state', 'runs', runs[0]!, 'logs', `${build}.log`), 'utf8');
}

describe.skipIf(skip)('kiln build: null builder over ssh', () => {
  it('runs shell and file provisioners on the host, Packer-style', () => {
    const remote = scratch(sshd, 'full');
    const dir = ws({
      'scripts/crlf.sh': '#!/bin/sh\r\necho "crlf script ran with $GREETING"\r\n',
      'payload/conf/app.conf': 'key = value\n',
      'payload/bin/tool': '#!/bin/sh\necho tool\n',
      't.pkr.hcl': `
source "null" "t" {
  ${sshd.sourceHcl()}
}
build {
  sources = ["source.null.t"]
  provisioner "shell" {
    environment_vars = ["GREETING=it's \\"quoted\\" $HOME \`x\` ;|& done"]
    inline = ["printf '%s\\\\n' \\"$GREETING\\" > ${remote}/env.txt", "echo \\"user=\${build.User} port=\${build.Port}\\"", "echo warn >&2"]
  }
  provisioner "shell" {
    script           = "scripts/crlf.sh"
    use_env_var_file = true
    env              = { GREETING = "hello\\nworld" }
    remote_folder    = "${remote}"
  }
  provisioner "shell" {
    inline          = ["echo custom: $PACKER_BUILDER_TYPE"]
    execute_command = "chmod +x {{ .Path }}; {{ .Vars }} sh -x {{ .Path }}"
  }
  provisioner "file" {
    source      = "payload"
    destination = "${remote}/missing/parents/"
  }
  provisioner "file" {
    content     = "from content\\n"
    destination = "${remote}/content.txt"
  }
  provisioner "file" {
    source      = "${remote}/missing/parents/payload/"
    destination = "downloaded/"
    direction   = "download"
  }
}
`,
    });
    chmodSync(join(dir, 'payload/bin/tool'), 0o755);
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: env(dir) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`==> null.t: Connected to SSH! Host key ${sshd.hostKeyFingerprint()}`);
    expect(r.stdout).toContain(`    null.t: user=${sshd.user} port=${sshd.port}`);
    expect(r.stdout).toContain('==> null.t: warn');
    expect(r.stdout).toContain('    null.t: crlf script ran with hello');
    expect(r.stdout).toContain('    null.t: world');
    expect(r.stdout).toContain('    null.t: custom: null');
    expect(r.stdout).toContain(`==> null.t: Uploading payload => ${remote}/missing/parents/`);
    expect(readFileSync(`${remote}/env.txt`, 'utf8')).toBe('it\'s "quoted" $HOME `x` ;|& done\n');
    expect(readFileSync(`${remote}/content.txt`, 'utf8')).toBe('from content\n');
    expect(readFileSync(join(dir, 'downloaded/conf/app.conf'), 'utf8')).toBe('key = value\n');
    expect(statSync(join(dir, 'downloaded/bin/tool')).mode & 0o777).toBe(0o755);
    // Scripts and the environment file are removed afterwards (skip_clean is false).
    expect(readdirSync(remote).sort()).toEqual(['content.txt', 'env.txt', 'missing']);
  });

  it('honours valid_exit_codes, skip_clean, remote_folder/remote_file and pause_after; fails on another exit status', () => {
    const remote = scratch(sshd, 'options');
    const dir = ws({
      't.pkr.hcl': `
source "null" "t" {
  ${sshd.sourceHcl()}
}
build {
  sources = ["source.null.t"]
  provisioner "shell" {
    inline           = ["exit 3"]
    valid_exit_codes = [0, 3]
    skip_clean       = true
    remote_folder    = "${remote}"
    remote_file      = "kept.sh"
    pause_after      = "1s"
  }
  provisioner "shell" {
    inline = ["echo about to fail", "exit 4"]
  }
  provisioner "shell" {
    inline = ["echo never runs"]
  }
}
`,
    });
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: env(dir) });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('==> null.t: Pausing 1s after this provisioner...');
    expect(readFileSync(`${remote}/kept.sh`, 'utf8')).toBe('#!/bin/sh -e\nexit 3\n');
    expect(r.stdout + r.stderr).toContain('Script exited with non-zero exit status: 4. Allowed exit codes are: [0]');
    expect(r.stdout).toContain('    null.t: about to fail');
    expect(r.stdout).not.toContain('never runs');
  });

  it('shell: scripts, remote_path, binary and inline_shebang; file: sources, generated, trailing-slash destinations', () => {
    const remote = scratch(sshd, 'more-options');
    const two = '#!/bin/sh\necho two\r\n';
    const dir = ws({
      'scripts/one.sh': '#!/bin/sh\necho "one at $0"\n',
      'scripts/two.sh': two,
      'payload/a.txt': 'a\n',
      'payload/b.txt': 'b\n',
      't.pkr.hcl': `
source "null" "t" {
  ${sshd.sourceHcl()}
}
build {
  sources = ["source.null.t"]
  provisioner "shell" {
    scripts     = ["scripts/one.sh", "scripts/two.sh"]
    remote_path = "${remote}/fixed path.sh"
    binary      = true
    skip_clean  = true
  }
  provisioner "shell" {
    inline         = ["echo \\"bash=$\${BASH_VERSION:+yes}\\""]
    inline_shebang = "/bin/bash -e"
    remote_folder  = "${remote}"
    remote_file    = "bash.sh"
    skip_clean     = true
  }
  provisioner "shell" {
    inline        = ["#!/bin/bash", "echo \\"default bash=$\${BASH_VERSION:+yes}\\""]
    remote_folder = "${remote}"
    remote_file   = "default.sh"
    skip_clean    = true
  }
  provisioner "file" {
    sources     = ["payload/a.txt", "payload/b.txt"]
    destination = "${remote}/multi/"
  }
  provisioner "shell-local" {
    inline = ["echo made during the build > generated.txt"]
  }
  provisioner "file" {
    source      = "generated.txt"
    destination = "${remote}/gen/"
    generated   = true
  }
  provisioner "file" {
    source      = "${remote}/multi/b.txt"
    destination = "down/"
    direction   = "download"
  }
}
`,
    });
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: env(dir) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // Each script of `scripts` is uploaded to remote_path in turn; binary keeps the CRLF of the last.
    expect(r.stdout).toContain(`    null.t: one at ${remote}/fixed path.sh`);
    expect(r.stdout).toContain('==> null.t: Provisioning with shell script: scripts/two.sh');
    expect(readFileSync(`${remote}/fixed path.sh`, 'latin1')).toBe(two);
    expect(r.stdout).toContain('    null.t: bash=yes');
    expect(readFileSync(`${remote}/bash.sh`, 'utf8')).toBe('#!/bin/bash -e\necho "bash=${BASH_VERSION:+yes}"\n');
    // As Packer: the default shebang comes first, so the script's own #!/bin/bash is a comment.
    expect(r.stdout).toContain('    null.t: default bash=\n');
    expect(readFileSync(`${remote}/default.sh`, 'utf8')).toMatch(/^#!\/bin\/sh -e\n#!\/bin\/bash\n/);
    expect(readFileSync(`${remote}/multi/a.txt`, 'utf8')).toBe('a\n');
    expect(readFileSync(`${remote}/multi/b.txt`, 'utf8')).toBe('b\n');
    expect(readFileSync(`${remote}/gen/generated.txt`, 'utf8')).toBe('made during the build\n');
    expect(readFileSync(join(dir, 'down', 'b.txt'), 'utf8')).toBe('b\n');
  });

  it('waits for an sshd that comes up 5 s after the build started', async () => {
    const late = await Sshd.start();
    cleanups.push(() => late.dispose());
    late.stop();
    const dir = ws({ 't.pkr.hcl': `source "null" "t" {\n  ${late.sourceHcl()}\n}\nbuild {\n  sources = ["source.null.t"]\n  provisioner "shell" { inline = ["echo finally up"] }\n}\n` });
    const r = await buildWhile(dir, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5000));
      late.start();
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/SSH not available yet: cannot reach 127\.0\.0\.1:\d+: connection refused/);
    expect(r.stdout).toContain('    null.t: finally up');
  });

  it('pause_before_connecting: connects once, waits, then connects for the build', async () => {
    const server = await Sshd.start();
    cleanups.push(() => server.dispose());
    const dir = ws({ 't.pkr.hcl': `source "null" "t" {\n  ${server.sourceHcl('pause_before_connecting = "2s"')}\n}\nbuild {\n  sources = ["source.null.t"]\n  provisioner "shell" { inline = ["echo after the pause"] }\n}\n` });
    const started = Date.now();
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: env(dir) });
    expect(r.code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    const pause = r.stdout.indexOf('==> null.t: Pausing 2s before connecting (pause_before_connecting)...');
    expect(pause).toBeGreaterThan(0);
    expect(r.stdout.indexOf('Connected to SSH!')).toBeGreaterThan(pause);
    expect(r.stdout).toContain('    null.t: after the pause');
    expect(server.log().match(/Accepted publickey for kiln-ssh/g)?.length).toBe(2);
  });

  it('fails with a clear error when the key is not accepted', async () => {
    // Another server's client key: a valid key that this server does not know.
    const stranger = await Sshd.start();
    cleanups.push(() => stranger.dispose());
    stranger.stop();
    const source = sshd.sourceHcl('ssh_handshake_attempts = 2').replace(sshd.clientKey, stranger.clientKey);
    const dir = ws({ 't.pkr.hcl': `source "null" "t" {\n  ${source}\n}\nbuild {\n  sources = ["source.null.t"]\n  provisioner "shell" { inline = ["echo never"] }\n}\n` });
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: env(dir) });
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/SSH authentication failed 2 time\(s\), so kiln gave up \(ssh_handshake_attempts = 2\)/);
    expect(out).toContain(`authentication failed for ${sshd.user}@127.0.0.1:${sshd.port}`);
    expect(out).not.toContain('never');
  });

  describe('a reboot during a script with expect_disconnect', () => {
    let server: Sshd;
    beforeAll(async () => {
      server = await Sshd.start();
    });
    afterAll(() => server?.dispose());

    function rebootTemplate(remote: string): string {
      return `source "null" "t" {\n  ${server.sourceHcl('ssh_keep_alive_interval = "1s"')}\n}\nbuild {\n  sources = ["source.null.t"]\n  provisioner "shell" {\n    inline = ["touch ${remote}/rebooting", "sleep 60"]\n    expect_disconnect = true\n    start_retry_timeout = "30s"\n  }\n  provisioner "shell" {\n    inline = ["echo after reboot > ${remote}/after"]\n  }\n}\n`;
    }

    it('reconnects after sshd restarts and goes on with the next provisioner', async () => {
      const remote = scratch(server, 'reboot');
      const dir = ws({ 't.pkr.hcl': rebootTemplate(remote) });
      const r = await buildWhile(dir, async () => {
        await until(() => existsSync(`${remote}/rebooting`));
        server.restart();
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('The connection dropped, as expect_disconnect allows');
      expect(readFileSync(`${remote}/after`, 'utf8')).toBe('after reboot\n');
    });

    it('with skip_clean, a file provisioner right after the reboot waits for sshd to come back; pause_after runs first', async () => {
      const remote = scratch(server, 'reboot-file');
      const dir = ws({
        't.pkr.hcl': `source "null" "t" {\n  ${server.sourceHcl('ssh_keep_alive_interval = "1s"')}\n}\nbuild {\n  sources = ["source.null.t"]\n  provisioner "shell" {\n    inline = ["touch ${remote}/rebooting", "sleep 60"]\n    expect_disconnect = true\n    skip_clean = true\n    pause_after = "1s"\n  }\n  provisioner "file" {\n    content = "after reboot\\n"\n    destination = "${remote}/after.txt"\n  }\n}\n`,
      });
      let downFor = 0;
      const r = await buildWhile(dir, async () => {
        await until(() => existsSync(`${remote}/rebooting`));
        // The machine stays unreachable for 3 s, longer than the pause after the script.
        server.drop();
        server.stop();
        const down = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 3000));
        server.start();
        downFor = Date.now() - down;
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(downFor).toBeGreaterThanOrEqual(3000);
      const out = r.stdout;
      expect(out).toContain('The connection dropped, as expect_disconnect allows');
      expect(out.indexOf('Pausing 1s after this provisioner...')).toBeGreaterThan(out.indexOf('The connection dropped'));
      expect(out).toMatch(/SSH not available yet: cannot reach 127\.0\.0\.1:\d+: connection refused/);
      expect(readFileSync(`${remote}/after.txt`, 'utf8')).toBe('after reboot\n');
    });

    it('refuses the machine when its host key changed across the reboot, naming both keys', async () => {
      const remote = scratch(server, 'rekey');
      const before = server.hostKeyFingerprint();
      const dir = ws({ 't.pkr.hcl': rebootTemplate(remote) });
      let after = '';
      const r = await buildWhile(dir, async () => {
        await until(() => existsSync(`${remote}/rebooting`));
        server.rekey();
        after = server.hostKeyFingerprint();
        server.restart();
      });
      expect(r.code).toBe(1);
      const out = r.stdout + r.stderr;
      expect(out).toContain(`Refusing the SSH host key of 127.0.0.1:${server.port}: it offered ssh-ed25519 key ${after}`);
      expect(out).toContain(`which is ${before}`);
      expect(existsSync(`${remote}/after`)).toBe(false);
    });
  });

  it('reports a connection lost during a 256 MiB upload, cleans up and exits', async () => {
    const server = await Sshd.start();
    cleanups.push(() => server.dispose());
    const remote = scratch(server, 'drop');
    const dir = ws({ 't.pkr.hcl': `source "null" "t" {\n  ${server.sourceHcl('ssh_handshake_attempts = 1')}\n}\nbuild {\n  sources = ["source.null.t"]\n  provisioner "file" {\n    source = "big.bin"\n    destination = "${remote}/big.bin"\n  }\n}\n` });
    const big = Buffer.alloc(1 << 20, 7);
    const parts = Array.from({ length: 256 }, () => big);
    writeFileSync(join(dir, 'big.bin'), Buffer.concat(parts));
    const r = await buildWhile(dir, async () => {
      await until(() => existsSync(`${remote}/big.bin`) && statSync(`${remote}/big.bin`).size > 8 << 20);
      server.drop();
    });
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(new RegExp(`the connection to ssh ${server.user}@127\\.0\\.0\\.1:${server.port} was lost during the upload of big\\.bin to ${remote}/big\\.bin after \\d+ of 268435456 bytes`));
    // Cleanup ran: the run's resource ledger is closed and removed.
    const runs = readdirSync(join(dir, '.state', 'runs'));
    expect(existsSync(join(dir, '.state', 'runs', runs[0]!, 'ledger.jsonl'))).toBe(false);
  });

  it('shows each output line while the script still runs', async () => {
    const dir = ws({ 't.pkr.hcl': `source "null" "t" {\n  ${sshd.sourceHcl()}\n}\nbuild {\n  sources = ["source.null.t"]\n  provisioner "shell" { inline = ["echo first line", "sleep 2", "echo second line"] }\n}\n` });
    const child = kilnProcess(['build', 't.pkr.hcl'], { cwd: dir, env: env(dir) });
    const seen = new Map<string, number>();
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      for (const l of ['first line', 'second line']) if (!seen.has(l) && out.includes(`null.t: ${l}`)) seen.set(l, Date.now());
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(seen.get('second line')! - seen.get('first line')!).toBeGreaterThanOrEqual(1500);
  });

  it('keeps every one of 100,000 output lines, in order', () => {
    const dir = ws({ 't.pkr.hcl': `source "null" "t" {\n  ${sshd.sourceHcl()}\n}\nbuild {\n  sources = ["source.null.t"]\n  provisioner "shell" { inline = ["seq 1 100000"] }\n}\n` });
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: env(dir) });
    expect(r.code).toBe(0);
    const lines = logOf(dir)
      .split('\n')
      .filter((l) => l.includes(' [stdout] '))
      .map((l) => l.slice(l.indexOf(' [stdout] ') + 10));
    expect(lines.length).toBe(100_000);
    expect(lines.every((l, i) => l === String(i + 1))).toBe(true);
    const shown = r.stdout.split('\n').filter((l) => /^ {4}null\.t: \d+$/.test(l));
    expect(shown.length).toBe(100_000);
  });
});
