/**
 * An EC2 emulator at the HTTP level of the Query API, for tests driven by @aws-sdk/client-ec2.
 * Its instances are real: podman containers running OpenSSH's sshd on their own loopback
 * address, and CreateImage really snapshots an instance's filesystem (see runtime.ts, images.ts).
 *
 *   const ec2 = await startEc2Emulator();
 *   const ami = await ec2.registerImage({ name: 'debian-12-amd64-20240101', ownerId: '136693071363' });
 *   const client = new EC2Client({ endpoint: ec2.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' } });
 *   …
 *   await ec2.stop();
 *
 * Needs root and the base image of test/setup/ami-image.sh (the EC2_BASE_IMAGE component).
 */
import type { Server } from 'node:http';
import { amiCacheDir, EC2_BASE_IMAGE, EC2_BASE_PODMAN_IMAGE } from '../../helpers/ec2.js';
import { LoopbackAllocator } from './addresses.js';
import type { Context, Handler } from './context.js';
import { addImage, imageActions } from './images.js';
import { instanceActions } from './instances.js';
import { keyPairActions } from './keypairs.js';
import { networkActions } from './network.js';
import { Podman } from './podman.js';
import { InstanceRuntime } from './runtime.js';
import { type Call, startServer } from './server.js';
import { newRegion, type RegionState } from './state.js';
import { tagActions } from './tags.js';

export { EC2_BASE_IMAGE, EC2_BASE_PODMAN_IMAGE } from '../../helpers/ec2.js';
/** The component tests of the emulator's users check (skipWithout): the same as EC2_BASE_IMAGE. */
export const EC2_EMULATOR = EC2_BASE_IMAGE;
export type { Call } from './server.js';

export interface Ec2EmulatorState {
  instances: { id: string; region: string; state: string; imageId: string; keyName?: string; securityGroupIds: string[]; tags: Record<string, string>; publicIp?: string; privateIp: string; userData?: string }[];
  securityGroups: { id: string; region: string; name: string; tags: Record<string, string> }[];
  keyPairs: { name: string; id: string; region: string }[];
  images: { id: string; region: string; name: string; state: string; tags: Record<string, string>; snapshotIds: string[]; launchPermission: { userIds: string[]; groups: string[] } }[];
  snapshots: { id: string; region: string; tags: Record<string, string>; createVolumeUserIds: string[]; createVolumeGroups: string[] }[];
  /** Volumes terminated instances left behind (DeleteOnTermination false). */
  volumes: { id: string; region: string }[];
}

export interface RegisterImageOptions {
  name: string;
  /** Default: the emulator's own account (then the AMI is private to it). */
  ownerId?: string;
  /** 'amazon', 'aws-marketplace'…: what `Owners: ['amazon']` matches. */
  ownerAlias?: string;
  description?: string;
  tags?: Record<string, string>;
  /** Default: true when another account owns it (as Debian's AMIs are public). */
  public?: boolean;
  /** For most_recent tests: the AMI's CreationDate. Default: now. */
  creationDate?: Date;
  /** Default: us-east-1 (the first region). */
  region?: string;
  /** The podman image its instances run; default the base image of test/setup/ami-image.sh. */
  podmanImage?: string;
  /** Root volume size in GiB (default 8). */
  rootVolumeSize?: number;
  /** false: instances of it leave their root volume behind when terminated (default true). */
  rootDeleteOnTermination?: boolean;
}

export interface Ec2Emulator {
  endpoint: string;
  accountId: string;
  /** Seeds an AMI backed by the base image (or another podman image); returns its ImageId. */
  registerImage(opts: RegisterImageOptions): Promise<string>;
  /** Everything that exists, for leak checks: terminated instances are listed with state 'terminated'. */
  state(): Ec2EmulatorState;
  /** The next call of `action` fails with this EC2 error code and message (for error-path tests). */
  failNext(action: string, code: string, message?: string): void;
  /** Every API call so far, in order (action, region, the raw query parameters, the error code if it failed). */
  calls(): Call[];
  /** Runs a command inside a (running) instance's container: for tests to inspect an instance. */
  execInInstance(instanceId: string, command: string): Promise<string>;
  /** The emulator's private podman directory and the environment podman needs to use it. */
  podman: { dir: string; env: Record<string, string> };
  /** Removes every container and podman image it made, closes the server. */
  stop(): Promise<void>;
}

export interface Ec2EmulatorOptions {
  /** Default ['us-east-1', 'us-west-2', 'eu-west-1']. */
  regions?: string[];
  /** The login of the AMIs: gets the key pair's key besides root. Default 'admin' (Debian's). */
  defaultUser?: string;
  /** Default '123456789012'. */
  accountId?: string;
}

export async function startEc2Emulator(opts: Ec2EmulatorOptions = {}): Promise<Ec2Emulator> {
  if (!EC2_BASE_IMAGE.available()) throw new Error(`${EC2_BASE_IMAGE.name} is not available: run "${EC2_BASE_IMAGE.setup}" first`);
  const accountId = opts.accountId ?? '123456789012';
  const regionNames = opts.regions ?? ['us-east-1', 'us-west-2', 'eu-west-1'];
  const regions = new Map<string, RegionState>(regionNames.map((n) => [n, newRegion(n)]));
  const podman = await Podman.create(`${amiCacheDir()}/storage`);
  const runtime = new InstanceRuntime(podman, opts.defaultUser ?? 'admin');
  const addresses = new LoopbackAllocator();
  const pending = new Set<Promise<unknown>>();
  const failures = new Map<string, { code: string; message: string }[]>();
  const calls: Call[] = [];
  const handlers: Record<string, Handler> = { ...networkActions, ...keyPairActions, ...imageActions, ...instanceActions, ...tagActions };

  const background = (work: Promise<unknown>): void => {
    const tracked = work.catch(() => undefined).finally(() => pending.delete(tracked));
    pending.add(tracked);
  };
  const context = (region: RegionState): Context => ({ accountId, region, regions, runtime, addresses, background });

  let server: Server;
  let endpoint: string;
  try {
    ({ server, endpoint } = await startServer({
      handlers,
      regions,
      context,
      takeFailure: (action) => failures.get(action)?.shift(),
      record: (call) => calls.push(call),
    }));
  } catch (err) {
    await podman.dispose();
    throw err;
  }

  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    accountId,
    podman: { dir: podman.dir, env: podman.env },

    async registerImage(o) {
      const region = regions.get(o.region ?? regionNames[0] ?? 'us-east-1');
      if (!region) throw new Error(`registerImage: no region ${o.region}`);
      const podmanImage = o.podmanImage ?? EC2_BASE_PODMAN_IMAGE;
      await podman.run(['image', 'exists', podmanImage]).catch(() => {
        throw new Error(`registerImage: podman image ${podmanImage} is not in the emulator's storage or the base store`);
      });
      const ownerId = o.ownerId ?? accountId;
      const image = addImage(region, {
        name: o.name,
        description: o.description,
        ownerId,
        ownerAlias: o.ownerAlias,
        tags: o.tags,
        podmanImage,
        rootSize: o.rootVolumeSize,
        ...(o.rootDeleteOnTermination === false && { rootDeleteOnTermination: false }),
        created: o.creationDate,
        public: o.public ?? ownerId !== accountId,
      });
      image.state = 'available';
      return image.id;
    },

    state() {
      const all = [...regions.values()];
      return {
        instances: all.flatMap((r) =>
          [...r.instances.values()].map((i) => ({
            id: i.id,
            region: r.name,
            state: i.state,
            imageId: i.imageId,
            keyName: i.keyName,
            securityGroupIds: [...i.securityGroupIds],
            tags: { ...i.tags },
            publicIp: i.hasPublicIp && i.state !== 'terminated' ? i.address : undefined,
            privateIp: i.address,
            userData: i.userData,
          })),
        ),
        securityGroups: all.flatMap((r) => [...r.securityGroups.values()].map((g) => ({ id: g.id, region: r.name, name: g.name, tags: { ...g.tags } }))),
        keyPairs: all.flatMap((r) => [...r.keyPairs.values()].map((k) => ({ name: k.name, id: k.id, region: r.name }))),
        images: all.flatMap((r) =>
          [...r.images.values()].map((i) => ({
            id: i.id,
            region: r.name,
            name: i.name,
            state: i.state,
            tags: { ...i.tags },
            snapshotIds: i.blockDevices.flatMap((b) => (b.snapshotId ? [b.snapshotId] : [])),
            launchPermission: { userIds: [...i.launchUserIds], groups: [...i.launchGroups] },
          })),
        ),
        volumes: all.flatMap((r) => [...r.volumes.values()].map((v) => ({ id: v.id, region: r.name }))),
        snapshots: all.flatMap((r) => [...r.snapshots.values()].map((s) => ({ id: s.id, region: r.name, tags: { ...s.tags }, createVolumeUserIds: [...(s.createVolumeUserIds ?? [])], createVolumeGroups: [...(s.createVolumeGroups ?? [])] }))),
      };
    },

    failNext(action, code, message) {
      const list = failures.get(action) ?? [];
      list.push({ code, message: message ?? `${code} (injected by the EC2 emulator's failNext)` });
      failures.set(action, list);
    },

    calls: () => calls.map((c) => ({ ...c, params: { ...c.params } })),

    async execInInstance(instanceId, command) {
      const inst = [...regions.values()].map((r) => r.instances.get(instanceId)).find((i) => i !== undefined);
      if (!inst) throw new Error(`execInInstance: no instance ${instanceId}`);
      if (inst.state !== 'running') throw new Error(`execInInstance: ${instanceId} is ${inst.state}`);
      return runtime.exec(instanceId, command);
    },

    stop() {
      stopped ??= (async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        // Let transitions under way finish (a container being created would otherwise appear
        // after the clean-up), but not forever.
        await Promise.race([Promise.allSettled([...pending]), new Promise((r) => setTimeout(r, 60_000).unref())]);
        await podman.dispose();
      })();
      return stopped;
    },
  };
}
