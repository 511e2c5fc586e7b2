/**
 * Disk post-processors through `kiln build` (file builder → vhd, vmdk, qcow2, compress): the notice
 * when a raw disk is not a whole MiB, and a disk that fills up while converting (a small tmpfs,
 * mounted in a user and mount namespace so no root is needed): a clear error, and no partial
 * output left; and
 * reproducible outputs: SOURCE_DATE_EPOCH + uuid_seed give the same bytes twice, while without
 * uuid_seed every disk gets its own ids.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kiln, KILN_BIN, workspace } from '../helpers/cli.js';
import { QEMU_IMG, skipWithout } from '../helpers/components.js';
import { openStreamOptimizedVmdk, openVhd } from '../../src/formats/disk/index.js';

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
      'qcow2.pkr.hcl': TEMPLATE('full/disk.qcow2', '', 'qcow2'),
      'gzip.pkr.hcl': TEMPLATE('full/disk.raw.gz', '', 'compress'),
    });
    writeFileSync(join(dir, 'disk.raw'), randomBytes(24 * MIB));
    mkdirSync(join(dir, 'full'));
    // An 8 MiB filesystem for the outputs, in namespaces of this process tree only.
    const script = `mount -t tmpfs -o size=8m kiln-full full || exit 99
for t in fixed dynamic vmdk qcow2 gzip; do "$0" "$1" build $t.pkr.hcl; echo "$t: kiln exit $? left: [$(ls -A full)]"; done`;
    const r = spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', script, process.execPath, KILN_BIN], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', ...stateEnv(dir) },
      encoding: 'utf8',
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    for (const t of ['fixed', 'dynamic', 'vmdk', 'qcow2', 'gzip']) expect(r.stdout, r.stderr).toContain(`${t}: kiln exit 1 left: []`);
    // One wording for every writer: kiln's own (VHD, VMDK), qemu-img's and the compressor's.
    for (const out of ['disk.vhd', 'disk.vmdk', 'disk.qcow2', 'disk.raw.gz']) {
      expect(r.stdout).toContain(`could not write full/${out}: no space left on the disk holding full (the partial output was removed); free some space or write elsewhere`);
    }
});
});

describe('reproducible disk images through kiln build', () => {
  const ALL = (seed: string) => `
source "file" "disk" {
  source = "disk.raw"
  target = "work/disk.raw"
}
build {
  sources = ["source.file.disk"]
  post-processor "vhd" {
    output = "images/fixed.vhd"
    ${seed}
  }
  post-processor "vhd" {
    output  = "images/dynamic.vhd"
    dynamic = true
    ${seed}
  }
  post-processor "vmdk" {
    output = "images/disk.vmdk"
    ${seed}
  }
}
`;
  const OUTPUTS = ['images/fixed.vhd', 'images/dynamic.vhd', 'images/disk.vmdk'];
  /** Two separate workspaces built from the same template and disk, under one SOURCE_DATE_EPOCH. */
  function buildTwice(seed: string): Array<Record<string, Buffer>> {
    const disk = Buffer.concat([randomBytes(MIB), Buffer.alloc(3 * MIB), randomBytes(MIB)]);
    return [0, 1].map(() => {
      const dir = ws({ 't.pkr.hcl': ALL(seed) });
      writeFileSync(join(dir, 'disk.raw'), disk);
      const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: { ...stateEnv(dir), SOURCE_DATE_EPOCH: '1700000000' } });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      return Object.fromEntries(OUTPUTS.map((o) => [o, readFileSync(join(dir, o))]));
    });
  }
  async function ids(dir: string): Promise<{ fixed: string; dynamic: string; cid: string; time: number }> {
    const fixed = await openVhd(join(dir, 'images/fixed.vhd'));
    const dynamic = await openVhd(join(dir, 'images/dynamic.vhd'));
    const vmdk = await openStreamOptimizedVmdk(join(dir, 'images/disk.vmdk'));
    const out = {
      fixed: fixed.info.footer.uniqueId.toString('hex'),
      dynamic: dynamic.info.footer.uniqueId.toString('hex'),
      cid: /^CID=(\w+)$/m.exec(vmdk.info.descriptor)?.[1] ?? '',
      time: fixed.info.footer.timestamp,
    };
    await Promise.all([fixed.close(), dynamic.close(), vmdk.close()]);
    return out;
  }

  it('SOURCE_DATE_EPOCH and uuid_seed give byte-identical VHDs (fixed, dynamic) and VMDKs across runs', () => {
    const [a, b] = buildTwice('uuid_seed = "golden-2024"');
    for (const o of OUTPUTS) expect(a![o]!.equals(b![o]!), o).toBe(true);
  });

  it('without uuid_seed, disks of the same name under one SOURCE_DATE_EPOCH get their own ids, with the same time stamps', async () => {
    const dirs = [0, 1].map(() => {
      const dir = ws({ 't.pkr.hcl': ALL('') });
      writeFileSync(join(dir, 'disk.raw'), Buffer.alloc(2 * MIB, 7));
      const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: { ...stateEnv(dir), SOURCE_DATE_EPOCH: '1700000000' } });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      return dir;
    });
    const [a, b] = [await ids(dirs[0]!), await ids(dirs[1]!)];
    expect(a.cid).toMatch(/^[0-9a-f]{8}$/);
    expect(a.fixed).not.toBe(b.fixed);
    expect(a.dynamic).not.toBe(b.dynamic);
    expect(a.cid).not.toBe(b.cid);
    expect([a.time, b.time]).toEqual([1700000000, 1700000000]);
  });
});

describe('programs post-processors need', () => {
  it('kiln build stops before any build starts when qcow2 has no qemu-img, at the block that needs it', () => {
    const dir = ws({ 't.pkr.hcl': TEMPLATE('images/disk.qcow2', '', 'qcow2') });
    writeFileSync(join(dir, 'disk.raw'), Buffer.alloc(MIB));
    mkdirSync(join(dir, 'empty-path'));
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: { ...stateEnv(dir), PATH: join(dir, 'empty-path') } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Error: Missing program');
    expect(r.stderr).toContain('on t.pkr.hcl:8:3:');
    expect(r.stderr).toContain('The qcow2 post-processor runs qemu-img, which is not on PATH here: install it (Debian and Ubuntu package qemu-utils). Nothing was built.');
    // The file builder never ran: no copy of the disk was made.
    expect(r.stdout).not.toContain('file.disk');
    expect(() => readFileSync(join(dir, 'work', 'disk.raw'))).toThrow();
  });
});
