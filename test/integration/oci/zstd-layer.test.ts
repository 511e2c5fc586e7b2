/**
 * zstd layers from the `oci` builder, checked by tools kiln did not write: skopeo reads the
 * layout and reports the zstd media type, zstd itself decompresses the blob to a tar whose digest
 * is the config's diff_id and that GNU tar lists, skopeo's own zstd reader recompresses the image,
 * and a second image built on the zstd one (its base read back through zstd) holds both layers.
 * Two builds give the same digest. On Node.js without zstd in node:zlib all of this runs through
 * the zstd command. Debian's umoci (0.4.7) refuses zstd layers ("blob is not correct mediatype"),
 * so umoci unpacks skopeo's gzip copy instead: what it finds there came out of kiln's zstd.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kiln, workspace } from '../../helpers/cli.js';
import { skipWithout, ZSTD } from '../../helpers/components.js';
import { BUSYBOX, SKOPEO, UMOCI } from '../../helpers/oci-components.js';
import { busyboxRootfs, sh } from './fixtures.js';

const missing = [SKOPEO, UMOCI, BUSYBOX, ZSTD].some((c) => skipWithout(c));
const ZSTD_LAYER = 'application/vnd.oci.image.layer.v1.tar+zstd';

const template = (layout: string, extra = '') => `
source "oci" "z" {
  base          = "scratch"
  export_layout = "${layout}"
  tag           = ["z"]
  compression   = "zstd"${extra}
}
build {
  sources = ["source.oci.z"]
  provisioner "file" {
    source      = "rootfs/"
    destination = "/"
  }
}
`;

const ON_TOP = `
source "oci" "top" {
  base          = "oci-layout:out/a:z"
  export_layout = "out/top"
  tag           = ["top"]
  compression   = "zstd"
}
build {
  sources = ["source.oci.top"]
  provisioner "file" {
    source      = "motd"
    destination = "/etc/motd"
  }
}
`;

interface Inspected {
  /** The manifest digest skopeo computes. */
  digest: string;
  /** The layers as the manifest skopeo read lists them. */
  layers: Array<{ mediaType: string; digest: string; size: number }>;
}

describe.skipIf(missing)('oci builder with compression = "zstd"', () => {
  let ws: ReturnType<typeof workspace>;
  const env = () => ({ KILN_STATE_DIR: join(ws.dir, '.state'), SOURCE_DATE_EPOCH: '1700000000' });
  const inspect = (layout: string, tag: string): Inspected => {
    const ref = `oci:${join(ws.dir, layout)}:${tag}`;
    const manifest = JSON.parse(sh(`skopeo inspect --raw '${ref}'`)) as { layers: Inspected['layers'] };
    return { digest: (JSON.parse(sh(`skopeo inspect '${ref}'`)) as { Digest: string }).Digest, layers: manifest.layers };
  };

  /** skopeo decompresses the zstd layers (its own zstd) into a gzip copy, which umoci unpacks. */
  const unpackViaGzip = (image: string, bundle: string) => {
    const [layout, tag] = image.split(':') as [string, string];
    sh(`skopeo copy --quiet --dest-compress --dest-compress-format gzip 'oci:${layout}:${tag}' 'oci:${layout}-gzip:${tag}'`, { cwd: ws.dir });
    const copied = inspect(`${layout}-gzip`, tag);
    expect(copied.layers.every((l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar+gzip')).toBe(true);
    sh(`umoci unpack --image '${layout}-gzip:${tag}' '${bundle}'`, { cwd: ws.dir });
  };

  beforeAll(() => {
    ws = workspace({ 'a.pkr.hcl': template('out/a'), 'b.pkr.hcl': template('out/b', '\n  compression_level = 3'), 'top.pkr.hcl': ON_TOP, motd: 'on zstd\n' });
    busyboxRootfs(ws.dir);
  });
  afterAll(() => ws.cleanup());

  it('writes a zstd layer that skopeo reports, zstd -d turns into the diff_id tar, and umoci unpacks (through skopeo gzip copy)', () => {
    const r = kiln(['build', 'a.pkr.hcl'], { cwd: ws.dir, env: env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const img = inspect('out/a', 'z');
    expect(img.layers.map((l) => l.mediaType)).toEqual([ZSTD_LAYER]);
    const blob = join(ws.dir, 'out', 'a', 'blobs', 'sha256', img.layers[0]!.digest.slice(7));
    // The blob is a zstd frame (magic 28 b5 2f fd) that zstd checks and tar lists.
    expect(readFileSync(blob).subarray(0, 4).toString('hex')).toBe('28b52ffd');
    sh(`zstd -q -t '${blob}'`);
    const names = sh(`zstd -q -d -c '${blob}' | tar -tf -`).trim().split('\n');
    expect(names).toContain('bin/busybox');
    expect(names).toContain('etc/os-release');
    const config = JSON.parse(sh(`skopeo inspect --config 'oci:${join(ws.dir, 'out', 'a')}:z'`)) as { rootfs: { diff_ids: string[] } };
    expect(config.rootfs.diff_ids).toEqual([`sha256:${sh(`zstd -q -d -c '${blob}' | sha256sum`).split(' ')[0]!}`]);
    unpackViaGzip('out/a:z', 'bundle-a');
    expect(readFileSync(join(ws.dir, 'bundle-a', 'rootfs', 'etc', 'os-release'), 'utf8')).toBe('NAME=kiln-test\n');
    expect(readFileSync(join(ws.dir, 'bundle-a', 'rootfs', 'bin', 'busybox')).equals(readFileSync(join(ws.dir, 'rootfs', 'bin', 'busybox')))).toBe(true);
  });

  it('gives the same layer and manifest digests on a second build', () => {
    const r = kiln(['build', 'b.pkr.hcl'], { cwd: ws.dir, env: env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const a = inspect('out/a', 'z');
    const b = inspect('out/b', 'z');
    expect(b.layers).toEqual(a.layers);
    expect(b.digest).toBe(a.digest);
  });

  it('builds on a zstd base: the base layer is read back through zstd and kept as it was', () => {
    const r = kiln(['build', 'top.pkr.hcl'], { cwd: ws.dir, env: env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const top = inspect('out/top', 'top');
    expect(top.layers.map((l) => l.mediaType)).toEqual([ZSTD_LAYER, ZSTD_LAYER]);
    expect(top.layers[0]).toEqual(inspect('out/a', 'z').layers[0]);
    const newLayer = join(ws.dir, 'out', 'top', 'blobs', 'sha256', top.layers[1]!.digest.slice(7));
    expect(sh(`zstd -q -d -c '${newLayer}' | tar -tf -`).trim().split('\n')).toEqual(['etc/', 'etc/motd']);
    unpackViaGzip('out/top:top', 'bundle-top');
    expect(readFileSync(join(ws.dir, 'bundle-top', 'rootfs', 'etc', 'motd'), 'utf8')).toBe('on zstd\n');
    expect(readFileSync(join(ws.dir, 'bundle-top', 'rootfs', 'etc', 'os-release'), 'utf8')).toBe('NAME=kiln-test\n');
  });

  it('reports a full output disk while zstd writes the layer, and leaves no partial blob', () => {
    const full = join(ws.dir, 'full');
    mkdirSync(full);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', full]);
    try {
      writeFileSync(join(ws.dir, 'full.pkr.hcl'), template('full/layout'));
      const r = kiln(['build', 'full.pkr.hcl'], { cwd: ws.dir, env: env() });
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toMatch(new RegExp(`could not write ${join(full, 'layout')}: no space left on the disk holding ${full}`));
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(readdirSync(join(full, 'layout', 'blobs', 'sha256'))).toEqual([]);
    } finally {
      execFileSync('umount', [full]);
    }
  });

  it('refuses compression = "zstd" where neither node:zlib nor the zstd command has it, naming the package', () => {
    const hasZlibZstd = typeof (zlib as unknown as { createZstdCompress?: unknown }).createZstdCompress === 'function';
    // PATH without zstd (the CLI itself runs from process.execPath, so nothing else is needed).
    const empty = mkdtempSync(join(ws.dir, 'no-zstd-'));
    try {
      const r = kiln(['validate', 'a.pkr.hcl'], { cwd: ws.dir, env: { PATH: empty } });
      if (hasZlibZstd) {
        expect(r.code).toBe(0);
      } else {
        expect(r.code).toBe(1);
        const out = r.stdout + r.stderr;
        expect(out).toContain('a.pkr.hcl:6:19');
        expect(out).toContain(`compression = "zstd" needs zstd: node:zlib has it from Node.js 22.15 (or 23.8) on, and this is Node.js ${process.version}`);
        expect(out).toContain('apt-get install zstd');
      }
      // With the command on PATH it is accepted.
      expect(kiln(['validate', 'a.pkr.hcl'], { cwd: ws.dir }).code).toBe(0);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
