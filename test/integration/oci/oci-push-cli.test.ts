/**
 * Registry images through the CLI: the oci builder pulls its base from the registry, oci-push
 * publishes the result (and a wrong password is a clear error), and oci-export onto a full disk
 * fails cleanly, leaving no partial tarball.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kiln, workspace } from '../../helpers/cli.js';
import { skipWithout } from '../../helpers/components.js';
import { BUSYBOX, REGISTRY, SKOPEO, removeRegistry, startRegistry, type RunningRegistry } from '../../helpers/oci-components.js';
import { busyboxRootfs, sh } from './fixtures.js';

const missing = [REGISTRY, SKOPEO, BUSYBOX].some((c) => skipWithout(c));
const PORT = 5104;

describe.skipIf(missing)('oci builder and oci-push with a registry', () => {
  let reg: RunningRegistry;
  let ws: ReturnType<typeof workspace>;
  const env = () => ({ KILN_STATE_DIR: join(ws.dir, '.state'), SOURCE_DATE_EPOCH: '1700000000' });

  beforeAll(() => {
    ws = workspace({ htpasswd: `kiln:${bcrypt.hashSync('right', 10)}\n` });
    reg = startRegistry(PORT, { htpasswd: join(ws.dir, 'htpasswd') });
    busyboxRootfs(ws.dir);
  });
  afterAll(() => {
    removeRegistry(reg);
    try {
      execFileSync('umount', [join(ws.dir, 'full')], { stdio: 'ignore' });
    } catch {
      // not mounted
    }
    ws.cleanup();
  });

  const push = (password: string, base: string, extra = '') => `
source "oci" "img" {
  base           = "${base}"
  insecure       = true
  login_username = "kiln"
  login_password = "${password}"
  changes        = ["CMD [\\"/bin/sh\\"]"]
}
build {
  sources = ["source.oci.img"]
  provisioner "file" {
    source      = "rootfs/"
    destination = "/"
  }
  post-processor "oci-push" {
    repository     = "127.0.0.1:${PORT}/kiln/img"
    tags           = ["1.0", "latest"]
    insecure       = true
    login_username = "kiln"
    login_password = "${password}"
  }
  ${extra}
}
`;

  it('pushes a scratch image; a second build pulls it as its base and pushes on top', () => {
    execFileSync('sh', ['-c', `cat > ${ws.dir}/one.pkr.hcl`], { input: push('right', 'scratch') });
    const one = kiln(['build', 'one.pkr.hcl'], { cwd: ws.dir, env: env() });
    expect(one.stderr).toBe('');
    expect(one.code).toBe(0);
    const first = JSON.parse(sh(`skopeo inspect --tls-verify=false --creds kiln:right docker://${reg.host}/kiln/img:1.0`));
    expect(first.Layers).toHaveLength(1);
    execFileSync('sh', ['-c', `cat > ${ws.dir}/two.pkr.hcl`], { input: push('right', `${reg.host}/kiln/img:1.0`).replace('kiln/img"', 'kiln/img2"') });
    const two = kiln(['build', 'two.pkr.hcl'], { cwd: ws.dir, env: env() });
    expect(two.code).toBe(0);
    const second = JSON.parse(sh(`skopeo inspect --tls-verify=false --creds kiln:right docker://${reg.host}/kiln/img2:1.0`));
    // Re-uploading the same files changes their ctime, so they are in a new layer: two layers.
    expect(second.Layers[0]).toBe(first.Layers[0]);
    expect(second.Layers).toHaveLength(2);
  });

  it('reports a wrong registry password as such', () => {
    execFileSync('sh', ['-c', `cat > ${ws.dir}/bad.pkr.hcl`], { input: push('wrong', 'scratch') });
    const r = kiln(['build', 'bad.pkr.hcl'], { cwd: ws.dir, env: env() });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain(`127.0.0.1:${PORT} rejected the credentials from the template (401 Unauthorized)`);
  });

  it('reports a full disk when exporting, and leaves no partial tarball', () => {
    if (process.getuid?.() !== 0) return; // mounting a small tmpfs needs root
    const full = join(ws.dir, 'full');
    mkdirSync(full);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', full]);
    execFileSync('sh', ['-c', `cat > ${ws.dir}/full.pkr.hcl`], {
      input: `source "oci" "img" {\n  base = "scratch"\n}\nbuild {\n  sources = ["source.oci.img"]\n  provisioner "file" {\n    source = "rootfs/"\n    destination = "/"\n  }\n  post-processor "oci-export" {\n    path = "full/img.tar"\n  }\n}\n`,
    });
    const r = kiln(['build', 'full.pkr.hcl'], { cwd: ws.dir, env: env() });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('could not write full/img.tar: the disk is full');
    expect(readdirSync(full)).toEqual([]);
  });
});
