/**
 * AMIs and their snapshots: DescribeImages, CreateImage, CopyImage, DeregisterImage,
 * Modify/DescribeImageAttribute, DescribeSnapshots, DeleteSnapshot. An AMI's snapshot is a
 * podman image: CreateImage commits the instance's container (stopping it first and starting it
 * again unless NoReboot, as EC2 reboots it), so whatever a provisioner wrote is in the AMI. The
 * podman image lives as long as its snapshot, as on EC2 where deregistering an AMI leaves its
 * snapshot behind.
 */
import type { Context, Handler } from './context.js';
import { Ec2Error, invalidParameter, notFound } from './errors.js';
import { applyFilters } from './filters.js';
import { isWellFormed, newId } from './ids.js';
import { enqueue } from './instances.js';
import { filters, type QueryParams, tagSpecifications } from './query.js';
import type { BlockDevice, Image, RegionState, Snapshot } from './state.js';
import { tagSet, type XmlValue } from './xml.js';

/** Podman images the emulator made (committed or tagged); the base images are not its own. */
export const OWN_IMAGE_PREFIX = 'localhost/kiln-ec2/';
export const podmanImageFor = (amiId: string): string => `${OWN_IMAGE_PREFIX}${amiId}:latest`;

export function imageXml(i: Image): XmlValue {
  return {
    imageId: i.id,
    imageLocation: `${i.ownerAlias ?? i.ownerId}/${i.name}`,
    imageState: i.state,
    imageOwnerId: i.ownerId,
    creationDate: i.created,
    isPublic: i.launchGroups.has('all'),
    architecture: 'x86_64',
    imageType: 'machine',
    sriovNetSupport: 'simple',
    name: i.name,
    description: i.description,
    imageOwnerAlias: i.ownerAlias,
    rootDeviceType: 'ebs',
    rootDeviceName: i.rootDeviceName,
    blockDeviceMapping: i.blockDevices.map(deviceXml),
    virtualizationType: 'hvm',
    tagSet: tagSet(i.tags),
    stateReason: i.stateReason,
    hypervisor: 'xen',
    enaSupport: true,
    platformDetails: 'Linux/UNIX',
    usageOperation: 'RunInstances',
    bootMode: 'uefi-preferred',
    sourceInstanceId: i.sourceInstanceId,
  };
}

function deviceXml(b: BlockDevice): XmlValue {
  if (b.virtualName) return { deviceName: b.deviceName, virtualName: b.virtualName };
  if (b.noDevice) return { deviceName: b.deviceName, noDevice: '' };
  return {
    deviceName: b.deviceName,
    ebs: { snapshotId: b.snapshotId, volumeSize: b.volumeSize, deleteOnTermination: b.deleteOnTermination ?? true, volumeType: b.volumeType ?? 'gp3', iops: b.iops, throughput: b.throughput, encrypted: b.encrypted ?? false },
  };
}

function snapshotXml(s: Snapshot): XmlValue {
  return {
    snapshotId: s.id,
    volumeId: s.volumeId,
    status: 'completed',
    startTime: s.started,
    progress: '100%',
    ownerId: s.ownerId,
    volumeSize: s.volumeSize,
    description: s.description,
    encrypted: s.encrypted ?? false,
    ...(s.kmsKeyId !== undefined && { kmsKeyId: s.kmsKeyId }),
    storageTier: 'standard',
    tagSet: tagSet(s.tags),
  };
}

const AMI_NAME = /^[a-zA-Z0-9()[\] ./\-'@_]{3,128}$/;

function canLaunch(ctx: Context, i: Image, account = ctx.accountId): boolean {
  return i.ownerId === account || i.launchGroups.has('all') || i.launchUserIds.has(account);
}

function checkImageId(id: string): void {
  if (!isWellFormed('ami', id)) throw new Ec2Error('InvalidAMIID.Malformed', `Invalid id: "${id}" (expecting "ami-...")`);
}

function ownImage(ctx: Context, id: string): Image {
  checkImageId(id);
  const i = ctx.region.images.get(id);
  if (!i || !canLaunch(ctx, i)) throw notFound.image(id);
  if (i.ownerId !== ctx.accountId) throw new Ec2Error('AuthFailure', `Not authorized for image:${id}`, 401);
  return i;
}

/** A new AMI record with its root snapshot, pending until `podmanImage` holds its filesystem. */
export function addImage(
  region: RegionState,
  opts: { name: string; description?: string; ownerId: string; ownerAlias?: string; podmanImage?: string; tags?: Record<string, string>; snapshotTags?: Record<string, string>; rootSize?: number; rootDeleteOnTermination?: boolean; extraDevices?: BlockDevice[]; sourceInstanceId?: string; volumeId?: string; created?: Date; snapshotDescription?: (amiId: string) => string; public?: boolean },
): Image {
  const id = newId('ami');
  const snap: Snapshot = {
    id: newId('snap'),
    region: region.name,
    ownerId: opts.ownerId,
    volumeId: opts.volumeId ?? newId('vol'),
    volumeSize: opts.rootSize ?? 8,
    description: opts.snapshotDescription?.(id) ?? '',
    started: new Date(),
    podmanImage: opts.podmanImage ?? podmanImageFor(id),
    tags: { ...opts.snapshotTags },
  };
  const image: Image = {
    id,
    region: region.name,
    name: opts.name,
    description: opts.description,
    ownerId: opts.ownerId,
    ownerAlias: opts.ownerAlias,
    state: 'pending',
    created: opts.created ?? new Date(),
    rootDeviceName: '/dev/xvda',
    blockDevices: [{ deviceName: '/dev/xvda', snapshotId: snap.id, volumeSize: snap.volumeSize, deleteOnTermination: opts.rootDeleteOnTermination ?? true, volumeType: 'gp3', encrypted: false }, ...(opts.extraDevices ?? [])],
    snapshotId: snap.id,
    launchUserIds: new Set(),
    launchGroups: new Set(opts.public ? ['all'] : []),
    sourceInstanceId: opts.sourceInstanceId,
    podmanImage: snap.podmanImage,
    tags: { ...opts.tags },
  };
  region.snapshots.set(snap.id, snap);
  region.images.set(id, image);
  return image;
}

function checkName(ctx: Context, name: string): void {
  if (!AMI_NAME.test(name)) {
    throw new Ec2Error('InvalidAMIName.Malformed', `AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_'`);
  }
  const dup = [...ctx.region.images.values()].find((i) => i.ownerId === ctx.accountId && i.name === name);
  if (dup) throw new Ec2Error('InvalidAMIName.Duplicate', `AMI name ${name} is already in use by AMI ${dup.id}`);
}

function extraMappings(p: QueryParams, rootDevice: string): { rootSize?: number; extra: BlockDevice[] } {
  let rootSize: number | undefined;
  const extra: BlockDevice[] = [];
  for (const m of p.structs('BlockDeviceMapping')) {
    const deviceName = m.required('DeviceName');
    const ebs = m.sub('Ebs');
    if (deviceName === rootDevice) {
      rootSize = ebs.int('VolumeSize') ?? rootSize;
      continue;
    }
    if (m.str('VirtualName')) extra.push({ deviceName, virtualName: m.str('VirtualName') });
    else if (m.str('NoDevice') !== undefined) extra.push({ deviceName, noDevice: true });
    else extra.push({ deviceName, volumeSize: ebs.int('VolumeSize') ?? 8, volumeType: ebs.str('VolumeType') ?? 'gp3', deleteOnTermination: ebs.bool('DeleteOnTermination') ?? true, encrypted: ebs.bool('Encrypted') ?? false, iops: ebs.int('Iops'), throughput: ebs.int('Throughput') });
  }
  return { rootSize, extra };
}

/** Removes a snapshot's podman image once no AMI or snapshot of any region refers to it. */
async function releasePodmanImage(ctx: Context, podmanImage: string): Promise<void> {
  if (!podmanImage.startsWith(OWN_IMAGE_PREFIX)) return;
  for (const r of ctx.regions.values()) {
    if ([...r.images.values()].some((i) => i.podmanImage === podmanImage) || [...r.snapshots.values()].some((s) => s.podmanImage === podmanImage)) return;
  }
  // Still used by an instance's container: it goes when the emulator stops.
  await ctx.runtime.removeImage(podmanImage).catch(() => undefined);
}

const IMAGE_FILTERS: Record<string, (i: Image) => readonly (string | undefined)[]> = {
  name: (i) => [i.name],
  'image-id': (i) => [i.id],
  'owner-id': (i) => [i.ownerId],
  'owner-alias': (i) => [i.ownerAlias],
  state: (i) => [i.state],
  description: (i) => [i.description],
  architecture: () => ['x86_64'],
  'root-device-type': () => ['ebs'],
  'root-device-name': (i) => [i.rootDeviceName],
  'virtualization-type': () => ['hvm'],
  'image-type': () => ['machine'],
  hypervisor: () => ['xen'],
  'is-public': (i) => [String(i.launchGroups.has('all'))],
  'ena-support': () => ['true'],
  'platform-details': () => ['Linux/UNIX'],
  'block-device-mapping.snapshot-id': (i) => i.blockDevices.map((b) => b.snapshotId),
  'block-device-mapping.device-name': (i) => i.blockDevices.map((b) => b.deviceName),
  'block-device-mapping.volume-size': (i) => i.blockDevices.map((b) => (b.volumeSize === undefined ? undefined : String(b.volumeSize))),
  'block-device-mapping.volume-type': (i) => i.blockDevices.map((b) => b.volumeType),
  'creation-date': (i) => [i.created.toISOString()],
};

function applyLaunchPermissions(i: Image, op: 'add' | 'remove', userIds: string[], groups: string[]): void {
  for (const g of groups) if (g !== 'all') throw new Ec2Error('InvalidAMIAttributeItemValue', `Invalid attribute item value "${g}" for group item type.`);
  for (const u of userIds) if (!/^\d{12}$/.test(u)) throw new Ec2Error('InvalidAMIAttributeItemValue', `Invalid attribute item value "${u}" for userId item type.`);
  for (const u of userIds) (op === 'add' ? i.launchUserIds.add(u) : i.launchUserIds.delete(u));
  for (const g of groups) (op === 'add' ? i.launchGroups.add(g) : i.launchGroups.delete(g));
}

export const imageActions: Record<string, Handler> = {
  DescribeImages(ctx, p) {
    const ids = p.list('ImageId');
    const owners = p.list('Owner');
    const executableBy = p.list('ExecutableBy');
    const all = [...ctx.region.images.values()];
    for (const id of ids) checkImageId(id);
    const missing = ids.filter((id) => {
      const i = ctx.region.images.get(id);
      return !i || !canLaunch(ctx, i);
    });
    if (missing.length) throw new Ec2Error('InvalidAMIID.NotFound', `The image id${missing.length > 1 ? 's' : ''} '[${missing.join(', ')}]' ${missing.length > 1 ? 'do' : 'does'} not exist`);
    const ownerMatch = (i: Image): boolean =>
      owners.length === 0 || owners.some((o) => (o === 'self' ? i.ownerId === ctx.accountId : o === i.ownerId || (i.ownerAlias !== undefined && o === i.ownerAlias)));
    const execMatch = (i: Image): boolean =>
      executableBy.length === 0 || executableBy.some((e) => (e === 'all' ? i.launchGroups.has('all') : canLaunch(ctx, i, e === 'self' ? ctx.accountId : e)));
    const candidates = all.filter((i) => (ids.length === 0 || ids.includes(i.id)) && canLaunch(ctx, i) && ownerMatch(i) && execMatch(i));
    return { imagesSet: applyFilters(candidates, filters(p), IMAGE_FILTERS).map(imageXml) };
  },

  CreateImage(ctx, p) {
    const instanceId = p.required('InstanceId');
    const inst = ctx.region.instances.get(instanceId);
    if (!inst) throw notFound.instance(instanceId);
    if (inst.state !== 'running' && inst.state !== 'stopped') throw new Ec2Error('IncorrectInstanceState', `The instance '${instanceId}' is not in a state from which it can be imaged.`);
    const name = p.required('Name');
    checkName(ctx, name);
    const noReboot = p.bool('NoReboot') ?? false;
    const specs = tagSpecifications(p, ['image', 'snapshot']);
    const root = inst.volumes.find((v) => v.deviceName === '/dev/xvda') ?? inst.volumes[0];
    const { rootSize, extra } = extraMappings(p, '/dev/xvda');
    const image = addImage(ctx.region, {
      name,
      description: p.str('Description'),
      ownerId: ctx.accountId,
      tags: specs.get('image'),
      snapshotTags: specs.get('snapshot'),
      rootSize: rootSize ?? root?.size ?? 8,
      extraDevices: extra,
      sourceInstanceId: inst.id,
      volumeId: root?.id,
      snapshotDescription: (ami) => `Created by CreateImage(${inst.id}) for ${ami}`,
    });
    enqueue(ctx, inst, async () => {
      const reboot = inst.state === 'running' && !noReboot;
      try {
        if (inst.state !== 'running' && inst.state !== 'stopped') throw new Error(`instance ${inst.id} is ${inst.state}`);
        if (reboot) await ctx.runtime.stop(inst.id);
        await ctx.runtime.commit(inst.id, image.podmanImage);
        if (image.state === 'pending') image.state = 'available';
      } catch (err) {
        image.state = 'failed';
        image.stateReason = { code: 'Server.InternalError', message: `Server.InternalError: ${err instanceof Error ? err.message : String(err)}`.slice(0, 2000) };
      }
      // The reboot's second half; a failure here fails the instance, not the image.
      if (reboot) await ctx.runtime.start(inst.id, inst.address);
    });
    return { imageId: image.id };
  },

  CopyImage(ctx, p) {
    const sourceRegion = ctx.regions.get(p.required('SourceRegion'));
    if (!sourceRegion) throw invalidParameter(`Invalid region: ${p.str('SourceRegion')}`);
    const sourceId = p.required('SourceImageId');
    checkImageId(sourceId);
    const source = sourceRegion.images.get(sourceId);
    if (!source || !canLaunch(ctx, source)) throw notFound.image(sourceId);
    if (source.state !== 'available') throw new Ec2Error('IncorrectState', `Image ${sourceId} is not available`);
    const name = p.required('Name');
    checkName(ctx, name);
    const specs = tagSpecifications(p, ['image', 'snapshot']);
    const sourceSnap = source.snapshotId;
    const image = addImage(ctx.region, {
      name,
      description: p.str('Description'),
      ownerId: ctx.accountId,
      tags: { ...(p.bool('CopyImageTags') ? source.tags : {}), ...specs.get('image') },
      snapshotTags: specs.get('snapshot'),
      rootSize: source.blockDevices[0]?.volumeSize,
      extraDevices: source.blockDevices.slice(1).map((b) => ({ ...b })),
      snapshotDescription: (ami) => `Copied for DestinationAmi ${ami} from SourceAmi ${sourceId} for SourceSnapshot ${sourceSnap}. Task created on ${new Date().toISOString()}.`,
      // Our own snapshot images get a tag of their own (so each snapshot frees its own);
      // a base image from the read-only store is shared as it is.
      podmanImage: source.podmanImage.startsWith(OWN_IMAGE_PREFIX) ? undefined : source.podmanImage,
    });
    // Encrypted copies (Packer's encrypt_boot, region_kms_key_ids): the root snapshot says so.
    const encrypted = p.bool('Encrypted') ?? false;
    const kmsKeyId = p.str('KmsKeyId');
    if (kmsKeyId !== undefined && !encrypted) throw invalidParameter('KmsKeyId requires Encrypted to be true');
    if (encrypted) {
      const snap = ctx.region.snapshots.get(image.snapshotId);
      if (snap) Object.assign(snap, { encrypted: true, kmsKeyId: kmsKeyId ?? 'alias/aws/ebs' });
      image.blockDevices[0]!.encrypted = true;
    }
    const work = (async () => {
      try {
        if (image.podmanImage !== source.podmanImage) await ctx.runtime.tagImage(source.podmanImage, image.podmanImage);
        if (image.state === 'pending') image.state = 'available';
      } catch (err) {
        image.state = 'failed';
        image.stateReason = { code: 'Server.InternalError', message: `Server.InternalError: ${err instanceof Error ? err.message : String(err)}` };
      }
    })();
    ctx.background(work);
    return { imageId: image.id };
  },

  async DeregisterImage(ctx, p) {
    const image = ownImage(ctx, p.required('ImageId'));
    ctx.region.images.delete(image.id);
    const results: XmlValue[] = [];
    if (p.bool('DeleteAssociatedSnapshots')) {
      for (const b of image.blockDevices) {
        if (!b.snapshotId) continue;
        const snap = ctx.region.snapshots.get(b.snapshotId);
        if (snap) {
          ctx.region.snapshots.delete(snap.id);
          await releasePodmanImage(ctx, snap.podmanImage);
        }
        results.push({ snapshotId: b.snapshotId, returnCode: 'success' });
      }
    }
    return { return: true, deleteSnapshotResultSet: results.length ? results : undefined };
  },

  ModifyImageAttribute(ctx, p) {
    const image = ownImage(ctx, p.required('ImageId'));
    const lp = p.sub('LaunchPermission');
    const pick = (list: QueryParams[]): [string[], string[]] => [list.map((x) => x.str('UserId')).filter((x): x is string => !!x), list.map((x) => x.str('Group')).filter((x): x is string => !!x)];
    applyLaunchPermissions(image, 'add', ...pick(lp.structs('Add')));
    applyLaunchPermissions(image, 'remove', ...pick(lp.structs('Remove')));
    const attribute = p.str('Attribute');
    if (attribute === 'launchPermission' || (!attribute && (p.list('UserId').length || p.list('UserGroup').length))) {
      const op = p.str('OperationType') ?? 'add';
      if (op !== 'add' && op !== 'remove') throw invalidParameter(`Invalid value '${op}' for OperationType`);
      applyLaunchPermissions(image, op, p.list('UserId'), p.list('UserGroup'));
    }
    const description = p.sub('Description').str('Value') ?? (attribute === 'description' ? p.str('Value') : undefined);
    if (description !== undefined) image.description = description;
    return { return: true };
  },

  DescribeImageAttribute(ctx, p) {
    const image = ownImage(ctx, p.required('ImageId'));
    const attribute = p.required('Attribute');
    const base = { imageId: image.id };
    switch (attribute) {
      case 'launchPermission':
        return { ...base, launchPermission: [...[...image.launchGroups].map((group) => ({ group })), ...[...image.launchUserIds].map((userId) => ({ userId }))] };
      case 'description':
        return { ...base, description: { value: image.description } };
      case 'blockDeviceMapping':
        return { ...base, blockDeviceMapping: image.blockDevices.map(deviceXml) };
      case 'bootMode':
        return { ...base, bootMode: { value: 'uefi-preferred' } };
      case 'sriovNetSupport':
        return { ...base, sriovNetSupport: { value: 'simple' } };
      case 'productCodes':
        return { ...base, productCodes: [] };
      default:
        throw invalidParameter(`Value (${attribute}) for parameter attribute is invalid. Unknown attribute.`);
    }
  },

  DescribeSnapshots(ctx, p) {
    const ids = p.list('SnapshotId');
    const owners = p.list('Owner');
    const all = [...ctx.region.snapshots.values()];
    for (const id of ids) {
      if (!isWellFormed('snap', id)) throw new Ec2Error('InvalidSnapshotID.Malformed', `Invalid id: "${id}"`);
      if (!ctx.region.snapshots.has(id)) throw notFound.snapshot(id);
    }
    const picked = all.filter(
      (s) =>
        (ids.length === 0 ? s.ownerId === ctx.accountId || owners.length > 0 : ids.includes(s.id)) &&
        (owners.length === 0 || owners.some((o) => (o === 'self' ? s.ownerId === ctx.accountId : o === s.ownerId))),
    );
    const snaps = applyFilters(picked, filters(p), {
      'snapshot-id': (s) => [s.id],
      'owner-id': (s) => [s.ownerId],
      status: () => ['completed'],
      'volume-id': (s) => [s.volumeId],
      'volume-size': (s) => [String(s.volumeSize)],
      description: (s) => [s.description],
      encrypted: () => ['false'],
      progress: () => ['100%'],
    });
    return { snapshotSet: snaps.map(snapshotXml) };
  },

  /** createVolumePermission add/remove, by UserId and Group lists or the structured form the SDK sends. */
  ModifySnapshotAttribute(ctx, p) {
    const id = p.required('SnapshotId');
    const snap = ctx.region.snapshots.get(id);
    if (!snap) throw notFound.snapshot(id);
    if (snap.ownerId !== ctx.accountId) throw new Ec2Error('AuthFailure', `Not authorized for snapshot:${id}`, 401);
    const attribute = p.str('Attribute') ?? 'createVolumePermission';
    if (attribute !== 'createVolumePermission') throw invalidParameter(`Value (${attribute}) for parameter attribute is invalid.`);
    const users = new Set(snap.createVolumeUserIds ?? []);
    const groups = new Set(snap.createVolumeGroups ?? []);
    const perm = p.sub('CreateVolumePermission');
    const add = perm.structs('Add');
    const drop = perm.structs('Remove');
    const remove = p.str('OperationType') === 'remove';
    // The old flat form (UserId.N, UserGroup.N with OperationType) and the structured one.
    for (const u of p.list('UserId')) (remove ? users.delete(u) : users.add(u));
    for (const g of p.list('UserGroup')) (remove ? groups.delete(g) : groups.add(g));
    for (const x of add) {
      const u = x.str('UserId');
      const g = x.str('Group');
      if (u) users.add(u);
      if (g) groups.add(g);
    }
    for (const x of drop) {
      const u = x.str('UserId');
      const g = x.str('Group');
      if (u) users.delete(u);
      if (g) groups.delete(g);
    }
    snap.createVolumeUserIds = [...users];
    snap.createVolumeGroups = [...groups];
    return { return: true };
  },

  async DeleteSnapshot(ctx, p) {
    const id = p.required('SnapshotId');
    if (!isWellFormed('snap', id)) throw new Ec2Error('InvalidSnapshotID.Malformed', `Invalid id: "${id}"`);
    const snap = ctx.region.snapshots.get(id);
    if (!snap) throw notFound.snapshot(id);
    if (snap.ownerId !== ctx.accountId) throw new Ec2Error('AuthFailure', `Not authorized for snapshot:${id}`, 401);
    const user = [...ctx.region.images.values()].find((i) => i.blockDevices.some((b) => b.snapshotId === id));
    if (user) throw new Ec2Error('InvalidSnapshot.InUse', `The snapshot ${id} is currently in use by ${user.id}`);
    ctx.region.snapshots.delete(id);
    await releasePodmanImage(ctx, snap.podmanImage);
    return { return: true };
  },
};
