/**
 * `kiln cleanup [--run ID] [--dry-run]`: removes what killed runs left behind, from their
 * resource ledgers, newest resource first. A run whose process is still alive is left alone.
 */
import { basename, dirname } from 'node:path';
import { PluginRegistry, type ComponentKind } from '../core/registry.js';
import { Redactor } from '../core/redact.js';
import { listLedgers, openRecords, readEntries } from '../state/ledger.js';
import { isSameProcessAlive } from '../state/proc.js';
import { CORE_REAPERS } from '../state/reapers.js';
import { unlinkSync } from 'node:fs';
import { ExitCode } from './output.js';

/** How long one reaper may take: a cloud instance can take minutes to terminate (its group waits for it). */
const REAPER_TIMEOUT_MS = 12 * 60_000;

export interface CleanupFlags {
  run?: string;
  dryRun?: boolean;
}

export async function cleanupCommand(flags: CleanupFlags): Promise<void> {
  const ledgers = listLedgers().filter((p) => flags.run === undefined || basename(dirname(p)) === flags.run);
  if (flags.run !== undefined && ledgers.length === 0) {
    process.stdout.write(`Nothing to clean up for run ${flags.run}: it finished cleanly or never existed.\n`);
    return;
  }
  // Built-in owners come from the built-in registry; a third-party owner from the module the
  // run loaded it from (the ledger records it), so no template is needed to reap its resources.
  const builtins = await PluginRegistry.create([], '.');
  const thirdParty = new Map<string, Promise<PluginRegistry>>();
  const registryFor = (module: string | undefined): Promise<PluginRegistry> => {
    if (module === undefined) return Promise.resolve(builtins);
    let r = thirdParty.get(module);
    if (!r) thirdParty.set(module, (r = PluginRegistry.fromModule(module)));
    return r;
  };
  let failures = 0;
  let removed = 0;
  for (const path of ledgers) {
    const entries = readEntries(path);
    const head = entries[0];
    const runId = basename(dirname(path));
    if (head?.t === 'run' && head.pid !== process.pid && isSameProcessAlive(head.pid, head.procStart)) {
      process.stdout.write(`Run ${runId} is still running (pid ${head.pid}); leaving it alone.\n`);
      continue;
    }
    const open = openRecords(entries).reverse();
    if (open.length === 0) {
      if (!flags.dryRun) unlinkSync(path);
      continue;
    }
    process.stdout.write(`Run ${runId}: ${open.length} resource(s) left behind.\n`);
    let allGone = true;
    for (const r of open) {
      if (flags.dryRun) {
        process.stdout.write(`  would remove ${r.kind}: ${r.description}\n`);
        continue;
      }
      try {
        const owner = r.data.owner as { kind?: ComponentKind; type?: string; module?: string } | undefined;
        const reaper = CORE_REAPERS[r.kind] ?? (owner?.kind && owner.type ? await (await registryFor(owner.module)).reaper({ kind: owner.kind, type: owner.type }, r.kind) : undefined);
        if (!reaper) throw new Error(`no plugin knows how to remove resources of kind "${r.kind}"${owner?.module ? ` (owner: ${owner.type} from ${owner.module})` : ''}`);
        await reaper(r.data, AbortSignal.timeout(REAPER_TIMEOUT_MS));
        process.stdout.write(`  removed ${r.kind}: ${r.description}\n`);
        removed++;
      } catch (err) {
        allGone = false;
        failures++;
        // A reaper's error may quote the record's data, which holds secrets as they are.
        const hide = new Redactor(r.sensitive);
        process.stderr.write(`  could not remove ${r.kind} (${r.description}): ${hide.text((err as Error).message)}\n`);
      }
    }
    if (!flags.dryRun && allGone) unlinkSync(path);
  }
  if (!flags.dryRun) process.stdout.write(removed > 0 || failures > 0 ? `Removed ${removed} resource(s)${failures ? `; ${failures} could not be removed` : ''}.\n` : 'Nothing to clean up.\n');
  if (failures > 0) throw new ExitCode(1);
}
