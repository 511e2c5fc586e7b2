/**
 * The `oci` builder run by an unprivileged user, as a CI job or a developer without root runs
 * it: `shell` commands go into a user namespace of their own (mapped to root inside, like
 * rootless buildah), and the files that user owns are written to the layer as owned by 0, as the
 * namespace showed them. skopeo reads the result and GNU tar lists the owners. The test needs
 * root only to switch to the unprivileged user (runuser).
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KILN_BIN, workspace } from '../../helpers/cli.js';
import { commandExists, skipWithout, type Component } from '../../helpers/components.js';
import { BUSYBOX, SKOPEO } from '../../helpers/oci-components.js';
import { busyboxRootfs, sh } from './fixtures.js';

const RUNUSER: Component = {
  name: 'root with runuser (util-linux), to run kiln as the unprivileged user nobody',
  available: () => process.getuid?.() === 0 && commandExists('runuser'),
  setup: 'run the tests as root',
};
const missing = [SKOPEO, BUSYBOX, RUNUSER].some((c) => skipWithout(c));

const TEMPLATE = `
source "oci" "rl" {
  base          = "scratch"
  export_layout = "out"
  tag           = ["rl"]
}
build {
  sources = ["source.oci.rl"]
  provisioner "file" {
    source      = "rootfs/"
    destination = "/"
  }
  provisioner "shell" {
    inline = ["echo \\"uid $(id -u)\\" > /etc/from-shell", "rm /bin/ls"]
  }
}
`;

describe.skipIf(missing)('oci builder run by an unprivileged user', () => {
  let ws: ReturnType<typeof workspace>;
  beforeAll(() => {
    ws = workspace({ 'rl.pkr.hcl': TEMPLATE });
    busyboxRootfs(ws.dir);
    mkdirSync(join(ws.dir, 'tmp'));
    // nobody works in the folder: it must be able to write there, and nowhere it need not.
    for (const d of [ws.dir, join(ws.dir, 'tmp')]) chmodSync(d, 0o777);
  });
  afterAll(() => ws.cleanup());

  /** `kiln build FILE` as nobody, with a HOME, TMPDIR and state folder in the workspace. */
  const buildAsNobody = (file: string, env: Record<string, string> = {}) => {
    const r = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, KILN_BIN, 'build', file], {
      cwd: ws.dir,
      env: { PATH: process.env.PATH ?? '', HOME: ws.dir, TMPDIR: join(ws.dir, 'tmp'), NO_COLOR: '1', KILN_STATE_DIR: join(ws.dir, '.state'), ...env },
      encoding: 'utf8',
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('runs shell commands in a user namespace and writes the files nobody owns as owned by root', () => {
    const r = buildAsNobody('rl.pkr.hcl', { SOURCE_DATE_EPOCH: '1700000000' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const layout = join(ws.dir, 'out');
    const layers = (JSON.parse(sh(`skopeo inspect oci:${layout}:rl`)) as { Layers: string[] }).Layers;
    expect(layers).toHaveLength(1);
    const blob = join(layout, 'blobs', 'sha256', layers[0]!.slice(7));
    // Inside its namespace the command was root; the file it wrote says so.
    expect(execFileSync('sh', ['-c', `tar -xzOf '${blob}' etc/from-shell`], { encoding: 'utf8' })).toBe('uid 0\n');
    // Numeric owners in the layer: 0/0 for everything, though on disk nobody (65534) owned it all.
    const owners = new Set(sh(`tar --numeric-owner -tzvf '${blob}'`).trim().split('\n').map((l) => l.split(/\s+/)[1]));
    expect([...owners]).toEqual(['0/0']);
    const names = sh(`tar -tzf '${blob}'`).trim().split('\n');
    expect(names).toContain('etc/from-shell');
    expect(names).toContain('bin/busybox');
    // The layer holds the tree as the provisioners left it: the removed applet is not in it.
    expect(names).not.toContain('bin/ls');
  });

  it('says plainly when the machine refuses user namespaces to that user', () => {
    // unshare as the kernel answers when user namespaces are off (user.max_user_namespaces = 0);
    // the machine-wide switch would disturb the tests running beside this one.
    const bin = join(ws.dir, 'fake-bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'unshare'), "#!/bin/sh\necho 'unshare: unshare failed: No space left on device' >&2\nexit 1\n", { mode: 0o755 });
    chmodSync(bin, 0o755);
    const r = buildAsNobody('rl.pkr.hcl', { PATH: `${bin}:${process.env.PATH ?? ''}` });
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toContain('this machine refused them: unshare: unshare failed: No space left on device');
    expect(out).toContain('allow unprivileged user namespaces');
    // Refused namespaces do not come back by waiting: no start_retry_timeout rounds (5 minutes).
    expect(out).not.toContain('retrying in');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('fails at once, naming the missing shell, when the image has no /bin/sh', () => {
    writeFileSync(join(ws.dir, 'nosh.pkr.hcl'), 'source "oci" "n" {\n  base = "scratch"\n}\nbuild {\n  sources = ["source.oci.n"]\n  provisioner "shell" {\n    inline = ["true"]\n  }\n}\n');
    const r = buildAsNobody('nosh.pkr.hcl');
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('the image has no /bin/sh');
    expect(r.stdout + r.stderr).not.toContain('retrying in');
  });
});
