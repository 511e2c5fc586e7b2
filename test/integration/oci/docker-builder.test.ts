/**
 * The `docker` builder against podman's Docker-compatible service (the engine a CI machine
 * here has): provisioners run in the container over the docker-exec communicator, the container
 * is committed with changes, tagged and pushed to the distribution registry (checked by skopeo),
 * or exported; pull, run_command, volumes, privileged, platform and registry login reach the
 * engine; the container is gone afterwards in every outcome, failures and Ctrl-C included.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kiln, kilnProcess, workspace } from '../../helpers/cli.js';
import { skipWithout } from '../../helpers/components.js';
import { BUSYBOX, PODMAN, REGISTRY, SKOPEO, removeRegistry, startPodman, startRegistry, type RunningPodman, type RunningRegistry } from '../../helpers/oci-components.js';
import { busyboxRootfs, sh } from './fixtures.js';

const missing = [PODMAN, REGISTRY, SKOPEO, BUSYBOX].some((c) => skipWithout(c));
const template = (registry: string, extra: string) => `
source "docker" "box" {
  image   = "localhost/kiln-base:test"
  pull    = false
  ${extra}
}
build {
  sources = ["source.docker.box"]
  provisioner "file" {
    source      = "site/"
    destination = "/srv/www"
  }
  provisioner "shell" {
    inline = ["echo provisioned in $(cat /etc/os-release) > /etc/motd", "ls /srv/www"]
  }
  post-processors {
    post-processor "docker-tag" {
      only       = ["docker.box"]
      repository = "${registry}/kiln/box"
      tags       = ["1.0", "latest"]
    }
    post-processor "docker-push" {}
  }
}
`;

describe.skipIf(missing)('docker builder (podman system service)', () => {
  let podman: RunningPodman;
  let reg: RunningRegistry;
  let authReg: RunningRegistry;
  let ws: ReturnType<typeof workspace>;
  const env = () => ({ KILN_STATE_DIR: join(ws.dir, '.state'), DOCKER_HOST: `unix://${podman.socket}` });
  const containers = () => podman.podman(['ps', '-a', '--format', '{{.Names}}']).trim();

  beforeAll(async () => {
    ws = workspace({ 'site/index.html': '<h1>kiln</h1>\n', htpasswd: `kiln:${bcrypt.hashSync('right', 10)}\n` });
    reg = await startRegistry();
    authReg = await startRegistry({ htpasswd: join(ws.dir, 'htpasswd') });
    podman = startPodman([reg.host, authReg.host]);
    const root = busyboxRootfs(ws.dir);
    podman.podman(['import', '-', 'localhost/kiln-base:test'], execFileSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 1 << 26 }));
  });
  afterAll(() => {
    podman?.stop();
    if (reg) removeRegistry(reg);
    if (authReg) removeRegistry(authReg);
    try {
      execFileSync('umount', [join(ws.dir, 'full')], { stdio: 'ignore' });
    } catch {
      // not mounted
    }
    ws?.cleanup();
  });

  /** Writes `template` as DIR/t.pkr.hcl (DIR under the workspace) and runs kiln build there. */
  const buildIn = (name: string, template: string, extraEnv: Record<string, string> = {}) => {
    const dir = join(ws.dir, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 't.pkr.hcl'), template);
    return { dir, r: kiln(['build', 't.pkr.hcl'], { cwd: dir, env: { ...env(), ...extraEnv } }) };
  };

  it('provisions, commits with changes, tags and pushes; the registry and skopeo agree', () => {
    const dir = join(ws.dir, 'commit');
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('cp', ['-r', join(ws.dir, 'site'), dir]);
    execFileSync('sh', ['-c', `cat > ${dir}/t.pkr.hcl`], { input: template(reg.host, 'commit = true\n  changes = ["ENTRYPOINT [\\"/bin/cat\\"]", "CMD [\\"/etc/motd\\"]", "ENV KILN=1"]') });
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('index.html');
    const cfg = JSON.parse(sh(`skopeo inspect --config --tls-verify=false docker://${reg.host}/kiln/box:1.0`));
    expect(cfg.config.Entrypoint).toEqual(['/bin/cat']);
    expect(cfg.config.Cmd).toEqual(['/etc/motd']);
    expect(cfg.config.Env).toContain('KILN=1');
    expect(JSON.parse(sh(`skopeo inspect --tls-verify=false docker://${reg.host}/kiln/box:latest`)).Digest).toBe(JSON.parse(sh(`skopeo inspect --tls-verify=false docker://${reg.host}/kiln/box:1.0`)).Digest);
    expect(podman.podman(['run', '--rm', `${reg.host}/kiln/box:1.0`])).toBe('provisioned in NAME=kiln-test\n');
    expect(containers()).toBe('');
  });

  it('exports the container filesystem to a tarball', () => {
    const dir = join(ws.dir, 'export');
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('cp', ['-r', join(ws.dir, 'site'), dir]);
    execFileSync('sh', ['-c', `cat > ${dir}/t.pkr.hcl`], { input: template(reg.host, 'export_path = "out/box.tar"').replace(/post-processors \{[\s\S]*?\n  \}\n/, '') });
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: env() });
    expect(r.code).toBe(0);
    const names = sh(`tar -tf ${join(dir, 'out', 'box.tar')}`).split('\n');
    expect(names).toContain('etc/motd');
    expect(names).toContain('srv/www/index.html');
    expect(containers()).toBe('');
  });

  it('removes the container when a provisioner fails', () => {
    const dir = join(ws.dir, 'fail');
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('sh', ['-c', `cat > ${dir}/t.pkr.hcl`], {
      input: `source "docker" "box" {\n  image = "localhost/kiln-base:test"\n  pull = false\n  discard = true\n}\nbuild {\n  sources = ["source.docker.box"]\n  provisioner "shell" {\n    inline = ["exit 7"]\n  }\n}\n`,
    });
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: env() });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('non-zero exit status: 7');
    expect(containers()).toBe('');
  });

  it('says clearly when the image is missing or the engine socket is not there', () => {
    const dir = join(ws.dir, 'bad');
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('sh', ['-c', `cat > ${dir}/t.pkr.hcl`], { input: `source "docker" "box" {\n  image = "${reg.host}/kiln/nope:1"\n  discard = true\n}\nbuild { sources = ["source.docker.box"] }\n` });
    const missingImage = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: env() });
    expect(missingImage.code).toBe(1);
    expect(missingImage.stdout + missingImage.stderr).toMatch(new RegExp(`pulling ${reg.host.replaceAll('.', '\\.')}/kiln/nope:1: .*(manifest unknown|not found)`, 'i'));
    const noSocket = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: { ...env(), DOCKER_HOST: `unix://${join(ws.dir, 'no.sock')}` } });
    expect(noSocket.code).toBe(1);
    expect(noSocket.stdout + noSocket.stderr).toContain('the socket does not exist');
    expect(containers()).toBe('');
  });

  it('pulls the image (pull = true) and starts it with run_command, volumes, privileged and platform', () => {
    // Pushed under a name the engine does not have locally: the build must pull it.
    podman.podman(['push', '--tls-verify=false', 'localhost/kiln-base:test', `${reg.host}/kiln/base:1`]);
    mkdirSync(join(ws.dir, 'shared'), { recursive: true });
    writeFileSync(join(ws.dir, 'shared', 'hello'), 'from the host\n');
    const { r } = buildIn(
      'options',
      `source "docker" "box" {
  image       = "${reg.host}/kiln/base:1"
  pull        = true
  discard     = true
  privileged  = true
  platform    = "linux/amd64"
  volumes     = { "../shared" = "/mnt/shared" }
  run_command = ["-d", "-i", "-t", "-e", "FOO=bar", "--hostname", "kilnbox", "--entrypoint=/bin/sh", "--", "{{.Image}}"]
}
build {
  sources = ["source.docker.box"]
  provisioner "shell" {
    inline = [
      "echo foo=$FOO host=$(hostname)",
      "cat /mnt/shared/hello",
      "echo made-inside > /mnt/shared/back",
      "echo caps=$(grep CapEff /proc/self/status | cut -f2)",
      "echo arch=$(uname -m)",
    ]
  }
}
`,
    );
    expect(r.stdout + r.stderr).toContain('foo=bar host=kilnbox');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Pulling Docker image: ${reg.host}/kiln/base:1`);
    expect(r.stdout).toContain('from the host');
    expect(sh(`cat ${join(ws.dir, 'shared', 'back')}`)).toBe('made-inside\n');
    // Privileged: every capability the engine has (an unprivileged container lacks e.g. SYS_ADMIN).
    const caps = BigInt(`0x${/caps=([0-9a-f]+)/.exec(r.stdout)![1]}`);
    expect(caps & (1n << 21n)).not.toBe(0n);
    expect(r.stdout).toContain('arch=x86_64');
    expect(containers()).toBe('');
  });

  it('logs in to a registry that needs it (login_server/login_username/login_password), and names a wrong password', () => {
    podman.podman(['push', '--tls-verify=false', '--creds', 'kiln:right', 'localhost/kiln-base:test', `${authReg.host}/kiln/private:1`]);
    const t = (password: string) => `source "docker" "box" {
  image          = "${authReg.host}/kiln/private:1"
  discard        = true
  login          = true
  login_server   = "${authReg.host}"
  login_username = "kiln"
  login_password = "${password}"
}
build {
  sources = ["source.docker.box"]
  provisioner "shell" {
    inline = ["echo logged-in-and-running"]
  }
}
`;
    const wrong = buildIn('login-wrong', t('wrong'));
    expect(wrong.r.code).toBe(1);
    expect(wrong.r.stdout + wrong.r.stderr).toContain(`pulling ${authReg.host}/kiln/private:1: `);
    expect(wrong.r.stdout + wrong.r.stderr).toMatch(/unauthorized: authentication required/);
    expect(wrong.r.stdout + wrong.r.stderr).not.toContain('wrong"');
    const right = buildIn('login-right', t('right'));
    expect(right.r.stdout + right.r.stderr).toContain('logged-in-and-running');
    expect(right.r.code).toBe(0);
    expect(containers()).toBe('');
  });

  it('reports a full disk for export_path and leaves no partial tarball', () => {
    if (process.getuid?.() !== 0) return; // mounting a small tmpfs needs root
    const full = join(ws.dir, 'full');
    mkdirSync(full, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', full]);
    const { r } = buildIn('export-full', `source "docker" "box" {\n  image = "localhost/kiln-base:test"\n  pull = false\n  export_path = "../full/box.tar"\n}\nbuild { sources = ["source.docker.box"] }\n`);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('could not write ../full/box.tar: no space left on the disk holding ../full');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(full)).toEqual([]);
    expect(containers()).toBe('');
  });

  it('removes the container when kiln build is interrupted (SIGINT)', async () => {
    const dir = join(ws.dir, 'sigint');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 't.pkr.hcl'), `source "docker" "box" {\n  image = "localhost/kiln-base:test"\n  pull = false\n  discard = true\n}\nbuild {\n  sources = ["source.docker.box"]\n  provisioner "shell" {\n    inline = ["echo started", "sleep 600"]\n  }\n}\n`);
    const child = kilnProcess(['build', 't.pkr.hcl'], { cwd: dir, env: env() });
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        seen += c.toString();
        if (seen.includes('started')) resolve();
      });
      child.on('exit', () => reject(new Error(`kiln ended before the provisioner started:\n${seen}`)));
    });
    expect(containers()).toMatch(/^kiln-/);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
    expect(code).not.toBe(0);
    expect(seen).toContain('Killing the container');
    expect(containers()).toBe('');
  });

  it('a killed run leaves its container in the ledger, and kiln cleanup removes it', async () => {
    const dir = join(ws.dir, 'killed');
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('sh', ['-c', `cat > ${dir}/t.pkr.hcl`], {
      input: `source "docker" "box" {\n  image = "localhost/kiln-base:test"\n  pull = false\n  discard = true\n}\nbuild {\n  sources = ["source.docker.box"]\n  provisioner "shell" {\n    inline = ["echo started", "sleep 600"]\n  }\n}\n`,
    });
    const child = kilnProcess(['build', 't.pkr.hcl'], { cwd: dir, env: env() });
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      child.stdout.on('data', (c: Buffer) => {
        seen += c.toString();
        if (seen.includes('started')) resolve();
      });
      child.on('exit', () => reject(new Error(`kiln ended before the provisioner started:\n${seen}`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    expect(containers()).toMatch(/^kiln-/);
    const r = kiln(['cleanup'], { cwd: dir, env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('removed container');
    expect(containers()).toBe('');
  });

  it('runs as exec_user and gives uploads to that user (fix_upload_owner)', () => {
    const dir = join(ws.dir, 'user');
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('cp', ['-r', join(ws.dir, 'site'), dir]);
    execFileSync('sh', ['-c', `cat > ${dir}/t.pkr.hcl`], {
      input: `source "docker" "box" {\n  image = "localhost/kiln-base:test"\n  pull = false\n  discard = true\n  exec_user = "65534:65534"\n}\nbuild {\n  sources = ["source.docker.box"]\n  provisioner "file" {\n    source = "site/index.html"\n    destination = "/tmp/index.html"\n  }\n  provisioner "shell" {\n    inline = ["echo owner=$(stat -c %u /tmp/index.html) me=$(id -u)"]\n  }\n}\n`,
    });
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: env() });
    expect(r.stdout + r.stderr).toContain('owner=65534 me=65534');
    expect(r.code).toBe(0);
    expect(containers()).toBe('');
  });
});
