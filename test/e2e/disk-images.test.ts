/**
 * Disk post-processors through `kiln build` (file builder → vhd): the notice when a raw disk is not
 * a whole MiB, and a disk that fills up while converting (a small tmpfs, mounted in a user and
 * mount namespace so no root is needed): a clear error, and no partial output left.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kiln, KILN_BIN, workspace } from '../helpers/cli.js';
import { QEMU_IMG, skipWithout } from '../helpers/components.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function ws(files: Record<string, string>): string {
  const w = workspace(files);
  cleanups.push(w.cleanup);
  return w.dir;
}
const stateEnv = (dir: string) => ({ KILN_STATE_DIR: join(dir, '.state') });

const MIB = 1 << 20;
const TEMPLATE = (out: string, extra = '', type = 'vhd') => `
source "file" "disk" {
  source = "disk.raw"
  target = "work/disk.raw"
}
build {
  sources = ["source.file.disk"]
  post-processor "${type}" {
    output = "${out}"
    ${extra}
  }
}
`;

describe('vhd post-processor in a build', () => {
  it('rounds a disk that is not a whole MiB up, says so, and qemu-img reads the same data', () => {
    if (skipWithout(QEMU_IMG)) return;
    const dir = ws({ 't.pkr.hcl': TEMPLATE('images/disk.vhd') });
    writeFileSync(join(dir, 'disk.raw'), Buffer.concat([randomBytes(3 * MIB), Buffer.alloc(5000, 1)]));
    writeFileSync(join(dir, 'copy.raw'), readFileSync(join(dir, 'disk.raw')));
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`The disk is ${3 * MIB + 5000} bytes, not a whole number of MiB as Azure requires: the VHD's disk is rounded up to ${4 * MIB} bytes (4 MiB, padded with zeros)`);
    // Nothing reads the builder's raw after this post-processor: converted in place.
    expect(r.stdout).toContain('to a fixed VHD in place');
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', '-f', 'vpc', join(dir, 'images/disk.vhd')], { encoding: 'utf8' })) as { 'virtual-size': number };
    expect(info['virtual-size']).toBe(4 * MIB);
    expect(execFileSync('qemu-img', ['compare', '-f', 'raw', '-F', 'vpc', join(dir, 'copy.raw'), join(dir, 'images/disk.vhd')], { encoding: 'utf8' })).toContain('Images are identical');
  });

  it('a disk full while converting fails with a clear error and removes the partial output', () => {
    const dir = ws({
      'fixed.pkr.hcl': TEMPLATE('full/disk.vhd'),
      'dynamic.pkr.hcl': TEMPLATE('full/disk.vhd', 'dynamic = true'),
      'vmdk.pkr.hcl': TEMPLATE('full/disk.vmdk', '', 'vmdk'),
    });
    writeFileSync(join(dir, 'disk.raw'), randomBytes(24 * MIB));
    mkdirSync(join(dir, 'full'));
    // An 8 MiB filesystem for the outputs, in namespaces of this process tree only.
    const script = `mount -t tmpfs -o size=8m kiln-full full || exit 99
for t in fixed dynamic vmdk; do "$0" "$1" build $t.pkr.hcl; echo "$t: kiln exit $? left: [$(ls -A full)]"; done`;
    const r = spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', script, process.execPath, KILN_BIN], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', ...stateEnv(dir) },
      encoding: 'utf8',
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    for (const t of ['fixed', 'dynamic', 'vmdk']) expect(r.stdout, r.stderr).toContain(`${t}: kiln exit 1 left: []`);
    expect(r.stdout).toMatch(/no space left for full\/disk\.vhd .*the filesystem holding full is full; the partial output was removed/);
    expect(r.stdout).toMatch(/no space left for full\/disk\.vmdk .*the partial output was removed/);
});
});
