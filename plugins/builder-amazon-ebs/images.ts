/**
 * The AMIs a build makes: the instance's (CreateImage), its encrypted copy (encrypt_boot) and its
 * copies in ami_regions (CopyImage). Each is in the ledger from before it is asked for until the
 * build keeps it, and the build's cleanup deregisters (with its snapshots) any it did not keep:
 * a failed, cancelled or killed build leaves no AMI, as with Packer.
 */
import type { EC2Client, Image, Tag } from '@aws-sdk/client-ec2';
import type { BuildContext } from '../../src/sdk/index.js';
import { call, ec2Sdk, Ec2Error, waitFor, type Ec2Where, type Polling } from './ec2.js';
import { deregisterImage } from './operations.js';
import { RESOURCE, runTag } from './reapers.js';

export interface MadeImage {
  imageId: string;
  image: Image;
  /** The build keeps it: out of the ledger, never deregistered by cleanup. */
  keep(): Promise<void>;
  /** Not wanted after all (the unencrypted step of encrypt_boot): deregistered now. */
  drop(): Promise<void>;
}

export async function makeImage(ctx: BuildContext<unknown>, ec2: EC2Client, where: Ec2Where, name: string, polling: Polling, create: () => Promise<string>): Promise<MadeImage> {
  const sdk = await ec2Sdk();
  // The run id is also the AMI's kiln-run-id tag: kiln cleanup deletes only an AMI that has it.
  const handle = await ctx.resources.record(RESOURCE.image, `AMI ${name} in ${where.region}`, { ...where, name, runId: ctx.runId });
  let imageId: string | undefined;
  let settled = false;
  ctx.cleanup.push(`deregister AMI ${name} in ${where.region} unless the build keeps it`, async () => {
    if (settled) return;
    if (imageId !== undefined) {
      ctx.ui.say(`Deregistering the AMI ${imageId} in ${where.region} and deleting its snapshots because of cancellation, or error...`);
      await deregisterImage(ec2, imageId);
    }
    await handle.release();
  });
  imageId = await create();
  await handle.update({ imageId });
  const id = imageId;
  ctx.ui.say(`AMI: ${id}`);
  ctx.ui.say(`Waiting for AMI ${id} to become ready${where.region ? ` in ${where.region}` : ''}...`);
  const image = await waitFor(`AMI ${id} to be available`, polling, ctx.signal, async () => {
    let d;
    try {
      d = await call('DescribeImages', () => ec2.send(new sdk.DescribeImagesCommand({ ImageIds: [id] })));
    } catch (err) {
      // A new AMI may be unknown to EC2's reads for a moment; any other error is real.
      if (Ec2Error.is(err, 'InvalidAMIID.NotFound')) return undefined;
      throw err;
    }
    const i = d.Images?.[0];
    if (i?.State === 'failed' || i?.State === 'error') throw new Error(`AMI ${id} failed: ${i.StateReason?.Message ?? i.State}`);
    return i?.State === 'available' ? i : undefined;
  });
  return {
    imageId: id,
    image,
    keep: async () => {
      settled = true;
      await handle.release();
    },
    drop: async () => {
      await deregisterImage(ec2, id);
      settled = true;
      await handle.release();
    },
  };
}

export const tagList = (tags: Record<string, string>): Tag[] => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** The tags an AMI and its snapshots get as they are made: the template's, and the run's. */
export function creationTags(tags: Record<string, string>, snapshotTags: Record<string, string>, runId: string): { TagSpecifications: { ResourceType: 'image' | 'snapshot'; Tags: Tag[] }[] } {
  const run = runTag(runId);
  return {
    TagSpecifications: [
      { ResourceType: 'image', Tags: [...tagList(tags), run] },
      { ResourceType: 'snapshot', Tags: [...tagList(snapshotTags), run] },
    ],
  };
}

/** ami_users/ami_groups may launch the AMI; snapshot_users/snapshot_groups may make volumes of its snapshots. */
export async function shareImage(ec2: EC2Client, made: MadeImage, who: { users: readonly string[]; groups: readonly string[]; snapshotUsers: readonly string[]; snapshotGroups: readonly string[] }): Promise<void> {
  const sdk = await ec2Sdk();
  const perms = (users: readonly string[], groups: readonly string[]) => [...users.map((UserId) => ({ UserId })), ...groups.map((g) => ({ Group: g as 'all' }))];
  if (who.users.length > 0 || who.groups.length > 0) {
    await call('ModifyImageAttribute', () => ec2.send(new sdk.ModifyImageAttributeCommand({ ImageId: made.imageId, LaunchPermission: { Add: perms(who.users, who.groups) } })));
  }
  if (who.snapshotUsers.length === 0 && who.snapshotGroups.length === 0) return;
  for (const b of made.image.BlockDeviceMappings ?? []) {
    const snap = b.Ebs?.SnapshotId;
    if (snap === undefined) continue;
    await call('ModifySnapshotAttribute', () =>
      ec2.send(new sdk.ModifySnapshotAttributeCommand({ SnapshotId: snap, Attribute: 'createVolumePermission', OperationType: 'add', CreateVolumePermission: { Add: perms(who.snapshotUsers, who.snapshotGroups) } })),
    );
  }
}
