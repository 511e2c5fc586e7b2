// Issue 2 targets: `kiln validate` of a ≈2,000-line template with 60 builds ≤ 0.1× `packer
// validate`; `kiln --version` and `kiln validate` of a one-build template ≤ 1.5× Packer's.
import { readFileSync } from 'node:fs';
import { compare, KILN } from './harness.mjs';
import { largeTemplate, nullBuilds, scratch, writeTemplate } from './templates.mjs';

const dir = scratch('validate');
const large = writeTemplate(dir, 'large.pkr.hcl', largeTemplate(60));
const lines = readFileSync(large, 'utf8').split('\n').length;
const one = writeTemplate(dir, 'one.pkr.hcl', nullBuilds(1));
const opts = { cwd: dir };

const results = [
  { ...compare({ name: `validate, ${lines}-line template, 60 builds`, kiln: [KILN, 'validate', large], peer: ['packer', 'validate', large], runs: 5, opts }), target: 0.1 },
  { ...compare({ name: '--version', kiln: [KILN, '--version'], peer: ['packer', '--version'], runs: 20, warmup: 3, opts }), target: 1.5 },
  { ...compare({ name: 'validate, one build', kiln: [KILN, 'validate', one], peer: ['packer', 'validate', one], runs: 20, warmup: 3, opts }), target: 1.5 },
];
for (const r of results) console.log(`${r.ratio <= r.target ? 'PASS' : 'FAIL'} ${r.name}: kiln ${r.kilnMs} ms, packer ${r.peerMs} ms, ratio ${r.ratio} (target ≤ ${r.target})`);
