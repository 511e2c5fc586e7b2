// Issue 5: a layer from a ≥ 200 MB rootfs in ≤ 1.0× `umoci repack`'s time (kiln's zstd layer: ≤ 0.5×).
// Both get the same tree: umoci repacks a freshly unpacked empty image whose rootfs holds hard
// links to it; kiln writes one layer of the tree plus config and manifest into an OCI layout.
// Each measured command is a whole process, alternating, medians of 5.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { compare, peakRssKiB, ROOT } from './harness.mjs';
import { fileCount, makeRootfs } from './oci-fixtures.mjs';
import { scratch } from './templates.mjs';

const dir = scratch('oci-layer');
const rootfs = join(dir, 'rootfs');
const bytes = makeRootfs(rootfs, 400e6);
console.log(JSON.stringify({ rootfs_mb: Math.round(bytes / 1e6), files: fileCount(rootfs) }));
const KILN_OCI = join(ROOT, 'test', 'bench', 'oci-kiln.mjs');
// The same V8 flag the kiln bin runs with (src/cli/main.ts).
const NODE = ['node', '--optimize-for-size'];

const prepare = () => {
  for (const d of ['kiln-layout', 'umoci-layout', 'bundle']) rmSync(join(dir, d), { recursive: true, force: true });
  execFileSync('sh', ['-c', 'umoci init --layout umoci-layout && umoci new --image umoci-layout:base && umoci unpack --image umoci-layout:base bundle >/dev/null && cp -al rootfs/. bundle/rootfs/'], { cwd: dir });
};
const r = compare({
  name: `layer from a ${Math.round(bytes / 1e6)} MB rootfs (gzip)`,
  kiln: [...NODE, KILN_OCI, 'layer', rootfs, join(dir, 'kiln-layout'), 'v1'],
  peer: ['umoci', 'repack', '--image', 'umoci-layout:v1', 'bundle'],
  runs: 5,
  warmup: 1,
  prepare,
  opts: { cwd: dir },
});
console.log(`${r.ratio <= 1.0 ? 'PASS' : 'FAIL'} ${r.name}: kiln ${r.kilnMs} ms, umoci repack ${r.peerMs} ms, ratio ${r.ratio} (target ≤ 1.0)`);

prepare();
execFileSync('umoci', ['repack', '--image', 'umoci-layout:v1', 'bundle'], { cwd: dir });
const kib = peakRssKiB([...NODE, KILN_OCI, 'layer', rootfs, join(dir, 'kiln-layout'), 'v1'], { cwd: dir });
console.log(JSON.stringify({ name: 'peak RSS, layer', kiln_mib: Math.round(kib / 1024) }));
const size = (layout) => Number(execFileSync('sh', ['-c', `ls -l ${layout}/blobs/sha256 | sort -k5 -n | tail -1 | awk '{print $5}'`], { encoding: 'utf8' }).trim());
console.log(JSON.stringify({ kiln_layer_bytes: size(join(dir, 'kiln-layout')), umoci_layer_bytes: size(join(dir, 'umoci-layout')) }));

// zstd comes from node:zlib (Node.js 22.15+) or else the zstd command (Debian package zstd); the
// target compares kiln's zstd layer with umoci's usual gzip repack of the same tree.
const { zstdBackend } = await import(join(ROOT, 'dist', 'src', 'formats', 'zstd.js'));
const backend = zstdBackend();
if (!backend) console.log(`NOT MEASURABLE zstd layer (target ≤ 0.5× umoci repack): Node.js ${process.version} has no zstd in node:zlib and the zstd command is not on PATH (apt-get install zstd)`);
else {
  const z = compare({
    name: `layer from a ${Math.round(bytes / 1e6)} MB rootfs (kiln zstd via ${backend === 'zlib' ? 'node:zlib' : 'the zstd command'}, umoci gzip)`,
    kiln: [...NODE, KILN_OCI, 'layer', rootfs, join(dir, 'kiln-layout'), 'v1', 'zstd'],
    peer: ['umoci', 'repack', '--image', 'umoci-layout:v1', 'bundle'],
    runs: 5,
    warmup: 1,
    prepare,
    opts: { cwd: dir },
  });
  console.log(`${z.ratio <= 0.5 ? 'PASS' : 'FAIL'} ${z.name}: kiln ${z.kilnMs} ms, umoci repack ${z.peerMs} ms, ratio ${z.ratio} (target ≤ 0.5)`);
  prepare();
  execFileSync('umoci', ['repack', '--image', 'umoci-layout:v1', 'bundle'], { cwd: dir });
  const zkib = peakRssKiB([...NODE, KILN_OCI, 'layer', rootfs, join(dir, 'kiln-layout'), 'v1', 'zstd'], { cwd: dir });
  console.log(JSON.stringify({ name: 'peak RSS, zstd layer (the larger of kiln and a zstd process it runs)', kiln_mib: Math.round(zkib / 1024) }));
  console.log(JSON.stringify({ kiln_zstd_layer_bytes: size(join(dir, 'kiln-layout')), umoci_layer_bytes: size(join(dir, 'umoci-layout')) }));
}
rmSync(dir, { recursive: true, force: true });
