/**
 * Host checks `kiln build` makes before any build starts: the programs post-processors run
 * (qemu-img for qcow2, say). Each missing one is an error at the block that needs it.
 */
import { findCommand } from '../communicator/find-command.js';
import { error, type Diagnostic } from './errors/diagnostic.js';
import type { Job } from './runner.js';

export function missingPrograms(jobs: readonly Job[], path = process.env.PATH ?? ''): Diagnostic[] {
  const diags: Diagnostic[] = [];
  const found = new Map<string, boolean>();
  const has = (command: string): boolean => {
    let v = found.get(command);
    if (v === undefined) found.set(command, (v = findCommand(command, path) !== undefined));
    return v;
  };
  // A block shared by several builds (one template, many sources) is reported once.
  const seen = new Set<string>();
  for (const job of jobs) {
    for (const step of job.postProcessors.flat()) {
      for (const p of step.plugin.programs ?? []) {
        const r = step.planned.defRange;
        const key = `${r.filename}:${r.start.byte}:${p.command}`;
        if (has(p.command) || seen.has(key)) continue;
        seen.add(key);
        diags.push(error('Missing program', `The ${step.planned.type} post-processor runs ${p.command}, which is not on PATH here: ${p.install}. Nothing was built.`, r));
      }
    }
  }
  return diags;
}
