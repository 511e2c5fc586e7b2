/**
 * The daemonless `oci` builder end to end through the CLI, checked by tools kiln did not write:
 * skopeo reads every layout and archive, umoci unpacks to the expected files, podman loads and
 * runs the image, and tar lists exactly the filesystem diff in the new layer.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kiln, workspace } from '../../helpers/cli.js';
import { skipWithout } from '../../helpers/components.js';
import { BUSYBOX, PODMAN, SKOPEO, UMOCI, startPodman, type RunningPodman } from '../../helpers/oci-components.js';
import { busyboxRootfs, sh, TWO_PLATFORMS_BUILD } from './fixtures.js';

const missing = [SKOPEO, UMOCI, BUSYBOX, PODMAN].some((c) => skipWithout(c));

const BASE = `
source "oci" "base" {
  base          = "scratch"
  export_layout = "out/layout"
  tag           = ["base"]
  changes       = ["CMD [\\"/bin/sh\\"]", "ENV GREETING=hello", "LABEL org.example.role=base"]
}
build {
  sources = ["source.oci.base"]
  provisioner "file" {
    source      = "rootfs/"
    destination = "/"
  }
}
`;

const APP = `
source "oci" "app" {
  base          = "oci-layout:out/layout:base"
  export_layout = "out/layout"
  tag           = ["app"]
  # CMD before ENTRYPOINT in one list: the CMD stays (Docker drops only an inherited one).
  changes       = ["CMD [\\"/etc/motd\\"]", "ENTRYPOINT [\\"/bin/cat\\"]", "WORKDIR /srv", "EXPOSE 8080", "USER 0", "VOLUME [\\"/srv/data\\"]", "STOPSIGNAL SIGQUIT"]
}
build {
  sources = ["source.oci.app"]
  provisioner "shell" {
    inline = [
      "echo \\"$GREETING from $(uname -s)\\" > /etc/motd",
      "rm /bin/ls",
      "mkdir -p /srv/data && echo kept > /srv/data/file",
    ]
  }
  provisioner "file" {
    source      = "site/index.html"
    destination = "/srv/index.html"
  }
  post-processor "oci-export" {
    path      = "out/app.tar"
    repo_tags = ["kiln/app:1.0"]
  }
}
`;

function digestOf(layout: string, tag: string): string {
  return JSON.parse(sh(`skopeo inspect oci:${layout}:${tag}`)).Digest as string;
}

describe.skipIf(missing)('oci builder', () => {
  let ws: ReturnType<typeof workspace>;
  let podman: RunningPodman | undefined;
  const env = () => ({ KILN_STATE_DIR: join(ws.dir, '.state'), SOURCE_DATE_EPOCH: '1700000000' });

  beforeAll(() => {
    ws = workspace({ 'base.pkr.hcl': BASE, 'app/app.pkr.hcl': APP.replaceAll('out/', '../out/').replaceAll('site/', '../site/'), 'site/index.html': '<h1>kiln</h1>\n' });
    busyboxRootfs(ws.dir);
  });
  afterAll(() => {
    podman?.stop();
    ws.cleanup();
  });

  it('builds an image from scratch out of local files: skopeo and umoci read it', () => {
    const r = kiln(['build', 'base.pkr.hcl'], { cwd: ws.dir, env: env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const layout = join(ws.dir, 'out', 'layout');
    const cfg = JSON.parse(sh(`skopeo inspect --config oci:${layout}:base`));
    expect(cfg.config.Cmd).toEqual(['/bin/sh']);
    expect(cfg.config.Env).toEqual(['GREETING=hello']);
    expect(cfg.config.Labels).toEqual({ 'org.example.role': 'base' });
    expect(cfg.created).toBe('2023-11-14T22:13:20Z');
    expect(cfg.rootfs.diff_ids).toHaveLength(1);
    sh(`umoci unpack --image ${layout}:base bundle`, { cwd: ws.dir });
    expect(readFileSync(join(ws.dir, 'bundle', 'rootfs', 'etc', 'os-release'), 'utf8')).toBe('NAME=kiln-test\n');
    // The file provisioner follows symlinks, as Packer's uploads do: the applets arrive as copies.
    expect(readFileSync(join(ws.dir, 'bundle', 'rootfs', 'bin', 'sh')).equals(readFileSync(join(ws.dir, 'rootfs', 'bin', 'busybox')))).toBe(true);
    // Every time in the layer is clamped to SOURCE_DATE_EPOCH.
    const layer = JSON.parse(sh(`skopeo inspect oci:${layout}:base`)).Layers[0].slice(7);
    const listing = sh(`tar --full-time -tzvf ${join(layout, 'blobs', 'sha256', layer)}`);
    for (const line of listing.trim().split('\n')) expect(line).toMatch(/ 2023-11-14 22:13:20 /);
  });

  it('builds a second image on the first: one new layer holding exactly the diff, whiteouts included', () => {
    const r = kiln(['build', 'app.pkr.hcl'], { cwd: join(ws.dir, 'app'), env: env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const layout = join(ws.dir, 'out', 'layout');
    const base = JSON.parse(sh(`skopeo inspect oci:${layout}:base`));
    const app = JSON.parse(sh(`skopeo inspect oci:${layout}:app`));
    expect(app.Layers.slice(0, 1)).toEqual(base.Layers);
    expect(app.Layers).toHaveLength(2);
    const names = sh(`tar -tzf ${join(layout, 'blobs', 'sha256', app.Layers[1].slice(7))}`).trim().split('\n').sort();
    // tmp/ is there because the shell provisioner's script came and went (the folder's times changed).
    expect(names).toEqual(['bin/', 'bin/.wh.ls', 'etc/', 'etc/motd', 'srv/', 'srv/data/', 'srv/data/file', 'srv/index.html', 'tmp/']);
    sh(`umoci unpack --image ${layout}:app bundle-app`, { cwd: ws.dir });
    const rootfs = join(ws.dir, 'bundle-app', 'rootfs');
    expect(existsSync(join(rootfs, 'bin', 'ls'))).toBe(false);
    expect(existsSync(join(rootfs, 'bin', 'cat'))).toBe(true);
    expect(readFileSync(join(rootfs, 'etc', 'motd'), 'utf8')).toBe('hello from Linux\n');
    expect(readFileSync(join(rootfs, 'srv', 'index.html'), 'utf8')).toBe('<h1>kiln</h1>\n');
    const cfg = JSON.parse(sh(`skopeo inspect --config oci:${layout}:app`));
    expect(cfg.config.WorkingDir).toBe('/srv');
    expect(cfg.config.ExposedPorts).toEqual({ '8080/tcp': {} });
    expect(cfg.config.Env).toEqual(['GREETING=hello']);
    expect(cfg.config.Entrypoint).toEqual(['/bin/cat']);
    expect(cfg.config.Cmd).toEqual(['/etc/motd']);
    expect(cfg.config.User).toBe('0');
    expect(cfg.config.Volumes).toEqual({ '/srv/data': {} });
    expect(cfg.config.StopSignal).toBe('SIGQUIT');
    // One history entry per image built, each layer accounted for.
    expect(cfg.history.map((h: { created_by: string; empty_layer?: boolean }) => [h.created_by, h.empty_layer ?? false])).toEqual([
      ['kiln oci builder (oci.base)', false],
      ['kiln oci builder (oci.app)', false],
    ]);
    expect(cfg.history.every((h: { created: string }) => h.created === '2023-11-14T22:13:20Z')).toBe(true);
  });

  it('gives shell commands a minimal /dev: the harmless devices work, the host\'s disks and /dev/kvm are not there', () => {
    const allowed = new Set(['null', 'zero', 'full', 'random', 'urandom', 'tty', 'pts', 'ptmx', 'shm', 'fd', 'stdin', 'stdout', 'stderr']);
    const hostOnly = readdirSync('/dev').filter((d) => !allowed.has(d));
    expect(hostOnly.length).toBeGreaterThan(0);
    const t = `source "oci" "dev" {\n  base = "oci-layout:out/layout:base"\n  export_layout = "out/dev"\n  tag = ["dev"]\n}\nbuild {\n  sources = ["source.oci.dev"]\n  provisioner "shell" {\n    inline = [\n      "echo discarded > /dev/null && head -c 16 /dev/urandom | wc -c && test -c /dev/zero && echo devices-work",\n      "for d in ${hostOnly.join(' ')}; do [ -e /dev/$d ] && echo LEAKED $d; done; true",\n      "echo in-shm > /dev/shm/x && touch /dev/made-here && echo /dev-writable",\n    ]\n  }\n}\n`;
    writeFileSync(join(ws.dir, 'dev.pkr.hcl'), t);
    const r = kiln(['build', 'dev.pkr.hcl'], { cwd: ws.dir, env: env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('16');
    expect(r.stdout).toContain('devices-work');
    expect(r.stdout).toContain('/dev-writable');
    expect(r.stdout).not.toContain('LEAKED');
    // What the commands wrote in /dev stayed in their namespace: not on the host, not in the image.
    expect(existsSync('/dev/made-here')).toBe(false);
    const layout = join(ws.dir, 'out', 'dev');
    const layers = JSON.parse(sh(`skopeo inspect oci:${layout}:dev`)).Layers as string[];
    const names = sh(`tar -tzf ${join(layout, 'blobs', 'sha256', layers.at(-1)!.slice(7))}`).trim().split('\n');
    expect(names.filter((n) => n.startsWith('dev/'))).toEqual([]);
  });

  it('exports a docker-archive that skopeo reads and podman loads and runs', () => {
    const tarball = join(ws.dir, 'out', 'app.tar');
    const inspected = JSON.parse(sh(`skopeo inspect docker-archive:${tarball}`));
    expect(inspected.Layers).toHaveLength(2);
    podman = startPodman();
    podman.podman(['load', '-i', tarball]);
    expect(podman.podman(['run', '--rm', 'kiln/app:1.0'])).toBe('hello from Linux\n');
  });

  it('gives the same manifest digest for the same SOURCE_DATE_EPOCH, whatever the files\' times', () => {
    const first = digestOf(join(ws.dir, 'out', 'layout'), 'base');
    const again = workspace({ 'base.pkr.hcl': BASE });
    try {
      const root = busyboxRootfs(again.dir);
      // A day later: every source file is newer, and the build runs at another time.
      const later = Date.now() / 1000 + 86_400;
      for (const f of ['etc/os-release', 'bin/busybox', 'etc', 'bin']) utimesSync(join(root, f), later, later);
      const r = kiln(['build', 'base.pkr.hcl'], { cwd: again.dir, env: { KILN_STATE_DIR: join(again.dir, '.state'), SOURCE_DATE_EPOCH: '1700000000' } });
      expect(r.code).toBe(0);
      expect(digestOf(join(again.dir, 'out', 'layout'), 'base')).toBe(first);
    } finally {
      again.cleanup();
    }
  });

  it('reports a missing base layout clearly and leaves no temporary rootfs behind', () => {
    const bad = workspace({ 'bad.pkr.hcl': `source "oci" "x" {\n  base = "oci-layout:nowhere:v1"\n}\nbuild { sources = ["source.oci.x"] }\n` });
    try {
      // A TMPDIR of its own, so other test files' temp dirs are not counted.
      const tmp = join(bad.dir, 'tmp');
      mkdirSync(tmp);
      const r = kiln(['build', 'bad.pkr.hcl'], { cwd: bad.dir, env: { KILN_STATE_DIR: join(bad.dir, '.state'), TMPDIR: tmp } });
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toContain('nowhere is not an OCI image layout');
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      bad.cleanup();
    }
  });

  it('rejects bad settings before building: base, platform, changes', () => {
    const bad = workspace({
      'bad.pkr.hcl': `source "oci" "x" {\n  base = "Not A Ref"\n  platform = "linux"\n  changes = ["FROM x", "EXPOSE eighty"]\n}\nbuild { sources = ["source.oci.x"] }\n`,
    });
    try {
      const r = kiln(['validate', 'bad.pkr.hcl'], { cwd: bad.dir });
      expect(r.code).toBe(1);
      const out = r.stdout + r.stderr;
      expect(out).toContain('base must be "scratch"');
      expect(out).toContain('is not a platform');
      expect(out).toContain('"FROM" is not a change kiln can apply');
      expect(out).toContain('EXPOSE eighty');
    } finally {
      bad.cleanup();
    }
  });

  it('builds for two platforms in parallel and joins them in one image index', () => {
    const multi = `${TWO_PLATFORMS_BUILD}  provisioner "file" {
    source      = "site/"
    destination = "/srv"
  }
  post-processor "oci-export" {
    path      = "out/multi"
    tags      = ["\${source.name}"]
    index_tag = "all"
  }
}
`;
    writeFileSync(join(ws.dir, 'multi.pkr.hcl'), multi);
    const r = kiln(['build', 'multi.pkr.hcl'], { cwd: ws.dir, env: env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const layout = join(ws.dir, 'out', 'multi');
    const index = JSON.parse(sh(`skopeo inspect --raw oci:${layout}:all`));
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture)).toEqual(['amd64', 'arm64']);
    expect(index.manifests.map((m: { digest: string }) => m.digest)).toEqual([digestOf(layout, 'amd64'), digestOf(layout, 'arm64')]);
    sh(`skopeo copy --all oci:${layout}:all oci:${join(ws.dir, 'out', 'multi-copy')}:all`);
    expect(JSON.parse(sh(`skopeo inspect --override-arch arm64 --config oci:${layout}:all`)).architecture).toBe('arm64');
  });
});
