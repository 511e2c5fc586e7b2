// Issue 5: push of a ≥ 200 MB image to the local registry in ≤ 1.0× `skopeo copy`'s time;
// re-push of the unchanged image with one HEAD per blob in ≤ 0.2 s; peak RSS ≤ 150 MB while
// building and pushing a 1 GB layer. The registry's storage is emptied before every push
// (untimed), so both tools upload every blob.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { compare, peakRssKiB, ROOT, timeOnce } from './harness.mjs';
import { makeRootfs } from './oci-fixtures.mjs';
import { scratch } from './templates.mjs';

const dir = scratch('oci-push');
const KILN_OCI = join(ROOT, 'test', 'bench', 'oci-kiln.mjs');
const NODE = ['node', '--optimize-for-size'];
const REGISTRY = join(ROOT, 'test', 'setup', 'registry.sh');
const PORT = '5190';
const HOST = `127.0.0.1:${PORT}`;
const regDir = join(dir, 'registry');
const restartEmpty = () => {
  execFileSync('bash', [REGISTRY, 'stop', regDir]);
  rmSync(join(regDir, 'storage'), { recursive: true, force: true });
  execFileSync('bash', [REGISTRY, 'start', regDir, PORT]);
};

try {
  // A 1 GB rootfs: its layer is the ≥ 200 MB image pushed below, and the peak-RSS subject.
  const rootfs = join(dir, 'rootfs');
  const bytes = makeRootfs(rootfs, 1.05e9);
  execFileSync('bash', [REGISTRY, 'start', regDir, PORT]);
  const kib = peakRssKiB([...NODE, KILN_OCI, 'build-push', rootfs, join(dir, 'layout'), HOST, 'bench/big'], { cwd: dir });
  const imageBytes = Number(execFileSync('sh', ['-c', `du -sb ${join(dir, 'layout', 'blobs')} | cut -f1`], { encoding: 'utf8' }).trim());
  console.log(JSON.stringify({ name: `peak RSS, build + push of a ${Math.round(bytes / 1e6)} MB rootfs layer`, kiln_mib: Math.round(kib / 1024), image_mb: Math.round(imageBytes / 1e6) }));
  console.log(`${kib / 1024 <= 150 ? 'PASS' : 'FAIL'} peak RSS building and pushing a ${Math.round(bytes / 1e6)} MB layer: ${Math.round(kib / 1024)} MiB (target ≤ 150 MiB)`);

  const r = compare({
    name: `push of a ${Math.round(imageBytes / 1e6)} MB image to the local registry`,
    kiln: [...NODE, KILN_OCI, 'push', join(dir, 'layout'), 'big', HOST, 'bench/kiln'],
    peer: ['skopeo', 'copy', '-q', '--dest-tls-verify=false', `oci:${join(dir, 'layout')}:big`, `docker://${HOST}/bench/skopeo:big`],
    runs: 5,
    warmup: 1,
    prepare: restartEmpty,
    opts: { cwd: dir },
  });
  console.log(`${r.ratio <= 1.0 ? 'PASS' : 'FAIL'} ${r.name}: kiln ${r.kilnMs} ms, skopeo copy ${r.peerMs} ms, ratio ${r.ratio} (target ≤ 1.0)`);

  // Re-push: after one push the registry has everything; the in-process time of the second
  // push itself, and its blob outcomes.
  timeOnce([...NODE, KILN_OCI, 'push', join(dir, 'layout'), 'big', HOST, 'bench/kiln']);
  const repush = timeOnce([...NODE, KILN_OCI, 'push', join(dir, 'layout'), 'big', HOST, 'bench/kiln']);
  const again = JSON.parse(repush.stdout);
  const skopeoAgain = timeOnce(['skopeo', 'copy', '-q', '--dest-tls-verify=false', `oci:${join(dir, 'layout')}:big`, `docker://${HOST}/bench/skopeo:big`]).ms;
  console.log(JSON.stringify({ name: 're-push of the unchanged image', kiln_push_ms: again.ms, kiln_whole_command_ms: Math.round(repush.ms), blobs: again.blobs, skopeo_whole_command_ms: Math.round(skopeoAgain) }));
  const ok = again.ms <= 200 && again.blobs.uploaded === 0 && again.blobs.mounted === 0;
  console.log(`${ok ? 'PASS' : 'FAIL'} re-push: ${again.ms} ms, ${again.blobs.exists} blobs already there (one HEAD each), none sent (target ≤ 200 ms)`);
} finally {
  execFileSync('bash', [REGISTRY, 'stop', regDir]);
  rmSync(dir, { recursive: true, force: true });
}
