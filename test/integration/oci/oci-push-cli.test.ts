/**
 * Registry images through the CLI: the oci builder pulls its base from the registry, oci-push
 * publishes the result (and a wrong password is a clear error), multi-platform indexes and
 * credentials from the Docker config or the environment, and writes onto a full disk fail
 * cleanly, leaving no partial tarball or blob.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kiln, workspace } from '../../helpers/cli.js';
import { skipWithout } from '../../helpers/components.js';
import { BUSYBOX, REGISTRY, SKOPEO, removeRegistry, startRegistry, type RunningRegistry } from '../../helpers/oci-components.js';
import { busyboxRootfs, sh, TWO_PLATFORMS_BUILD } from './fixtures.js';

const missing = [REGISTRY, SKOPEO, BUSYBOX].some((c) => skipWithout(c));

describe.skipIf(missing)('oci builder and oci-push with a registry', () => {
  let reg: RunningRegistry;
  let ws: ReturnType<typeof workspace>;
  const env = () => ({ KILN_STATE_DIR: join(ws.dir, '.state'), SOURCE_DATE_EPOCH: '1700000000' });

  beforeAll(async () => {
    ws = workspace({ htpasswd: `kiln:${bcrypt.hashSync('right', 10)}\n` });
    reg = await startRegistry({ htpasswd: join(ws.dir, 'htpasswd') });
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

  /**
   * Runs kiln build with a TMPDIR of its own and gives back what it left there (nothing is the
   * answer wanted); other test files' temp dirs in /tmp are not counted.
   */
  const buildLeaving = (file: string): { r: ReturnType<typeof kiln>; left: string[] } => {
    const tmp = mkdtempSync(join(ws.dir, 'tmp-'));
    const r = kiln(['build', file], { cwd: ws.dir, env: { ...env(), TMPDIR: tmp } });
    return { r, left: readdirSync(tmp) };
  };

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
    repository     = "${reg.host}/kiln/img"
    tags           = ["1.0", "latest"]
    insecure       = true
    login_username = "kiln"
    login_password = "${password}"
  }
  ${extra}
}
`;

  it('pushes a scratch image; a second build pulls it as its base and pushes on top, its layout holding only the new image', () => {
    writeFileSync(join(ws.dir, 'one.pkr.hcl'), push('right', 'scratch'));
    const one = kiln(['build', 'one.pkr.hcl'], { cwd: ws.dir, env: env() });
    expect(one.stderr).toBe('');
    expect(one.code).toBe(0);
    const first = JSON.parse(sh(`skopeo inspect --tls-verify=false --creds kiln:right docker://${reg.host}/kiln/img:1.0`));
    expect(first.Layers).toHaveLength(1);
    writeFileSync(
      join(ws.dir, 'two.pkr.hcl'),
      push('right', `${reg.host}/kiln/img:1.0`)
        .replace('kiln/img"', 'kiln/img2"')
        .replace('changes        =', 'export_layout  = "two-layout"\n  tag            = ["two"]\n  changes        ='),
    );
    const two = kiln(['build', 'two.pkr.hcl'], { cwd: ws.dir, env: env() });
    expect(two.code).toBe(0);
    const second = JSON.parse(sh(`skopeo inspect --tls-verify=false --creds kiln:right docker://${reg.host}/kiln/img2:1.0`));
    // Re-uploading the same files changes their ctime, so they are in a new layer: two layers.
    expect(second.Layers[0]).toBe(first.Layers[0]);
    expect(second.Layers).toHaveLength(2);
    // The pulled base is blobs the new image shares, not a second image in the user's layout:
    // an untagged oci-layout:PATH base still names exactly one image.
    const index = JSON.parse(readFileSync(join(ws.dir, 'two-layout', 'index.json'), 'utf8')) as { manifests: Array<{ digest: string; annotations?: Record<string, string> }> };
    expect(index.manifests.map((m) => [m.digest, m.annotations?.['org.opencontainers.image.ref.name']])).toEqual([[second.Digest, 'two']]);
    writeFileSync(join(ws.dir, 'three.pkr.hcl'), `source "oci" "img" {\n  base = "oci-layout:two-layout"\n}\nbuild { sources = ["source.oci.img"] }\n`);
    const three = kiln(['build', 'three.pkr.hcl'], { cwd: ws.dir, env: env() });
    expect(three.stdout + three.stderr).toContain('from layout two-layout');
    expect(three.code).toBe(0);
  });

  it('pushes a zstd image that skopeo reads as zstd; a build on it pulls and unpacks the zstd layer', () => {
    writeFileSync(join(ws.dir, 'zone.pkr.hcl'), push('right', 'scratch').replace('kiln/img"', 'kiln/zimg"').replace('changes        =', 'compression    = "zstd"\n  changes        ='));
    const one = kiln(['build', 'zone.pkr.hcl'], { cwd: ws.dir, env: env() });
    expect(one.stderr).toBe('');
    expect(one.code).toBe(0);
    const ref = `docker://${reg.host}/kiln/zimg:1.0`;
    const raw = JSON.parse(sh(`skopeo inspect --raw --tls-verify=false --creds kiln:right ${ref}`)) as { layers: Array<{ mediaType: string; digest: string }> };
    expect(raw.layers.map((l) => l.mediaType)).toEqual(['application/vnd.oci.image.layer.v1.tar+zstd']);
    // skopeo's own copy (its zstd reader verifies the blob against the digest) gets the same layer.
    sh(`skopeo copy --quiet --src-tls-verify=false --src-creds kiln:right ${ref} oci:zcopy:1`, { cwd: ws.dir });
    const copied = JSON.parse(sh(`skopeo inspect --raw oci:zcopy:1`, { cwd: ws.dir })) as { layers: Array<{ digest: string }> };
    expect(copied.layers[0]!.digest).toBe(raw.layers[0]!.digest);
    writeFileSync(
      join(ws.dir, 'ztwo.pkr.hcl'),
      `source "oci" "img" {\n  base = "${reg.host}/kiln/zimg:1.0"\n  insecure = true\n  login_username = "kiln"\n  login_password = "right"\n  export_layout = "ztwo"\n  tag = ["two"]\n}\nbuild {\n  sources = ["source.oci.img"]\n  provisioner "file" {\n    direction   = "download"\n    source      = "/etc/os-release"\n    destination = "pulled-os-release"\n  }\n}\n`,
    );
    const two = kiln(['build', 'ztwo.pkr.hcl'], { cwd: ws.dir, env: env() });
    expect(two.stderr).toBe('');
    expect(two.code).toBe(0);
    expect(readFileSync(join(ws.dir, 'pulled-os-release'), 'utf8')).toBe('NAME=kiln-test\n');
    const built = JSON.parse(sh(`skopeo inspect --raw oci:ztwo:two`, { cwd: ws.dir })) as { layers: Array<{ digest: string }> };
    expect(built.layers.map((l) => l.digest)).toEqual([raw.layers[0]!.digest]);
  });

  it('reports a base image the registry does not have, leaving no temporary folders', () => {
    writeFileSync(join(ws.dir, 'nobase.pkr.hcl'), push('right', `${reg.host}/kiln/nope:1`));
    const { r, left } = buildLeaving('nobase.pkr.hcl');
    expect(left).toEqual([]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain(`${reg.host}/kiln/nope:1 does not exist (manifest unknown)`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('pushes the multi-platform index oci-export joined builds for two platforms into', () => {
    writeFileSync(
      join(ws.dir, 'multi.pkr.hcl'),
      `${TWO_PLATFORMS_BUILD}  provisioner "file" {
    source      = "rootfs/etc/"
    destination = "/etc"
  }
  post-processors {
    post-processor "oci-export" {
      path      = "multi-layout"
      tags      = ["\${source.name}"]
      index_tag = "all"
    }
    post-processor "oci-push" {
      repository     = "${reg.host}/kiln/multi"
      tags           = ["1.0"]
      insecure       = true
      login_username = "kiln"
      login_password = "right"
    }
  }
}
`,
    );
    const r = kiln(['build', 'multi.pkr.hcl'], { cwd: ws.dir, env: env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const creds = `--tls-verify=false --creds kiln:right`;
    const local = JSON.parse(sh(`skopeo inspect --raw oci:${join(ws.dir, 'multi-layout')}:all`));
    expect(local.manifests).toHaveLength(2);
    const raw = JSON.parse(sh(`skopeo inspect --raw ${creds} docker://${reg.host}/kiln/multi:1.0`));
    // The last push carries the index with both platforms, whichever build finished first.
    expect(raw).toEqual(local);
    const arm = JSON.parse(sh(`skopeo inspect ${creds} --override-arch arm64 --config docker://${reg.host}/kiln/multi:1.0`));
    expect(arm.architecture).toBe('arm64');
    expect(arm.variant).toBe('v8');
  });

  it('reports a wrong registry password as such, pulling or pushing, leaving no temporary folders', () => {
    writeFileSync(join(ws.dir, 'bad.pkr.hcl'), push('wrong', 'scratch'));
    for (const file of ['bad.pkr.hcl', 'badpull.pkr.hcl']) {
      if (file === 'badpull.pkr.hcl') writeFileSync(join(ws.dir, 'badpull.pkr.hcl'), push('wrong', `${reg.host}/kiln/img:1.0`));
      const { r, left } = buildLeaving(file);
      expect(left).toEqual([]);
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toContain(`${reg.host} rejected the credentials from the template (401 Unauthorized)`);
    }
  });

  it('takes credentials from DOCKER_CONFIG and the environment, and says when a credential helper holds them', () => {
    const anonymous = `source "oci" "img" {\n  base = "scratch"\n}\nbuild {\n  sources = ["source.oci.img"]\n  provisioner "file" {\n    source = "rootfs/etc/"\n    destination = "/etc"\n  }\n  post-processor "oci-push" {\n    repository = "${reg.host}/kiln/creds"\n    tags = ["1"]\n    insecure = true\n  }\n}\n`;
    writeFileSync(join(ws.dir, 'creds.pkr.hcl'), anonymous);
    const config = (name: string, doc: object): string => {
      mkdirSync(join(ws.dir, name), { recursive: true });
      writeFileSync(join(ws.dir, name, 'config.json'), JSON.stringify(doc));
      return join(ws.dir, name);
    };
    const auth = (user: string, pw: string) => Buffer.from(`${user}:${pw}`).toString('base64');
    const build = (extra: Record<string, string>) => kiln(['build', 'creds.pkr.hcl'], { cwd: ws.dir, env: { ...env(), KILN_REGISTRY_USERNAME: '', KILN_REGISTRY_PASSWORD: '', ...extra } });

    const fromFile = build({ DOCKER_CONFIG: config('docker-ok', { auths: { [reg.host]: { auth: auth('kiln', 'right') } } }) });
    expect(fromFile.stderr).toBe('');
    expect(fromFile.code).toBe(0);
    expect(JSON.parse(sh(`skopeo inspect --tls-verify=false --creds kiln:right docker://${reg.host}/kiln/creds:1`)).Layers).toHaveLength(1);

    const wrongInFile = build({ DOCKER_CONFIG: config('docker-wrong', { auths: { [`https://${reg.host}`]: { auth: auth('kiln', 'nope') } } }) });
    expect(wrongInFile.code).toBe(1);
    expect(wrongInFile.stdout + wrongInFile.stderr).toContain(`${reg.host} rejected the credentials from ${join(ws.dir, 'docker-wrong', 'config.json')}`);
    expect(wrongInFile.stdout + wrongInFile.stderr).not.toContain('nope');

    // The environment comes before the config file.
    const fromEnv = build({ DOCKER_CONFIG: join(ws.dir, 'docker-wrong'), KILN_REGISTRY_USERNAME: 'kiln', KILN_REGISTRY_PASSWORD: 'right' });
    expect(fromEnv.code).toBe(0);

    const helper = build({ DOCKER_CONFIG: config('docker-helper', { auths: { [reg.host]: {} }, credHelpers: { [reg.host]: 'secretservice' } }) });
    expect(helper.code).toBe(1);
    const out = helper.stdout + helper.stderr;
    expect(out).toContain(`keeps the login for ${reg.host} in the credential helper docker-credential-secretservice, which kiln does not run`);
    expect(out).toContain(`${reg.host} needs credentials`);
  });

  it('reports a full disk when exporting, and leaves no partial tarball', () => {
    if (process.getuid?.() !== 0) return; // mounting a small tmpfs needs root
    const full = join(ws.dir, 'full');
    mkdirSync(full);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', full]);
    writeFileSync(
      join(ws.dir, 'full.pkr.hcl'),
      `source "oci" "img" {\n  base = "scratch"\n}\nbuild {\n  sources = ["source.oci.img"]\n  provisioner "file" {\n    source = "rootfs/"\n    destination = "/"\n  }\n  post-processor "oci-export" {\n    path = "full/img.tar"\n  }\n}\n`,
    );
    const r = kiln(['build', 'full.pkr.hcl'], { cwd: ws.dir, env: env() });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain(`could not write full/img.tar: no space left on the disk holding full (the partial output was removed)`);
    expect(readdirSync(full)).toEqual([]);

    // The oci builder's own layout on the full disk: the same message, no half-written blob.
    writeFileSync(
      join(ws.dir, 'full-layout.pkr.hcl'),
      `source "oci" "img" {\n  base = "scratch"\n  export_layout = "full/layout"\n}\nbuild {\n  sources = ["source.oci.img"]\n  provisioner "file" {\n    source = "rootfs/"\n    destination = "/"\n  }\n}\n`,
    );
    const layout = kiln(['build', 'full-layout.pkr.hcl'], { cwd: ws.dir, env: env() });
    expect(layout.code).toBe(1);
    expect(layout.stdout + layout.stderr).toContain(`could not write ${join(full, 'layout')}: no space left on the disk holding ${full}`);
    expect(layout.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(join(full, 'layout', 'blobs', 'sha256'))).toEqual([]);

    // oci-export copying blobs into a layout there (another file system: copied, not linked).
    writeFileSync(
      join(ws.dir, 'full-export.pkr.hcl'),
      `source "oci" "img" {\n  base = "scratch"\n}\nbuild {\n  sources = ["source.oci.img"]\n  provisioner "file" {\n    source = "rootfs/"\n    destination = "/"\n  }\n  post-processor "oci-export" {\n    path = "full/exported"\n  }\n}\n`,
    );
    const exported = kiln(['build', 'full-export.pkr.hcl'], { cwd: ws.dir, env: env() });
    expect(exported.code).toBe(1);
    expect(exported.stdout + exported.stderr).toContain(`could not write ${join(full, 'exported')}: no space left on the disk holding ${full}`);
    // Blobs copied whole before the disk filled are kept (each is named by its content); no partial one is.
    expect(readdirSync(join(full, 'exported', 'blobs', 'sha256')).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});
