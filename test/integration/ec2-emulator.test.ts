/**
 * The EC2 emulator (test/emulators/ec2) through the official SDK, as the amazon-ebs builder uses
 * it: a key pair imported, an instance run and logged into over real SSH (host key stable across
 * stop/start), a file written, the instance imaged, a new instance launched from the AMI holding
 * the file; the SDK's waiters, EC2's error codes, filters and owners, and nothing left by stop().
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthorizeSecurityGroupIngressCommand,
  CopyImageCommand,
  CreateImageCommand,
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteKeyPairCommand,
  DeleteSecurityGroupCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeAvailabilityZonesCommand,
  DescribeImagesCommand,
  type DescribeImagesCommandInput,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeRegionsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
  ImportKeyPairCommand,
  ModifyImageAttributeCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  waitUntilImageAvailable,
  waitUntilInstanceRunning,
  waitUntilInstanceStopped,
  waitUntilInstanceTerminated,
} from '@aws-sdk/client-ec2';
import { Client } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../helpers/components.js';
import { EC2_BASE_IMAGE } from '../helpers/ec2.js';
import { type Ec2Emulator, startEc2Emulator } from '../emulators/ec2/index.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = '1';

const skip = skipWithout(EC2_BASE_IMAGE);
const DEBIAN = '136693071363';
const waitOpts = (client: EC2Client) => ({ client, maxWaitTime: 60, minDelay: 0.2, maxDelay: 0.5 });

let emu: Ec2Emulator;
let ec2: EC2Client;
let keyDir: string;
let privateKey: string;
let baseAmi: string;

function sshKeygen(dir: string): { priv: string; pub: string } {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test', '-f', join(dir, 'id')]);
  return { priv: readFileSync(join(dir, 'id'), 'utf8'), pub: readFileSync(join(dir, 'id.pub'), 'utf8') };
}

/** Runs a command over SSH; resolves with its output and the server's host key. */
function ssh(host: string, user: string, key: string, command: string): Promise<{ out: string; hostKey: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    let hostKey = '';
    c.on('ready', () => {
      c.exec(command, (err, stream) => {
        if (err) return reject(err);
        let out = '';
        stream.on('data', (d: Buffer) => (out += d.toString()));
        stream.stderr.on('data', (d: Buffer) => (out += d.toString()));
        stream.on('close', (code: number | null) => {
          c.end();
          resolve({ out, hostKey, code });
        });
      });
    });
    c.on('error', reject);
    c.connect({
      host,
      port: 22,
      username: user,
      privateKey: key,
      readyTimeout: 10_000,
      hostVerifier: (k: Buffer) => {
        hostKey = k.toString('base64');
        return true;
      },
    });
  });
}

async function instance(id: string) {
  const r = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  return r.Reservations![0]!.Instances![0]!;
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** conmon (or anything) still running with the emulator's storage on its command line. */
async function processesMentioning(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(dir)) found.push(`${pid}: ${cmd.replaceAll('\0', ' ')}`);
  }
  return found;
}

beforeAll(async () => {
  if (skip) return;
  emu = await startEc2Emulator();
  ec2 = new EC2Client({ endpoint: emu.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'fake-secret' }, maxAttempts: 1 });
  keyDir = mkdtempSync(join(tmpdir(), 'kiln-ec2-test-'));
  const k = sshKeygen(keyDir);
  privateKey = k.priv;
  await ec2.send(new ImportKeyPairCommand({ KeyName: 'test-ed25519', PublicKeyMaterial: Buffer.from(k.pub) }));
  baseAmi = await emu.registerImage({ name: 'debian-12-amd64-20240101-1609', ownerId: DEBIAN, description: 'Debian 12 (20240101-1609)', tags: { os: 'debian' }, creationDate: new Date('2024-01-01T00:00:00Z') });
}, 120_000);

afterAll(async () => {
  ec2?.destroy();
  await emu?.stop();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

describe.skipIf(skip)('EC2 emulator through @aws-sdk/client-ec2', () => {
  it('describes regions, zones and the default VPC with one default subnet per zone', async () => {
    const regions = await ec2.send(new DescribeRegionsCommand({}));
    expect(regions.Regions!.map((r) => r.RegionName)).toContain('us-east-1');
    const zones = await ec2.send(new DescribeAvailabilityZonesCommand({}));
    expect(zones.AvailabilityZones!.map((z) => z.ZoneName)).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    expect(zones.AvailabilityZones![0]!.State).toBe('available');
    const vpcs = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }));
    expect(vpcs.Vpcs).toHaveLength(1);
    expect(vpcs.Vpcs![0]).toMatchObject({ IsDefault: true, CidrBlock: '172.31.0.0/16' });
    const subnets = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcs.Vpcs![0]!.VpcId!] }] }));
    expect(subnets.Subnets!.map((s) => s.AvailabilityZone).sort()).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    expect(subnets.Subnets!.every((s) => s.DefaultForAz && s.MapPublicIpOnLaunch)).toBe(true);
  });

  it('key pairs: import and create (rsa, ed25519), duplicates, delete by name or id, missing ones', async () => {
    const listed = await ec2.send(new DescribeKeyPairsCommand({ KeyNames: ['test-ed25519'] }));
    expect(listed.KeyPairs![0]).toMatchObject({ KeyName: 'test-ed25519', KeyType: 'ed25519' });
    expect(listed.KeyPairs![0]!.KeyPairId).toMatch(/^key-[0-9a-f]{17}$/);
    await expect(ec2.send(new ImportKeyPairCommand({ KeyName: 'test-ed25519', PublicKeyMaterial: Buffer.from('ssh-ed25519 AAAA') }))).rejects.toMatchObject({ name: 'InvalidKeyPair.Duplicate' });
    await expect(ec2.send(new ImportKeyPairCommand({ KeyName: 'bad', PublicKeyMaterial: Buffer.from('not a key') }))).rejects.toMatchObject({ name: 'InvalidKey.Format' });
    const rsa = await ec2.send(new CreateKeyPairCommand({ KeyName: 'made-rsa' }));
    expect(rsa.KeyMaterial).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(rsa.KeyFingerprint).toMatch(/^([0-9a-f]{2}:){19}[0-9a-f]{2}$/);
    const ed = await ec2.send(new CreateKeyPairCommand({ KeyName: 'made-ed', KeyType: 'ed25519' }));
    expect(ed.KeyMaterial).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----/);
    await ec2.send(new DeleteKeyPairCommand({ KeyName: 'made-rsa' }));
    await ec2.send(new DeleteKeyPairCommand({ KeyPairId: ed.KeyPairId }));
    await ec2.send(new DeleteKeyPairCommand({ KeyName: 'never-existed' }));
    await expect(ec2.send(new DescribeKeyPairsCommand({ KeyNames: ['made-rsa'] }))).rejects.toMatchObject({ name: 'InvalidKeyPair.NotFound' });
    expect(emu.state().keyPairs.map((k) => k.name)).toEqual(['test-ed25519']);
  });

  it('DescribeImages: ids, owners (self, account ids, aliases), name wildcards and other filters', async () => {
    const own = await emu.registerImage({ name: 'own-image-1', tags: { team: 'platform' } });
    await emu.registerImage({ name: 'debian-12-amd64-20240201-1640', ownerId: DEBIAN, creationDate: new Date('2024-02-01T00:00:00Z') });
    await emu.registerImage({ name: 'al2023-ami-2023.3', ownerId: '137112412989', ownerAlias: 'amazon' });
    const names = async (input: DescribeImagesCommandInput) =>
      ((await ec2.send(new DescribeImagesCommand(input))).Images ?? []).map((i) => i.Name).sort();
    expect(await names({ Owners: ['self'] })).toEqual(['own-image-1']);
    expect(await names({ Owners: [DEBIAN], Filters: [{ Name: 'name', Values: ['debian-12-amd64-*'] }] })).toEqual(['debian-12-amd64-20240101-1609', 'debian-12-amd64-20240201-1640']);
    expect(await names({ Filters: [{ Name: 'name', Values: ['debian-12-amd64-2024?1??-1609'] }] })).toEqual(['debian-12-amd64-20240101-1609']);
    expect(await names({ Owners: ['amazon'] })).toEqual(['al2023-ami-2023.3']);
    expect(await names({ Filters: [{ Name: 'tag:team', Values: ['platform'] }] })).toEqual(['own-image-1']);
    expect(await names({ Filters: [{ Name: 'tag-key', Values: ['os'] }, { Name: 'state', Values: ['available'] }] })).toEqual(['debian-12-amd64-20240101-1609']);
    expect(await names({ Filters: [{ Name: 'owner-id', Values: [emu.accountId] }, { Name: 'image-id', Values: [own] }] })).toEqual(['own-image-1']);
    const byId = (await ec2.send(new DescribeImagesCommand({ ImageIds: [baseAmi] }))).Images![0]!;
    expect(byId).toMatchObject({ ImageId: baseAmi, OwnerId: DEBIAN, State: 'available', Public: true, RootDeviceName: '/dev/xvda', RootDeviceType: 'ebs', Architecture: 'x86_64', CreationDate: '2024-01-01T00:00:00.000Z' });
    expect(byId.BlockDeviceMappings![0]!.Ebs!.SnapshotId).toMatch(/^snap-[0-9a-f]{17}$/);
    await expect(ec2.send(new DescribeImagesCommand({ ImageIds: ['ami-0123456789abcdef0'] }))).rejects.toMatchObject({ name: 'InvalidAMIID.NotFound' });
    await expect(ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'no-such-filter', Values: ['x'] }] }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('runs an instance reachable over real SSH, images it with a file written, and launches the AMI with the file', async () => {
    const sg = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'kiln-test-ssh', Description: 'ssh', TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'run', Value: 't1' }] }] }));
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: sg.GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    await expect(ec2.send(new CreateSecurityGroupCommand({ GroupName: 'kiln-test-ssh', Description: 'again' }))).rejects.toMatchObject({ name: 'InvalidGroup.Duplicate' });
    const groups = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [sg.GroupId!] }));
    expect(groups.SecurityGroups![0]!.IpPermissions![0]).toMatchObject({ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] });

    const t0 = Date.now();
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: baseAmi,
        InstanceType: 't3.micro',
        MinCount: 1,
        MaxCount: 1,
        KeyName: 'test-ed25519',
        SecurityGroupIds: [sg.GroupId!],
        UserData: Buffer.from('#!/bin/sh\necho hi\n').toString('base64'),
        TagSpecifications: [
          { ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'Packer Builder' }] },
          { ResourceType: 'volume', Tags: [{ Key: 'v', Value: '1' }] },
        ],
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 10, DeleteOnTermination: true } }],
        NetworkInterfaces: [{ DeviceIndex: 0, AssociatePublicIpAddress: true }],
      }),
    );
    const launched = run.Instances![0]!;
    expect(launched.State).toEqual({ Code: 0, Name: 'pending' });
    const id = launched.InstanceId!;
    expect(id).toMatch(/^i-[0-9a-f]{17}$/);
    await waitUntilInstanceRunning(waitOpts(ec2), { InstanceIds: [id] });
    const toRunning = Date.now() - t0;
    const inst = await instance(id);
    expect(inst).toMatchObject({ State: { Code: 16, Name: 'running' }, KeyName: 'test-ed25519', InstanceType: 't3.micro', ImageId: baseAmi, Tags: [{ Key: 'Name', Value: 'Packer Builder' }] });
    expect(inst.SecurityGroups).toEqual([{ GroupId: sg.GroupId, GroupName: 'kiln-test-ssh' }]);
    const ip = inst.PublicIpAddress!;
    expect(ip).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(inst.PrivateIpAddress).toBe(ip);
    expect(inst.BlockDeviceMappings![0]!.Ebs!.VolumeId).toMatch(/^vol-/);
    expect(emu.state().instances.find((i) => i.id === id)!.userData).toBe(Buffer.from('#!/bin/sh\necho hi\n').toString('base64'));

    const first = await ssh(ip, 'admin', privateKey, 'id -un && sudo -n id -u && echo baked-in-ami | sudo tee /etc/kiln-marker >/dev/null && cat /var/lib/cloud/instance/user-data.txt');
    expect(first.out).toBe('admin\n0\n#!/bin/sh\necho hi\n');
    expect((await ssh(ip, 'root', privateKey, 'cat /etc/kiln-marker')).out).toBe('baked-in-ami\n');

    // The group is in use: EC2 refuses to delete it.
    await expect(ec2.send(new DeleteSecurityGroupCommand({ GroupId: sg.GroupId }))).rejects.toMatchObject({ name: 'DependencyViolation' });

    // Stop: the host key and the address survive a stop/start.
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    await waitUntilInstanceStopped(waitOpts(ec2), { InstanceIds: [id] });
    expect(await tcpOpen(ip, 22)).toBe(false);
    await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
    await waitUntilInstanceRunning(waitOpts(ec2), { InstanceIds: [id] });
    const again = await ssh(ip, 'admin', privateKey, 'cat /etc/kiln-marker');
    expect(again.out).toBe('baked-in-ami\n');
    expect(again.hostKey).toBe(first.hostKey);
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    await waitUntilInstanceStopped(waitOpts(ec2), { InstanceIds: [id] });

    // The AMI: a snapshot of the stopped instance's filesystem.
    const t1 = Date.now();
    const created = await ec2.send(
      new CreateImageCommand({
        InstanceId: id,
        Name: 'kiln-test-ami-1',
        Description: 'made by the test',
        TagSpecifications: [
          { ResourceType: 'image', Tags: [{ Key: 'built-by', Value: 'kiln' }] },
          { ResourceType: 'snapshot', Tags: [{ Key: 'snap', Value: 'yes' }] },
        ],
      }),
    );
    const ami = created.ImageId!;
    await waitUntilImageAvailable(waitOpts(ec2), { ImageIds: [ami] });
    const imaging = Date.now() - t1;
    await expect(ec2.send(new CreateImageCommand({ InstanceId: id, Name: 'kiln-test-ami-1' }))).rejects.toMatchObject({ name: 'InvalidAMIName.Duplicate' });
    const image = (await ec2.send(new DescribeImagesCommand({ ImageIds: [ami] }))).Images![0]!;
    expect(image).toMatchObject({ Name: 'kiln-test-ami-1', Description: 'made by the test', OwnerId: emu.accountId, State: 'available', Tags: [{ Key: 'built-by', Value: 'kiln' }] });
    const snapId = image.BlockDeviceMappings![0]!.Ebs!.SnapshotId!;
    expect(image.BlockDeviceMappings![0]).toMatchObject({ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 10 } });
    const snaps = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'description', Values: [`Created by CreateImage(${id}) for ${ami}`] }] }));
    expect(snaps.Snapshots!.map((s) => s.SnapshotId)).toEqual([snapId]);
    expect(snaps.Snapshots![0]).toMatchObject({ State: 'completed', Tags: [{ Key: 'snap', Value: 'yes' }] });
    await ec2.send(new ModifyImageAttributeCommand({ ImageId: ami, LaunchPermission: { Add: [{ UserId: '210987654321' }] } }));
    expect(emu.state().images.find((i) => i.id === ami)!.launchPermission.userIds).toEqual(['210987654321']);

    const run2 = await ec2.send(new RunInstancesCommand({ ImageId: ami, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, KeyName: 'test-ed25519' }));
    const id2 = run2.Instances![0]!.InstanceId!;
    await waitUntilInstanceRunning(waitOpts(ec2), { InstanceIds: [id2] });
    const inst2 = await instance(id2);
    expect(inst2.PublicIpAddress).not.toBe(ip);
    const fromAmi = await ssh(inst2.PublicIpAddress!, 'admin', privateKey, 'cat /etc/kiln-marker');
    expect(fromAmi.out).toBe('baked-in-ami\n');
    // A new instance has host keys of its own, as cloud-init gives it.
    expect(fromAmi.hostKey).not.toBe(first.hostKey);
    expect(await emu.execInInstance(id2, 'cat /etc/kiln-marker')).toBe('baked-in-ami\n');

    // Snapshots outlive their AMI, and cannot go while it is registered.
    await expect(ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapId }))).rejects.toMatchObject({ name: 'InvalidSnapshot.InUse' });
    await ec2.send(new DeregisterImageCommand({ ImageId: ami }));
    await ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapId }));

    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id, id2] }));
    await waitUntilInstanceTerminated(waitOpts(ec2), { InstanceIds: [id, id2] });
    expect((await instance(id)).State).toEqual({ Code: 48, Name: 'terminated' });
    expect(await tcpOpen(inst2.PublicIpAddress!, 22)).toBe(false);
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: sg.GroupId }));
    expect(emu.state().securityGroups.map((g) => g.name)).toEqual(['default', 'default', 'default']);
    process.stderr.write(`ec2 emulator: RunInstances → running ${toRunning} ms; CreateImage (stopped instance) → available ${imaging} ms\n`);
    expect(toRunning).toBeLessThan(5000);
  }, 120_000);

  it('CreateImage of a running instance reboots it (it ends up running) and CopyImage copies the AMI to another region', async () => {
    const r = await ec2.send(new RunInstancesCommand({ ImageId: baseAmi, MinCount: 1, MaxCount: 1, KeyName: 'test-ed25519', NetworkInterfaces: [{ DeviceIndex: 0, AssociatePublicIpAddress: false }] }));
    const id = r.Instances![0]!.InstanceId!;
    await waitUntilInstanceRunning(waitOpts(ec2), { InstanceIds: [id] });
    const inst = await instance(id);
    // No public address asked for: only the private one.
    expect(inst.PublicIpAddress).toBeUndefined();
    await emu.execInInstance(id, 'echo rebooted-into-ami >/etc/kiln-reboot');
    const t0 = Date.now();
    const { ImageId } = await ec2.send(new CreateImageCommand({ InstanceId: id, Name: 'kiln-test-reboot' }));
    await waitUntilImageAvailable(waitOpts(ec2), { ImageIds: [ImageId!] });
    const imaging = Date.now() - t0;
    await waitUntilInstanceRunning(waitOpts(ec2), { InstanceIds: [id] });
    expect((await ssh(inst.PrivateIpAddress!, 'admin', privateKey, 'cat /etc/kiln-reboot')).out).toBe('rebooted-into-ami\n');

    const west = new EC2Client({ endpoint: emu.endpoint, region: 'us-west-2', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' }, maxAttempts: 1 });
    try {
      const copy = await west.send(new CopyImageCommand({ SourceImageId: ImageId, SourceRegion: 'us-east-1', Name: 'kiln-test-reboot' }));
      await waitUntilImageAvailable(waitOpts(west), { ImageIds: [copy.ImageId!] });
      // Regions are separate: the copy is not in us-east-1, the original not in us-west-2.
      await expect(ec2.send(new DescribeImagesCommand({ ImageIds: [copy.ImageId!] }))).rejects.toMatchObject({ name: 'InvalidAMIID.NotFound' });
      const w = await west.send(new RunInstancesCommand({ ImageId: copy.ImageId, MinCount: 1, MaxCount: 1 }));
      const wid = w.Instances![0]!.InstanceId!;
      await waitUntilInstanceRunning(waitOpts(west), { InstanceIds: [wid] });
      expect((await west.send(new DescribeInstancesCommand({ InstanceIds: [wid] }))).Reservations![0]!.Instances![0]!.Placement!.AvailabilityZone).toBe('us-west-2a');
      expect(await emu.execInInstance(wid, 'cat /etc/kiln-reboot')).toBe('rebooted-into-ami\n');
      await west.send(new TerminateInstancesCommand({ InstanceIds: [wid] }));
      await waitUntilInstanceTerminated(waitOpts(west), { InstanceIds: [wid] });
    } finally {
      west.destroy();
    }
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await waitUntilInstanceTerminated(waitOpts(ec2), { InstanceIds: [id] });
    process.stderr.write(`ec2 emulator: CreateImage of a running instance (with reboot) → available ${imaging} ms\n`);
  }, 120_000);

  it("EC2's error codes for unknown ids, and failNext", async () => {
    await expect(ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] }))).rejects.toMatchObject({ name: 'InvalidInstanceID.NotFound' });
    await expect(ec2.send(new RunInstancesCommand({ ImageId: 'ami-0123456789abcdef0', MinCount: 1, MaxCount: 1 }))).rejects.toMatchObject({ name: 'InvalidAMIID.NotFound' });
    await expect(ec2.send(new RunInstancesCommand({ ImageId: baseAmi, MinCount: 1, MaxCount: 1, KeyName: 'nope' }))).rejects.toMatchObject({ name: 'InvalidKeyPair.NotFound' });
    await expect(ec2.send(new RunInstancesCommand({ ImageId: baseAmi, MinCount: 1, MaxCount: 1, SecurityGroupIds: ['sg-0123456789abcdef0'] }))).rejects.toMatchObject({ name: 'InvalidGroup.NotFound' });
    await expect(ec2.send(new DeleteSecurityGroupCommand({ GroupId: 'sg-0123456789abcdef0' }))).rejects.toMatchObject({ name: 'InvalidGroup.NotFound' });
    await expect(ec2.send(new CreateTagsCommand({ Resources: ['i-0123456789abcdef0'], Tags: [{ Key: 'a', Value: 'b' }] }))).rejects.toMatchObject({ name: 'InvalidInstanceID.NotFound' });

    emu.failNext('DescribeImages', 'UnauthorizedOperation', 'You are not authorized to perform this operation.');
    await expect(ec2.send(new DescribeImagesCommand({ Owners: ['self'] }))).rejects.toMatchObject({ name: 'UnauthorizedOperation', message: 'You are not authorized to perform this operation.' });
    // Only the next call.
    await expect(ec2.send(new DescribeImagesCommand({ Owners: ['self'] }))).resolves.toBeDefined();
    expect(emu.calls().filter((c) => c.action === 'DescribeImages').slice(-2).map((c) => c.error)).toEqual(['UnauthorizedOperation', undefined]);
  });

  it('a request without a SigV4 signature is an AuthFailure, an unknown action an InvalidAction', async () => {
    const unsigned = await fetch(emu.endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=DescribeRegions&Version=2016-11-15' });
    expect(unsigned.status).toBe(401);
    expect(await unsigned.text()).toContain('<Code>AuthFailure</Code>');
    const anonymous = new EC2Client({ endpoint: emu.endpoint, region: 'us-east-1', signer: { sign: async (req) => req }, credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
    await expect(anonymous.send(new DescribeRegionsCommand({}))).rejects.toMatchObject({ name: 'AuthFailure' });
    anonymous.destroy();
    const signedHeader = 'AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00';
    const bogus = await fetch(emu.endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: signedHeader }, body: 'Action=LaunchRockets&Version=2016-11-15' });
    expect(bogus.status).toBe(400);
    expect(await bogus.text()).toContain('<Code>InvalidAction</Code>');
  });

  it('stop() removes every container, image and mount it made, and its storage', async () => {
    const other = await startEc2Emulator();
    const client = new EC2Client({ endpoint: other.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' }, maxAttempts: 1 });
    try {
      const ami = await other.registerImage({ name: 'base' });
      const r = await client.send(new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1 }));
      const id = r.Instances![0]!.InstanceId!;
      await waitUntilInstanceRunning(waitOpts(client), { InstanceIds: [id] });
      const ip = (await client.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!.PrivateIpAddress!;
      await other.execInInstance(id, 'touch /made-here');
      const img = await client.send(new CreateImageCommand({ InstanceId: id, Name: 'leak-check', NoReboot: true }));
      await waitUntilImageAvailable(waitOpts(client), { ImageIds: [img.ImageId!] });
      // A second instance left running, and one from the new AMI still starting.
      await client.send(new RunInstancesCommand({ ImageId: img.ImageId, MinCount: 1, MaxCount: 1 }));
      const podman = (args: string[]) => execFileSync('podman', args, { env: { ...process.env, ...other.podman.env }, encoding: 'utf8' });
      expect(podman(['ps', '-a', '--format', '{{.Names}}']).split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(1);
      expect(podman(['images', '--filter', 'readonly=false', '--format', '{{.Repository}}'])).toContain('localhost/kiln-ec2/');
      const dir = other.podman.dir;
      await other.stop();
      expect(existsSync(dir)).toBe(false);
      expect((await readFile('/proc/mounts', 'utf8')).includes(dir)).toBe(false);
      expect(await tcpOpen(ip, 22)).toBe(false);
      expect(await processesMentioning(dir)).toEqual([]);
    } finally {
      client.destroy();
      await other.stop();
    }
  }, 120_000);
});
