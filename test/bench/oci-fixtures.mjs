// Root filesystems for the OCI benchmarks, made of this machine's own files (binaries, Python,
// locales, docs: the mix a real image holds), copied until at least `minBytes`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const SOURCES = ['/usr/libexec', '/usr/lib/python3.11', '/usr/lib/python3', '/usr/share/perl', '/usr/share/locale', '/usr/share/doc', '/usr/bin', '/usr/share/man', '/usr/share/i18n', '/usr/lib/x86_64-linux-gnu', '/usr/share'];

export function duBytes(dir) {
  return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
}

export function makeRootfs(dir, minBytes) {
  mkdirSync(dir, { recursive: true });
  for (const src of SOURCES) {
    if (duBytes(dir) >= minBytes) break;
    if (!existsSync(src)) continue;
    const to = join(dir, src);
    if (existsSync(to)) continue;
    mkdirSync(dirname(to), { recursive: true });
    execFileSync('cp', ['-a', src, to]);
  }
  const size = duBytes(dir);
  if (size < minBytes) throw new Error(`could only gather ${size} bytes for ${dir}`);
  return size;
}

export function fileCount(dir) {
  return Number(execFileSync('sh', ['-c', `find ${JSON.stringify(dir)} | wc -l`], { encoding: 'utf8' }).trim());
}
