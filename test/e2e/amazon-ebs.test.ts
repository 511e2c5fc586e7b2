/**
 * The amazon-ebs builder as a user runs it, through the official AWS SDK against the EC2
 * emulator (test/emulators/ec2), whose instances are real sshd endpoints in containers and whose
 * AMIs are real snapshots of them: the AMI holds what the provisioners wrote, nothing temporary
 * is left in the account however the build ends, and the credentials never reach an output.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kilnAsync, kilnProcess, workspace } from '../helpers/cli.js';
import { skipWithout } from '../helpers/components.js';
import { EC2_EMULATOR, startEc2Emulator, type Ec2Emulator } from '../emulators/ec2/index.js';

const SECRET = 'kiln-e2e-secret-access-key-0123456789';
const skip = skipWithout(EC2_EMULATOR);
let emu: Ec2Emulator;
let baseAmi: string;

beforeAll(async () => {
  if (skip) return;
  emu = await startEc2Emulator();
  baseAmi = await emu.registerImage({ name: 'debian-12-amd64-base', ownerId: '136693071363' });
}, 300_000);
afterAll(async () => {
  await emu?.stop();
});

function template(opts: { amiName: string; provisioners: string; extra?: string }): string {
  return `source "amazon-ebs" "debian" {
  region              = "us-east-1"
  custom_endpoint_ec2 = "${emu.endpoint}"
  access_key          = "AKIAKILNE2E"
  secret_key          = "${SECRET}"
  source_ami          = "${baseAmi}"
  instance_type       = "t3.micro"
  ssh_username        = "admin"
  ssh_timeout         = "2m"
  ami_name            = "${opts.amiName}"
  ami_description     = "kiln e2e"
  tags = {
    Team   = "platform"
    Source = "{{ .SourceAMIName }}"
  }
  run_tags = {
    Purpose = "kiln-e2e"
  }
  aws_polling {
    delay_seconds = 0.2
  }
  ${opts.extra ?? ''}
}
build {
  sources = ["source.amazon-ebs.debian"]
${opts.provisioners}
  post-processor "manifest" {
    output = "manifest.json"
  }
}
`;
}

/** What the account holds beyond the base AMI and terminated instances: must be nothing temporary. */
function leftovers() {
  const s = emu.state();
  return {
    instances: s.instances.filter((i) => i.state !== 'terminated').map((i) => `${i.id} ${i.state}`),
    securityGroups: s.securityGroups.filter((g) => g.name !== 'default').map((g) => g.name),
    keyPairs: s.keyPairs.map((k) => k.name),
  };
}

const env = (dir: string) => ({ KILN_STATE_DIR: join(dir, 'state'), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: '1' });

/** Every file kiln wrote under dir (logs, manifest, ledger), as text: all but the template. */
function everythingWritten(dir: string): string {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (!p.endsWith('.pkr.hcl')) out.push(readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return out.join('\n');
}

describe.skipIf(skip)('amazon-ebs builder (EC2 emulator)', () => {
  it('builds an AMI holding what the provisioners wrote, tagged, and leaves nothing temporary behind', async () => {
    const ws = workspace({
      'golden.pkr.hcl': template({
        amiName: 'golden-e2e-1',
        provisioners: `  provisioner "shell" {
    inline = ["echo baked-by-kiln | sudo tee /etc/golden-marker", "sudo mkdir -p /opt/app"]
  }
  provisioner "file" {
    source      = "app.conf"
    destination = "/tmp/app.conf"
  }
  provisioner "shell" {
    inline = ["sudo mv /tmp/app.conf /opt/app/app.conf"]
  }`,
      }),
      'app.conf': 'listen = 8080\n',
    });
    try {
      const r = await kilnAsync(['build', 'golden.pkr.hcl'], { cwd: ws.dir, env: env(ws.dir) });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('amazon-ebs.debian: Found Image ID: ' + baseAmi);
      expect(r.stdout).toMatch(/amazon-ebs\.debian: Creating temporary keypair: kiln_/);
      expect(r.stdout).toContain('Authorizing access to port 22 from [0.0.0.0/0]');
      const ami = /AMIs were created:\s+us-east-1: (ami-[0-9a-f]+)/.exec(r.stdout)?.[1];
      expect(ami, r.stdout).toBeDefined();

      const manifest = JSON.parse(readFileSync(join(ws.dir, 'manifest.json'), 'utf8')) as { builds: { artifact_id: string; builder_type: string }[] };
      expect(manifest.builds[0]).toMatchObject({ artifact_id: `us-east-1:${ami}`, builder_type: 'amazon-ebs' });

      const image = emu.state().images.find((i) => i.id === ami)!;
      expect(image).toMatchObject({ name: 'golden-e2e-1', state: 'available', tags: { Team: 'platform', Source: 'debian-12-amd64-base' } });
      expect(leftovers()).toEqual({ instances: [], securityGroups: [], keyPairs: [] });
      const built = emu.state().instances.find((i) => i.imageId === baseAmi)!;
      expect(built.tags).toMatchObject({ Name: 'Packer Builder', Purpose: 'kiln-e2e' });

      // The AMI really holds the build's changes: an instance launched from it has them.
      const { EC2Client, RunInstancesCommand, TerminateInstancesCommand } = await import('@aws-sdk/client-ec2');
      const ec2 = new EC2Client({ region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'AKIAKILNE2E', secretAccessKey: 'x' } });
      const run = await ec2.send(new RunInstancesCommand({ ImageId: ami, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }));
      const id = run.Instances![0]!.InstanceId!;
      try {
        for (let i = 0; i < 100 && emu.state().instances.find((x) => x.id === id)?.state !== 'running'; i++) await new Promise((res) => setTimeout(res, 100));
        expect(await emu.execInInstance(id, 'cat /etc/golden-marker /opt/app/app.conf')).toBe('baked-by-kiln\nlisten = 8080\n');
      } finally {
        await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
        ec2.destroy();
      }

      expect(r.stdout + r.stderr).not.toContain(SECRET);
      expect(everythingWritten(ws.dir)).not.toContain(SECRET);
    } finally {
      ws.cleanup();
    }
  }, 300_000);

  it('encrypt_boot, ami_regions and region_kms_key_ids: one encrypted AMI per region, tagged and shared; the unencrypted step is gone', async () => {
    const ws = workspace({
      'enc.pkr.hcl': template({
        amiName: 'golden-e2e-enc',
        provisioners: '  provisioner "shell" {\n    inline = ["echo encrypted | sudo tee /etc/golden-marker"]\n  }',
        extra: `encrypt_boot = true
  kms_key_id = "alias/golden-us-east-1"
  ami_regions = ["us-west-2", "eu-west-1"]
  region_kms_key_ids = {
    "us-west-2" = "alias/golden-us-west-2"
    "eu-west-1" = ""
  }
  ami_users = ["210987654321"]
  snapshot_users = ["210987654321"]
  snapshot_tags = {
    Name = "golden-snap"
  }
  subnet_filter {
    filters = {
      "default-for-az" = "true"
    }
    most_free = true
  }`,
      }),
    });
    try {
      const r = await kilnAsync(['build', 'enc.pkr.hcl'], { cwd: ws.dir, env: env(ws.dir) });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const created = /AMIs were created:\neu-west-1: (ami-\w+)\nus-east-1: (ami-\w+)\nus-west-2: (ami-\w+)\n/.exec(r.stdout);
      expect(created, r.stdout).not.toBeNull();
      const [, eu, us, usw] = created!;
      const manifest = JSON.parse(readFileSync(join(ws.dir, 'manifest.json'), 'utf8')) as { builds: { artifact_id: string }[] };
      expect(manifest.builds[0]!.artifact_id).toBe(`eu-west-1:${eu},us-east-1:${us},us-west-2:${usw}`);

      const { EC2Client, DescribeImagesCommand, DescribeSnapshotsCommand } = await import('@aws-sdk/client-ec2');
      const kms: Record<string, string> = { 'us-east-1': 'alias/golden-us-east-1', 'us-west-2': 'alias/golden-us-west-2', 'eu-west-1': 'alias/aws/ebs' };
      for (const [region, id] of [['eu-west-1', eu], ['us-east-1', us], ['us-west-2', usw]] as const) {
        const ec2 = new EC2Client({ region, endpoint: emu.endpoint, credentials: { accessKeyId: 'AKIAKILNE2E', secretAccessKey: 'x' } });
        try {
          const images = (await ec2.send(new DescribeImagesCommand({ Owners: ['self'] }))).Images ?? [];
          // Only the encrypted AMI: the unencrypted step was deleted.
          expect(images.map((i) => i.Name).filter((n) => n === 'golden-e2e-enc' || n?.startsWith('kiln-unencrypted-'))).toEqual(['golden-e2e-enc']);
          const image = images.find((i) => i.ImageId === id)!;
          expect(image.BlockDeviceMappings?.[0]?.Ebs?.Encrypted).toBe(true);
          expect(Object.fromEntries((image.Tags ?? []).map((t) => [t.Key, t.Value]))).toMatchObject({ Team: 'platform', Source: 'debian-12-amd64-base' });
          const snap = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [image.BlockDeviceMappings![0]!.Ebs!.SnapshotId!] }))).Snapshots![0]!;
          expect(snap).toMatchObject({ Encrypted: true, KmsKeyId: kms[region] });
          expect(Object.fromEntries((snap.Tags ?? []).map((t) => [t.Key, t.Value]))).toMatchObject({ Name: 'golden-snap' });
          expect(emu.state().images.find((i) => i.id === id)).toMatchObject({ launchPermission: { userIds: ['210987654321'] } });
          expect(emu.state().snapshots.find((x) => x.id === snap.SnapshotId)).toMatchObject({ createVolumeUserIds: ['210987654321'], tags: { 'kiln-run-id': expect.any(String) } });
        } finally {
          ec2.destroy();
        }
      }
      expect(leftovers()).toEqual({ instances: [], securityGroups: [], keyPairs: [] });
    } finally {
      ws.cleanup();
    }
  }, 300_000);

  it('source_ami_filter with most_recent picks the newest match; user_data reaches the instance; force_deregister replaces an AMI of the same name', async () => {
    const older = await emu.registerImage({ name: 'debian-12-amd64-20250101', ownerId: '136693071363', creationDate: new Date('2025-01-01T00:00:00Z') });
    const newer = await emu.registerImage({ name: 'debian-12-amd64-20260101', ownerId: '136693071363', creationDate: new Date('2026-01-01T00:00:00Z') });
    const previous = await emu.registerImage({ name: 'golden-e2e-replace', ownerId: emu.accountId });
    const text = template({ amiName: 'golden-e2e-replace', provisioners: '  provisioner "shell" {\n    inline = ["true"]\n  }', extra: 'force_deregister = true\n  user_data = "#cloud-config\\nhostname: golden\\n"' })
      .replace(`  source_ami          = "${baseAmi}"\n`, '  source_ami_filter {\n    filters = {\n      name = "debian-12-amd64-2*"\n    }\n    owners      = ["136693071363"]\n    most_recent = true\n  }\n');
    const ws = workspace({ 'filter.pkr.hcl': text });
    try {
      const r = await kilnAsync(['build', 'filter.pkr.hcl'], { cwd: ws.dir, env: env(ws.dir) });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(`Found Image ID: ${newer}`);
      expect(r.stdout).not.toContain(older);
      expect(r.stdout).toContain(`Deregistered AMI golden-e2e-replace, id: ${previous}`);
      const built = emu.state().instances.find((i) => i.imageId === newer)!;
      // EC2 keeps user data base64-encoded, as RunInstances takes it.
      expect(Buffer.from(built.userData!, 'base64').toString()).toBe('#cloud-config\nhostname: golden\n');
      const named = emu.state().images.filter((i) => i.name === 'golden-e2e-replace');
      expect(named.map((i) => i.id)).not.toContain(previous);
      expect(named).toHaveLength(1);
      expect(leftovers()).toEqual({ instances: [], securityGroups: [], keyPairs: [] });
    } finally {
      ws.cleanup();
    }
  }, 300_000);

  it('skip_create_ami provisions and cleans up without making an AMI; an existing key pair and security group are used, not deleted', async () => {
    const { EC2Client, ImportKeyPairCommand, CreateSecurityGroupCommand, AuthorizeSecurityGroupIngressCommand, DeleteKeyPairCommand, DeleteSecurityGroupCommand } = await import('@aws-sdk/client-ec2');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const ssh2 = (await import('ssh2')).default;
    const keys = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'mine' });
    const keyDir = mkdtempSync(join(tmpdir(), 'kiln-e2e-key-'));
    writeFileSync(join(keyDir, 'id'), keys.private, { mode: 0o600 });
    const ec2 = new EC2Client({ region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'AKIAKILNE2E', secretAccessKey: 'x' } });
    await ec2.send(new ImportKeyPairCommand({ KeyName: 'team-key', PublicKeyMaterial: Buffer.from(keys.public) }));
    const sg = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'team-ssh', Description: 'ssh' }))).GroupId!;
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: sg, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }] }));
    const ws = workspace({
      'skip.pkr.hcl': template({
        amiName: 'golden-e2e-skip',
        provisioners: '  provisioner "shell" {\n    inline = ["echo provisioned"]\n  }',
        extra: `skip_create_ami = true\n  ssh_keypair_name = "team-key"\n  ssh_private_key_file = "${join(keyDir, 'id')}"\n  security_group_id = "${sg}"`,
      }),
    });
    try {
      const r = await kilnAsync(['build', 'skip.pkr.hcl'], { cwd: ws.dir, env: env(ws.dir) });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('provisioned');
      expect(r.stdout).not.toContain('Creating temporary keypair');
      expect(r.stdout).not.toContain('Creating temporary security group');
      expect(emu.state().images.filter((i) => i.name === 'golden-e2e-skip')).toEqual([]);
      expect(emu.state().instances.filter((i) => i.state !== 'terminated')).toEqual([]);
      expect(emu.state().keyPairs.map((k) => k.name)).toEqual(['team-key']);
      expect(emu.state().securityGroups.map((g) => g.name)).toContain('team-ssh');
    } finally {
      ws.cleanup();
      await ec2.send(new DeleteKeyPairCommand({ KeyName: 'team-key' }));
      await ec2.send(new DeleteSecurityGroupCommand({ GroupId: sg }));
      ec2.destroy();
      rmSync(keyDir, { recursive: true, force: true });
    }
  }, 300_000);

  it('deletes the volumes EC2 keeps after termination (DeleteOnTermination false in the source AMI), as Packer does', async () => {
    const keeps = await emu.registerImage({ name: 'debian-12-keeps-root', ownerId: '136693071363', rootDeleteOnTermination: false });
    const ws = workspace({ 'vols.pkr.hcl': template({ amiName: 'golden-e2e-volumes', provisioners: '' }).replace(`source_ami          = "${baseAmi}"`, `source_ami          = "${keeps}"`) });
    try {
      const r = await kilnAsync(['build', 'vols.pkr.hcl'], { cwd: ws.dir, env: env(ws.dir) });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('Cleaning up any extra volumes...');
      expect(emu.state().volumes).toEqual([]);
      expect(leftovers()).toEqual({ instances: [], securityGroups: [], keyPairs: [] });
    } finally {
      ws.cleanup();
    }
  }, 300_000);

  it('a temporary_key_pair_name already taken fails the build and leaves the key pair that had the name', async () => {
    const { EC2Client, ImportKeyPairCommand, DeleteKeyPairCommand } = await import('@aws-sdk/client-ec2');
    const ssh2 = (await import('ssh2')).default;
    const ec2 = new EC2Client({ region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'AKIAKILNE2E', secretAccessKey: 'x' } });
    await ec2.send(new ImportKeyPairCommand({ KeyName: 'ci-key', PublicKeyMaterial: Buffer.from(ssh2.utils.generateKeyPairSync('ed25519').public) }));
    const ws = workspace({ 'taken.pkr.hcl': template({ amiName: 'golden-e2e-taken-key', provisioners: '', extra: 'temporary_key_pair_name = "ci-key"' }) });
    try {
      const r = await kilnAsync(['build', 'taken.pkr.hcl'], { cwd: ws.dir, env: env(ws.dir) });
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toContain('EC2 ImportKeyPair failed: InvalidKeyPair.Duplicate');
      expect(emu.state().keyPairs.map((k) => k.name)).toEqual(['ci-key']);
    } finally {
      ws.cleanup();
      await ec2.send(new DeleteKeyPairCommand({ KeyName: 'ci-key' }));
      ec2.destroy();
    }
  }, 120_000);

  it('a failing provisioner leaves no instance, security group, key pair or AMI', async () => {
    const ws = workspace({
      'fail.pkr.hcl': template({ amiName: 'golden-e2e-fail', provisioners: '  provisioner "shell" {\n    inline = ["echo about to fail", "exit 3"]\n  }' }),
    });
    try {
      const r = await kilnAsync(['build', 'fail.pkr.hcl'], { cwd: ws.dir, env: env(ws.dir) });
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toContain('Script exited with non-zero exit status: 3');
      expect(r.stdout).toContain('Terminating the source AWS instance...');
      expect(leftovers()).toEqual({ instances: [], securityGroups: [], keyPairs: [] });
      expect(emu.state().images.filter((i) => i.name === 'golden-e2e-fail')).toEqual([]);
    } finally {
      ws.cleanup();
    }
  }, 300_000);

  it('an EC2 error while creating the AMI is reported with its code, and nothing is left', async () => {
    const ws = workspace({ 'ami-fails.pkr.hcl': template({ amiName: 'golden-e2e-ami-fails', provisioners: '  provisioner "shell" {\n    inline = ["true"]\n  }' }) });
    try {
      emu.failNext('CreateImage', 'InvalidParameterValue', 'the emulator refuses this one');
      const r = await kilnAsync(['build', 'ami-fails.pkr.hcl'], { cwd: ws.dir, env: env(ws.dir) });
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toContain('EC2 CreateImage failed: InvalidParameterValue: the emulator refuses this one');
      expect(leftovers()).toEqual({ instances: [], securityGroups: [], keyPairs: [] });
      expect(emu.state().images.filter((i) => i.name === 'golden-e2e-ami-fails')).toEqual([]);
    } finally {
      ws.cleanup();
    }
  }, 300_000);

  it('refuses an AMI name already in use before creating anything, naming the AMI that has it', async () => {
    const own = await emu.registerImage({ name: 'golden-taken', ownerId: emu.accountId });
    const ws = workspace({ 'dup.pkr.hcl': template({ amiName: 'golden-taken', provisioners: '' }) });
    try {
      const before = emu.state().instances.length;
      const r = await kilnAsync(['build', 'dup.pkr.hcl'], { cwd: ws.dir, env: env(ws.dir) });
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toContain(`AMI Name: 'golden-taken' is used by an existing AMI: ${own}`);
      expect(emu.state().instances.length).toBe(before);
      expect(leftovers()).toEqual({ instances: [], securityGroups: [], keyPairs: [] });
    } finally {
      ws.cleanup();
    }
  }, 120_000);

  it('Ctrl-C while provisioning terminates the instance and deletes the group and key pair before kiln exits', async () => {
    const ws = workspace({
      'int.pkr.hcl': template({ amiName: 'golden-e2e-int', provisioners: '  provisioner "shell" {\n    inline = ["echo provisioning-started", "sleep 600"]\n  }' }),
    });
    try {
      const p = kilnProcess(['build', 'int.pkr.hcl'], { cwd: ws.dir, env: env(ws.dir) });
      let out = '';
      p.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
      for (let i = 0; i < 2400 && !out.includes('provisioning-started'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain('provisioning-started');
      p.kill('SIGINT');
      const code = await new Promise((r) => p.on('close', r));
      expect(code, out).toBe(130);
      expect(out).toContain('Terminating the source AWS instance...');
      expect(leftovers()).toEqual({ instances: [], securityGroups: [], keyPairs: [] });
      expect(emu.state().images.filter((i) => i.name === 'golden-e2e-int')).toEqual([]);
    } finally {
      ws.cleanup();
    }
  }, 300_000);

  it('after SIGKILL mid-build, kiln cleanup terminates the instance and deletes the group and key pair', async () => {
    const ws = workspace({
      'slow.pkr.hcl': template({ amiName: 'golden-e2e-killed', provisioners: '  provisioner "shell" {\n    inline = ["echo provisioning-started", "sleep 600"]\n  }' }),
    });
    try {
      const p = kilnProcess(['build', 'slow.pkr.hcl'], { cwd: ws.dir, env: env(ws.dir) });
      let out = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the provisioner never started:\n${out}`)), 240_000);
        p.stdout.on('data', (c: Buffer) => {
          out += c.toString('utf8');
          if (out.includes('provisioning-started')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      p.kill('SIGKILL');
      await new Promise((r) => p.on('close', r));
      expect(leftovers().instances).toHaveLength(1);
      expect(leftovers().keyPairs).toHaveLength(1);

      const dry = await kilnAsync(['cleanup', '--dry-run'], { cwd: ws.dir, env: env(ws.dir) });
      expect(dry.stdout).toMatch(/EC2 instance from ami-/);
      const r = await kilnAsync(['cleanup'], { cwd: ws.dir, env: { ...env(ws.dir), AWS_ACCESS_KEY_ID: 'AKIAKILNE2E', AWS_SECRET_ACCESS_KEY: 'x' } });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(leftovers()).toEqual({ instances: [], securityGroups: [], keyPairs: [] });
    } finally {
      ws.cleanup();
    }
  }, 300_000);
});
