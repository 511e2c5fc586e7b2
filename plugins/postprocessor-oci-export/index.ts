/**
 * The `oci-export` post-processor: writes the artifact's image out as an OCI image layout
 * (`format = "layout"`, blobs linked or copied, tags added to index.json) or as a tarball that
 * `docker load`, `podman load` and skopeo's docker-archive: read (`format = "docker-archive"`,
 * the default when `path` ends in .tar). The tarball is written under a temporary name and
 * renamed when complete: a full disk or a cancel leaves nothing half-written behind.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { postProcessor, z, type PluginSet, type Reaper } from '../../src/sdk/index.js';
import { dockerArchive, OciLayout, ociStateOf, outputError, type Descriptor } from '../../src/sdk/oci.js';

export const BUILDER_ID = 'kiln.post-processor.oci-export';
const PARTIAL_KIND = 'oci-export.partial';
const PARTIAL_NAME = /^\..+\.kiln-[0-9a-f]+\.part$/;

const schema = z
  .object({
    path: z.string().min(1, 'path must name the layout folder or the .tar file to write'),
    format: z.enum(['layout', 'docker-archive']).optional(),
    /** Tags in the layout's index.json (layout) — the artifact's own tags by default. */
    tags: z.array(z.string().min(1)).optional(),
    /** Names the loader gives the image ("team/app:1.0"), for docker-archive. */
    repo_tags: z.array(z.string().min(1)).default([]),
    /**
     * Layout only: also add the image to the multi-platform index of this name, so builds for
     * several platforms exporting to one layout make one image index.
     */
    index_tag: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.index_tag !== undefined && formatOf(c) !== 'layout') ctx.addIssue({ code: 'custom', path: ['index_tag'], message: 'index_tag applies to format = "layout" only' });
    if (c.index_tag !== undefined && c.tags?.includes(c.index_tag)) ctx.addIssue({ code: 'custom', path: ['index_tag'], message: `index_tag "${c.index_tag}" is also one of tags: the image would replace the index under that name` });
  });

function formatOf(c: { format?: 'layout' | 'docker-archive' | undefined; path: string }): 'layout' | 'docker-archive' {
  return c.format ?? (c.path.endsWith('.tar') ? 'docker-archive' : 'layout');
}

const ociExport = postProcessor({
  type: 'oci-export',
  schema,
  async process(ctx, input) {
    const img = ociStateOf(input.state);
    if (!img) throw new Error(`oci-export needs an image from the oci builder (or oci-push); the input artifact (${input.builderId}) holds none`);
    const from = await OciLayout.open(img.layout);
    const manifest: Descriptor = { mediaType: img.mediaType, digest: img.digest, size: img.size, ...(img.platform && { platform: img.platform }) };
    const target = resolve(ctx.config.path);
    const fmt = formatOf(ctx.config);
    if (fmt === 'layout') {
      const to = await OciLayout.open(target, { create: true });
      const m = await from.readJson<{ config: Descriptor; layers: Descriptor[] }>(img.digest);
      for (const d of [m.config, ...m.layers, manifest]) await to.copyBlobFrom(from, d);
      const tags = ctx.config.tags ?? img.tags;
      if (ctx.config.index_tag !== undefined && tags.includes(ctx.config.index_tag)) {
        throw new Error(`index_tag "${ctx.config.index_tag}" is also a tag of the image (${tags.join(', ')}): set tags to name each platform's image differently`);
      }
      await to.addManifest(manifest, tags);
      ctx.ui.say(`Exported ${img.digest} to layout ${ctx.config.path}${tags.length ? ` as ${tags.join(', ')}` : ''}`);
      const indexTag = ctx.config.index_tag;
      if (indexTag !== undefined) {
        const idx = await to.addToIndex(indexTag, manifest);
        ctx.ui.say(`Image index ${indexTag} is now ${idx.digest}`);
      }
      const description = `OCI layout ${ctx.config.path} holding ${img.digest}${indexTag !== undefined ? ` in image index ${indexTag}` : ''}`;
      return {
        artifact: { builderId: BUILDER_ID, id: img.digest, files: [], description, state: { oci: { ...img, layout: target, tags, ...(indexTag !== undefined && { indexTag }) } } },
        keepInput: true,
      };
    }
    await mkdir(dirname(target), { recursive: true });
    const part = join(dirname(target), `.${basename(target)}.kiln-${randomBytes(4).toString('hex')}.part`);
    const rec = await ctx.resources.record(PARTIAL_KIND, `partial archive ${part}`, { path: part });
    try {
      await pipeline(Readable.from(dockerArchive(from, manifest, ctx.config.repo_tags, img.sourceDateEpoch ?? 0)), createWriteStream(part, { flags: 'wx', mode: 0o644 }), { signal: ctx.signal });
      await rename(part, target);
    } catch (err) {
      await rm(part, { force: true });
      ctx.signal.throwIfAborted();
      const e = outputError(err, ctx.config.path);
      throw e === err ? new Error(`could not write ${ctx.config.path}: ${e.message}`) : e;
    } finally {
      await rec.release();
    }
    ctx.ui.say(`Exported ${img.digest} to ${ctx.config.path} (docker-archive)`);
    return {
      artifact: { builderId: BUILDER_ID, id: img.digest, files: [target], description: `docker-archive ${ctx.config.path} holding ${img.digest}`, state: { oci: { ...img } }, destroy: () => rm(target, { force: true }) },
      keepInput: true,
    };
  },
});

const reapPartial: Reaper = async (data) => {
  const path = data.path;
  if (typeof path !== 'string' || !isAbsolute(path) || !PARTIAL_NAME.test(basename(path))) throw new Error(`refusing to remove ${String(path)}: not a partial archive of oci-export`);
  await rm(path, { force: true });
};

export default { postProcessors: [ociExport], reapers: { [PARTIAL_KIND]: reapPartial } } satisfies PluginSet;
