/**
 * RunInstances, DescribeInstances, DescribeInstanceStatus, Describe/DeleteVolumes, Stop/Start/TerminateInstances.
 * Calls return at once with the transitional state (pending, stopping, shutting-down), as EC2's
 * do; the container work runs behind them, one operation at a time per instance, and moves the
 * state on when it is done — so the SDK's waiters see what they see on EC2.
 */
import type { Context, Handler } from './context.js';
import { Ec2Error, invalidParameter, notFound } from './errors.js';
import { applyFilters } from './filters.js';
import { isWellFormed, newId } from './ids.js';
import { filters, type QueryParams, tagSpecifications } from './query.js';
import { INSTANCE_STATE_CODES, type Instance, type InstanceStateName, type RegionState, type Volume } from './state.js';
import { tagSet, type XmlValue } from './xml.js';

const dashed = (addr: string): string => addr.replaceAll('.', '-');

export function privateDnsName(i: Instance): string {
  return i.region === 'us-east-1' ? `ip-${dashed(i.address)}.ec2.internal` : `ip-${dashed(i.address)}.${i.region}.compute.internal`;
}

function publicDnsName(i: Instance): string {
  return i.region === 'us-east-1' ? `ec2-${dashed(i.address)}.compute-1.amazonaws.com` : `ec2-${dashed(i.address)}.${i.region}.compute.amazonaws.com`;
}

/** A public address while it is running or about to (EC2 releases it on stop and terminate). */
function publicIp(i: Instance): string | undefined {
  return i.hasPublicIp && (i.state === 'pending' || i.state === 'running' || i.state === 'stopping') ? i.address : undefined;
}

const stateXml = (s: InstanceStateName): XmlValue => ({ code: INSTANCE_STATE_CODES[s], name: s });

function instanceXml(ctx: Context, i: Instance): XmlValue {
  const gone = i.state === 'terminated';
  const groups = i.securityGroupIds.map((id) => ({ groupId: id, groupName: ctx.region.securityGroups.get(id)?.name ?? id }));
  const pub = publicIp(i);
  return {
    instanceId: i.id,
    imageId: i.imageId,
    instanceState: stateXml(i.state),
    privateDnsName: gone ? '' : privateDnsName(i),
    dnsName: pub ? publicDnsName(i) : '',
    reason: i.stateTransitionReason,
    keyName: i.keyName,
    amiLaunchIndex: 0,
    productCodes: [],
    instanceType: i.instanceType,
    launchTime: i.launched,
    placement: { availabilityZone: i.az, groupName: '', tenancy: 'default' },
    monitoring: { state: 'disabled' },
    subnetId: gone ? undefined : i.subnetId,
    vpcId: gone ? undefined : i.vpcId,
    privateIpAddress: gone ? undefined : i.address,
    ipAddress: pub,
    sourceDestCheck: true,
    groupSet: gone ? [] : groups,
    stateReason: i.stateReason,
    architecture: 'x86_64',
    rootDeviceType: 'ebs',
    rootDeviceName: '/dev/xvda',
    blockDeviceMapping: gone
      ? []
      : i.volumes.map((v) => ({ deviceName: v.deviceName, ebs: { volumeId: v.id, status: 'attached', attachTime: v.attached, deleteOnTermination: v.deleteOnTermination } })),
    virtualizationType: 'hvm',
    clientToken: i.clientToken,
    tagSet: tagSet(i.tags),
    hypervisor: 'xen',
    networkInterfaceSet: gone
      ? []
      : [
          {
            networkInterfaceId: i.eniId,
            subnetId: i.subnetId,
            vpcId: i.vpcId,
            ownerId: ctx.accountId,
            status: 'in-use',
            privateIpAddress: i.address,
            privateDnsName: privateDnsName(i),
            sourceDestCheck: true,
            groupSet: groups,
            attachment: { attachmentId: `eni-attach-${i.eniId.slice(4)}`, deviceIndex: 0, status: 'attached', attachTime: i.launched, deleteOnTermination: true },
            association: pub ? { publicIp: pub, publicDnsName: publicDnsName(i), ipOwnerId: 'amazon' } : undefined,
            privateIpAddressesSet: [{ privateIpAddress: i.address, privateDnsName: privateDnsName(i), primary: true, association: pub ? { publicIp: pub, publicDnsName: publicDnsName(i), ipOwnerId: 'amazon' } : undefined }],
            interfaceType: 'interface',
          },
        ],
    iamInstanceProfile: i.iamInstanceProfile,
    ebsOptimized: false,
    enaSupport: true,
    cpuOptions: { coreCount: 1, threadsPerCore: 2 },
    metadataOptions: { state: 'applied', httpTokens: 'required', httpPutResponseHopLimit: 2, httpEndpoint: 'enabled' },
    platformDetails: 'Linux/UNIX',
    usageOperation: 'RunInstances',
    bootMode: 'uefi-preferred',
    currentInstanceBootMode: 'legacy-bios',
  };
}

function reservationXml(ctx: Context, reservationId: string, instances: Instance[]): XmlValue {
  return { reservationId, ownerId: ctx.accountId, groupSet: [], instancesSet: instances.map((i) => instanceXml(ctx, i)) };
}

/** Runs `work` after everything already queued on the instance; failures end in its state. */
export function enqueue(ctx: Context, i: Instance, work: () => Promise<void>): void {
  const next = i.chain.then(work).catch(async (err: unknown) => {
    // A container that could not start or stop is a failed instance: EC2 shows it terminated
    // with a Server.* reason. Its container is removed, as EC2 would release the host.
    i.state = 'terminated';
    i.stateReason = { code: 'Server.InternalError', message: `Server.InternalError: ${err instanceof Error ? err.message : String(err)}`.slice(0, 4000) };
    await ctx.runtime.remove(i.id).catch(() => undefined);
  });
  i.chain = next;
  ctx.background(next);
}

function checkIds(region: RegionState, ids: string[]): Instance[] {
  for (const id of ids) if (!isWellFormed('i', id)) throw new Ec2Error('InvalidInstanceID.Malformed', `Invalid id: "${id}"`);
  const missing = ids.filter((id) => !region.instances.has(id));
  if (missing.length) throw new Ec2Error('InvalidInstanceID.NotFound', `The instance ID${missing.length > 1 ? 's' : ''} '${missing.join(', ')}' ${missing.length > 1 ? 'do' : 'does'} not exist`);
  return ids.map((id) => region.instances.get(id) as Instance);
}

function instanceIds(p: QueryParams): string[] {
  const ids = p.list('InstanceId');
  if (ids.length === 0) throw new Ec2Error('MissingParameter', 'The request must contain the parameter InstanceId');
  return ids;
}

function change(i: Instance, previous: InstanceStateName): XmlValue {
  return { instanceId: i.id, currentState: stateXml(i.state), previousState: stateXml(previous) };
}

const INSTANCE_FILTERS: Record<string, (i: Instance) => readonly (string | undefined)[]> = {
  'instance-id': (i) => [i.id],
  'instance-state-name': (i) => [i.state],
  'instance-state-code': (i) => [String(INSTANCE_STATE_CODES[i.state])],
  'image-id': (i) => [i.imageId],
  'instance-type': (i) => [i.instanceType],
  'key-name': (i) => [i.keyName],
  'vpc-id': (i) => [i.vpcId],
  'subnet-id': (i) => [i.subnetId],
  'availability-zone': (i) => [i.az],
  'private-ip-address': (i) => [i.state === 'terminated' ? undefined : i.address],
  'ip-address': (i) => [publicIp(i)],
  'instance.group-id': (i) => i.securityGroupIds,
  'group-id': (i) => i.securityGroupIds,
  'reservation-id': (i) => [i.reservationId],
  'client-token': (i) => [i.clientToken],
};

export const instanceActions: Record<string, Handler> = {
  async RunInstances(ctx, p) {
    const region = ctx.region;
    const imageId = p.required('ImageId');
    const image = region.images.get(imageId);
    if (!isWellFormed('ami', imageId)) throw new Ec2Error('InvalidAMIID.Malformed', `Invalid id: "${imageId}" (expecting "ami-...")`);
    if (!image) throw notFound.image(imageId);
    if (image.state !== 'available') throw new Ec2Error('InvalidAMIID.Unavailable', `The image id '[${imageId}]' is not available`);
    if (image.ownerId !== ctx.accountId && !image.launchGroups.has('all') && !image.launchUserIds.has(ctx.accountId)) throw notFound.image(imageId);
    const min = p.int('MinCount') ?? 1;
    const max = p.int('MaxCount') ?? min;
    if (min < 1 || max < min) throw invalidParameter('MinCount and MaxCount must be at least 1, and MaxCount at least MinCount');
    if (max > 20) throw new Ec2Error('InstanceLimitExceeded', `You have requested more instances (${max}) than your current instance limit of 20 allows for the specified instance type.`);
    const instanceType = p.str('InstanceType') ?? 'm1.small';
    if (!/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(instanceType)) throw invalidParameter(`Invalid value '${instanceType}' for InstanceType.`);

    const keyName = p.str('KeyName');
    const key = keyName === undefined ? undefined : region.keyPairs.get(keyName);
    if (keyName !== undefined && !key) throw notFound.keyPair(keyName);

    // The network: a subnet (given, on the first network interface, or the default of the
    // zone asked for), its groups, and whether it gets a public address.
    const eni = p.structs('NetworkInterface')[0];
    const subnetId = eni?.str('SubnetId') ?? p.str('SubnetId');
    const zone = p.sub('Placement').str('AvailabilityZone');
    const subnet = subnetId ? region.subnets.find((s) => s.id === subnetId) : (region.subnets.find((s) => s.az === zone) ?? region.subnets[0]);
    if (!subnet) throw subnetId ? notFound.subnet(subnetId) : invalidParameter(`Invalid availability zone: [${zone}]`);
    const groupIds = [...p.list('SecurityGroupId'), ...(eni?.list('SecurityGroupId') ?? [])];
    for (const name of p.list('SecurityGroup')) {
      const g = [...region.securityGroups.values()].find((x) => x.name === name);
      if (!g) throw new Ec2Error('InvalidGroup.NotFound', `The security group '${name}' does not exist in VPC '${subnet.vpcId}'`);
      groupIds.push(g.id);
    }
    for (const id of groupIds) {
      if (!region.securityGroups.has(id)) throw new Ec2Error('InvalidGroup.NotFound', `The security group '${id}' does not exist in VPC '${subnet.vpcId}'`);
    }
    if (groupIds.length === 0) groupIds.push(...[...region.securityGroups.values()].filter((g) => g.name === 'default' && g.vpcId === subnet.vpcId).map((g) => g.id));
    const hasPublicIp = eni?.bool('AssociatePublicIpAddress') ?? true;

    const profile = p.sub('IamInstanceProfile');
    const profileName = profile.str('Name') ?? profile.str('Arn')?.split('/').pop();
    const userData = p.str('UserData');
    if (userData !== undefined && !/^[A-Za-z0-9+/=\s]*$/.test(userData)) throw invalidParameter('Invalid BASE64 encoding of user data.');
    const shutdownBehavior = p.str('InstanceInitiatedShutdownBehavior') ?? 'stop';
    if (shutdownBehavior !== 'stop' && shutdownBehavior !== 'terminate') throw invalidParameter(`Invalid value '${shutdownBehavior}' for InstanceInitiatedShutdownBehavior`);
    const specs = tagSpecifications(p, ['instance', 'volume', 'network-interface', 'spot-instances-request']);

    // The root volume: the AMI's snapshot size unless a mapping for the root device asks for
    // more (never less, as EC2 refuses).
    const rootSize = image.blockDevices[0]?.volumeSize ?? 8;
    const mappings = p.structs('BlockDeviceMapping');
    const volumeSpecs = image.blockDevices.map((b) => ({ ...b }));
    for (const m of mappings) {
      const device = m.required('DeviceName');
      const ebs = m.sub('Ebs');
      const size = ebs.int('VolumeSize');
      let target = volumeSpecs.find((v) => v.deviceName === device);
      if (!target) volumeSpecs.push((target = { deviceName: device, volumeSize: size ?? 8, deleteOnTermination: true }));
      if (m.str('NoDevice') !== undefined) target.noDevice = true;
      if (size !== undefined) {
        if (device === image.rootDeviceName && size < rootSize) {
          throw new Ec2Error('InvalidBlockDeviceMapping', `Volume of size ${size}GB is smaller than snapshot '${image.snapshotId}', expect size >= ${rootSize}GB`);
        }
        target.volumeSize = size;
      }
      const del = ebs.bool('DeleteOnTermination');
      if (del !== undefined) target.deleteOnTermination = del;
      target.volumeType = ebs.str('VolumeType') ?? target.volumeType;
    }

    const reservationId = newId('r');
    const launched = new Date();
    const instances: Instance[] = [];
    for (let n = 0; n < max; n++) {
      const volumes: Volume[] = volumeSpecs
        .filter((v) => !v.noDevice)
        .map((v) => ({ id: newId('vol'), region: region.name, deviceName: v.deviceName, size: v.volumeSize ?? 8, type: v.volumeType ?? 'gp3', deleteOnTermination: v.deleteOnTermination ?? true, attached: launched, tags: { ...specs.get('volume') } }));
      const i: Instance = {
        id: newId('i'),
        region: region.name,
        reservationId,
        imageId,
        instanceType,
        keyName,
        securityGroupIds: [...new Set(groupIds)],
        subnetId: subnet.id,
        vpcId: subnet.vpcId,
        az: subnet.az,
        state: 'pending',
        stateTransitionReason: '',
        launched,
        address: await ctx.addresses.allocate(),
        hasPublicIp,
        userData,
        iamInstanceProfile: profileName ? { arn: `arn:aws:iam::${ctx.accountId}:instance-profile/${profileName}`, id: `AIPA${newId('x').slice(2, 19).toUpperCase()}` } : undefined,
        shutdownBehavior,
        volumes,
        clientToken: p.str('ClientToken'),
        eniId: newId('eni'),
        tags: { ...specs.get('instance') },
        chain: Promise.resolve(),
      };
      region.instances.set(i.id, i);
      instances.push(i);
      enqueue(ctx, i, async () => {
        await ctx.runtime.launch({ instanceId: i.id, image: image.podmanImage, address: i.address, hostname: privateDnsName(i).split('.')[0] as string, publicKey: key?.publicKey, userData });
        if (i.state === 'pending') i.state = 'running';
      });
    }
    return reservationXml(ctx, reservationId, instances) as Record<string, XmlValue>;
  },

  DescribeInstances(ctx, p) {
    const ids = p.list('InstanceId');
    const picked = ids.length ? checkIds(ctx.region, ids) : [...ctx.region.instances.values()];
    const matching = applyFilters(picked, filters(p), INSTANCE_FILTERS);
    const byReservation = new Map<string, Instance[]>();
    for (const i of matching) byReservation.set(i.reservationId, [...(byReservation.get(i.reservationId) ?? []), i]);
    return { reservationSet: [...byReservation].map(([rid, list]) => reservationXml(ctx, rid, list)) };
  },

  DescribeInstanceStatus(ctx, p) {
    const ids = p.list('InstanceId');
    const all = p.bool('IncludeAllInstances') ?? false;
    const picked = (ids.length ? checkIds(ctx.region, ids) : [...ctx.region.instances.values()]).filter((i) => all || i.state === 'running');
    const matching = applyFilters(picked, filters(p), {
      'instance-state-name': (i) => [i.state],
      'availability-zone': (i) => [i.az],
      'instance-status.status': (i) => [i.state === 'running' ? 'ok' : 'not-applicable'],
      'system-status.status': (i) => [i.state === 'running' ? 'ok' : 'not-applicable'],
    });
    const summary = (i: Instance, name: string): XmlValue => (i.state === 'running' ? { status: 'ok', details: [{ name, status: 'passed' }] } : { status: 'not-applicable' });
    return {
      instanceStatusSet: matching.map((i) => ({
        instanceId: i.id,
        availabilityZone: i.az,
        instanceState: stateXml(i.state),
        systemStatus: summary(i, 'reachability'),
        instanceStatus: summary(i, 'reachability'),
        eventsSet: [],
      })),
    };
  },

  /** The volumes of instances that are not terminated, and the ones terminated instances left ("available"). */
  DescribeVolumes(ctx, p) {
    const ids = p.list('VolumeId');
    const attached = [...ctx.region.instances.values()].filter((i) => i.state !== 'terminated').flatMap((i) => i.volumes.map((v) => ({ v, i })));
    const left = [...ctx.region.volumes.values()].map((v) => ({ v, i: undefined }));
    for (const id of ids) if (!left.some((a) => a.v.id === id) && !attached.some((a) => a.v.id === id)) throw new Ec2Error('InvalidVolume.NotFound', `The volume '${id}' does not exist.`);
    const all: { v: Volume; i: Instance | undefined }[] = [...attached, ...left];
    const picked = all.filter((a) => ids.length === 0 || ids.includes(a.v.id)).map((a) => ({ ...a, tags: a.v.tags }));
    const matching = applyFilters(picked, filters(p), {
      'volume-id': (a) => [a.v.id],
      'attachment.instance-id': (a) => (a.i ? [a.i.id] : []),
      'attachment.device': (a) => (a.i ? [a.v.deviceName] : []),
      status: (a) => [a.i ? 'in-use' : 'available'],
      size: (a) => [String(a.v.size)],
    });
    return {
      volumeSet: matching.map(({ v, i }) => ({
        volumeId: v.id,
        size: v.size,
        availabilityZone: i?.az ?? `${v.region}a`,
        status: i ? 'in-use' : 'available',
        createTime: v.attached.toISOString(),
        volumeType: v.type,
        attachmentSet: i ? [{ volumeId: v.id, instanceId: i.id, device: v.deviceName, status: 'attached', attachTime: v.attached.toISOString(), deleteOnTermination: v.deleteOnTermination }] : [],
        tagSet: tagSet(v.tags),
      })),
    };
  },

  DeleteVolume(ctx, p) {
    const id = p.required('VolumeId');
    if (ctx.region.volumes.delete(id)) return { return: true };
    const inUse = [...ctx.region.instances.values()].some((i) => i.state !== 'terminated' && i.volumes.some((v) => v.id === id));
    if (inUse) throw new Ec2Error('VolumeInUse', `Volume ${id} is currently attached`);
    throw new Ec2Error('InvalidVolume.NotFound', `The volume '${id}' does not exist.`);
  },

  StopInstances(ctx, p) {
    const list = checkIds(ctx.region, instanceIds(p));
    for (const i of list) {
      if (i.state === 'pending' || i.state === 'shutting-down' || i.state === 'terminated') {
        throw new Ec2Error('IncorrectInstanceState', `This instance '${i.id}' is not in a state from which it can be stopped.`);
      }
    }
    return {
      instancesSet: list.map((i) => {
        const previous = i.state;
        if (previous === 'running') {
          i.state = 'stopping';
          i.stateTransitionReason = `User initiated (${new Date().toISOString().replace('T', ' ').slice(0, 19)} GMT)`;
          enqueue(ctx, i, async () => {
            await ctx.runtime.stop(i.id);
            if (i.state === 'stopping') {
              i.state = 'stopped';
              i.stateReason = { code: 'Client.UserInitiatedShutdown', message: 'Client.UserInitiatedShutdown: User initiated shutdown' };
            }
          });
        }
        return change(i, previous);
      }),
    };
  },

  StartInstances(ctx, p) {
    const list = checkIds(ctx.region, instanceIds(p));
    for (const i of list) {
      if (i.state !== 'stopped' && i.state !== 'running' && i.state !== 'pending') {
        throw new Ec2Error('IncorrectInstanceState', `The instance '${i.id}' is not in a state from which it can be started.`);
      }
    }
    return {
      instancesSet: list.map((i) => {
        const previous = i.state;
        if (previous === 'stopped') {
          i.state = 'pending';
          i.stateReason = undefined;
          i.stateTransitionReason = '';
          enqueue(ctx, i, async () => {
            await ctx.runtime.start(i.id, i.address);
            if (i.state === 'pending') i.state = 'running';
          });
        }
        return change(i, previous);
      }),
    };
  },

  TerminateInstances(ctx, p) {
    const list = checkIds(ctx.region, instanceIds(p));
    return {
      instancesSet: list.map((i) => {
        const previous = i.state;
        if (previous !== 'terminated' && previous !== 'shutting-down') {
          i.state = 'shutting-down';
          i.stateTransitionReason = `User initiated (${new Date().toISOString().replace('T', ' ').slice(0, 19)} GMT)`;
          enqueue(ctx, i, async () => {
            await ctx.runtime.remove(i.id);
            // As in EC2, a volume not marked DeleteOnTermination outlives its instance.
            for (const v of i.volumes) if (!v.deleteOnTermination) ctx.region.volumes.set(v.id, { ...v });
            i.state = 'terminated';
            i.stateReason = { code: 'Client.UserInitiatedShutdown', message: 'Client.UserInitiatedShutdown: User initiated shutdown' };
          });
        }
        return change(i, previous);
      }),
    };
  },
};
