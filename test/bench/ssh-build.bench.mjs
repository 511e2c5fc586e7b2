// Issue 4 target: a null-builder build over ssh with environment variables, a 64 MiB upload, a
// 300-file tree and a download takes ≤ 0.5× Packer 1.6.6's wall time: the same template under
// `kiln build` and `packer build`, same sshd, alternating, median.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { join } from 'node:path';
import { compare, KILN } from './harness.mjs';
import { startSshd } from './ssh-server.mjs';
import { scratch } from './templates.mjs';

const server = await startSshd();
const dir = scratch('ssh-build');
writeFileSync(join(dir, 'image.bin'), randomFillSync(Buffer.alloc(64 << 20)));
for (let d = 0; d < 10; d++) {
  mkdirSync(join(dir, 'site', `d${d}`), { recursive: true });
  for (let i = 0; i < 30; i++) writeFileSync(join(dir, 'site', `d${d}`, `page${i}.html`), randomFillSync(Buffer.alloc(2048 + i * 100)));
}
const dst = `/dev/shm/kiln-bench-build-${server.port}`;
const template = join(dir, 'build.pkr.hcl');
writeFileSync(
  template,
  `${server.sourceHcl()}build {
  sources = ["source.null.t"]
  provisioner "shell" {
    environment_vars = ["APP=demo", "RELEASE=1.2.3", "GREETING=it's \\"quoted\\" $HOME"]
    inline = ["echo \\"$APP $RELEASE $GREETING\\" > ${dst}/release.txt", "uname -a", "df -h /dev/shm | tail -1"]
  }
  provisioner "file" {
    source      = "image.bin"
    destination = "${dst}/image.bin"
  }
  provisioner "file" {
    source      = "site"
    destination = "${dst}"
  }
  provisioner "shell" {
    inline = ["find ${dst}/site -type f | wc -l"]
  }
  provisioner "file" {
    source      = "${dst}/release.txt"
    destination = "out/release.txt"
    direction   = "download"
  }
}
`,
);
const prepare = () => {
  server.ssh(`rm -rf ${dst} && mkdir -p ${dst}`);
  rmSync(join(dir, 'out'), { recursive: true, force: true });
  mkdirSync(join(dir, 'out'));
};
const r = compare({ name: 'null build over ssh: env, 64 MiB upload, 300-file tree, download', kiln: ['node', KILN, 'build', template], peer: ['packer', 'build', template], runs: Number(process.env.RUNS ?? 5), warmup: 1, prepare, opts: { cwd: dir, env: { KILN_STATE_DIR: join(dir, 'state') } } });
console.log(`${r.ratio <= 0.5 ? 'PASS' : 'FAIL'} ${r.name}: kiln ${r.kilnMs} ms, packer ${r.peerMs} ms, ratio ${r.ratio} (target ≤ 0.5)`);
prepare();
rmSync(dir, { recursive: true, force: true });
