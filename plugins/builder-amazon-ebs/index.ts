/**
 * The `amazon-ebs` builder, Packer-compatible: launches an instance from a source AMI with a
 * temporary key pair and security group, provisions it over SSH, stops it and snapshots it into
 * a new AMI, then terminates it. Every temporary resource (and the AMI until it is ready) is in
 * the resource ledger before it is created and is deleted however the build ends; `kiln
 * cleanup` finds what a killed run left by the ids and names recorded there.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { EC2Client, Instance, Tag } from '@aws-sdk/client-ec2';
import { builder, clearTemporaryKey, connectSsh, NoneCommunicator, prefetchSsh, temporaryKeyPair, type BuildContext, type Communicator, type PluginSet, type ResourceHandle, type TemporaryKeyPair } from '../../src/sdk/index.js';
import { GENERATED, schema, type AmazonEbsConfig, type BlockDevice } from './config.js';
import { call, ec2Client, ec2Sdk, Ec2Error, waitFor, type Ec2Access, type Ec2Where, type Polling } from './ec2.js';
import { creationTags, makeImage, shareImage, tagList, type MadeImage } from './images.js';
import { deleteLeftVolumes, deleteSecurityGroup, deregisterImage, findInstanceByToken, ownImagesNamed, terminateInstance, waitForInstance } from './operations.js';
import { reapers, RESOURCE, runTag } from './reapers.js';
import { cleanResourceName, fillActions } from './interpolate.js';
import { resolveNetwork } from './network.js';
import { findSourceAmi } from './source-ami.js';

/** Packer's id for this builder's artifacts (post-processors such as manifest report it). */
export const BUILDER_ID = 'mitchellh.amazonebs';

type Ctx = BuildContext<AmazonEbsConfig>;


function blockDeviceMappings(list: readonly BlockDevice[]) {
  return list.map((b) => ({
    DeviceName: b.device_name,
    ...(b.virtual_name !== undefined && { VirtualName: b.virtual_name }),
    ...(b.no_device && { NoDevice: '' }),
    ...(!b.no_device &&
      b.virtual_name === undefined && {
        Ebs: {
          ...(b.delete_on_termination !== undefined && { DeleteOnTermination: b.delete_on_termination }),
          ...(b.encrypted !== undefined && { Encrypted: b.encrypted }),
          ...(b.iops !== undefined && { Iops: b.iops }),
          ...(b.throughput !== undefined && { Throughput: b.throughput }),
          ...(b.snapshot_id !== undefined && { SnapshotId: b.snapshot_id }),
          ...(b.volume_type !== undefined && { VolumeType: b.volume_type as never }),
          ...(b.volume_size !== undefined && { VolumeSize: b.volume_size }),
          ...(b.kms_key_id !== undefined && { KmsKeyId: b.kms_key_id }),
        },
      }),
  }));
}

/** aws_polling, else Packer's AWS_POLL_DELAY_SECONDS / AWS_MAX_ATTEMPTS, else kiln's defaults. */
function polling(c: AmazonEbsConfig, defaultDeadlineMs: number): Polling {
  const envDelay = Number(process.env.AWS_POLL_DELAY_SECONDS);
  const envAttempts = Number(process.env.AWS_MAX_ATTEMPTS);
  const maxAttempts = c.aws_polling?.max_attempts ?? (Number.isInteger(envAttempts) && envAttempts > 0 ? envAttempts : Infinity);
  // A count of attempts alone keeps the AWS SDK's 15 s between them, as in Packer; else kiln's 2 s.
  const fallback = Number.isFinite(maxAttempts) ? 15 : 2;
  const delaySeconds = c.aws_polling?.delay_seconds ?? (Number.isFinite(envDelay) && envDelay >= 0 && process.env.AWS_POLL_DELAY_SECONDS ? envDelay : fallback);
  return { delayMs: delaySeconds * 1000, maxAttempts, deadlineMs: c.state_timeout ?? defaultDeadlineMs };
}

function usesTemporaryKey(c: AmazonEbsConfig): boolean {
  return (c.communicator ?? 'ssh') === 'ssh' && c.ssh_keypair_name === undefined && c.ssh_password === undefined && c.ssh_private_key_file === undefined && c.ssh_agent_auth !== true;
}

/** The address to reach the instance on, as ssh_interface says (Packer: public IP, else private). */
function instanceHost(i: Instance, c: AmazonEbsConfig): string {
  const how = c.ssh_interface ?? (c.ssh_private_ip ? 'private_ip' : undefined);
  const pick = {
    public_ip: i.PublicIpAddress,
    private_ip: i.PrivateIpAddress,
    public_dns: i.PublicDnsName,
    private_dns: i.PrivateDnsName,
  } as const;
  const host = how ? pick[how] : (i.PublicIpAddress || i.PrivateIpAddress);
  if (!host) throw new Error(`instance ${i.InstanceId} has no ${how ?? 'public or private IP address'} to connect to${how ? '' : ': set ssh_interface'}`);
  return host;
}

const uniqueName = (ctx: Ctx): string => `kiln_${ctx.runId.slice(0, 8)}_${randomBytes(4).toString('hex')}`;

async function createKeyPair(ctx: Ctx, ec2: EC2Client, where: Ec2Where, name: string, key: TemporaryKeyPair): Promise<void> {
  const sdk = await ec2Sdk();
  const handle = await ctx.resources.record(RESOURCE.keyPair, `EC2 key pair ${name} in ${where.region}`, { ...where, keyName: name, runId: ctx.runId });
  let keyPairId: string | undefined;
  ctx.cleanup.push(`delete key pair ${name}`, async () => {
    // Only the one this build imported: a failed import (the name was taken) deletes nothing.
    if (keyPairId !== undefined) {
      ctx.ui.say('Deleting temporary keypair...');
      await call('DeleteKeyPair', () => ec2.send(new sdk.DeleteKeyPairCommand({ KeyPairId: keyPairId })));
    }
    await handle.release();
  });
  ctx.ui.say(`Creating temporary keypair: ${name}`);
  const r = await call('ImportKeyPair', () =>
    ec2.send(new sdk.ImportKeyPairCommand({ KeyName: name, PublicKeyMaterial: Buffer.from(key.publicKey), TagSpecifications: [{ ResourceType: 'key-pair', Tags: [runTag(ctx.runId)] }] })),
  );
  keyPairId = r.KeyPairId;
  await handle.update({ keyPairId });
}

async function createSecurityGroup(ctx: Ctx, ec2: EC2Client, where: Ec2Where, vpcId: string | undefined): Promise<string> {
  const sdk = await ec2Sdk();
  const c = ctx.config;
  const name = uniqueName(ctx);
  const handle = await ctx.resources.record(RESOURCE.securityGroup, `EC2 security group ${name} in ${where.region}`, { ...where, groupName: name, runId: ctx.runId, ...(vpcId !== undefined && { vpcId }) });
  let groupId: string | undefined;
  ctx.cleanup.push(`delete security group ${name}`, async () => {
    if (groupId !== undefined) {
      ctx.ui.say('Deleting temporary security group...');
      // Cleanup runs after a cancel too: the build's own signal is aborted by then.
      await deleteSecurityGroup(ec2, groupId, AbortSignal.timeout(5 * 60_000));
    }
    await handle.release();
  });
  ctx.ui.say('Creating temporary security group for this instance: ' + name);
  const r = await call('CreateSecurityGroup', () =>
    ec2.send(
      new sdk.CreateSecurityGroupCommand({
        GroupName: name,
        Description: `Temporary group for kiln run ${ctx.runId}`,
        ...(vpcId !== undefined && { VpcId: vpcId }),
        TagSpecifications: [{ ResourceType: 'security-group', Tags: [runTag(ctx.runId)] }],
      }),
    ),
  );
  groupId = r.GroupId!;
  await handle.update({ groupId });
  if ((c.communicator ?? 'ssh') === 'ssh') {
    const port = c.ssh_port ?? 22;
    // Packer's default: SSH from anywhere, for the life of the build, with a key made for it.
    const cidrs = c.temporary_security_group_source_cidrs.length > 0 ? c.temporary_security_group_source_cidrs : ['0.0.0.0/0'];
    ctx.ui.say(`Authorizing access to port ${port} from [${cidrs.join(' ')}] in the temporary security groups...`);
    const rule = { GroupId: groupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: cidrs.map((CidrIp) => ({ CidrIp })) }] };
    await untilKnown(`security group ${groupId}`, ctx.signal, () => call('AuthorizeSecurityGroupIngress', () => ec2.send(new sdk.AuthorizeSecurityGroupIngressCommand(rule))));
  }
  return groupId;
}

/**
 * EC2's reads and writes catch up with a new resource after a moment: a call that names one just
 * created may get "not found". Such answers are retried for half a minute.
 */
function untilKnown<T>(what: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  return waitFor(`EC2 to know ${what}`, { delayMs: 1000, maxAttempts: 30, deadlineMs: 30_000 }, signal, async () => {
    try {
      return await fn();
    } catch (err) {
      if (Ec2Error.is(err, 'InvalidGroup.NotFound', 'InvalidKeyPair.NotFound')) return undefined;
      throw err;
    }
  });
}

async function runInstance(ctx: Ctx, ec2: EC2Client, where: Ec2Where, filled: Filled, imageId: string, keyName: string | undefined, groupIds: string[], subnetId: string | undefined): Promise<Instance> {
  const sdk = await ec2Sdk();
  const c = ctx.config;
  const clientToken = `kiln-${randomBytes(16).toString('hex')}`;
  // Packer's StepCleanupVolumes: volumes the source AMI's mappings gave the instance that EC2
  // keeps after termination (DeleteOnTermination false) are deleted once it is gone; the ones
  // launch_block_device_mappings asked for are the template's to keep. Pushed first, so it runs
  // after the termination below.
  let leftVolumes: string[] = [];
  ctx.cleanup.push('delete the volumes the instance left', async () => {
    if (leftVolumes.length === 0) return;
    ctx.ui.say('Cleaning up any extra volumes...');
    await deleteLeftVolumes(ec2, leftVolumes);
  });
  const handle: ResourceHandle = await ctx.resources.record(RESOURCE.instance, `EC2 instance from ${imageId} in ${where.region}`, { ...where, clientToken });
  let instanceId: string | undefined;
  ctx.cleanup.push('terminate the source instance', async () => {
    // RunInstances may have been accepted though its answer never came: the token finds it.
    const id = instanceId ?? (launching ? await findInstanceByToken(ec2, clientToken) : undefined);
    if (id !== undefined) {
      ctx.ui.say('Terminating the source AWS instance...');
      // The security group and key pair go next: EC2 frees the group only once the instance is gone.
      await terminateInstance(ec2, id, true, AbortSignal.timeout(11 * 60_000));
    }
    await handle.release();
  });
  const userData = c.user_data ?? (c.user_data_file !== undefined ? await readFile(c.user_data_file, 'utf8') : undefined);
  const runTags = { Name: 'Packer Builder', ...filled.runTags };
  // Packer's rule: only a public address asked for needs the network interface spelled out.
  const network = c.associate_public_ip_address === true;
  ctx.ui.say('Launching a source AWS instance...');
  let launching = true;
  // The same client token makes a repeated request the same launch, so a retry cannot start two.
  const r = await untilKnown('the key pair and security group', ctx.signal, () => call('RunInstances', () =>
    ec2.send(
      new sdk.RunInstancesCommand({
        ImageId: imageId,
        InstanceType: c.instance_type as never,
        MinCount: 1,
        MaxCount: 1,
        ClientToken: clientToken,
        ...(keyName !== undefined && { KeyName: keyName }),
        // A public address on request needs the network interface spelled out (EC2's rule).
        ...(network
          ? { NetworkInterfaces: [{ DeviceIndex: 0, AssociatePublicIpAddress: true, DeleteOnTermination: true, Groups: groupIds, ...(subnetId !== undefined && { SubnetId: subnetId }) }] }
          : { SecurityGroupIds: groupIds, ...(subnetId !== undefined && { SubnetId: subnetId }) }),
        ...(c.availability_zone !== undefined && { Placement: { AvailabilityZone: c.availability_zone } }),
        ...(c.iam_instance_profile !== undefined && { IamInstanceProfile: { Name: c.iam_instance_profile } }),
        ...(userData !== undefined && { UserData: Buffer.from(userData).toString('base64') }),
        ...(c.ebs_optimized && { EbsOptimized: true }),
        ...(c.enable_t2_unlimited && { CreditSpecification: { CpuCredits: 'unlimited' } }),
        InstanceInitiatedShutdownBehavior: c.shutdown_behavior,
        ...(c.launch_block_device_mappings.length > 0 && { BlockDeviceMappings: blockDeviceMappings(c.launch_block_device_mappings) }),
        TagSpecifications: [
          { ResourceType: 'instance', Tags: [...tagList(runTags), runTag(ctx.runId)] },
          ...(Object.keys(filled.runVolumeTags).length > 0 ? [{ ResourceType: 'volume' as const, Tags: tagList(filled.runVolumeTags) }] : []),
        ],
      }),
    ),
  ));
  launching = false;
  instanceId = r.Instances?.[0]?.InstanceId;
  if (instanceId === undefined) throw new Error('EC2 RunInstances answered without an instance id');
  await handle.update({ instanceId });
  ctx.generatedData.set('ID', instanceId);
  ctx.ui.say(`Instance ID: ${instanceId}`);
  ctx.ui.say(`Waiting for instance (${instanceId}) to become ready...`);
  const running = await waitForInstance(ec2, instanceId, 'running', polling(c, 10 * 60_000), ctx.signal);
  const asked = new Set(c.launch_block_device_mappings.filter((b) => b.delete_on_termination === false).map((b) => b.device_name));
  leftVolumes = (running.BlockDeviceMappings ?? []).filter((b) => b.Ebs?.DeleteOnTermination === false && !asked.has(b.DeviceName ?? '')).map((b) => b.Ebs!.VolumeId!);
  return running;
}

/**
 * force_deregister: the AMIs of this account already named ami_name go first, in the build
 * region and in every ami_regions region (their snapshots too with force_delete_snapshot).
 */
async function deregisterExisting(ctx: Ctx, access: Ec2Access, amiName: string): Promise<void> {
  const sdk = await ec2Sdk();
  const c = ctx.config;
  for (const region of [...new Set([c.region, ...c.ami_regions])]) {
    const ec2 = await ec2Client({ ...access, region });
    try {
      for (const image of await ownImagesNamed(ec2, amiName)) {
        if (c.force_delete_snapshot) await deregisterImage(ec2, image.ImageId!);
        else await call('DeregisterImage', () => ec2.send(new sdk.DeregisterImageCommand({ ImageId: image.ImageId! })));
        ctx.ui.say(`Deregistered AMI ${image.Name}, id: ${image.ImageId}${region === c.region ? '' : ` in ${region}`}`);
      }
    } finally {
      ec2.destroy();
    }
  }
}

/**
 * The AMIs: the instance's, then with encrypt_boot its encrypted copy under ami_name (the
 * unencrypted one, made under a name of its own, is deleted), then the copies in ami_regions.
 * Every AMI and snapshot is tagged as it is made. Returns region → AMI id of the ones kept.
 */
async function createImages(ctx: Ctx, ec2: EC2Client, where: Ec2Where, access: Ec2Access, filled: Filled, instanceId: string): Promise<Record<string, string>> {
  const sdk = await ec2Sdk();
  const c = ctx.config;
  const p = polling(c, 60 * 60_000);
  const encrypt = c.encrypt_boot === true;
  const description = filled.description !== undefined ? { Description: filled.description } : {};
  const tags = creationTags(filled.tags, filled.snapshotTags, ctx.runId);
  const share = { users: c.ami_users, groups: c.ami_groups, snapshotUsers: c.snapshot_users, snapshotGroups: c.snapshot_groups };
  const firstName = encrypt ? `kiln-unencrypted-${randomBytes(6).toString('hex')}` : filled.amiName;
  ctx.ui.say(`Creating AMI ${firstName} from instance ${instanceId}`);
  const first = await makeImage(ctx, ec2, where, firstName, p, async () => {
    const r = await call('CreateImage', () =>
      ec2.send(
        new sdk.CreateImageCommand({
          InstanceId: instanceId,
          Name: firstName,
          ...description,
          ...(c.ami_block_device_mappings.length > 0 && { BlockDeviceMappings: blockDeviceMappings(c.ami_block_device_mappings) }),
          // The unencrypted step of encrypt_boot carries only the run's tag.
          ...(encrypt ? creationTags({}, {}, ctx.runId) : tags),
        }),
      ),
    );
    return r.ImageId!;
  });
  // A repeated CopyImage with the same token is the same copy, so an SDK retry cannot make two.
  const copy = (client: EC2Client, region: string, source: string, kms: string | undefined) =>
    call('CopyImage', () =>
      client.send(
        new sdk.CopyImageCommand({
          SourceImageId: source,
          SourceRegion: c.region,
          Name: filled.amiName,
          ...description,
          ...(encrypt && { Encrypted: true, ...(kms && { KmsKeyId: kms }) }),
          ClientToken: `kiln-${ctx.runId}-${region}-${source}`.slice(0, 64),
          ...tags,
        }),
      ),
    ).then((r) => r.ImageId!);
  let final = first;
  if (encrypt) {
    ctx.ui.say(`Copying AMI ${first.imageId} to an encrypted AMI ${filled.amiName}${c.kms_key_id ? ` with key ${c.kms_key_id}` : ''}`);
    final = await makeImage(ctx, ec2, where, filled.amiName, p, () => copy(ec2, c.region, first.imageId, c.kms_key_id));
    ctx.ui.say(`Deleting the unencrypted AMI ${first.imageId} and its snapshots`);
    await first.drop();
  }
  if (c.ami_users.length > 0 || c.ami_groups.length > 0 || c.snapshot_users.length > 0 || c.snapshot_groups.length > 0) ctx.ui.say('Modifying attributes on AMI...');
  await shareImage(ec2, final, share);

  const targets = [...new Set(c.ami_regions)].filter((r) => r !== c.region);
  if (targets.length > 0) ctx.ui.say(`Copying AMI (${final.imageId}) to other regions: ${targets.join(', ')}`);
  // Every region settles before any failure is reported: the cleanup of each copy is then in
  // place, and no region is still making an AMI while the build unwinds.
  const settled = await Promise.allSettled(
    targets.map(async (region) => {
      const regional = await ec2Client({ ...access, region });
      ctx.cleanup.push(`close the EC2 client of ${region}`, () => regional.destroy());
      // "" in region_kms_key_ids means that region's default key, as in Packer.
      const made = await makeImage(ctx, regional, { ...where, region }, filled.amiName, p, () => copy(regional, region, final.imageId, c.region_kms_key_ids[region]));
      await shareImage(regional, made, share);
      return [region, made] as const;
    }),
  );
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const copies = settled.map((r) => (r as PromiseFulfilledResult<readonly [string, MadeImage]>).value);
  const amis: Record<string, string> = {};
  if (c.skip_save_build_region && targets.length > 0) {
    ctx.ui.say(`Deleting the AMI in the build region ${c.region} (skip_save_build_region)`);
    await final.drop();
  } else {
    await final.keep();
    amis[c.region] = final.imageId;
  }
  for (const [region, made] of copies) {
    await made.keep();
    amis[region] = made.imageId;
  }
  return amis;
}

/** The names and tags with Packer's template actions filled in, once the source AMI is known. */
interface Filled {
  amiName: string;
  description: string | undefined;
  tags: Record<string, string>;
  snapshotTags: Record<string, string>;
  runTags: Record<string, string>;
  runVolumeTags: Record<string, string>;
}

function fill(ctx: Ctx): Filled {
  const c = ctx.config;
  const values = { buildName: ctx.sourceName, buildType: ctx.builderType, fields: ctx.generatedData };
  const one = (t: string): string => fillActions(t, values);
  const all = (tags: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, one(v)]));
  const amiName = one(c.ami_name);
  if (cleanResourceName(amiName) !== amiName) {
    throw new Error(`ami_name "${amiName}" holds characters EC2 refuses in an AMI name: only letters, digits, ( ) [ ] space . / - ' @ _ (pipe a value through clean_resource_name, e.g. {{ .SourceAMIName | clean_resource_name }})`);
  }
  return {
    amiName,
    description: c.ami_description === undefined ? undefined : one(c.ami_description),
    tags: all(c.tags),
    snapshotTags: all(c.snapshot_tags),
    runTags: all(c.run_tags),
    runVolumeTags: all(c.run_volume_tags),
  };
}

const amazonEbs = builder({
  type: 'amazon-ebs',
  schema,
  sensitive: ['access_key', 'secret_key', 'token'],
  generatedData: GENERATED,
  async run(ctx) {
    const c = ctx.config;
    const ssh = (c.communicator ?? 'ssh') === 'ssh';
    if (ssh) prefetchSsh();
    const where: Ec2Where = { region: c.region, ...(c.custom_endpoint_ec2 !== undefined && { endpoint: c.custom_endpoint_ec2 }), ...(c.profile !== undefined && { profile: c.profile }) };
    const access: Ec2Access = { ...where, ...(c.insecure_skip_tls_verify && { insecure: true }), ...(c.access_key !== undefined && { accessKey: c.access_key }), ...(c.secret_key !== undefined && { secretKey: c.secret_key }), ...(c.token !== undefined && { token: c.token }), ...(c.max_retries !== undefined && { maxRetries: c.max_retries }) };
    const ec2 = await ctx.step('connect to EC2', async () => {
      const client = await ec2Client(access);
      ctx.cleanup.push('close the EC2 client', () => client.destroy());
      if (!c.skip_region_validation) await validateRegions(client, [c.region, ...c.ami_regions]);
      return client;
    });
    const sdk = await ec2Sdk();

    const source = await ctx.step('find source AMI', () => findSourceAmi(ec2, c));
    ctx.ui.say(`Found Image ID: ${source.ImageId}`);
    const g = ctx.generatedData;
    g.set('SourceAMI', source.ImageId ?? '');
    g.set('SourceAMIName', source.Name ?? '');
    g.set('SourceAMICreationDate', source.CreationDate ?? '');
    g.set('SourceAMIOwner', source.OwnerId ?? '');
    g.set('SourceAMIOwnerName', source.ImageOwnerAlias ?? '');
    g.set('BuildRegion', c.region);
    const filled = fill(ctx);

    if (!c.skip_create_ami) {
      await ctx.step('prevalidate AMI name', async () => {
        ctx.ui.say(`Prevalidating AMI Name: ${filled.amiName}`);
        const used = (await ownImagesNamed(ec2, filled.amiName))[0];
        if (used && !c.force_deregister) throw new Error(`AMI Name: '${filled.amiName}' is used by an existing AMI: ${used.ImageId} (set force_deregister = true to replace it)`);
      });
    }

    // One name for the EC2 key pair and the key's comment, which ssh_clear_authorized_keys looks for.
    const tempKeyName = usesTemporaryKey(c) ? (c.temporary_key_pair_name ?? c.ssh_temporary_key_pair_name ?? uniqueName(ctx)) : undefined;
    const tempKey = tempKeyName !== undefined ? await ctx.step('create temporary SSH key', () => temporaryKeyPair(ctx, { ...c, temporary_key_pair_name: tempKeyName })) : undefined;
    if (tempKey) await ctx.step('create key pair', () => createKeyPair(ctx, ec2, where, tempKey.name, tempKey));
    const keyName = tempKey?.name ?? c.ssh_keypair_name;

    const net = await ctx.step('find network', () => resolveNetwork(ec2, c));
    const groupIds = net.groupIds.length > 0 ? net.groupIds : [await ctx.step('create security group', () => createSecurityGroup(ctx, ec2, where, net.vpcId))];

    const instance = await ctx.step('run source instance', () => runInstance(ctx, ec2, where, filled, source.ImageId!, keyName, groupIds, net.subnetId));
    const instanceId = instance.InstanceId!;

    let comm: Communicator | undefined;
    if (ssh) {
      const host = instanceHost(instance, c);
      comm = await ctx.step('connect', () => connectSsh(ctx, c, { host, ...(tempKey && { privateKey: tempKey.privateKey, publicKey: tempKey.publicKey }) }));
    }
    await ctx.step('provision', () => ctx.provision(comm ?? new NoneCommunicator()));
    if (comm && tempKey && c.ssh_clear_authorized_keys) await ctx.step('clear temporary key', () => clearTemporaryKey(ctx, comm!, tempKey));
    // The connection would die with the instance: close it first, so nothing waits on it.
    await comm?.close();

    if (c.skip_create_ami) {
      ctx.ui.say('skip_create_ami = true: no AMI is made');
      return undefined;
    }
    await ctx.step('stop instance', async () => {
      if (c.disable_stop_instance) {
        // Packer's meaning: a provisioner shuts the machine down; the AMI still waits for it.
        ctx.ui.say('Automatic instance stop disabled. Please stop instance manually.');
      } else {
        ctx.ui.say('Stopping the source instance...');
        await call('StopInstances', () => ec2.send(new sdk.StopInstancesCommand({ InstanceIds: [instanceId] })));
      }
      ctx.ui.say('Waiting for the instance to stop...');
      await waitForInstance(ec2, instanceId, 'stopped', polling(c, 10 * 60_000), ctx.signal);
    });
    if (c.force_deregister) await ctx.step('deregister existing AMI', () => deregisterExisting(ctx, access, filled.amiName));
    const amis = await ctx.step('create AMI', () => createImages(ctx, ec2, where, access, filled, instanceId));
    const regions = Object.keys(amis).sort();
    return {
      builderId: BUILDER_ID,
      id: regions.map((r) => `${r}:${amis[r]}`).join(','),
      files: [],
      description: `AMIs were created:\n${regions.map((r) => `${r}: ${amis[r]}\n`).join('')}`,
      state: { amis, ...where, generated_data: Object.fromEntries(ctx.generatedData) },
      // Fresh clients: the build's own are closed by its cleanup before a post-processor may ask.
      destroy: async () => {
        for (const r of regions) {
          const client = await ec2Client({ ...access, region: r });
          try {
            await deregisterImage(client, amis[r]!);
          } finally {
            client.destroy();
          }
        }
      },
    };
  },
});

async function validateRegions(ec2: EC2Client, wanted: readonly string[]): Promise<void> {
  const sdk = await ec2Sdk();
  const r = await call('DescribeRegions', () => ec2.send(new sdk.DescribeRegionsCommand({ AllRegions: true })));
  const names = (r.Regions ?? []).map((x) => x.RegionName).filter((n): n is string => n !== undefined);
  const unknown = [...new Set(wanted)].filter((w) => !names.includes(w));
  if (unknown.length > 0) throw new Error(`${unknown.map((u) => `"${u}"`).join(', ')} ${unknown.length === 1 ? 'is not an EC2 region' : 'are not EC2 regions'} this account knows (${names.sort().join(', ')}); set skip_region_validation = true for a region EC2 does not list`);
}

export default { builders: [amazonEbs], reapers } satisfies PluginSet;
