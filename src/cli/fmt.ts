/**
 * `kiln fmt`: rewrites *.pkr.hcl and *.pkrvars.hcl files in the canonical style `packer fmt`
 * writes. `-check` exits 3 when a file would change (as Packer does); `-diff` prints what would
 * change; `-write=false` only lists; `-` reads stdin and writes stdout.
 */
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasErrors } from '../core/errors/diagnostic.js';
import { formatHCL } from '../template/fmt/format.js';
import { ExitCode, printDiagnostics } from './output.js';
import { unifiedDiff } from './unified-diff.js';

export interface FmtFlags {
  check?: boolean;
  diff?: boolean;
  write?: boolean;
  recursive?: boolean;
}

const FORMATTABLE = /\.(pkr|pkrvars)\.hcl$/;

export function fmtCommand(path: string, flags: FmtFlags): void {
  if (path === '-') {
    const text = readFileSync(0, 'utf8');
    const r = formatHCL(text, '<stdin>');
    printDiagnostics(r.diagnostics, new Map([['<stdin>', text]]));
    if (hasErrors(r.diagnostics)) throw new ExitCode(1);
    if (flags.check) {
      if (r.output !== text) throw new ExitCode(3);
      return;
    }
    process.stdout.write(flags.diff ? unifiedDiff(text, r.output, '<stdin>') : r.output);
    return;
  }
  let files: string[];
  try {
    files = statSync(path).isDirectory() ? listFiles(path, flags.recursive === true) : [path];
  } catch {
    process.stderr.write(`Error: there is no file or directory at "${path}".\n`);
    throw new ExitCode(1);
  }
  let failed = false;
  let changed = false;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const r = formatHCL(text, file);
    if (hasErrors(r.diagnostics)) {
      printDiagnostics(r.diagnostics, new Map([[file, text]]));
      failed = true;
      continue;
    }
    if (r.output === text) continue;
    changed = true;
    process.stdout.write(`${file}\n`);
    if (flags.diff) process.stdout.write(unifiedDiff(text, r.output, file));
    if (!flags.check && flags.write !== false) {
      // Temp file + rename: an interrupted fmt never leaves a half-written template.
      const tmp = `${file}.kiln-fmt-${process.pid}`;
      writeFileSync(tmp, r.output, { mode: statSync(file).mode });
      renameSync(tmp, file);
    }
  }
  if (failed) throw new ExitCode(1);
  if (flags.check && changed) throw new ExitCode(3);
}

function listFiles(dir: string, recursive: boolean): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (recursive && !entry.name.startsWith('.')) out.push(...listFiles(p, true));
    } else if (FORMATTABLE.test(entry.name)) out.push(p);
  }
  return out;
}
