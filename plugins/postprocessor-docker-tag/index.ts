/**
 * The `docker-tag` post-processor, as Packer's: tags the image a `docker` build committed
 * (`repository`, `tags` — or the older single `tag`) in the same engine. Its artifact names the
 * tagged image for docker-push.
 */
import { postProcessor, z, type PluginSet } from '../../src/sdk/index.js';
import { DockerClient, dockerEndpoint } from '../../src/sdk/oci.js';

export const BUILDER_ID = 'packer.post-processor.docker-tag';
/** Artifacts docker-tag accepts: a committed container, or an imported image. */
const ACCEPTS = ['packer.docker', 'packer.post-processor.docker-import'];

const schema = z
  .object({
    repository: z.string().min(1, 'repository must name the image, e.g. registry.example.com/team/app'),
    tags: z.array(z.string().min(1)).optional(),
    tag: z.union([z.string(), z.array(z.string())]).optional(),
    force: z.boolean().default(false),
    keep_input_artifact: z.boolean().optional(),
  })
  .strict();

const dockerTag = postProcessor({
  type: 'docker-tag',
  schema,
  async process(ctx, input) {
    if (!ACCEPTS.includes(input.builderId)) throw new Error(`Unknown artifact type: ${input.builderId}\nCan only tag from Docker builder artifacts.`);
    const c = ctx.config;
    const tags = c.tags ?? (c.tag === undefined ? ['latest'] : Array.isArray(c.tag) ? c.tag : [c.tag]);
    const engine = (input.state.docker as { engine?: string } | undefined)?.engine;
    const docker = new DockerClient(engine ? dockerEndpoint({ DOCKER_HOST: engine }) : dockerEndpoint());
    const names: string[] = [];
    for (const t of tags) {
      ctx.ui.say(`Tagging image: ${input.id}`);
      ctx.ui.message(`Repository: ${c.repository}:${t}`);
      await docker.tag(input.id, c.repository, t);
      names.push(`${c.repository}:${t}`);
    }
    return {
      artifact: {
        builderId: BUILDER_ID,
        id: names[0]!,
        files: [],
        description: `Imported Docker image: ${names.join(', ')}`,
        state: { docker: { ...(engine && { engine }), imageId: input.id, repository: c.repository, tags } },
      },
      keepInput: true,
    };
  },
});

export default { postProcessors: [dockerTag] } satisfies PluginSet;
