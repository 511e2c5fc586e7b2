/**
 * `kiln validate` on amazon-ebs templates: Packer's required settings and rules, each problem at
 * its place in the file, and options kiln does not implement yet refused by name rather than
 * ignored. No AWS call is made and no AWS SDK is loaded to validate.
 */
import { describe, expect, it } from 'vitest';
import { kiln, workspace } from '../helpers/cli.js';

function validate(source: string) {
  const ws = workspace({ 't.pkr.hcl': `source "amazon-ebs" "x" {\n${source}}\nbuild {\n  sources = ["source.amazon-ebs.x"]\n}\n` });
  try {
    return kiln(['validate', 't.pkr.hcl'], { cwd: ws.dir });
  } finally {
    ws.cleanup();
  }
}

const VALID = '  region = "eu-west-1"\n  source_ami = "ami-0123456789abcdef0"\n  instance_type = "t3.micro"\n  ssh_username = "admin"\n  ami_name = "golden-1"\n';

describe('amazon-ebs validate', () => {
  it('accepts a Packer amazon-ebs source, source_ami_filter included', () => {
    expect(validate(VALID).stdout).toContain('The configuration is valid.');
    const filter = VALID.replace('  source_ami = "ami-0123456789abcdef0"\n', '  source_ami_filter {\n    filters = {\n      name = "debian-12-amd64-*"\n      virtualization-type = "hvm"\n    }\n    owners = ["136693071363"]\n    most_recent = true\n  }\n');
    const r = validate(filter);
    expect(r.code, r.stderr).toBe(0);
  });

  it('reports every missing required setting, at the source block', () => {
    const r = validate('  ssh_username = "admin"\n');
    expect(r.code).toBe(1);
    for (const field of ['region', 'instance_type', 'ami_name']) expect(r.stderr).toContain(`"${field}"`);
    expect(r.stderr).toContain('t.pkr.hcl:1:');
    expect(r.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
    const noSource = validate(VALID.replace('  source_ami = "ami-0123456789abcdef0"\n', ''));
    expect(noSource.code).toBe(1);
    expect(noSource.stderr).toContain('source_ami or source_ami_filter must be set: the AMI to start from');
  });

  it('refuses options kiln does not implement yet, at their line, but accepts them at Packer\'s defaults', () => {
    const r = validate(`${VALID}  spot_price = "auto"\n  ena_support = true\n`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('t.pkr.hcl:7:');
    expect(r.stderr).toContain('spot_price: spot instances are not implemented yet');
    expect(r.stderr).toContain('t.pkr.hcl:8:');
    expect(r.stderr).toContain('ena_support: ena_support is not implemented yet');
    expect(validate(`${VALID}  spot_price = ""\n  ena_support = false\n`).code).toBe(0);
  });

  it('checks the encryption and copy settings as Packer does', () => {
    const r = validate(`${VALID}  kms_key_id = "alias/k"\n  ami_regions = ["us-west-2"]\n  region_kms_key_ids = {\n    "eu-central-1" = "alias/x"\n  }\n`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('kms_key_id needs encrypt_boot = true');
    expect(r.stderr).toContain('region_kms_key_ids names eu-central-1, which is not in ami_regions');
    expect(validate(`${VALID}  encrypt_boot = true\n  kms_key_id = "alias/k"\n  ami_regions = ["us-west-2"]\n`).code).toBe(0);
  });

  it('fills Packer\'s template actions in ami_name and tags, and refuses the ones it does not know, at their line', () => {
    expect(validate(VALID.replace('"golden-1"', '"golden-{{timestamp}}-{{ .SourceAMIName | clean_resource_name }}"')).code).toBe(0);
    const r = validate(VALID.replace('"golden-1"', '"golden-{{isotime}}"') + '  tags = {\n    From = "{{.SourceImage}}"\n  }\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('t.pkr.hcl:6:');
    expect(r.stderr).toContain('"{{isotime}}" is not something kiln fills in here: use {{timestamp}}, {{uuid}}, {{build_name}}, {{build_type}}, {{.SourceAMI}}');
    expect(r.stderr).toContain('t.pkr.hcl:7:');
    expect(r.stderr).toContain('"{{.SourceImage}}" is not something kiln fills in here');
  });

  it('takes "" as unset (Go\'s zero value), lets an explicit subnet or group win over its filter, and wants owners in source_ami_filter', () => {
    expect(validate(`${VALID}  subnet_id = ""\n  kms_key_id = ""\n  ssh_keypair_name = ""\n  iam_instance_profile = ""\n`).code).toBe(0);
    expect(validate(`${VALID}  subnet_id = "subnet-1"\n  subnet_filter {\n    filters = {\n      "tag:Tier" = "build"\n    }\n  }\n  security_group_id = "sg-1"\n  temporary_security_group_source_cidrs = ["10.0.0.0/8"]\n`).code).toBe(0);
    const r = validate(VALID.replace('  source_ami = "ami-0123456789abcdef0"\n', '  source_ami_filter {\n    filters = {\n      name = "debian-*"\n    }\n  }\n'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('source_ami_filter must name owners');
    expect(validate(`${VALID}  temporary_security_group_source_cidrs = ["everywhere"]\n`).stderr).toContain('"everywhere" is not an IPv4 CIDR block');
  });

  it('checks the settings that go together', () => {
    const r = validate(`${VALID}  access_key = "AKIAEXAMPLE"\n  user_data = "x"\n  user_data_file = "y"\n  ssh_keypair_name = "mine"\n`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('access_key and secret_key go together');
    expect(r.stderr).toContain('only one of user_data or user_data_file can be set');
    expect(r.stderr).toContain('ssh_keypair_name needs ssh_private_key_file');
  });
});
