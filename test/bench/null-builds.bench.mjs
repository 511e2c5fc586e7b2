// Issue 3 targets: 100 null builds, each with a 3-line shell-local provisioner, and one manifest
// post-processor: ≤ 0.1× Packer 1.6.6's wall time. Peak RSS ≤ 150 MB for 1,000 such builds.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { compare, KILN, peakRssKiB } from './harness.mjs';
import { nullBuilds, scratch, writeTemplate } from './templates.mjs';

const dir = scratch('null');
const t100 = writeTemplate(dir, 'hundred.pkr.hcl', nullBuilds(100, { manifest: true }));
const state = join(dir, 'state');
const opts = { cwd: dir, env: { KILN_STATE_DIR: state } };
const prepare = () => rmSync(join(dir, 'manifest.json'), { force: true });

// Packer 1.6.6's manifest post-processor fails for most of 100 parallel builds ("Unable to parse
// content from manifest.json"), so its exit status is not checked; kiln's must be 0.
const r = compare({ name: '100 null builds + manifest', kiln: [KILN, 'build', t100], peer: ['packer', 'build', t100], runs: 3, warmup: 1, prepare, opts, peerOpts: { ...opts, expectStatus: 'any' } });
console.log(`${r.ratio <= 0.1 ? 'PASS' : 'FAIL'} ${r.name}: kiln ${r.kilnMs} ms, packer ${r.peerMs} ms, ratio ${r.ratio} (target ≤ 0.1)`);

const t1000 = writeTemplate(dir, 'thousand.pkr.hcl', nullBuilds(1000, { manifest: true }));
prepare();
const kib = peakRssKiB([KILN, 'build', t1000], opts);
console.log(JSON.stringify({ name: 'peak RSS, 1,000 null builds + manifest', kiln_mib: Math.round(kib / 1024) }));
console.log(`${kib / 1024 <= 150 ? 'PASS' : 'FAIL'} peak RSS for 1,000 builds: ${Math.round(kib / 1024)} MiB (target ≤ 150 MiB)`);
