/**
 * Where the instance goes: vpc_id / vpc_filter, subnet_id / subnet_filter (most_free, random)
 * and security_group_id(s) / security_group_filter, looked up as Packer does. A filter that
 * matches nothing, or more than it may, is an error that says what it matched.
 */
import type { EC2Client, Filter } from '@aws-sdk/client-ec2';
import type { AmazonEbsConfig } from './config.js';
import { call, ec2Sdk } from './ec2.js';

export interface Network {
  vpcId?: string;
  subnetId?: string;
  /** Groups the template named or its filter found; empty means a temporary group is made. */
  groupIds: string[];
}

const toFilters = (f: Record<string, string>, vpcId?: string): Filter[] => [
  ...Object.entries(f).map(([Name, v]) => ({ Name, Values: [v] })),
  ...(vpcId !== undefined ? [{ Name: 'vpc-id', Values: [vpcId] }] : []),
];

export async function resolveNetwork(ec2: EC2Client, c: AmazonEbsConfig): Promise<Network> {
  const sdk = await ec2Sdk();
  let vpcId = c.vpc_id;
  if (c.vpc_filter) {
    const r = await call('DescribeVpcs', () => ec2.send(new sdk.DescribeVpcsCommand({ Filters: toFilters(c.vpc_filter!.filters) })));
    const vpcs = r.Vpcs ?? [];
    if (vpcs.length !== 1) throw new Error(`vpc_filter ${JSON.stringify(c.vpc_filter.filters)} matched ${vpcs.length} VPCs${vpcs.length ? ` (${vpcs.map((v) => v.VpcId).join(', ')})` : ''}: it must match exactly one`);
    vpcId = vpcs[0]!.VpcId;
  }
  let subnetId = c.subnet_id;
  if (c.subnet_filter) {
    const f = c.subnet_filter;
    const r = await call('DescribeSubnets', () => ec2.send(new sdk.DescribeSubnetsCommand({ Filters: toFilters(f.filters, vpcId) })));
    const subnets = r.Subnets ?? [];
    if (subnets.length === 0) throw new Error(`subnet_filter ${JSON.stringify(f.filters)} matched no subnet${vpcId ? ` in ${vpcId}` : ''}`);
    if (subnets.length > 1 && !f.most_free && !f.random) {
      throw new Error(`subnet_filter ${JSON.stringify(f.filters)} matched ${subnets.length} subnets (${subnets.map((s) => s.SubnetId).join(', ')}): make it more specific, or set most_free or random`);
    }
    const pick = f.random ? subnets[Math.floor(Math.random() * subnets.length)]! : [...subnets].sort((a, b) => (b.AvailableIpAddressCount ?? 0) - (a.AvailableIpAddressCount ?? 0))[0]!;
    subnetId = pick.SubnetId;
    vpcId ??= pick.VpcId;
  } else if (subnetId !== undefined && vpcId === undefined) {
    const r = await call('DescribeSubnets', () => ec2.send(new sdk.DescribeSubnetsCommand({ SubnetIds: [subnetId!] })));
    vpcId = r.Subnets?.[0]?.VpcId;
  }
  let groupIds = c.security_group_ids.length > 0 ? c.security_group_ids : c.security_group_id !== undefined ? [c.security_group_id] : [];
  if (c.security_group_filter) {
    const f = c.security_group_filter.filters;
    const r = await call('DescribeSecurityGroups', () => ec2.send(new sdk.DescribeSecurityGroupsCommand({ Filters: toFilters(f, vpcId) })));
    groupIds = (r.SecurityGroups ?? []).map((g) => g.GroupId!).filter(Boolean);
    if (groupIds.length === 0) throw new Error(`security_group_filter ${JSON.stringify(f)} matched no security group${vpcId ? ` in ${vpcId}` : ''}`);
  }
  return { ...(vpcId !== undefined && { vpcId }), ...(subnetId !== undefined && { subnetId }), groupIds };
}
