/**
 * The `manifest` post-processor: records each build's artifact (source name, builder type,
 * files with sizes, artifact id, run id, custom data) in a JSON file in Packer's format, so
 * scripts written for Packer's packer-manifest.json read kiln's unchanged. It passes the
 * artifact on and always keeps it, as Packer does.
 */
import { rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { postProcessor, z, type PluginSet, type Reaper } from '../../src/sdk/index.js';
import { isTempNameFor } from './atomic-write.js';
import type { ManifestBuild } from './format.js';
import { freshLockName, releaseLock } from './lock-file.js';
import { appendBuild, WRITE_RESOURCE } from './store.js';

/** Packer's id for artifacts of this post-processor. */
export const BUILDER_ID = 'packer.post-processor.manifest';

const schema = z
  .object({
    output: z.string().min(1, 'output must not be empty').default('packer-manifest.json'),
    strip_path: z.boolean().default(false),
    strip_time: z.boolean().default(false),
    // A map(string) in Packer: HCL turns numbers and bools into strings, so `version = 2` works there.
    custom_data: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
  })
  .strict();

export type ManifestConfig = z.output<typeof schema>;

async function fileSize(path: string): Promise<number> {
  // Packer records 0 for a file it cannot stat (one a later step removed, say) rather than failing.
  return (await stat(path).catch(() => undefined))?.size ?? 0;
}

const manifest = postProcessor({
  type: 'manifest',
  schema,
  async process(ctx, input) {
    const { output, strip_path, strip_time, custom_data } = ctx.config;
    const files = await Promise.all(input.files.map(async (f) => ({ name: strip_path ? basename(f) : f, size: await fileSize(f) })));
    const build: ManifestBuild = {
      name: ctx.sourceName,
      builder_type: ctx.builderType,
      build_time: strip_time ? 0 : Math.floor(Date.now() / 1000),
      files: files.length > 0 ? files : null,
      artifact_id: input.id,
      packer_run_uuid: ctx.runId,
      // Sensitive variables stay out of files kiln writes too (Packer would write them in clear).
      custom_data: custom_data ? Object.fromEntries(Object.entries(custom_data).map(([k, v]) => [k, ctx.redact(v)])) : null,
    };
    await appendBuild(output, build, ctx.runId, {
      signal: ctx.signal,
      force: ctx.force,
      resources: ctx.resources,
      onWait: (holder) => ctx.ui.message(`Waiting for ${output}.lock, held by ${holder}`),
    });
    // The manifest only records the artifact: it must never be the reason the artifact is deleted.
    return { artifact: input, keepInput: true, forceOverride: true };
  },
});

/**
 * What a run killed mid-write left: the temp file (only a name this plugin makes beside that
 * manifest), the lock's content file, and the lock (only while it still holds the recorded
 * token: another process may have broken it and taken its own since). The manifest itself is
 * whole either way.
 */
const reapWrite: Reaper = async (data) => {
  const { manifest: path, lock, token, temp } = data;
  if (typeof path !== 'string' || typeof lock !== 'string' || typeof token !== 'string' || typeof temp !== 'string' || lock !== `${path}.lock` || !/^[0-9a-f]{16}$/.test(token) || !isTempNameFor(path, temp)) {
    throw new Error('refusing to remove files named by a malformed manifest-write record');
  }
  await rm(temp, { force: true });
  await releaseLock(lock, token);
  await rm(freshLockName(lock, token), { force: true });
};

export default { postProcessors: [manifest], reapers: { [WRITE_RESOURCE]: reapWrite } } satisfies PluginSet;
