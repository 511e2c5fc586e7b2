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
/**
 * An optional string where "" means unset, as Go's zero value does in Packer: templates pass
 * `subnet_id = var.subnet_id` with a default of "".
 */
const optional = () => z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());
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
    kms_key_id: optional(),
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
  ami_product_codes: 'ami_product_codes is not implemented yet',
};

export const schema = z
  .object({
    // Access: the AWS SDK's own chain (environment, shared files, instance role) unless given here.
    access_key: z.string().optional(),
    secret_key: z.string().optional(),
    token: optional(),
    profile: optional(),
    region: z.string().min(1, 'region must name the AWS region to build in, e.g. "us-east-1"'),
    custom_endpoint_ec2: z.string().url('custom_endpoint_ec2 must be a URL such as "https://ec2.us-east-1.amazonaws.com"').optional(),
    skip_region_validation: z.boolean().default(false),
    // kiln makes no STS call, so there is no credential check to skip.
    skip_credential_validation: z.boolean().default(false),
    insecure_skip_tls_verify: z.boolean().default(false),
    max_retries: z.number().int().min(0).optional(),
    aws_polling: polling.optional(),
    // Accepted, not acted on: decoding needs an STS call kiln does not make; the message is shown as EC2 gives it.
    decode_authorization_messages: z.boolean().default(false),

    // The AMI.
    ami_name: z.string().min(3, 'ami_name must be 3 to 128 characters').max(128, 'ami_name must be 3 to 128 characters'),
    ami_description: optional(),
    // Packer's amazon-ebs does not use it either (the AMI takes its source's type).
    ami_virtualization_type: z.enum(['hvm', 'paravirtual']).optional(),
    ami_users: z.array(z.string()).default([]),
    ami_groups: z.array(z.string()).default([]),
    ami_product_codes: notYet(),
    snapshot_users: z.array(z.string()).default([]),
    snapshot_groups: z.array(z.string()).default([]),
    ami_block_device_mappings: blocks(blockDevice).default([]),
    tags: tags(),
    snapshot_tags: tags(),
    ami_regions: z.array(z.string()).default([]),
    region_kms_key_ids: z.record(z.string(), z.string()).default({}),
    encrypt_boot: z.boolean().optional(),
    kms_key_id: optional(),
    force_deregister: z.boolean().default(false),
    force_delete_snapshot: z.boolean().default(false),
    skip_create_ami: z.boolean().default(false),
    skip_save_build_region: z.boolean().default(false),

    // The source instance.
    source_ami: optional(),
    source_ami_filter: amiFilter.optional(),
    instance_type: z.string().min(1, 'instance_type must name an EC2 instance type, e.g. "t3.micro"'),
    availability_zone: optional(),
    subnet_id: optional(),
    subnet_filter: subnetFilter.optional(),
    vpc_id: optional(),
    vpc_filter: vpcFilter.optional(),
    associate_public_ip_address: z.boolean().optional(),
    security_group_id: optional(),
    security_group_ids: z.array(z.string()).default([]),
    security_group_filter: securityGroupFilter.optional(),
    temporary_security_group_source_cidrs: z.array(z.string()).default([]),
    iam_instance_profile: optional(),
    user_data: optional(),
    user_data_file: optional(),
    ebs_optimized: z.boolean().default(false),
    enable_t2_unlimited: z.boolean().default(false),
    shutdown_behavior: z.enum(['stop', 'terminate'], { message: 'shutdown_behavior must be "stop" or "terminate"' }).default('stop'),
    disable_stop_instance: z.boolean().default(false),
    launch_block_device_mappings: blocks(blockDevice).default([]),
    run_tags: tags(),
    run_volume_tags: tags(),
    ssh_keypair_name: optional(),
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
    if (c.source_ami_filter && c.source_ami_filter.owners.length === 0) {
      // Packer's rule: a name alone could pick up a look-alike public AMI someone else published.
      ctx.addIssue({ code: 'custom', path: ['source_ami_filter'], message: 'source_ami_filter must name owners (account ids, or "amazon", "self"…): for safety, as in Packer' });
    }
    if ((c.access_key === undefined) !== (c.secret_key === undefined)) ctx.addIssue({ code: 'custom', path: [c.access_key === undefined ? 'access_key' : 'secret_key'], message: 'access_key and secret_key go together: set both, or neither to use the AWS SDK\'s credential chain' });
    if (c.user_data !== undefined && c.user_data_file !== undefined) ctx.addIssue({ code: 'custom', path: ['user_data_file'], message: 'only one of user_data or user_data_file can be set' });
    if (c.security_group_id !== undefined && c.security_group_ids.length > 0) ctx.addIssue({ code: 'custom', path: ['security_group_ids'], message: 'only one of security_group_id or security_group_ids can be set' });
    if (c.kms_key_id !== undefined && c.encrypt_boot !== true) ctx.addIssue({ code: 'custom', path: ['kms_key_id'], message: 'kms_key_id needs encrypt_boot = true: it names the key the AMI is encrypted with' });
    for (const r of Object.keys(c.region_kms_key_ids)) {
      if (!c.ami_regions.includes(r)) ctx.addIssue({ code: 'custom', path: ['region_kms_key_ids', r], message: `region_kms_key_ids names ${r}, which is not in ami_regions` });
    }
    if (Object.keys(c.region_kms_key_ids).length > 0) {
      for (const r of c.ami_regions) {
        if (r !== c.region && !(r in c.region_kms_key_ids)) ctx.addIssue({ code: 'custom', path: ['region_kms_key_ids'], message: `region_kms_key_ids has no entry for ${r}: once it is set, every ami_regions region needs one ("" for that region's default key), as in Packer` });
      }
    }
    if (Object.keys(c.region_kms_key_ids).length > 0 && c.encrypt_boot !== true) ctx.addIssue({ code: 'custom', path: ['region_kms_key_ids'], message: 'region_kms_key_ids needs encrypt_boot = true' });
    if (c.subnet_filter && c.subnet_filter.most_free && c.subnet_filter.random) ctx.addIssue({ code: 'custom', path: ['subnet_filter'], message: 'subnet_filter: set most_free or random, not both' });
    c.temporary_security_group_source_cidrs.forEach((cidr, i) => {
      if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(cidr)) ctx.addIssue({ code: 'custom', path: ['temporary_security_group_source_cidrs', i], message: `"${cidr}" is not an IPv4 CIDR block such as "203.0.113.0/24"` });
    });
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
