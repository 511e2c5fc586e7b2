/**
 * `kiln init`: lists the starter templates (the `templates/` folder of kiln's package), or with
 * `--template NAME [dir]` copies one into a folder to start from. Files already there are never
 * overwritten unless --force; nothing is written when any would be.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode } from './output.js';

export interface InitFlags {
  template?: string;
  force?: boolean;
}

/** kiln's own package folder: the nearest one above this module with kiln's package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'kiln') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find kiln's package folder (its templates/ folder is there)");
    dir = up;
  }
}

/** The first line of a template's README after its title (a one-line summary): what `kiln init` lists. */
function summary(dir: string): string {
  const readme = join(dir, 'README.md');
  if (!existsSync(readme)) return '';
  return readFileSync(readme, 'utf8').split('\n').find((l) => l.trim() !== '' && !l.startsWith('#'))?.trim() ?? '';
}

function filesBelow(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesBelow(p) : [p];
  });
}

export function initCommand(target: string | undefined, flags: InitFlags): void {
  const templates = join(packageRoot(), 'templates');
  const names = readdirSync(templates).filter((n) => statSync(join(templates, n)).isDirectory()).sort();
  if (flags.template === undefined) {
    process.stdout.write('Starter templates (kiln init --template NAME [dir]):\n');
    for (const n of names) process.stdout.write(`  ${n.padEnd(20)} ${summary(join(templates, n))}\n`);
    return;
  }
  if (!names.includes(flags.template)) {
    process.stderr.write(`Error: there is no starter template "${flags.template}". The templates are: ${names.join(', ')}.\n`);
    throw new ExitCode(1);
  }
  const from = join(templates, flags.template);
  const to = resolve(target ?? '.');
  const files = filesBelow(from).map((src) => ({ src, dst: join(to, relative(from, src)) }));
  const existing = files.filter((f) => existsSync(f.dst));
  if (existing.length > 0 && !flags.force) {
    process.stderr.write(`Error: ${existing.map((f) => relative(process.cwd(), f.dst) || f.dst).join(', ')} already ${existing.length === 1 ? 'exists' : 'exist'}: nothing was written (-force overwrites).\n`);
    throw new ExitCode(1);
  }
  for (const f of files) {
    mkdirSync(dirname(f.dst), { recursive: true });
    copyFileSync(f.src, f.dst);
  }
  const where = relative(process.cwd(), to) || '.';
  process.stdout.write(`Wrote the ${flags.template} template into ${where} (${files.length} files). Next: kiln validate ${where}\n`);
}
