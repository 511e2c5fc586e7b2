/**
 * EC2 operations the build and `kiln cleanup` share: finding an instance by its RunInstances
 * client token, terminating it and waiting on its state, deleting a security group once EC2 lets
 * it go, deleting the volumes an instance left, deregistering an AMI with its snapshots. Each
 * treats "already gone" as done.
 */
import type { EC2Client, Filter, Image, Instance } from '@aws-sdk/client-ec2';
import { call, ec2Sdk, Ec2Error, waitFor, type Polling } from './ec2.js';

/** EC2 refuses to delete a group an instance still uses until that instance is gone: retry a while. */
export async function deleteSecurityGroup(ec2: EC2Client, groupId: string, signal: AbortSignal): Promise<void> {
  const sdk = await ec2Sdk();
  await waitFor(`security group ${groupId} to be deletable`, { delayMs: 2000, maxAttempts: 60, deadlineMs: 5 * 60_000 }, signal, async () => {
    try {
      await call('DeleteSecurityGroup', () => ec2.send(new sdk.DeleteSecurityGroupCommand({ GroupId: groupId })));
      return true;
    } catch (err) {
      if (Ec2Error.is(err, 'InvalidGroup.NotFound')) return true;
      if (Ec2Error.is(err, 'DependencyViolation')) return undefined;
      throw err;
    }
  });
}

async function describeInstance(ec2: EC2Client, id: string): Promise<Instance | undefined> {
  const sdk = await ec2Sdk();
  try {
    const r = await call('DescribeInstances', () => ec2.send(new sdk.DescribeInstancesCommand({ InstanceIds: [id] })));
    return r.Reservations?.[0]?.Instances?.[0];
  } catch (err) {
    // Just after RunInstances, EC2's reads may not know the instance yet (eventual consistency).
    if (Ec2Error.is(err, 'InvalidInstanceID.NotFound')) return undefined;
    throw err;
  }
}

/** The instance a RunInstances call with this client token made, if it is not terminated. */
export async function findInstanceByToken(ec2: EC2Client, token: string): Promise<string | undefined> {
  const sdk = await ec2Sdk();
  const r = await call('DescribeInstances', () => ec2.send(new sdk.DescribeInstancesCommand({ Filters: [{ Name: 'client-token', Values: [token] }] })));
  return r.Reservations?.flatMap((x) => x.Instances ?? []).find((i) => i.State?.Name !== 'terminated')?.InstanceId;
}

/** Waits until the instance is in `state`; a state it cannot leave for that one is an error. */
export async function waitForInstance(ec2: EC2Client, id: string, state: 'running' | 'stopped' | 'terminated', p: Polling, signal: AbortSignal): Promise<Instance> {
  return waitFor(`instance ${id} to be ${state}`, p, signal, async () => {
    const i = await describeInstance(ec2, id);
    const now = i?.State?.Name;
    if (now === state) return i;
    if (state !== 'terminated' && (now === 'terminated' || now === 'shutting-down')) {
      throw new Error(`instance ${id} is ${now} instead of ${state}${i?.StateReason?.Message ? `: ${i.StateReason.Message}` : ''}`);
    }
    return undefined;
  });
}

/**
 * Terminates the instance and waits until it is terminated (its security group can go only
 * then). `fresh`: it was launched moments ago, so "not found" may only mean EC2 has not caught
 * up yet, and is retried for a minute.
 */
export async function terminateInstance(ec2: EC2Client, id: string, fresh: boolean, signal: AbortSignal): Promise<void> {
  const sdk = await ec2Sdk();
  const gone = await waitFor(`EC2 to know instance ${id}`, { delayMs: 2000, maxAttempts: fresh ? 30 : 1, deadlineMs: 60_000 }, signal, async () => {
    try {
      await call('TerminateInstances', () => ec2.send(new sdk.TerminateInstancesCommand({ InstanceIds: [id] })));
      return 'terminating' as const;
    } catch (err) {
      if (!Ec2Error.is(err, 'InvalidInstanceID.NotFound')) throw err;
      return fresh ? undefined : ('gone' as const);
    }
  });
  if (gone === 'gone') return;
  await waitForInstance(ec2, id, 'terminated', { delayMs: 2000, maxAttempts: Infinity, deadlineMs: 10 * 60_000 }, signal);
}

/** Deletes those of `ids` that are "available" (detached: their instance is gone). */
export async function deleteLeftVolumes(ec2: EC2Client, ids: readonly string[]): Promise<void> {
  const sdk = await ec2Sdk();
  const r = await call('DescribeVolumes', () => ec2.send(new sdk.DescribeVolumesCommand({ Filters: [{ Name: 'volume-id', Values: [...ids] }] })));
  for (const v of r.Volumes ?? []) {
    if (v.State !== 'available') continue;
    try {
      await call('DeleteVolume', () => ec2.send(new sdk.DeleteVolumeCommand({ VolumeId: v.VolumeId! })));
    } catch (err) {
      if (!Ec2Error.is(err, 'InvalidVolume.NotFound')) throw err;
    }
  }
}

/** This account's AMIs named `name` (AMI names are unique per account and region), narrowed by `more`. */
export async function ownImagesNamed(ec2: EC2Client, name: string, more: Filter[] = []): Promise<Image[]> {
  const sdk = await ec2Sdk();
  const r = await call('DescribeImages', () => ec2.send(new sdk.DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: [name] }, ...more] })));
  return r.Images ?? [];
}

/** Deregisters an AMI and deletes the snapshots it lists; one already gone counts as done. */
export async function deregisterImage(ec2: EC2Client, imageId: string): Promise<void> {
  const sdk = await ec2Sdk();
  let snapshots: string[] = [];
  try {
    const r = await call('DescribeImages', () => ec2.send(new sdk.DescribeImagesCommand({ ImageIds: [imageId] })));
    snapshots = (r.Images?.[0]?.BlockDeviceMappings ?? []).map((b) => b.Ebs?.SnapshotId).filter((s): s is string => s !== undefined);
    await call('DeregisterImage', () => ec2.send(new sdk.DeregisterImageCommand({ ImageId: imageId })));
  } catch (err) {
    if (!Ec2Error.is(err, 'InvalidAMIID.NotFound', 'InvalidAMIID.Unavailable')) throw err;
  }
  for (const snap of snapshots) {
    try {
      await call('DeleteSnapshot', () => ec2.send(new sdk.DeleteSnapshotCommand({ SnapshotId: snap })));
    } catch (err) {
      if (!Ec2Error.is(err, 'InvalidSnapshot.NotFound')) throw err;
    }
  }
}
