/**
 * The `docker-push` post-processor, as Packer's: pushes every tag that docker-tag (or an import)
 * gave the image, through the engine, optionally logging in first (`login`, `login_server`,
 * `login_username`, `login_password`). The engine's own registry settings decide TLS: podman's
 * registries.conf or Docker's insecure-registries.
 */
import { postProcessor, z, type PluginSet } from '../../src/sdk/index.js';
import { DockerClient, dockerEndpoint, parseReference } from '../../src/sdk/oci.js';

export const BUILDER_ID = 'packer.post-processor.docker-push';
const ACCEPTS = ['packer.post-processor.docker-tag', 'packer.post-processor.docker-import'];

const schema = z
  .object({
    login: z.boolean().default(false),
    login_server: z.string().optional(),
    login_username: z.string().optional(),
    login_password: z.string().optional(),
    ecr_login: z.boolean().default(false),
    keep_input_artifact: z.boolean().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.login && (!c.login_username || c.login_password === undefined)) ctx.addIssue({ code: 'custom', path: ['login'], message: 'login = true needs login_username and login_password' });
    if (c.ecr_login) ctx.addIssue({ code: 'custom', path: ['ecr_login'], message: 'ecr_login is not supported by kiln yet: use login with an ECR token' });
  });

const dockerPush = postProcessor({
  type: 'docker-push',
  schema,
  async process(ctx, input) {
    if (!ACCEPTS.includes(input.builderId)) throw new Error(`Unknown artifact type: ${input.builderId}\nCan only push Docker images tagged by docker-tag or docker-import.`);
    const c = ctx.config;
    const st = input.state.docker as { engine?: string; repository?: string; tags?: string[] } | undefined;
    const repository = st?.repository ?? input.id.slice(0, input.id.lastIndexOf(':'));
    const tags = st?.tags ?? [input.id.slice(input.id.lastIndexOf(':') + 1)];
    const docker = new DockerClient(st?.engine ? dockerEndpoint({ DOCKER_HOST: st.engine }) : dockerEndpoint());
    const auth = c.login ? { username: c.login_username!, password: c.login_password ?? '', serveraddress: c.login_server ?? parseReference(repository).registry } : undefined;
    for (const t of tags) {
      ctx.ui.say(`Pushing: ${repository}:${t}`);
      await docker.push(repository, t, { ...(auth && { auth }), signal: ctx.signal, onLine: (l) => ctx.ui.message(l) });
    }
    return {
      artifact: { builderId: BUILDER_ID, id: input.id, files: [], description: `Pushed ${tags.map((t) => `${repository}:${t}`).join(', ')}`, state: { ...input.state } },
      keepInput: true,
    };
  },
});

export default { postProcessors: [dockerPush] } satisfies PluginSet;
