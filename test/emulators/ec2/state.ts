/**
 * What the emulated account holds, per region: the default network (one VPC, one subnet per
 * availability zone, the VPC's `default` security group), and what the API creates. Records keep
 * EC2's vocabulary so the XML encoders read straight off them.
 */
import { newId } from './ids.js';
import type { KeyType } from './keys.js';

export type InstanceStateName = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';

export const INSTANCE_STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export type ImageStateName = 'pending' | 'available' | 'failed' | 'deregistered';

export interface Tagged {
  tags: Record<string, string>;
}

export interface Vpc extends Tagged {
  id: string;
  region: string;
  cidr: string;
}

export interface Subnet extends Tagged {
  id: string;
  region: string;
  vpcId: string;
  az: string;
  azId: string;
  cidr: string;
}

export interface IpPermission {
  protocol: string;
  fromPort?: number;
  toPort?: number;
  cidrs: { cidr: string; description?: string }[];
  groupIds: string[];
  ruleIds: string[];
}

export interface SecurityGroup extends Tagged {
  id: string;
  region: string;
  name: string;
  description: string;
  vpcId: string;
  ingress: IpPermission[];
  egress: IpPermission[];
}

export interface KeyPair extends Tagged {
  id: string;
  region: string;
  name: string;
  type: KeyType;
  fingerprint: string;
  publicKey: string;
  created: Date;
}

export interface Snapshot extends Tagged {
  id: string;
  region: string;
  /** Set by an encrypting CopyImage; EC2 uses the account's default key when none is named. */
  encrypted?: boolean;
  kmsKeyId?: string;
  /** Accounts (and groups, "all") allowed to make volumes of it: ModifySnapshotAttribute. */
  createVolumeUserIds?: string[];
  createVolumeGroups?: string[];
  ownerId: string;
  volumeId: string;
  volumeSize: number;
  description: string;
  started: Date;
  /** The podman image holding the snapshot's filesystem. */
  podmanImage: string;
}

export interface BlockDevice {
  deviceName: string;
  volumeSize?: number;
  volumeType?: string;
  deleteOnTermination?: boolean;
  encrypted?: boolean;
  iops?: number;
  throughput?: number;
  snapshotId?: string;
  noDevice?: boolean;
  virtualName?: string;
}

export interface Image extends Tagged {
  id: string;
  region: string;
  name: string;
  description?: string;
  ownerId: string;
  ownerAlias?: string;
  state: ImageStateName;
  stateReason?: { code: string; message: string };
  created: Date;
  rootDeviceName: string;
  /** Root first: its snapshotId is the image's snapshot. */
  blockDevices: BlockDevice[];
  snapshotId: string;
  launchUserIds: Set<string>;
  launchGroups: Set<string>;
  sourceInstanceId?: string;
  /** The podman image an instance of this AMI runs. */
  podmanImage: string;
}

export interface Volume extends Tagged {
  id: string;
  region: string;
  deviceName: string;
  size: number;
  type: string;
  deleteOnTermination: boolean;
  attached: Date;
}

export interface Instance extends Tagged {
  id: string;
  region: string;
  reservationId: string;
  imageId: string;
  instanceType: string;
  keyName?: string;
  securityGroupIds: string[];
  subnetId: string;
  vpcId: string;
  az: string;
  state: InstanceStateName;
  stateReason?: { code: string; message: string };
  stateTransitionReason: string;
  launched: Date;
  address: string;
  /** Whether the instance has a public address (AssociatePublicIpAddress, or the subnet's default). */
  hasPublicIp: boolean;
  userData?: string;
  iamInstanceProfile?: { arn: string; id: string };
  shutdownBehavior: string;
  volumes: Volume[];
  clientToken?: string;
  eniId: string;
  /** Operations on the instance's container, one after another. */
  chain: Promise<void>;
}

export interface RegionState {
  name: string;
  vpc: Vpc;
  subnets: Subnet[];
  instances: Map<string, Instance>;
  images: Map<string, Image>;
  snapshots: Map<string, Snapshot>;
  keyPairs: Map<string, KeyPair>;
  securityGroups: Map<string, SecurityGroup>;
  /** Volumes an instance left when it was terminated (DeleteOnTermination false): "available". */
  volumes: Map<string, Volume>;
}

const AZ_LETTERS = ['a', 'b', 'c'];

/** us-east-1 → use1: the prefix of EC2's zone ids (use1-az1). */
function regionShort(region: string): string {
  const [geo = '', dir = '', num = ''] = region.split('-');
  return `${geo}${dir.split(/(?=[a-z])/).map((w) => w[0]).join('')}${num}`;
}

export function newRegion(name: string): RegionState {
  const vpc: Vpc = { id: newId('vpc'), region: name, cidr: '172.31.0.0/16', tags: {} };
  const subnets = AZ_LETTERS.map((l, i) => ({ id: newId('subnet'), region: name, vpcId: vpc.id, az: `${name}${l}`, azId: `${regionShort(name)}-az${i + 1}`, cidr: `172.31.${i * 16}.0/20`, tags: {} }));
  const defaultGroup: SecurityGroup = {
    id: newId('sg'),
    region: name,
    name: 'default',
    description: 'default VPC security group',
    vpcId: vpc.id,
    ingress: [],
    egress: [{ protocol: '-1', cidrs: [{ cidr: '0.0.0.0/0' }], groupIds: [], ruleIds: [newId('sgr')] }],
    tags: {},
  };
  return {
    name,
    vpc,
    subnets,
    instances: new Map(),
    images: new Map(),
    snapshots: new Map(),
    keyPairs: new Map(),
    securityGroups: new Map([[defaultGroup.id, defaultGroup]]),
    volumes: new Map(),
  };
}

/** Any taggable resource of a region, by id (CreateTags, DeleteTags, DescribeTags). */
export function findTaggable(r: RegionState, id: string): (Tagged & { id: string }) | undefined {
  const inRegion =
    r.instances.get(id) ??
    r.images.get(id) ??
    r.snapshots.get(id) ??
    r.securityGroups.get(id) ??
    [...r.keyPairs.values()].find((k) => k.id === id) ??
    [...r.instances.values()].flatMap((i) => i.volumes).find((v) => v.id === id) ??
    (r.vpc.id === id ? r.vpc : undefined) ??
    r.subnets.find((s) => s.id === id);
  return inRegion;
}

export function resourceType(id: string): string {
  const prefix = id.slice(0, id.indexOf('-'));
  return (
    { i: 'instance', ami: 'image', snap: 'snapshot', sg: 'security-group', key: 'key-pair', vol: 'volume', vpc: 'vpc', subnet: 'subnet' } as Record<string, string>
  )[prefix] ?? 'unknown';
}
