/**
 * `kiln cleanup` for what a killed amazon-ebs build left: each ledger record names the region
 * (and endpoint or profile) and what identifies the resource even if its id was never learnt:
 * the instance's RunInstances client token, the group's and key pair's names, the AMI's name.
 * Credentials are never in the ledger: the AWS SDK's chain (environment, profile) provides them.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { Reaper } from '../../src/sdk/index.js';
import { call, ec2Client, ec2Sdk, type Ec2Where } from './ec2.js';
import { deleteSecurityGroup, deregisterImage, waitForInstance } from './operations.js';

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
    const sdk = await ec2Sdk();
    let id = str(data, 'instanceId');
    const token = str(data, 'clientToken');
    if (id === undefined && token !== undefined) {
      const r = await call('DescribeInstances', () => ec2.send(new sdk.DescribeInstancesCommand({ Filters: [{ Name: 'client-token', Values: [token] }] })));
      id = r.Reservations?.flatMap((x) => x.Instances ?? []).find((i) => i.State?.Name !== 'terminated')?.InstanceId;
    }
    if (id === undefined) return;
    const instanceId = id;
    try {
      await call('TerminateInstances', () => ec2.send(new sdk.TerminateInstancesCommand({ InstanceIds: [instanceId] })));
    } catch (err) {
      if ((err as { code?: string }).code === 'InvalidInstanceID.NotFound') return;
      throw err;
    }
    // Its security group can only go once it is gone.
    await waitForInstance(ec2, instanceId, 'terminated', { delayMs: 2000, maxAttempts: Infinity, deadlineMs: 10 * 60_000 }, signal);
  });

const reapSecurityGroup: Reaper = (data, signal) =>
  withClient(data, async (ec2) => {
    const sdk = await ec2Sdk();
    let id = str(data, 'groupId');
    const name = str(data, 'groupName');
    if (id === undefined && name !== undefined) {
      const r = await call('DescribeSecurityGroups', () => ec2.send(new sdk.DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [name] }] })));
      id = r.SecurityGroups?.[0]?.GroupId;
    }
    if (id !== undefined) await deleteSecurityGroup(ec2, id, signal);
  });

const reapKeyPair: Reaper = (data) =>
  withClient(data, async (ec2) => {
    const sdk = await ec2Sdk();
    const name = str(data, 'keyName');
    if (name === undefined) throw new Error('the record names no key pair');
    await call('DeleteKeyPair', () => ec2.send(new sdk.DeleteKeyPairCommand({ KeyName: name })));
  });

const reapImage: Reaper = (data) =>
  withClient(data, async (ec2) => {
    const sdk = await ec2Sdk();
    let id = str(data, 'imageId');
    const name = str(data, 'name');
    if (id === undefined && name !== undefined) {
      // Only a pending or failed AMI of that name can be this build's: an available one with that
      // name existed before (the name was checked free when the build began) or was finished.
      const r = await call('DescribeImages', () => ec2.send(new sdk.DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: [name] }] })));
      id = r.Images?.find((i) => i.State !== 'available')?.ImageId;
    }
    if (id !== undefined) await deregisterImage(ec2, id);
  });

export const reapers: Readonly<Record<string, Reaper>> = {
  [RESOURCE.instance]: reapInstance,
  [RESOURCE.securityGroup]: reapSecurityGroup,
  [RESOURCE.keyPair]: reapKeyPair,
  [RESOURCE.image]: reapImage,
};
