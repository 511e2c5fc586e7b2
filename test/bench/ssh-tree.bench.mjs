// Issue 4 target: uploading a directory of 2,000 × 4 KiB files with the file provisioner takes
// ≤ 0.25× Packer 1.6.6's time: `kiln build` vs `packer build` on the same template (null builder
// over ssh, same sshd), whole commands, alternating, median.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { join } from 'node:path';
import { compare, KILN } from './harness.mjs';
import { startSshd } from './ssh-server.mjs';
import { scratch } from './templates.mjs';

const server = await startSshd();
const dir = scratch('ssh-tree');
mkdirSync(join(dir, 'tree'));
for (let i = 0; i < 2000; i++) writeFileSync(join(dir, 'tree', `f${i}.bin`), randomFillSync(Buffer.alloc(4096)));
const dst = `/dev/shm/kiln-bench-tree-${server.port}`;
const template = join(dir, 'tree.pkr.hcl');
writeFileSync(template, `${server.sourceHcl()}build {\n  sources = ["source.null.t"]\n  provisioner "file" {\n    source = "tree"\n    destination = "${dst}"\n  }\n}\n`);
// Packer's scp needs the destination to exist; kiln would create it.
const prepare = () => server.ssh(`rm -rf ${dst} && mkdir -p ${dst}`);
const r = compare({ name: '2,000 × 4 KiB directory upload', kiln: ['node', KILN, 'build', template], peer: ['packer', 'build', template], runs: Number(process.env.RUNS ?? 5), warmup: 1, prepare, opts: { cwd: dir, env: { KILN_STATE_DIR: join(dir, 'state') } } });
const files = server.ssh(`find ${dst}/tree -type f | wc -l`).trim();
if (files !== '2000') throw new Error(`expected 2000 files on the server, found ${files}`);
console.log(`${r.ratio <= 0.25 ? 'PASS' : 'FAIL'} ${r.name}: kiln ${r.kilnMs} ms, packer ${r.peerMs} ms, ratio ${r.ratio} (target ≤ 0.25)`);

// Where kiln's time goes: the same command with communicator "none" and no provisioner.
const none = join(dir, 'none.pkr.hcl');
writeFileSync(none, 'source "null" "t" {\n  communicator = "none"\n}\nbuild {\n  sources = ["source.null.t"]\n}\n');
const base = compare({ name: 'kiln build baseline (null, communicator none) vs packer', kiln: ['node', KILN, 'build', none], peer: ['packer', 'build', none], runs: 3, warmup: 1, opts: { cwd: dir, env: { KILN_STATE_DIR: join(dir, 'state') } } });
console.log(`INFO empty null build: kiln ${base.kilnMs} ms, packer ${base.peerMs} ms`);
prepare();
rmSync(dir, { recursive: true, force: true });
