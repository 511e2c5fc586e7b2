/**
 * The `amazon-ebs` builder's settings: Packer's names and meanings. Options Packer has that kiln
 * does not implement yet are accepted by name and refused with a diagnostic that says so, so a
 * template never silently builds something other than what it asks for.
 */
import { blocks, checkSsh, duration, sshFields, z } from '../../src/sdk/index.js';
import { checkActions } from './interpolate.js';

/** The `build.*` values the builder sets, which ami_name, ami_description and tags may use as {{.Name}}. */
export const GENERATED = ['SourceAMI', 'SourceAMIName', 'SourceAMICreationDate', 'SourceAMIOwner', 'SourceAMIOwnerName', 'BuildRegion'] as const;

const tags = () => z.record(z.string(), z.string()).default({});
const notYet = () => z.unknown().optional();

const blockDevice = z
  .object({
    device_name: z.string().min(1, 'device_name must name the device, e.g. "/dev/xvda"'),
    delete_on_termination: z.boolean().optional(),
    encrypted: z.boolean().optional(),
    iops: z.number().int().optional(),
    no_device: z.boolean().optional(),
    snapshot_id: z.string().optional(),
    throughput: z.number().int().optional(),
    virtual_name: z.string().optional(),
    volume_type: z.string().optional(),
    volume_size: z.number().int().min(1).optional(),
    kms_key_id: z.string().optional(),
  })
  .strict();
export type BlockDevice = z.output<typeof blockDevice>;

const amiFilter = z
  .object({
    filters: z.record(z.string(), z.string()).default({}),
    owners: z.array(z.string()).default([]),
    most_recent: z.boolean().default(false),
  })
  .strict();

const filters = () => z.record(z.string(), z.string()).default({});
const subnetFilter = z.object({ filters: filters(), most_free: z.boolean().default(false), random: z.boolean().default(false) }).strict();
const vpcFilter = z.object({ filters: filters() }).strict();
const securityGroupFilter = z.object({ filters: filters() }).strict();

const polling = z
  .object({
    delay_seconds: z.number().min(0).optional(),
    max_attempts: z.number().int().min(1).optional(),
  })
  .strict();

/** Packer options kiln refuses for now, with what to do instead. */
const NOT_YET: Record<string, string> = {
  spot_price: 'spot instances are not implemented yet: leave spot_price unset for an on-demand instance',
  spot_instance_types: 'spot instances are not implemented yet',
  spot_tags: 'spot instances are not implemented yet',
  assume_role: 'assume_role is not implemented yet: use a profile whose role_arn kiln\'s AWS SDK assumes',
  mfa_code: 'mfa_code is not implemented yet',
  windows_password_timeout: 'Windows instances (WinRM) are not supported by kiln',
  ena_support: 'ena_support is not implemented yet: build from an AMI that has ENA enabled',
  sriov_support: 'sriov_support is not implemented yet',
};

export const schema = z
  .object({
    // Access: the AWS SDK's own chain (environment, shared files, instance role) unless given here.
    access_key: z.string().optional(),
    secret_key: z.string().optional(),
    token: z.string().optional(),
    profile: z.string().optional(),
    region: z.string().min(1, 'region must name the AWS region to build in, e.g. "us-east-1"'),
    custom_endpoint_ec2: z.string().url('custom_endpoint_ec2 must be a URL such as "https://ec2.us-east-1.amazonaws.com"').optional(),
    skip_region_validation: z.boolean().default(false),
    skip_credential_validation: z.boolean().default(false),
    insecure_skip_tls_verify: z.boolean().default(false),
    max_retries: z.number().int().min(0).optional(),
    aws_polling: polling.optional(),
    decode_authorization_messages: z.boolean().default(false),

    // The AMI.
    ami_name: z.string().min(3, 'ami_name must be 3 to 128 characters').max(128, 'ami_name must be 3 to 128 characters'),
    ami_description: z.string().optional(),
    ami_virtualization_type: z.enum(['hvm', 'paravirtual']).optional(),
    ami_users: z.array(z.string()).default([]),
    ami_groups: z.array(z.string()).default([]),
    ami_product_codes: z.array(z.string()).default([]),
    snapshot_users: z.array(z.string()).default([]),
    snapshot_groups: z.array(z.string()).default([]),
    ami_block_device_mappings: blocks(blockDevice).default([]),
    tags: tags(),
    snapshot_tags: tags(),
    ami_regions: z.array(z.string()).default([]),
    region_kms_key_ids: z.record(z.string(), z.string()).default({}),
    encrypt_boot: z.boolean().optional(),
    kms_key_id: z.string().optional(),
    force_deregister: z.boolean().default(false),
    force_delete_snapshot: z.boolean().default(false),
    skip_create_ami: z.boolean().default(false),
    skip_save_build_region: z.boolean().default(false),

    // The source instance.
    source_ami: z.string().optional(),
    source_ami_filter: amiFilter.optional(),
    instance_type: z.string().min(1, 'instance_type must name an EC2 instance type, e.g. "t3.micro"'),
    availability_zone: z.string().optional(),
    subnet_id: z.string().optional(),
    subnet_filter: subnetFilter.optional(),
    vpc_id: z.string().optional(),
    vpc_filter: vpcFilter.optional(),
    associate_public_ip_address: z.boolean().optional(),
    security_group_id: z.string().optional(),
    security_group_ids: z.array(z.string()).default([]),
    security_group_filter: securityGroupFilter.optional(),
    temporary_security_group_source_cidrs: z.array(z.string()).default([]),
    iam_instance_profile: z.string().optional(),
    user_data: z.string().optional(),
    user_data_file: z.string().optional(),
    ebs_optimized: z.boolean().default(false),
    enable_t2_unlimited: z.boolean().default(false),
    shutdown_behavior: z.enum(['stop', 'terminate'], { message: 'shutdown_behavior must be "stop" or "terminate"' }).default('stop'),
    disable_stop_instance: z.boolean().default(false),
    launch_block_device_mappings: blocks(blockDevice).default([]),
    run_tags: tags(),
    run_volume_tags: tags(),
    ssh_keypair_name: z.string().optional(),
    ssh_interface: z.enum(['public_ip', 'private_ip', 'public_dns', 'private_dns'], { message: 'ssh_interface must be one of public_ip, private_ip, public_dns, private_dns' }).optional(),
    ssh_private_ip: z.boolean().optional(),
    /** How long to wait for the instance or the AMI to reach a state (kiln; Packer counts attempts only). */
    state_timeout: duration().optional(),

    ...sshFields,

    // Refused below (NOT_YET) unless left at Packer's default.
    spot_price: notYet(),
    spot_instance_types: notYet(),
    spot_tags: notYet(),
    assume_role: notYet(),
    mfa_code: notYet(),
    windows_password_timeout: notYet(),
    ena_support: notYet(),
    sriov_support: notYet(),
  })
  .strict()
  .superRefine((c, ctx) => {
    for (const [field, why] of Object.entries(NOT_YET)) {
      const v = (c as Record<string, unknown>)[field];
      // Packer's defaults (false, "", []) ask for nothing, so they are accepted.
      if (v === undefined || v === false || v === '' || (Array.isArray(v) && v.length === 0)) continue;
      ctx.addIssue({ code: 'custom', path: [field], message: `${field}: ${why}` });
    }
    if (c.source_ami === undefined && c.source_ami_filter === undefined) ctx.addIssue({ code: 'custom', path: ['source_ami'], message: 'source_ami or source_ami_filter must be set: the AMI to start from' });
    if (c.source_ami_filter && Object.keys(c.source_ami_filter.filters).length === 0 && c.source_ami_filter.owners.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['source_ami_filter'], message: 'source_ami_filter needs filters or owners: an empty filter would match every public AMI' });
    }
    if ((c.access_key === undefined) !== (c.secret_key === undefined)) ctx.addIssue({ code: 'custom', path: [c.access_key === undefined ? 'access_key' : 'secret_key'], message: 'access_key and secret_key go together: set both, or neither to use the AWS SDK\'s credential chain' });
    if (c.user_data !== undefined && c.user_data_file !== undefined) ctx.addIssue({ code: 'custom', path: ['user_data_file'], message: 'only one of user_data or user_data_file can be set' });
    if (c.security_group_id !== undefined && c.security_group_ids.length > 0) ctx.addIssue({ code: 'custom', path: ['security_group_ids'], message: 'only one of security_group_id or security_group_ids can be set' });
    if (c.kms_key_id !== undefined && c.encrypt_boot !== true) ctx.addIssue({ code: 'custom', path: ['kms_key_id'], message: 'kms_key_id needs encrypt_boot = true: it names the key the AMI is encrypted with' });
    for (const r of Object.keys(c.region_kms_key_ids)) {
      if (!c.ami_regions.includes(r)) ctx.addIssue({ code: 'custom', path: ['region_kms_key_ids', r], message: `region_kms_key_ids names ${r}, which is not in ami_regions` });
    }
    if (Object.keys(c.region_kms_key_ids).length > 0 && c.encrypt_boot !== true) ctx.addIssue({ code: 'custom', path: ['region_kms_key_ids'], message: 'region_kms_key_ids needs encrypt_boot = true' });
    if (c.subnet_filter && c.subnet_filter.most_free && c.subnet_filter.random) ctx.addIssue({ code: 'custom', path: ['subnet_filter'], message: 'subnet_filter: set most_free or random, not both' });
    if (c.subnet_filter && c.subnet_id !== undefined) ctx.addIssue({ code: 'custom', path: ['subnet_filter'], message: 'subnet_id and subnet_filter cannot both be set' });
    if (c.vpc_filter && c.vpc_id !== undefined) ctx.addIssue({ code: 'custom', path: ['vpc_filter'], message: 'vpc_id and vpc_filter cannot both be set' });
    if (c.security_group_filter && (c.security_group_id !== undefined || c.security_group_ids.length > 0)) ctx.addIssue({ code: 'custom', path: ['security_group_filter'], message: 'security_group_filter cannot be used with security_group_id(s)' });
    if (c.temporary_security_group_source_cidrs.length > 0 && (c.security_group_id !== undefined || c.security_group_ids.length > 0)) {
      ctx.addIssue({ code: 'custom', path: ['temporary_security_group_source_cidrs'], message: 'temporary_security_group_source_cidrs only applies to the temporary security group: not with security_group_id(s)' });
    }
    if (c.ssh_keypair_name !== undefined && c.ssh_private_key_file === undefined && c.ssh_agent_auth !== true) {
      ctx.addIssue({ code: 'custom', path: ['ssh_keypair_name'], message: 'ssh_keypair_name needs ssh_private_key_file (or ssh_agent_auth): the private half of that key pair' });
    }
    if (c.ssh_interface !== undefined && c.ssh_private_ip !== undefined) ctx.addIssue({ code: 'custom', path: ['ssh_private_ip'], message: 'ssh_private_ip is the old spelling of ssh_interface = "private_ip": set one' });
    const texts: [string, (string | number)[]][] = [
      [c.ami_name, ['ami_name']],
      ...(c.ami_description !== undefined ? [[c.ami_description, ['ami_description']] as [string, string[]]] : []),
      ...(['tags', 'snapshot_tags', 'run_tags', 'run_volume_tags'] as const).flatMap((f) => Object.entries(c[f]).map(([k, v]): [string, string[]] => [v, [f, k]])),
    ];
    for (const [text, path] of texts) {
      const why = checkActions(text, GENERATED);
      if (why) ctx.addIssue({ code: 'custom', path, message: why });
    }
    checkSsh(c, ctx, { canInstallTemporaryKey: true, hostFromBuilder: true });
  });

export type AmazonEbsConfig = z.output<typeof schema>;
