/**
 * The `oci-push` post-processor: pushes the artifact's image from its OCI layout to a registry
 * under each of `tags`. Blobs the registry already has are skipped after one HEAD each; the
 * manifest goes last, so an interrupted push never publishes a partial image. An image that
 * oci-export put into a multi-platform index (index_tag) is pushed as that index.
 */
import { postProcessor, z, type PluginSet } from '../../src/sdk/index.js';
import { findCredentials, OciLayout, ociStateOf, parseReference, pushImage, RegistryClient, type Descriptor, type PushOptions, type PushResult } from '../../src/sdk/oci.js';

export const BUILDER_ID = 'kiln.post-processor.oci-push';

const schema = z
  .object({
    /** registry/name, e.g. 127.0.0.1:5000/team/app (no tag: see tags). */
    repository: z.string().min(1, 'repository must name registry/name, e.g. 127.0.0.1:5000/team/app'),
    tags: z.array(z.string().regex(/^[\w][\w.-]{0,127}$/, 'a tag is letters, digits, _ . - (up to 128)')).default(['latest']),
    insecure: z.boolean().default(false),
    login_username: z.string().optional(),
    login_password: z.string().optional(),
    /** Other repositories on the same registry to mount shared blobs from. */
    mount_from: z.array(z.string()).default([]),
    /** Upload blobs in chunks of this many bytes (PATCH) instead of one PUT. */
    chunk_size: z.number().int().min(1024).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    try {
      const r = parseReference(c.repository);
      if (r.tag || r.digest) ctx.addIssue({ code: 'custom', path: ['repository'], message: 'repository takes no tag or digest: put tags in tags = [...]' });
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['repository'], message: (err as Error).message });
    }
  });

const ociPush = postProcessor({
  type: 'oci-push',
  schema,
  async process(ctx, input) {
    const c = ctx.config;
    const img = ociStateOf(input.state);
    if (!img) throw new Error(`oci-push needs an image from the oci builder (or oci-export); the input artifact (${input.builderId}) holds none`);
    const ref = parseReference(c.repository);
    const credentials = await findCredentials(ref.registry, { username: c.login_username, password: c.login_password }, { warn: (m) => ctx.ui.say(m) });
    const client = new RegistryClient(ref.registry, { insecure: c.insecure, credentials, signal: ctx.signal, onRetry: (m) => ctx.ui.message(m) });
    const layout = await OciLayout.open(img.layout);
    const opts: PushOptions = {
      mountFrom: c.mount_from.map((m) => parseReference(m).repository),
      ...(c.chunk_size !== undefined && { chunkSize: c.chunk_size }),
      signal: ctx.signal,
      onProgress: (digest, done, total) => ctx.ui.progress(`push ${digest}`, done, total, `push ${digest.slice(7, 19)}`),
      onBlob: (digest, outcome) => ctx.ui.message(`${digest.slice(0, 19)}: ${outcome === 'exists' ? 'already there' : outcome}`),
    };
    const where = `${ref.registry}/${ref.repository} as ${c.tags.join(', ')}`;
    let r: PushResult;
    if (img.indexTag !== undefined) {
      const indexTag = img.indexTag;
      // Read and pushed with no other build's export in between; see OciLayout.exclusive.
      r = await layout.exclusive(async () => {
        const index = await layout.tagged(indexTag);
        ctx.ui.say(`Pushing image index ${indexTag} (${index.digest}) to ${where}`);
        return pushImage(client, layout, index, ref.repository, c.tags, opts);
      });
    } else {
      const manifest: Descriptor = { mediaType: img.mediaType, digest: img.digest, size: img.size };
      ctx.ui.say(`Pushing ${img.digest} to ${where}`);
      r = await pushImage(client, layout, manifest, ref.repository, c.tags, opts);
    }
    ctx.ui.say(`Pushed ${ref.registry}/${ref.repository}@${r.digest} (${r.blobs.uploaded} uploaded, ${r.blobs.mounted} mounted, ${r.blobs.exists} already there)`);
    const name = `${ref.registry}/${ref.repository}`;
    return {
      artifact: {
        builderId: BUILDER_ID,
        id: `${name}@${r.digest}`,
        files: [],
        description: `${c.tags.map((t) => `${name}:${t}`).join(', ')} (${r.digest})`,
        state: { oci: { ...img }, repository: name, tags: c.tags },
      },
      keepInput: true,
    };
  },
});

export default { postProcessors: [ociPush] } satisfies PluginSet;
