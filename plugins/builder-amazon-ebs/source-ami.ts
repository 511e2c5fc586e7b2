/** The AMI a build starts from: source_ami, or the one source_ami_filter finds (Packer's rules). */
import type { EC2Client, Image } from '@aws-sdk/client-ec2';
import type { AmazonEbsConfig } from './config.js';
import { call, ec2Sdk } from './ec2.js';

export async function findSourceAmi(ec2: EC2Client, c: AmazonEbsConfig): Promise<Image> {
  const sdk = await ec2Sdk();
  const filter = c.source_ami_filter;
  const r = await call('DescribeImages', () =>
    ec2.send(
      new sdk.DescribeImagesCommand({
        ...(c.source_ami !== undefined && { ImageIds: [c.source_ami] }),
        ...(filter && filter.owners.length > 0 && { Owners: filter.owners }),
        ...(filter && Object.keys(filter.filters).length > 0 && { Filters: Object.entries(filter.filters).map(([Name, v]) => ({ Name, Values: [v] })) }),
      }),
    ),
  );
  const images = r.Images ?? [];
  const asked = c.source_ami !== undefined ? `source_ami ${c.source_ami}` : `source_ami_filter ${JSON.stringify(filter)}`;
  if (images.length === 0) throw new Error(`no AMI was found for ${asked} in ${c.region}`);
  if (images.length > 1 && !filter?.most_recent) {
    throw new Error(`${asked} matches ${images.length} AMIs (${images.slice(0, 5).map((i) => i.ImageId).join(', ')}${images.length > 5 ? ', …' : ''}): make the filter more specific, or set most_recent = true`);
  }
  // ISO 8601 dates sort as strings.
  const image = [...images].sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? ''))[0]!;
  if (image.RootDeviceType !== undefined && image.RootDeviceType !== 'ebs') {
    throw new Error(`the source AMI ${image.ImageId} has a ${image.RootDeviceType} root device: amazon-ebs needs an EBS-backed AMI`);
  }
  return image;
}
