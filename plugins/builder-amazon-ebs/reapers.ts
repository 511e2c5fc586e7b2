/**
 * `kiln cleanup` for what a killed amazon-ebs build left: each ledger record names the region
 * (and endpoint or profile) and what identifies the resource even if its id was never learnt:
 * the instance's RunInstances client token, the group's and key pair's names, the AMI's name.
 * Credentials are never in the ledger: the AWS SDK's chain (environment, profile) provides them.
 */
import type { EC2Client, Tag } from '@aws-sdk/client-ec2';
import type { Reaper } from '../../src/sdk/index.js';
import { call, ec2Client, ec2Sdk, type Ec2Where } from './ec2.js';
import { deleteSecurityGroup, deregisterImage, findInstanceByToken, ownImagesNamed, terminateInstance } from './operations.js';

/** The tag every resource a build makes carries (the AMIs and snapshots keep it): which run made it. */
export const RUN_TAG = 'kiln-run-id';
export const runTag = (runId: string): Tag => ({ Key: RUN_TAG, Value: runId });

export const RESOURCE = {
  instance: 'aws.instance',
  securityGroup: 'aws.security-group',
  keyPair: 'aws.key-pair',
  image: 'aws.image',
} as const;

function str(data: Record<string, unknown>, key: string): string | undefined {
  const v = data[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

async function clientFor(data: Record<string, unknown>): Promise<EC2Client> {
  const region = str(data, 'region');
  if (region === undefined) throw new Error('the record names no region');
  const where: Ec2Where = { region, ...(str(data, 'endpoint') !== undefined && { endpoint: str(data, 'endpoint')! }), ...(str(data, 'profile') !== undefined && { profile: str(data, 'profile')! }) };
  return ec2Client(where);
}

/** Runs `fn` with a client for the record's account and region, and lets the client go after. */
async function withClient(data: Record<string, unknown>, fn: (ec2: EC2Client) => Promise<void>): Promise<void> {
  const ec2 = await clientFor(data);
  try {
    await fn(ec2);
  } finally {
    ec2.destroy();
  }
}

const reapInstance: Reaper = (data, signal) =>
  withClient(data, async (ec2) => {
    const token = str(data, 'clientToken');
    const id = str(data, 'instanceId') ?? (token !== undefined ? await findInstanceByToken(ec2, token) : undefined);
    if (id !== undefined) await terminateInstance(ec2, id, false, signal);
  });

/** A filter on the run's own tag, so a name another run (or a person) reused is never taken for ours. */
const runFilter = (data: Record<string, unknown>) => ({ Name: `tag:${RUN_TAG}`, Values: [str(data, 'runId') ?? '-'] });

const reapSecurityGroup: Reaper = (data, signal) =>
  withClient(data, async (ec2) => {
    const sdk = await ec2Sdk();
    let id = str(data, 'groupId');
    const name = str(data, 'groupName');
    if (id === undefined && name !== undefined) {
      const r = await call('DescribeSecurityGroups', () => ec2.send(new sdk.DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [name] }, runFilter(data)] })));
      id = r.SecurityGroups?.[0]?.GroupId;
    }
    if (id !== undefined) await deleteSecurityGroup(ec2, id, signal);
  });

const reapKeyPair: Reaper = (data) =>
  withClient(data, async (ec2) => {
    const sdk = await ec2Sdk();
    let id = str(data, 'keyPairId');
    const name = str(data, 'keyName');
    if (id === undefined && name !== undefined) {
      const r = await call('DescribeKeyPairs', () => ec2.send(new sdk.DescribeKeyPairsCommand({ Filters: [{ Name: 'key-name', Values: [name] }, runFilter(data)] })));
      id = r.KeyPairs?.[0]?.KeyPairId;
    }
    // Only the key pair this run imported: one of that name the build did not make stays.
    if (id !== undefined) await call('DeleteKeyPair', () => ec2.send(new sdk.DeleteKeyPairCommand({ KeyPairId: id })));
  });

const reapImage: Reaper = (data) =>
  withClient(data, async (ec2) => {
    const name = str(data, 'name');
    if (str(data, 'runId') === undefined || name === undefined) throw new Error('the record names no run or AMI name');
    // Only an AMI tagged with this run: one of that name from another run is left alone.
    const known = str(data, 'imageId');
    for (const image of await ownImagesNamed(ec2, name, [runFilter(data)])) if (known === undefined || image.ImageId === known) await deregisterImage(ec2, image.ImageId!);
  });

export const reapers: Readonly<Record<string, Reaper>> = {
  [RESOURCE.instance]: reapInstance,
  [RESOURCE.securityGroup]: reapSecurityGroup,
  [RESOURCE.keyPair]: reapKeyPair,
  [RESOURCE.image]: reapImage,
};
