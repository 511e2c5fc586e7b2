/**
 * Regions, zones and the default network: DescribeRegions, DescribeAvailabilityZones,
 * DescribeVpcs, DescribeSubnets (each region has one default VPC with one default subnet per
 * zone, as a new AWS account does), and security groups.
 */
import type { Context, Handler } from './context.js';
import { Ec2Error, invalidParameter, missingParameter, notFound } from './errors.js';
import { applyFilters } from './filters.js';
import { newId } from './ids.js';
import { filters, type QueryParams, tagSpecifications } from './query.js';
import type { IpPermission, SecurityGroup, Subnet, Vpc } from './state.js';
import { tagSet, type XmlValue } from './xml.js';

function vpcXml(ctx: Context, v: Vpc): XmlValue {
  return {
    vpcId: v.id,
    ownerId: ctx.accountId,
    state: 'available',
    cidrBlock: v.cidr,
    cidrBlockAssociationSet: [{ cidrBlock: v.cidr, associationId: `vpc-cidr-assoc-${v.id.slice(4)}`, cidrBlockState: { state: 'associated' } }],
    dhcpOptionsId: `dopt-${v.id.slice(4)}`,
    instanceTenancy: 'default',
    isDefault: true,
    tagSet: tagSet(v.tags),
  };
}

function subnetXml(ctx: Context, s: Subnet): XmlValue {
  return {
    subnetId: s.id,
    subnetArn: `arn:aws:ec2:${s.region}:${ctx.accountId}:subnet/${s.id}`,
    ownerId: ctx.accountId,
    state: 'available',
    vpcId: s.vpcId,
    cidrBlock: s.cidr,
    availableIpAddressCount: 4091,
    availabilityZone: s.az,
    availabilityZoneId: s.azId,
    defaultForAz: true,
    mapPublicIpOnLaunch: true,
    tagSet: tagSet(s.tags),
  };
}

export function groupXml(ctx: Context, g: SecurityGroup): XmlValue {
  const perm = (p: IpPermission): XmlValue => ({
    ipProtocol: p.protocol,
    fromPort: p.fromPort,
    toPort: p.toPort,
    groups: p.groupIds.map((groupId) => ({ groupId, userId: ctx.accountId })),
    ipRanges: p.cidrs.map((c) => ({ cidrIp: c.cidr, description: c.description })),
    ipv6Ranges: [],
    prefixListIds: [],
  });
  return {
    ownerId: ctx.accountId,
    groupId: g.id,
    groupName: g.name,
    groupDescription: g.description,
    vpcId: g.vpcId,
    securityGroupArn: `arn:aws:ec2:${g.region}:${ctx.accountId}:security-group/${g.id}`,
    ipPermissions: g.ingress.map(perm),
    ipPermissionsEgress: g.egress.map(perm),
    tagSet: tagSet(g.tags),
  };
}

/** A security group by id, or by name in the default VPC (EC2-Classic style GroupName). */
export function findGroup(ctx: Context, p: QueryParams): SecurityGroup {
  const id = p.str('GroupId');
  const name = p.str('GroupName');
  if (id) {
    const g = ctx.region.securityGroups.get(id);
    if (!g) throw notFound.group(id);
    return g;
  }
  if (name) {
    const g = [...ctx.region.securityGroups.values()].find((x) => x.name === name && x.vpcId === ctx.region.vpc.id);
    if (!g) throw new Ec2Error('InvalidGroup.NotFound', `The security group '${name}' does not exist in default VPC '${ctx.region.vpc.id}'`);
    return g;
  }
  throw missingParameter('GroupId');
}

function ipPermissions(p: QueryParams): IpPermission[] {
  const perms = p.structs('IpPermissions').map((ip) => ({
    protocol: ip.str('IpProtocol') ?? '-1',
    fromPort: ip.int('FromPort'),
    toPort: ip.int('ToPort'),
    cidrs: ip.structs('IpRanges').map((r) => ({ cidr: r.required('CidrIp'), description: r.str('Description') })),
    groupIds: ip.structs('Groups').map((g) => g.required('GroupId')),
    ruleIds: [],
  }));
  // The flat form (IpProtocol, FromPort, ToPort, CidrIp) of older callers.
  if (perms.length === 0 && p.str('IpProtocol')) {
    const cidr = p.str('CidrIp');
    perms.push({ protocol: p.required('IpProtocol'), fromPort: p.int('FromPort'), toPort: p.int('ToPort'), cidrs: cidr ? [{ cidr, description: undefined }] : [], groupIds: [], ruleIds: [] });
  }
  if (perms.length === 0) throw missingParameter('IpPermissions');
  for (const perm of perms) {
    if (perm.protocol === 'all') perm.protocol = '-1';
    if (!['-1', 'tcp', 'udp', 'icmp', 'icmpv6'].includes(perm.protocol) && !/^\d+$/.test(perm.protocol)) throw invalidParameter(`Invalid value '${perm.protocol}' for IP protocol. Unknown protocol.`);
    if ((perm.protocol === 'tcp' || perm.protocol === 'udp') && (perm.fromPort === undefined || perm.toPort === undefined)) throw new Ec2Error('InvalidParameterValue', `Invalid value for portRange. Must specify both from and to ports with TCP/UDP.`);
    for (const c of perm.cidrs) if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(c.cidr)) throw invalidParameter(`CIDR block ${c.cidr} is malformed`);
  }
  return perms;
}

function addRules(ctx: Context, p: QueryParams, egress: boolean): XmlValue {
  const g = findGroup(ctx, p);
  const list = egress ? g.egress : g.ingress;
  const added: XmlValue[] = [];
  for (const perm of ipPermissions(p)) {
    for (const gid of perm.groupIds) if (!ctx.region.securityGroups.has(gid)) throw notFound.group(gid);
    const same = (x: IpPermission): boolean => x.protocol === perm.protocol && x.fromPort === perm.fromPort && x.toPort === perm.toPort;
    const existing = list.find(same);
    for (const c of perm.cidrs) {
      if (existing?.cidrs.some((e) => e.cidr === c.cidr)) {
        throw new Ec2Error('InvalidPermission.Duplicate', `the specified rule "peer: ${c.cidr}, ${perm.protocol.toUpperCase()}, from port: ${perm.fromPort}, to port: ${perm.toPort}, ALLOW" already exists`);
      }
    }
    const target = existing ?? { ...perm, cidrs: [], groupIds: [], ruleIds: [] };
    if (!existing) list.push(target);
    for (const c of perm.cidrs) {
      const ruleId = newId('sgr');
      target.cidrs.push(c);
      target.ruleIds.push(ruleId);
      added.push({ securityGroupRuleId: ruleId, groupId: g.id, groupOwnerId: ctx.accountId, isEgress: egress, ipProtocol: perm.protocol, fromPort: perm.fromPort ?? -1, toPort: perm.toPort ?? -1, cidrIpv4: c.cidr, description: c.description });
    }
    for (const gid of perm.groupIds) {
      const ruleId = newId('sgr');
      target.groupIds.push(gid);
      target.ruleIds.push(ruleId);
      added.push({ securityGroupRuleId: ruleId, groupId: g.id, groupOwnerId: ctx.accountId, isEgress: egress, ipProtocol: perm.protocol, fromPort: perm.fromPort ?? -1, toPort: perm.toPort ?? -1, referencedGroupInfo: { groupId: gid, userId: ctx.accountId } });
    }
  }
  return added;
}

export const networkActions: Record<string, Handler> = {
  DescribeRegions(ctx, p) {
    const names = p.list('RegionName');
    for (const n of names) if (!ctx.regions.has(n)) throw invalidParameter(`Invalid region: ${n}`);
    const all = [...ctx.regions.keys()].map((name) => ({ name }));
    const picked = applyFilters(
      all.filter((r) => names.length === 0 || names.includes(r.name)).map((r) => ({ ...r, tags: {} })),
      filters(p),
      { 'region-name': (r) => [r.name], endpoint: (r) => [`ec2.${r.name}.amazonaws.com`], 'opt-in-status': () => ['opt-in-not-required'] },
    );
    return { regionInfo: picked.map((r) => ({ regionName: r.name, regionEndpoint: `ec2.${r.name}.amazonaws.com`, optInStatus: 'opt-in-not-required' })) };
  },

  DescribeAvailabilityZones(ctx, p) {
    const names = p.list('ZoneName');
    const ids = p.list('ZoneId');
    const zones = applyFilters(
      ctx.region.subnets.filter((s) => (names.length === 0 || names.includes(s.az)) && (ids.length === 0 || ids.includes(s.azId))).map((s) => ({ ...s, tags: {} })),
      filters(p),
      { 'zone-name': (s) => [s.az], 'zone-id': (s) => [s.azId], state: () => ['available'], 'region-name': (s) => [s.region], 'zone-type': () => ['availability-zone'] },
    );
    return {
      availabilityZoneInfo: zones.map((s) => ({
        zoneName: s.az,
        zoneId: s.azId,
        zoneState: 'available',
        regionName: s.region,
        groupName: s.region,
        networkBorderGroup: s.region,
        optInStatus: 'opt-in-not-required',
        zoneType: 'availability-zone',
        messageSet: [],
      })),
    };
  },

  DescribeVpcs(ctx, p) {
    const ids = p.list('VpcId');
    for (const id of ids) if (id !== ctx.region.vpc.id) throw notFound.vpc(id);
    const vpcs = applyFilters([ctx.region.vpc], filters(p), {
      'vpc-id': (v) => [v.id],
      'is-default': () => ['true'],
      isDefault: () => ['true'],
      state: () => ['available'],
      'cidr-block': (v) => [v.cidr],
      cidr: (v) => [v.cidr],
      'owner-id': () => [ctx.accountId],
    });
    return { vpcSet: vpcs.map((v) => vpcXml(ctx, v)) };
  },

  DescribeSubnets(ctx, p) {
    const ids = p.list('SubnetId');
    for (const id of ids) if (!ctx.region.subnets.some((s) => s.id === id)) throw notFound.subnet(id);
    const subnets = applyFilters(
      ctx.region.subnets.filter((s) => ids.length === 0 || ids.includes(s.id)),
      filters(p),
      {
        'subnet-id': (s) => [s.id],
        'vpc-id': (s) => [s.vpcId],
        'availability-zone': (s) => [s.az],
        availabilityZone: (s) => [s.az],
        'availability-zone-id': (s) => [s.azId],
        'default-for-az': () => ['true'],
        defaultForAz: () => ['true'],
        state: () => ['available'],
        'cidr-block': (s) => [s.cidr],
        'map-public-ip-on-launch': () => ['true'],
      },
    );
    return { subnetSet: subnets.map((s) => subnetXml(ctx, s)) };
  },

  CreateSecurityGroup(ctx, p) {
    const name = p.required('GroupName');
    const description = p.required('GroupDescription');
    // An empty VpcId (Packer sends one) means the default VPC, as in EC2.
    const vpcId = p.str('VpcId') || ctx.region.vpc.id;
    if (vpcId !== ctx.region.vpc.id) throw notFound.vpc(vpcId);
    if (name.toLowerCase().startsWith('sg-')) throw invalidParameter(`Group names may not be in the format sg-*.`);
    if (name === 'default' || [...ctx.region.securityGroups.values()].some((g) => g.name === name && g.vpcId === vpcId)) {
      throw new Ec2Error('InvalidGroup.Duplicate', `The security group '${name}' already exists for VPC '${vpcId}'`);
    }
    const tags = tagSpecifications(p, ['security-group']).get('security-group') ?? {};
    const g: SecurityGroup = {
      id: newId('sg'),
      region: ctx.region.name,
      name,
      description,
      vpcId,
      ingress: [],
      egress: [{ protocol: '-1', cidrs: [{ cidr: '0.0.0.0/0' }], groupIds: [], ruleIds: [newId('sgr')] }],
      tags,
    };
    ctx.region.securityGroups.set(g.id, g);
    return { groupId: g.id, securityGroupArn: `arn:aws:ec2:${g.region}:${ctx.accountId}:security-group/${g.id}`, tagSet: tagSet(tags) };
  },

  AuthorizeSecurityGroupIngress(ctx, p) {
    return { return: true, securityGroupRuleSet: addRules(ctx, p, false) };
  },

  AuthorizeSecurityGroupEgress(ctx, p) {
    return { return: true, securityGroupRuleSet: addRules(ctx, p, true) };
  },

  DescribeSecurityGroups(ctx, p) {
    const ids = p.list('GroupId');
    const names = p.list('GroupName');
    const all = [...ctx.region.securityGroups.values()];
    for (const id of ids) if (!ctx.region.securityGroups.has(id)) throw notFound.group(id);
    for (const n of names) if (!all.some((g) => g.name === n)) throw new Ec2Error('InvalidGroup.NotFound', `The security group '${n}' does not exist in default VPC '${ctx.region.vpc.id}'`);
    const groups = applyFilters(
      all.filter((g) => (ids.length === 0 && names.length === 0) || ids.includes(g.id) || names.includes(g.name)),
      filters(p),
      {
        'group-id': (g) => [g.id],
        'group-name': (g) => [g.name],
        description: (g) => [g.description],
        'vpc-id': (g) => [g.vpcId],
        'owner-id': () => [ctx.accountId],
        'ip-permission.cidr': (g) => g.ingress.flatMap((x) => x.cidrs.map((c) => c.cidr)),
        'ip-permission.from-port': (g) => g.ingress.map((x) => String(x.fromPort ?? '')),
        'ip-permission.to-port': (g) => g.ingress.map((x) => String(x.toPort ?? '')),
        'ip-permission.protocol': (g) => g.ingress.map((x) => x.protocol),
      },
    );
    return { securityGroupInfo: groups.map((g) => groupXml(ctx, g)) };
  },

  DeleteSecurityGroup(ctx, p) {
    const g = findGroup(ctx, p);
    if (g.name === 'default') throw new Ec2Error('CannotDelete', `the specified group: "${g.id}" name: "default" cannot be deleted by a user`);
    const user = [...ctx.region.instances.values()].find((i) => i.state !== 'terminated' && i.securityGroupIds.includes(g.id));
    if (user) throw new Ec2Error('DependencyViolation', `resource ${g.id} has a dependent object`);
    const referrer = [...ctx.region.securityGroups.values()].find((o) => o.id !== g.id && [...o.ingress, ...o.egress].some((x) => x.groupIds.includes(g.id)));
    if (referrer) throw new Ec2Error('DependencyViolation', `resource ${g.id} has a dependent object`);
    ctx.region.securityGroups.delete(g.id);
    return { return: true, groupId: g.id };
  },
};
