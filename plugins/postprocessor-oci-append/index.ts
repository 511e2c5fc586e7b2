/**
 * The `oci-append` post-processor: a new image made of the artifact's image plus one layer of
 * local files (`source` into `destination`, Packer's trailing-slash rule) and config `changes`,
 * written next to it in the same OCI layout (or `layout`) and tagged. Like `crane append` or
 * `umoci insert`, it needs no daemon, no root and no namespaces, and as a post-processor it runs
 * after the image it builds on exists — which is how one template builds an image and a second
 * one on top of it (kiln builds have no ordering between them).
 */
import { resolve } from 'node:path';
import { postProcessor, z, type PluginSet } from '../../src/sdk/index.js';
import {
  applyChanges,
  checkChanges,
  commitImage,
  OciLayout,
  ociStateOf,
  uploadTree,
  writeLayer,
  type Descriptor,
  type ImageConfig,
  type LayerEntry,
  type Manifest,
} from '../../src/sdk/oci.js';

export const BUILDER_ID = 'kiln.post-processor.oci-append';

const schema = z
  .object({
    source: z.string().min(1, 'source must name a local folder'),
    destination: z.string().default('/'),
    changes: z.array(z.string()).default([]),
    tag: z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v])).default([]),
    /** Layout to write the new image to; the input image's layout by default. */
    layout: z.string().optional(),
    compression_level: z.number().int().min(1).max(9).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (!c.destination.startsWith('/')) ctx.addIssue({ code: 'custom', path: ['destination'], message: 'destination must be an absolute path in the image, e.g. /app' });
    checkChanges(c.changes).forEach((m, i) => ctx.addIssue({ code: 'custom', path: ['changes', i], message: m }));
  });

/** The layer's entries: the destination's parent folders, then the files, owned by root. */
async function* entries(source: string, destination: string, clamp: number | undefined): AsyncGenerator<LayerEntry> {
  const time = (t: number) => (clamp !== undefined && t > clamp ? clamp : t);
  const dest = destination.split('/').filter(Boolean);
  for (let i = 1; i <= dest.length; i++) yield { name: `${dest.slice(0, i).join('/')}/`, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: time(clamp ?? 0) };
  const prefix = dest.length > 0 ? `${dest.join('/')}/` : '';
  for (const e of await uploadTree(source)) {
    if (e.kind === 'dir') yield { name: `${prefix}${e.rel}/`, type: 'dir', mode: e.mode, uid: 0, gid: 0, size: 0, mtime: time(e.mtime) };
    else yield { name: `${prefix}${e.rel}`, type: 'file', mode: e.mode, uid: 0, gid: 0, size: e.size, mtime: time(e.mtime), source: e.abs };
  }
}

const ociAppend = postProcessor({
  type: 'oci-append',
  schema,
  async process(ctx, input) {
    const c = ctx.config;
    const img = ociStateOf(input.state);
    if (!img) throw new Error(`oci-append needs an image from the oci builder (or another OCI post-processor); the input artifact (${input.builderId}) holds none`);
    const from = await OciLayout.open(img.layout);
    const to = c.layout ? await OciLayout.open(resolve(c.layout), { create: true }) : from;
    const manifest = await from.readJson<Manifest>(img.digest);
    for (const d of [manifest.config, ...manifest.layers]) await to.copyBlobFrom(from, d);
    const cfg = await from.readJson<ImageConfig>(manifest.config.digest);
    const epoch = img.sourceDateEpoch;
    ctx.ui.say(`Appending ${c.source} at ${c.destination} to ${img.digest.slice(0, 19)}`);
    const layer = await writeLayer(to, entries(c.source, c.destination, epoch), { compression: 'gzip', ...(c.compression_level !== undefined && { level: c.compression_level }), signal: ctx.signal });
    const created = new Date((epoch ?? Math.floor(Date.now() / 1000)) * 1000).toISOString().replace('.000Z', 'Z');
    cfg.rootfs = { type: 'layers', diff_ids: [...cfg.rootfs.diff_ids, layer.diffId] };
    // The layer's content names it, as Docker's `COPY dir:<hash> in <dest>` does: the source's
    // host path would make the digest depend on where (and from which folder) kiln ran.
    cfg.history = [...(cfg.history ?? []), { created, created_by: `kiln oci-append dir:${layer.diffId.slice('sha256:'.length)} in ${c.destination}` }];
    cfg.created = created;
    cfg.config ??= {};
    applyChanges(cfg.config, c.changes);
    const platform = img.platform ?? { architecture: cfg.architecture, os: cfg.os };
    const m: Descriptor = await commitImage(to, cfg, [...manifest.layers, layer.descriptor], platform);
    await to.addManifest(m, c.tag);
    ctx.ui.say(`Image ${m.digest}${c.tag.length ? ` tagged ${c.tag.join(', ')}` : ''}`);
    return {
      artifact: {
        builderId: BUILDER_ID,
        id: m.digest,
        files: [],
        description: `OCI image ${m.digest} (${img.digest.slice(0, 19)} + ${c.source})${c.tag.length ? ` tagged ${c.tag.join(', ')}` : ''}`,
        state: { oci: { layout: to.dir, digest: m.digest, mediaType: m.mediaType, size: m.size, platform, tags: c.tag, ...(epoch !== undefined && { sourceDateEpoch: epoch }) } },
      },
      keepInput: true,
    };
  },
});

export default { postProcessors: [ociAppend] } satisfies PluginSet;
