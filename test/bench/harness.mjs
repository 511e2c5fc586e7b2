// Benchmark harness: runs kiln and its peer on the same input in the same run, alternating,
// and reports medians and the ratio. Wall time of whole commands, as a user sees it.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const KILN = join(ROOT, 'dist', 'bin', 'main.js');

/** Runs argv once; returns wall milliseconds and peak RSS in KiB (from /usr/bin/time when present). */
export function timeOnce(argv, opts = {}) {
  argv = withNode(argv);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: opts.stdio ?? 'pipe', cwd: opts.cwd, env: { ...process.env, ...opts.env }, maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (opts.expectStatus !== 'any' && r.status !== (opts.expectStatus ?? 0)) {
    throw new Error(`${argv.join(' ')} exited ${r.status}:\n${String(r.stdout).slice(-2000)}\n${String(r.stderr).slice(-2000)}`);
  }
  return { ms, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** Peak RSS (KiB) of a command, via GNU time's %M. */
export function peakRssKiB(argv, opts = {}) {
  argv = withNode(argv);
  const r = spawnSync('/usr/bin/time', ['-f', '%M', ...argv], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, encoding: 'utf8', maxBuffer: 1 << 28 });
  const lines = r.stderr.trim().split('\n');
  return Number(lines[lines.length - 1]);
}

/**
 * A dist/ script runs as its shebang says (`npx kiln` does so), flags included: tsc rewrites the
 * file without its executable bit, so it is started through this Node with those flags.
 */
function withNode(argv) {
  if (!argv[0].endsWith('.js')) return argv;
  const shebang = readFileSync(argv[0], 'utf8').split('\n', 1)[0];
  const flags = /^#!.*\bnode((?:\s+--?\S+)*)\s*$/.exec(shebang)?.[1].trim().split(/\s+/).filter(Boolean) ?? [];
  return [process.execPath, ...flags, ...argv];
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Alternates kiln and peer `runs` times after `warmup` runs each; `prepare` runs before every
 * measured command (untimed), e.g. to remove outputs of the previous run.
 */
export function compare({ name, kiln, peer, runs = 5, warmup = 1, prepare = () => {}, opts = {}, peerOpts = opts }) {
  for (let i = 0; i < warmup; i++) {
    prepare();
    timeOnce(kiln, opts);
    prepare();
    timeOnce(peer, peerOpts);
  }
  const k = [];
  const p = [];
  for (let i = 0; i < runs; i++) {
    prepare();
    k.push(timeOnce(kiln, opts).ms);
    prepare();
    p.push(timeOnce(peer, peerOpts).ms);
  }
  const km = median(k);
  const pm = median(p);
  const result = { name, kilnMs: round(km), peerMs: round(pm), ratio: Math.round((km / pm) * 1000) / 1000, runs };
  console.log(JSON.stringify(result));
  return result;
}

function round(x) {
  return Math.round(x * 10) / 10;
}
