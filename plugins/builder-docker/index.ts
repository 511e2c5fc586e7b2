/**
 * The `docker` builder, Packer-compatible: starts a container from `image` on a Docker-API
 * engine (Docker, or podman's service; DOCKER_HOST honoured), provisions it through the
 * docker-exec communicator, then commits it to an image, exports its filesystem to a tarball, or
 * discards it. The container is written to the resource ledger before it is created and removed
 * however the build ends; `kiln cleanup` removes one a killed run left.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { builder, type PluginSet, type Reaper } from '../../src/sdk/index.js';
import { DockerClient, DockerExecCommunicator, dockerEndpoint, outputError, parseReference, type RegistryAuth } from '../../src/sdk/oci.js';
import { schema, type DockerBuilderConfig } from './config.js';
import { parseRunCommand } from './run-command.js';

/** Packer's id for this builder's artifacts (docker-tag and docker-push look for it). */
export const BUILDER_ID = 'packer.docker';
const CONTAINER_KIND = 'container';

function loginAuth(c: DockerBuilderConfig): RegistryAuth | undefined {
  if (!c.login || !c.login_username) return undefined;
  let server = c.login_server;
  if (!server) {
    const r = parseReference(c.image);
    server = r.registry;
  }
  return { username: c.login_username, password: c.login_password ?? '', serveraddress: server };
}

function containerSpec(c: DockerBuilderConfig, runId: string) {
  const run = parseRunCommand(c.run_command, c.image);
  const binds = [...run.binds, ...Object.entries(c.volumes).map(([host, ctr]) => `${resolve(host)}:${ctr}`)];
  const tmpfs = { ...run.tmpfs, ...Object.fromEntries(c.tmpfs.map((t) => [t.split(':')[0]!, t.split(':').slice(1).join(':')])) };
  return {
    platform: c.platform ?? run.platform,
    body: {
      Image: run.image,
      Cmd: run.cmd,
      ...(run.entrypoint !== undefined && { Entrypoint: run.entrypoint }),
      Tty: run.tty,
      OpenStdin: run.openStdin,
      AttachStdin: false,
      Env: run.env,
      ...(run.user && { User: run.user }),
      ...(run.workdir && { WorkingDir: run.workdir }),
      ...(run.hostname && { Hostname: run.hostname }),
      Labels: { 'kiln.run-id': runId },
      HostConfig: {
        Binds: binds,
        Privileged: c.privileged || run.privileged,
        CapAdd: [...run.capAdd, ...c.cap_add],
        CapDrop: [...run.capDrop, ...c.cap_drop],
        Tmpfs: tmpfs,
        Devices: [...run.devices, ...c.device].map((d) => {
          const [host, inside, perms] = d.split(':');
          return { PathOnHost: host, PathInContainer: inside ?? host, CgroupPermissions: perms ?? 'rwm' };
        }),
        ...(run.network && { NetworkMode: run.network }),
      },
    },
  };
}

const dockerBuilder = builder({
  type: 'docker',
  schema,
  generatedData: ['ImageSha256'],
  async run(ctx) {
    const c = ctx.config;
    const docker = new DockerClient(dockerEndpoint());
    await ctx.step('connect to engine', () => docker.ping());
    const auth = loginAuth(c);
    if (c.pull) {
      await ctx.step('pull', async () => {
        ctx.ui.say(`Pulling Docker image: ${c.image}`);
        await docker.pull(c.image, { ...(c.platform && { platform: c.platform }), ...(auth && { auth }), signal: ctx.signal, onLine: (l) => ctx.ui.message(l) });
      });
    } else if (!(await docker.imageExists(c.image))) {
      throw new Error(`the image ${c.image} is not in the engine and pull = false: pull it first or set pull = true`);
    }

    const name = `kiln-${ctx.runId.slice(0, 8)}-${randomBytes(4).toString('hex')}`;
    const id = await ctx.step('run container', async () => {
      const spec = containerSpec(c, ctx.runId);
      const handle = await ctx.resources.record(CONTAINER_KIND, `container ${name}`, { engine: docker.endpoint.url, name });
      ctx.cleanup.push(`remove container ${name}`, async () => {
        ctx.ui.say(`Killing the container: ${name}`);
        await docker.remove(name);
        await handle.release();
      });
      ctx.ui.say(`Starting docker container: ${c.image}`);
      const cid = await docker.createContainer(name, spec.body, spec.platform);
      await handle.update({ id: cid });
      await docker.start(cid);
      ctx.ui.message(`Container ID: ${cid}`);
      return cid;
    });
    ctx.generatedData.set('ID', id);
    const comm = new DockerExecCommunicator(docker, id, { ...(c.exec_user && { user: c.exec_user }), fixOwner: c.fix_upload_owner });
    await ctx.step('provision', () => ctx.provision(comm));

    if (c.discard) {
      ctx.ui.say('Discarding the container');
      return undefined;
    }
    const exportPath = c.export_path;
    if (exportPath) {
      const target = resolve(exportPath);
      await ctx.step('export', async () => {
        ctx.ui.say(`Exporting the container to ${c.export_path}`);
        await mkdir(dirname(target), { recursive: true });
        const part = join(dirname(target), `.${basename(target)}.kiln-${randomBytes(4).toString('hex')}.part`);
        try {
          await pipeline(await docker.export(id), createWriteStream(part, { flags: 'wx' }), { signal: ctx.signal });
          await rename(part, target);
        } catch (err) {
          await rm(part, { force: true });
          throw outputError(err, exportPath);
        }
      });
      return { builderId: BUILDER_ID, id: exportPath, files: [exportPath], description: `Exported Docker file: ${exportPath}`, state: { generated_data: Object.fromEntries(ctx.generatedData) }, destroy: () => rm(target, { force: true }) };
    }
    const imageId = await ctx.step('commit', async () => {
      ctx.ui.say('Committing the container');
      return docker.commit(id, { changes: c.changes, ...(c.author && { author: c.author }), ...(c.message && { message: c.message }) });
    });
    ctx.ui.say(`Image ID: ${imageId}`);
    ctx.generatedData.set('ImageSha256', imageId);
    return {
      builderId: BUILDER_ID,
      id: imageId,
      files: [],
      description: `Imported Docker image: ${imageId}`,
      state: { docker: { engine: docker.endpoint.url, imageId }, generated_data: Object.fromEntries(ctx.generatedData) },
    };
  },
});

/** Removes a container a killed run left, by the name kiln gave it (the id may never have been known). */
const reapContainer: Reaper = async (data) => {
  const name = data.name;
  if (typeof name !== 'string' || !/^kiln-[0-9a-zA-Z-]+$/.test(name)) throw new Error(`refusing to remove container ${String(name)}: not one kiln named`);
  const engine = typeof data.engine === 'string' ? data.engine : undefined;
  const docker = new DockerClient(engine ? dockerEndpoint({ DOCKER_HOST: engine }) : dockerEndpoint());
  await docker.remove(name);
};

export default { builders: [dockerBuilder], reapers: { [CONTAINER_KIND]: reapContainer } } satisfies PluginSet;
