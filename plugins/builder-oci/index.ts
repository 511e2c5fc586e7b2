/**
 * The `oci` builder: kiln's own daemonless image builder. It unpacks the base into a temporary
 * root filesystem, lets the provisioners work on it (the file provisioner writes into it, the
 * shell provisioner runs inside it through namespaces + chroot), and commits exactly what changed
 * as one new layer (whiteouts for deletions) plus the config changes. The image is written to
 * an OCI layout: `export_layout`, or a temporary one that post-processors (oci-push,
 * oci-export) read before the build ends.
 */
import { resolve, join } from 'node:path';
import { builder, type PluginSet } from '../../src/sdk/index.js';
import {
  applyChanges,
  commitImage,
  diffTree,
  hostPlatform,
  OciLayout,
  parseBase,
  parsePlatform,
  RootfsCommunicator,
  snapshot,
  writeLayer,
  type ImageConfig,
  type LayerEntry,
  type Platform,
} from '../../src/sdk/oci.js';
import { fetchBase, unpackBase } from './base-image.js';
import { schema, sourceDateEpoch } from './config.js';

export const BUILDER_ID = 'kiln.oci';

/** Gives back a generator's first item and a generator of all items, so emptiness is known before writing. */
async function peek<T>(gen: AsyncGenerator<T>): Promise<{ empty: boolean; all: AsyncGenerator<T> }> {
  const first = await gen.next();
  const all = (async function* () {
    if (!first.done) yield first.value;
    yield* gen;
  })();
  return { empty: first.done === true, all };
}

const ociBuilder = builder({
  type: 'oci',
  schema,
  generatedData: ['ImageDigest', 'ImageLayout'],
  async run(ctx) {
    const c = ctx.config;
    const spec = parseBase(c.base);
    if (typeof spec === 'string') throw new Error(spec);
    const platform: Platform = c.platform ? (parsePlatform(c.platform) as Platform) : hostPlatform();
    const epoch = sourceDateEpoch(c);
    const tags = c.tag ?? [];

    const layoutDir = c.export_layout ? resolve(c.export_layout) : join(await ctx.tempDir('kiln-oci-'), 'layout');
    const layout = await OciLayout.open(layoutDir, { create: true });
    const base = await ctx.step('base image', () => fetchBase(ctx, spec, layout, platform));
    const root = await ctx.tempDir('kiln-rootfs-');
    await ctx.step('unpack', () => unpackBase(ctx, layout, base, root));
    const before = base.layers.length > 0 ? snapshot(root) : undefined;

    const cfg: ImageConfig = structuredClone(base.config);
    cfg.config ??= {};
    const comm = new RootfsCommunicator(root, { env: cfg.config.Env ?? [], ...(cfg.config.WorkingDir && { workdir: cfg.config.WorkingDir }), resources: ctx.resources });
    await ctx.step('provision', () => ctx.provision(comm));

    const result = await ctx.step('commit', async () => {
      const uid = process.getuid?.();
      const rootless = uid !== undefined && uid !== 0;
      const entries = await peek<LayerEntry>(
        diffTree(root, before, { ...(epoch !== undefined && { clampMtime: epoch }), ...(rootless && { ownUid: uid, ownGid: process.getgid?.() }) }),
      );
      const created = new Date((epoch ?? Math.floor(Date.now() / 1000)) * 1000).toISOString().replace('.000Z', 'Z');
      const layers = [...base.layers];
      cfg.rootfs = { type: 'layers', diff_ids: [...(cfg.rootfs?.diff_ids ?? [])] };
      cfg.history = [...(cfg.history ?? [])];
      cfg.created = created;
      if (c.author !== undefined) cfg.author = c.author;
      cfg.architecture = platform.architecture;
      cfg.os = platform.os;
      if (platform.variant) cfg.variant = platform.variant;
      if (entries.empty) {
        ctx.ui.say('The provisioners changed no files: no new layer');
        cfg.history.push({ created, created_by: `kiln oci builder (${ctx.buildName})`, empty_layer: true });
      } else {
        ctx.ui.say(`Writing the new layer (${c.compression})`);
        const layer = await writeLayer(layout, entries.all, {
          compression: c.compression,
          ...(c.compression_level !== undefined && { level: c.compression_level }),
          signal: ctx.signal,
          onProgress: (n) => ctx.ui.progress('layer', n, 0, 'layer'),
        });
        layers.push(layer.descriptor);
        cfg.rootfs.diff_ids.push(layer.diffId);
        cfg.history.push({ created, created_by: `kiln oci builder (${ctx.buildName})` });
        ctx.ui.message(`Layer ${layer.descriptor.digest} (${layer.descriptor.size} bytes)`);
      }
      applyChanges(cfg.config, c.changes);
      const manifest = await commitImage(layout, cfg, layers, platform);
      await layout.addManifest(manifest, tags);
      return manifest;
    });

    ctx.generatedData.set('ImageDigest', result.digest);
    ctx.generatedData.set('ImageLayout', layoutDir);
    const where = c.export_layout ? `layout ${c.export_layout}` : 'a temporary layout';
    ctx.ui.say(`Image ${result.digest} in ${where}${tags.length ? ` tagged ${tags.join(', ')}` : ''}`);
    return {
      builderId: BUILDER_ID,
      id: result.digest,
      files: [],
      description: `OCI image ${result.digest} in ${where}${tags.length ? ` (${tags.join(', ')})` : ''}`,
      state: {
        oci: { layout: layoutDir, digest: result.digest, mediaType: result.mediaType, size: result.size, platform, tags, ...(epoch !== undefined && { sourceDateEpoch: epoch }) },
        generated_data: Object.fromEntries(ctx.generatedData),
      },
    };
  },
});

export default { builders: [ociBuilder] } satisfies PluginSet;
