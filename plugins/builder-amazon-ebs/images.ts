/**
 * The AMIs a build makes: the instance's (CreateImage), its encrypted copy (encrypt_boot) and its
 * copies in ami_regions (CopyImage). Each is in the ledger from before it is asked for until the
 * build keeps it, and the build's cleanup deregisters (with its snapshots) any it did not keep:
 * a failed, cancelled or killed build leaves no AMI, as with Packer.
 */
import type { EC2Client, Image, Tag } from '@aws-sdk/client-ec2';
import type { BuildContext } from '../../src/sdk/index.js';
import { call, ec2Sdk, waitFor, type Ec2Where, type Polling } from './ec2.js';
import { deregisterImage } from './operations.js';
import { RESOURCE } from './reapers.js';

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
  const handle = await ctx.resources.record(RESOURCE.image, `AMI ${name} in ${where.region}`, { ...where, name });
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
    const d = await call('DescribeImages', () => ec2.send(new sdk.DescribeImagesCommand({ ImageIds: [id] }))).catch(() => undefined);
    const i = d?.Images?.[0];
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
      settled = true;
      await deregisterImage(ec2, id);
      await handle.release();
    },
  };
}

const tagList = (tags: Record<string, string>): Tag[] => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** Tags an AMI and its snapshots (a copy does not carry the tags of its source). */
export async function tagImage(ec2: EC2Client, made: MadeImage, tags: Record<string, string>, snapshotTags: Record<string, string>): Promise<void> {
  const sdk = await ec2Sdk();
  if (Object.keys(tags).length > 0) await call('CreateTags', () => ec2.send(new sdk.CreateTagsCommand({ Resources: [made.imageId], Tags: tagList(tags) })));
  const snapshots = (made.image.BlockDeviceMappings ?? []).map((b) => b.Ebs?.SnapshotId).filter((s): s is string => s !== undefined);
  if (snapshots.length > 0 && Object.keys(snapshotTags).length > 0) await call('CreateTags', () => ec2.send(new sdk.CreateTagsCommand({ Resources: snapshots, Tags: tagList(snapshotTags) })));
}

/** ami_users and ami_groups: who may launch the AMI. */
export async function shareImage(ec2: EC2Client, imageId: string, users: readonly string[], groups: readonly string[]): Promise<void> {
  if (users.length === 0 && groups.length === 0) return;
  const sdk = await ec2Sdk();
  await call('ModifyImageAttribute', () =>
    ec2.send(new sdk.ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Add: [...users.map((UserId) => ({ UserId })), ...groups.map((g) => ({ Group: g as never }))] } })),
  );
}
