/**
 * EC2 operations the build and `kiln cleanup` share: waiting on an instance's state, deleting a
 * security group once EC2 lets it go, deregistering an AMI with its snapshots.
 */
import type { EC2Client, Instance } from '@aws-sdk/client-ec2';
import { call, ec2Sdk, waitFor, type Polling } from './ec2.js';

/** EC2 refuses to delete a group an instance still uses until that instance is gone: retry a while. */
export async function deleteSecurityGroup(ec2: EC2Client, groupId: string, signal: AbortSignal): Promise<void> {
  const sdk = await ec2Sdk();
  await waitFor(`security group ${groupId} to be deletable`, { delayMs: 2000, maxAttempts: 60, deadlineMs: 5 * 60_000 }, signal, async () => {
    try {
      await call('DeleteSecurityGroup', () => ec2.send(new sdk.DeleteSecurityGroupCommand({ GroupId: groupId })));
      return true;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'InvalidGroup.NotFound') return true;
      if (code === 'DependencyViolation') return undefined;
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
    if ((err as { code?: string }).code === 'InvalidInstanceID.NotFound') return undefined;
    throw err;
  }
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

export async function deregisterImage(ec2: EC2Client, imageId: string): Promise<void> {
  const sdk = await ec2Sdk();
  const r = await call('DescribeImages', () => ec2.send(new sdk.DescribeImagesCommand({ ImageIds: [imageId] }))).catch(() => undefined);
  await call('DeregisterImage', () => ec2.send(new sdk.DeregisterImageCommand({ ImageId: imageId })));
  for (const b of r?.Images?.[0]?.BlockDeviceMappings ?? []) {
    const snap = b.Ebs?.SnapshotId;
    if (snap !== undefined) await call('DeleteSnapshot', () => ec2.send(new sdk.DeleteSnapshotCommand({ SnapshotId: snap })));
  }
}
