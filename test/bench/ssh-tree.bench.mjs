// Issue 4 target: uploading a directory of 2,000 × 4 KiB files with the file provisioner takes
// ≤ 0.25× Packer 1.6.6's time: `kiln build` vs `packer build` on the same template (null builder
// over ssh, same sshd), alternating, median. The upload's time is the whole command's less that
// of the same build uploading a one-file tree; whole-command figures are printed too.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
console.log(`INFO ${r.name}, whole commands: kiln ${r.kilnMs} ms, packer ${r.peerMs} ms, ratio ${r.ratio}`);

// The upload's own cost: the same build uploading a one-file tree, subtracted on each side, takes
// out what is not the upload (process start, plugin start, SSH connect, the step itself).
mkdirSync(join(dir, 'one'));
writeFileSync(join(dir, 'one', 'f0.bin'), randomFillSync(Buffer.alloc(4096)));
const small = join(dir, 'one.pkr.hcl');
writeFileSync(small, readFileSync(template, 'utf8').replace('source = "tree"', 'source = "one"'));
const b = compare({ name: 'the same build with a one-file tree', kiln: ['node', KILN, 'build', small], peer: ['packer', 'build', small], runs: Number(process.env.RUNS ?? 5), warmup: 1, prepare, opts: { cwd: dir, env: { KILN_STATE_DIR: join(dir, 'state') } } });
const kilnUpload = r.kilnMs - b.kilnMs;
const packerUpload = r.peerMs - b.peerMs;
const ratio = Math.round((kilnUpload / packerUpload) * 1000) / 1000;
console.log(JSON.stringify({ name: '2,000 × 4 KiB directory upload, marginal', kiln_ms: Math.round(kilnUpload), packer_ms: Math.round(packerUpload), ratio }));
console.log(`${ratio <= 0.25 ? 'PASS' : 'FAIL'} 2,000 × 4 KiB directory upload (minus a one-file upload): kiln ${Math.round(kilnUpload)} ms, packer ${Math.round(packerUpload)} ms, ratio ${ratio} (target ≤ 0.25)`);

// Where kiln's time goes: the same command with communicator "none" and no provisioner.
const none = join(dir, 'none.pkr.hcl');
writeFileSync(none, 'source "null" "t" {\n  communicator = "none"\n}\nbuild {\n  sources = ["source.null.t"]\n}\n');
const base = compare({ name: 'kiln build baseline (null, communicator none) vs packer', kiln: ['node', KILN, 'build', none], peer: ['packer', 'build', none], runs: 3, warmup: 1, opts: { cwd: dir, env: { KILN_STATE_DIR: join(dir, 'state') } } });
console.log(`INFO empty null build: kiln ${base.kilnMs} ms, packer ${base.peerMs} ms`);
prepare();
rmSync(dir, { recursive: true, force: true });
