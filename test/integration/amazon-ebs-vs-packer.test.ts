/**
 * kiln's amazon-ebs against Packer 1.6.6's on the same template and the same EC2 emulator: both
 * make an AMI of that name holding the provisioner's file, report it as `region: ami-…`, and
 * leave no instance, security group or key pair. The EC2 calls that create and delete things
 * are the same ones, but for the key pair (kiln imports a key it made; Packer has EC2 make one)
 * and the tags (kiln tags resources as it creates them; Packer tags them afterwards).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kilnAsync, workspace } from '../helpers/cli.js';
import { PACKER, skipWithout } from '../helpers/components.js';
import { EC2_EMULATOR, startEc2Emulator, type Ec2Emulator } from '../emulators/ec2/index.js';

const skip = skipWithout(PACKER) || skipWithout(EC2_EMULATOR);
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

function template(amiName: string): string {
  return `source "amazon-ebs" "debian" {
  region                     = "us-east-1"
  custom_endpoint_ec2        = "${emu.endpoint}"
  access_key                 = "AKIAKILNDIFF"
  secret_key                 = "not-a-real-secret"
  skip_credential_validation = true
  source_ami                 = "${baseAmi}"
  instance_type              = "t3.micro"
  ssh_username               = "admin"
  ami_name                   = "${amiName}"
  tags = {
    Team = "platform"
  }
}
build {
  sources = ["source.amazon-ebs.debian"]
  provisioner "shell" {
    inline = ["echo from-\${source.name} | sudo tee /etc/built-by"]
  }
}
`;
}

/** Packer runs here without blocking the emulator, which answers from this process. */
function packer(args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn('packer', args, { cwd, env: { ...process.env, AWS_POLL_DELAY_SECONDS: '1', CHECKPOINT_DISABLE: '1', PACKER_NO_COLOR: '1' } });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    p.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    p.on('close', (code) => resolve({ code, out }));
  });
}

const CHANGES = /^(Create|Delete|Import|Run|Terminate|Stop|Authorize|Deregister)/;

/** What a build changed in the account, as the sequence of distinct mutating calls. */
function mutatingCalls(from: number): string[] {
  return [...new Set(emu.calls().slice(from).map((c) => c.action).filter((a) => CHANGES.test(a)))];
}

function leftovers() {
  const s = emu.state();
  return {
    instances: s.instances.filter((i) => i.state !== 'terminated').length,
    securityGroups: s.securityGroups.filter((g) => g.name !== 'default').length,
    keyPairs: s.keyPairs.length,
  };
}

async function fileInAmi(ami: string): Promise<string> {
  const { EC2Client, RunInstancesCommand, TerminateInstancesCommand } = await import('@aws-sdk/client-ec2');
  const ec2 = new EC2Client({ region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'AKIAKILNDIFF', secretAccessKey: 'x' } });
  const id = (await ec2.send(new RunInstancesCommand({ ImageId: ami, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }))).Instances![0]!.InstanceId!;
  try {
    for (let i = 0; i < 100 && emu.state().instances.find((x) => x.id === id)?.state !== 'running'; i++) await new Promise((r) => setTimeout(r, 100));
    return await emu.execInInstance(id, 'cat /etc/built-by');
  } finally {
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    ec2.destroy();
  }
}

describe.skipIf(skip)('amazon-ebs: kiln and Packer 1.6.6 on the same EC2 emulator', () => {
  it('make the same AMI, report it alike and leave the same nothing behind', async () => {
    const ws = workspace({ 'packer.pkr.hcl': template('golden-by-packer'), 'kiln.pkr.hcl': template('golden-by-kiln') });
    try {
      const beforePacker = emu.calls().length;
      const p = await packer(['build', 'packer.pkr.hcl'], ws.dir);
      expect(p.code, p.out).toBe(0);
      const packerCalls = mutatingCalls(beforePacker);
      const packerAmi = /us-east-1: (ami-[0-9a-f]+)/.exec(p.out)?.[1];
      expect(leftovers()).toEqual({ instances: 0, securityGroups: 0, keyPairs: 0 });

      const beforeKiln = emu.calls().length;
      const k = await kilnAsync(['build', 'kiln.pkr.hcl'], { cwd: ws.dir, env: { KILN_STATE_DIR: join(ws.dir, 'state'), AWS_POLL_DELAY_SECONDS: '1' } });
      expect(k.code, k.stdout + k.stderr).toBe(0);
      const kilnCalls = mutatingCalls(beforeKiln);
      const kilnAmi = /us-east-1: (ami-[0-9a-f]+)/.exec(k.stdout)?.[1];
      expect(leftovers()).toEqual({ instances: 0, securityGroups: 0, keyPairs: 0 });

      // Both summaries end the same way: Packer's artifact line, region and AMI id.
      expect(p.out).toMatch(/--> amazon-ebs\.debian: AMIs were created:\nus-east-1: ami-/);
      expect(k.stdout).toMatch(/--> amazon-ebs\.debian: AMIs were created:\nus-east-1: ami-/);
      const images = emu.state().images;
      expect(images.find((i) => i.id === packerAmi)).toMatchObject({ name: 'golden-by-packer', state: 'available', tags: { Team: 'platform' } });
      expect(images.find((i) => i.id === kilnAmi)).toMatchObject({ name: 'golden-by-kiln', state: 'available', tags: { Team: 'platform' } });
      expect(await fileInAmi(packerAmi!)).toBe('from-debian\n');
      expect(await fileInAmi(kilnAmi!)).toBe('from-debian\n');

      const same = (calls: string[]) => calls.filter((a) => !['CreateKeyPair', 'ImportKeyPair', 'CreateTags'].includes(a));
      expect(same(kilnCalls)).toEqual(same(packerCalls));
      expect(packerCalls).toContain('CreateKeyPair');
      expect(kilnCalls).toContain('ImportKeyPair');
    } finally {
      ws.cleanup();
    }
  }, 300_000);
});
