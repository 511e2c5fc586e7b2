/**
 * Adding one build to a manifest file: read, append, write back, under an in-process mutex and
 * a cross-process lock file, with an atomic replace. Many builds (of one run, or of several
 * kiln processes) finishing at once therefore never tear the file or lose an entry.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import { formatManifest, ManifestParseError, parseManifest, type ManifestBuild } from './format.js';
import { withLockFile, type LockOptions } from './lock-file.js';
import { withMutex } from './mutex.js';

export interface AppendOptions extends Pick<LockOptions, 'timeoutMs' | 'onWait'> {
  signal?: AbortSignal;
  /** `-force`: entries of earlier runs are dropped (those of this run are kept), as Packer does. */
  force?: boolean;
}

async function readExisting(path: string, shown: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new Error(`Unable to open ${shown} for reading: ${(err as Error).message}`);
  }
}

/**
 * Appends `build` to the manifest at `output` and records `runId` as the last run. Entries of
 * this run and of older runs are kept, as Packer keeps them (older runs' are dropped under -force). A file that is not a manifest is
 * left untouched and reported.
 */
export async function appendBuild(output: string, build: ManifestBuild, runId: string, opts: AppendOptions = {}): Promise<void> {
  const path = resolve(output);
  const lockOpts: LockOptions = { ...opts };
  await withMutex(path, opts.signal, async () => {
    await mkdir(dirname(path), { recursive: true });
    await withLockFile(`${path}.lock`, lockOpts, async () => {
      const text = await readExisting(path, output);
      let manifest;
      try {
        manifest = parseManifest(text);
      } catch (err) {
        if (err instanceof ManifestParseError) {
          throw new Error(`Unable to parse manifest ${output}: ${err.message}. It was left as it is: fix or remove it, or set "output" to another file.`);
        }
        throw err;
      }
      const kept = opts.force ? (manifest.builds ?? []).filter((b) => b.packer_run_uuid === runId) : (manifest.builds ?? []);
      manifest.builds = [...kept, build];
      manifest.last_run_uuid = runId;
      await writeFileAtomic(path, formatManifest(manifest));
    });
  });
}
