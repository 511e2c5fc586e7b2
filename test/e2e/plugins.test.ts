/**
 * Third-party plugins: an npm package `kiln-plugin-<name>` next to the template, or a local
 * path, declared in required_plugins and loaded only because the template asks for it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kiln, ROOT, workspace } from '../helpers/cli.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const SDK = join(ROOT, 'dist', 'src', 'sdk', 'index.js');

/** A plugin exactly as a third party would write it: a provisioner that writes a file. */
const PLUGIN = `
import { writeFileSync } from 'node:fs';
import { provisioner, z } from ${JSON.stringify(SDK)};
const stamp = provisioner({
  type: 'stamp',
  schema: z.object({ path: z.string(), text: z.string() }).strict(),
  async provision(ctx) {
    ctx.ui.say('stamping ' + ctx.config.path);
    writeFileSync(ctx.config.path, ctx.config.text + ' for ' + ctx.sourceName + '\\n');
  },
});
export default { provisioners: [stamp] };
`;

const TEMPLATE = (source: string) => `
packer {
  required_plugins {
    stamp = { source = "${source}", version = ">= 0.1" }
  }
}
source "null" "a" { communicator = "none" }
build {
  sources = ["source.null.a"]
  provisioner "stamp" {
    path = "stamped.txt"
    text = "hello"
  }
}
`;

describe('third-party plugins', () => {
  it('loads kiln-plugin-<name> from the template directory node_modules', () => {
    const w = workspace({
      't.pkr.hcl': TEMPLATE('github.com/example/stamp'),
      'node_modules/kiln-plugin-stamp/package.json': JSON.stringify({ name: 'kiln-plugin-stamp', type: 'module', main: 'index.js' }),
      'node_modules/kiln-plugin-stamp/index.js': PLUGIN,
    });
    cleanups.push(w.cleanup);
    const r = kiln(['build', 't.pkr.hcl'], { cwd: w.dir, env: { KILN_STATE_DIR: join(w.dir, '.state') } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('==> null.a: stamping stamped.txt');
    expect(readFileSync(join(w.dir, 'stamped.txt'), 'utf8')).toBe('hello for a\n');
  });

  it('loads a plugin from a local path and checks its config schema', () => {
    const w = workspace({ 't.pkr.hcl': TEMPLATE('./my-plugin').replace('text = "hello"', 'txt = "hello"'), 'my-plugin/index.js': PLUGIN, 'my-plugin/package.json': '{"type":"module","main":"index.js"}' });
    cleanups.push(w.cleanup);
    const r = kiln(['validate', 't.pkr.hcl'], { cwd: w.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('An argument named "txt" is not expected in provisioner "stamp"');
    expect(r.stderr).toContain('Did you mean "text"?');
  });

  it('says how to install a plugin that is missing', () => {
    const w = workspace({ 't.pkr.hcl': TEMPLATE('github.com/example/stamp') });
    cleanups.push(w.cleanup);
    const r = kiln(['validate', 't.pkr.hcl'], { cwd: w.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('npm install kiln-plugin-stamp');
  });
});

/** How errors are printed: summary, then the position line. */
const errorsAt = (stderr: string): string[] => [...stderr.matchAll(/^Error: (.*)\n\n {2}on (\S+):$/gm)].map((m) => `${m[2]} ${m[1]}`);

describe("HashiCorp's plugins in required_plugins", () => {
  /** A packer block as real Packer templates write it, for the plugins kiln implements. */
  const PACKER_BLOCK = (qemuVersion: string) => `packer {
  required_plugins {
    qemu = {
      source  = "github.com/hashicorp/qemu"
      version = "${qemuVersion}"
    }
    docker = {
      source  = "github.com/hashicorp/docker"
      version = "~> 1"
    }
  }
}
`;

  it('qemu and docker resolve to the built-ins: the template validates unchanged', () => {
    const w = workspace({
      't.pkr.hcl': `${PACKER_BLOCK('>= 1.0.0')}
source "docker" "app" {
  image  = "alpine:3.19"
  commit = true
}
source "qemu" "vm" {
  iso_url          = "https://example.invalid/alpine.iso"
  iso_checksum     = "none"
  ssh_username     = "root"
  ssh_password     = "x"
  shutdown_command = "poweroff"
}
build {
  sources = ["source.docker.app", "source.qemu.vm"]
  post-processors {
    post-processor "docker-tag" {
      repository = "example/app"
      tags       = ["1"]
      only       = ["docker.app"]
    }
    post-processor "docker-push" {
      only = ["docker.app"]
    }
  }
}
`,
    });
    cleanups.push(w.cleanup);
    const r = kiln(['validate', 't.pkr.hcl'], { cwd: w.dir });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('The configuration is valid.\n');
    expect(r.code).toBe(0);
  });

  it('builds with them, and a version constraint on a built-in is not enforced', () => {
    const w = workspace({
      't.pkr.hcl': `${PACKER_BLOCK('>= 99.0.0')}
source "null" "n" { communicator = "none" }
build {
  sources = ["source.null.n"]
  provisioner "shell-local" { inline = ["echo built > built.txt"] }
}
`,
    });
    cleanups.push(w.cleanup);
    const r = kiln(['build', 't.pkr.hcl'], { cwd: w.dir, env: { KILN_STATE_DIR: join(w.dir, '.state') } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(join(w.dir, 'built.txt'), 'utf8')).toBe('built\n');
  });

  it('a malformed version constraint is an error at its plugin', () => {
    const w = workspace({ 't.pkr.hcl': `${PACKER_BLOCK('>= 1.0.0, at least one')}source "null" "n" { communicator = "none" }\nbuild { sources = ["source.null.n"] }\n` });
    cleanups.push(w.cleanup);
    const r = kiln(['validate', 't.pkr.hcl'], { cwd: w.dir });
    expect(r.code).toBe(1);
    expect(errorsAt(r.stderr)).toEqual(['t.pkr.hcl:3:5 Invalid version constraint']);
    expect(r.stderr).toContain('"at least one" is not a valid version constraint');
    // Every malformed term is named, in one error.
    const two = workspace({ 't.pkr.hcl': `${PACKER_BLOCK('newest, >= 1.0.0, ~>')}source "null" "n" { communicator = "none" }\nbuild { sources = ["source.null.n"] }\n` });
    cleanups.push(two.cleanup);
    const r2 = kiln(['validate', 't.pkr.hcl'], { cwd: two.dir });
    expect(errorsAt(r2.stderr)).toEqual(['t.pkr.hcl:3:5 Invalid version constraint']);
    expect(r2.stderr).toContain('"newest" and "~>" are not valid version constraints; write terms like ">= 1.7.0" or "~> 1.9".');
  });

  it('plugins kiln does not implement yet are each reported at their own entry, with no npm hint', () => {
    const w = workspace({
      't.pkr.hcl': `packer {
  required_plugins {
    googlecompute = {
      source  = "github.com/hashicorp/googlecompute"
      version = ">= 1.1.0"
    }
    azure = {
      source  = "github.com/hashicorp/azure"
      version = "~> 2"
    }
  }
}
source "googlecompute" "a" { project_id = "p" }
source "azure-arm" "b" { location = "westeurope" }
build { sources = ["source.googlecompute.a", "source.azure-arm.b"] }
`,
    });
    cleanups.push(w.cleanup);
    const r = kiln(['validate', 't.pkr.hcl'], { cwd: w.dir });
    expect(r.code).toBe(1);
    // The sources that need them are not reported again as unknown types.
    expect(errorsAt(r.stderr)).toEqual(['t.pkr.hcl:3:5 Plugin not available', 't.pkr.hcl:7:5 Plugin not available']);
    expect(r.stderr).toContain("kiln does not implement HashiCorp's googlecompute plugin (github.com/hashicorp/googlecompute) yet");
    expect(r.stderr).toContain("kiln does not implement HashiCorp's azure plugin (github.com/hashicorp/azure) yet");
    expect(r.stderr).toContain('The HashiCorp plugins kiln provides built in are: amazon, docker, qemu.');
    expect(r.stderr).not.toContain('npm install');
  });

  it('the amazon plugin resolves to the built-in amazon-ebs; its other components are reported as not implemented yet', () => {
    const w = workspace({
      't.pkr.hcl': `packer {
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.3.0"
    }
  }
}
source "amazon-ebs" "a" {
  region        = "eu-west-1"
  source_ami    = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  ssh_username  = "admin"
  ami_name      = "golden-1"
}
source "amazon-chroot" "b" { source_ami = "ami-0123456789abcdef0" }
build { sources = ["source.amazon-ebs.a", "source.amazon-chroot.b"] }
`,
    });
    cleanups.push(w.cleanup);
    const r = kiln(['validate', 't.pkr.hcl'], { cwd: w.dir });
    expect(r.code).toBe(1);
    expect(errorsAt(r.stderr)).toEqual(['t.pkr.hcl:16:1 Unknown source type "amazon-chroot"']);
    expect(r.stderr).toContain('"amazon-chroot" is a builder of HashiCorp\'s amazon plugin that kiln does not implement yet.');
  });

  it('every missing plugin is reported and the rest of the template is still checked', () => {
    const w = workspace({
      't.pkr.hcl': `packer {
  required_plugins {
    stamp = { source = "github.com/example/stamp" }
    ansible = { source = "github.com/hashicorp/ansible", version = "~> 1" }
    mine = { source = "./nowhere" }
  }
}
source "docker" "d" {
  image  = "alpine:3.19"
  commti = true
}
build {
  sources = ["source.docker.d"]
  provisioner "stamp" { text = "x" }
  provisioner "ansible" { playbook_file = "site.yml" }
  provisioner "shel" { inline = ["true"] }
  post-processor "docker-save" { path = "image.tar" }
}
`,
    });
    cleanups.push(w.cleanup);
    const r = kiln(['validate', 't.pkr.hcl'], { cwd: w.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
    expect(errorsAt(r.stderr)).toEqual([
      't.pkr.hcl:3:5 Plugin not available',
      't.pkr.hcl:4:5 Plugin not available',
      't.pkr.hcl:5:5 Plugin not available',
      't.pkr.hcl:10:3 Unsupported argument',
      't.pkr.hcl:8:1 Invalid value',
      't.pkr.hcl:16:3 Unknown provisioner type "shel"',
      't.pkr.hcl:17:3 Unknown post-processor type "docker-save"',
    ]);
    expect(r.stderr).toContain('npm install kiln-plugin-stamp');
    expect(r.stderr).toContain("kiln does not implement HashiCorp's ansible plugin");
    expect(r.stderr).toContain(`The plugin "mine" was not found at ${join(w.dir, 'nowhere')}`);
    expect(r.stderr).toContain('Did you mean "commit"?');
    expect(r.stderr).toContain(`"docker-save" is a post-processor of HashiCorp's docker plugin that kiln does not implement yet.`);
  });
});

describe('kiln cleanup and third-party resources', () => {
  /** A builder that makes a resource of its own kind ("marker": a file) and then hangs. */
  const MARKER = `
import { writeFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { builder, z } from ${JSON.stringify(SDK)};
const marker = builder({
  type: 'marker',
  schema: z.object({ path: z.string() }).strict(),
  async run(ctx) {
    const path = resolve(ctx.config.path);
    const h = await ctx.resources.record('marker', 'marker file ' + path, { path });
    writeFileSync(path, 'left by a run\\n');
    ctx.cleanup.push('remove marker', async () => { rmSync(path, { force: true }); await h.release(); });
    await new Promise((resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('cancelled'))));
    return undefined;
  },
});
export default {
  builders: [marker],
  reapers: { marker: async (data) => rmSync(String(data.path), { force: true }) },
};
`;

  it('after SIGKILL, kiln cleanup run from anywhere removes a resource only the plugin knows how to remove', async () => {
    const { spawn } = await import('node:child_process');
    const { existsSync } = await import('node:fs');
    const w = workspace({
      't.pkr.hcl': 'packer {\n  required_plugins {\n    marker = { source = "./marker" }\n  }\n}\nsource "marker" "a" { path = "marker.txt" }\nbuild { sources = ["source.marker.a"] }\n',
      'marker/index.js': MARKER,
      'marker/package.json': '{"type":"module","main":"index.js"}',
    });
    cleanups.push(w.cleanup);
    const elsewhere = workspace({});
    cleanups.push(elsewhere.cleanup);
    const env = { KILN_STATE_DIR: join(w.dir, '.state') };
    const p = spawn(process.execPath, [join(ROOT, 'dist', 'bin', 'main.js'), 'build', 't.pkr.hcl'], { cwd: w.dir, env: { ...process.env, ...env }, stdio: 'ignore' });
    const closed = new Promise((resolve) => p.on('close', resolve));
    const marker = join(w.dir, 'marker.txt');
    for (let i = 0; i < 200 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(marker)).toBe(true);
    p.kill('SIGKILL');
    await closed;
    // No template here: the ledger alone says which plugin owns the marker.
    const dry = kiln(['cleanup', '--dry-run'], { cwd: elsewhere.dir, env });
    expect(dry.stdout).toContain(`would remove marker: marker file ${marker}`);
    const r = kiln(['cleanup'], { cwd: elsewhere.dir, env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`removed marker: marker file ${marker}`);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('Ctrl-C escalation', () => {
  /** A builder whose cleanup takes a while, so there is time to press Ctrl-C again. */
  const SLOW_CLEANUP = `
import { builder, z } from ${JSON.stringify(SDK)};
const slow = builder({
  type: 'slow-cleanup',
  schema: z.object({}).strict(),
  async run(ctx) {
    ctx.cleanup.push('deleting the test instance', () => new Promise((r) => setTimeout(r, 3000)));
    await new Promise((resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('cancelled'))));
    return undefined;
  },
});
export default { builders: [slow] };
`;

  it('a second Ctrl-C lists the cleanups still running; a third exits at once', async () => {
    const { spawn } = await import('node:child_process');
    const w = workspace({
      't.pkr.hcl': 'packer {\n  required_plugins {\n    slow = { source = "./slow" }\n  }\n}\nsource "slow-cleanup" "a" {}\nbuild { sources = ["source.slow-cleanup.a"] }\n',
      'slow/index.js': SLOW_CLEANUP,
      'slow/package.json': '{"type":"module","main":"index.js"}',
    });
    cleanups.push(w.cleanup);
    const p = spawn(process.execPath, [join(ROOT, 'dist', 'bin', 'main.js'), 'build', 't.pkr.hcl'], { cwd: w.dir, env: { ...process.env, NO_COLOR: '1', KILN_STATE_DIR: join(w.dir, '.state') } });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const until = async (text: string): Promise<void> => {
      for (let i = 0; i < 400 && !out.includes(text); i++) await new Promise((r) => setTimeout(r, 50));
      if (!out.includes(text)) throw new Error(`no "${text}" within 20 s; kiln printed:\n${out}`);
    };
    await until('output will be in this color');
    p.kill('SIGINT');
    await until('Interrupt received');
    await new Promise((r) => setTimeout(r, 200));
    p.kill('SIGINT');
    await until('Still cleaning up');
    expect(out).toContain('==> slow-cleanup.a: Still cleaning up: deleting the test instance');
    p.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => p.on('close', resolve));
    expect(code).toBe(130);
    expect(out).toMatch(/Run "kiln cleanup --run [0-9a-f-]+" to remove what was left/);
  });
});
