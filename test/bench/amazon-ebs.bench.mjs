// amazon-ebs, kiln against Packer 1.6.6: the same template (an instance from a source AMI, a
// shell provisioner, a 16 MiB file and a 300-file tree uploaded, then the AMI) on the same EC2
// emulator, whose instances are sshd in containers. Both poll EC2 every second
// (AWS_POLL_DELAY_SECONDS=1, which both read), so waiting for states costs them alike; the
// difference is each tool's own work, its SSH and its transfers. Alternating, median of 3.
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { join } from 'node:path';
import { compare, KILN } from './harness.mjs';
import { startEmulator } from './ec2-emulator.mjs';
import { scratch } from './templates.mjs';

const emu = await startEmulator();
const dir = scratch('amazon-ebs');
writeFileSync(join(dir, 'payload.bin'), randomFillSync(Buffer.alloc(16 << 20)));
mkdirSync(join(dir, 'site'));
for (let i = 0; i < 300; i++) writeFileSync(join(dir, 'site', `page${i}.html`), randomFillSync(Buffer.alloc(2048)).toString('base64'));
let n = 0;
const template = () =>
  `source "amazon-ebs" "debian" {
  region                     = "us-east-1"
  custom_endpoint_ec2        = "${emu.endpoint}"
  access_key                 = "AKIABENCH"
  secret_key                 = "not-a-real-secret"
  skip_credential_validation = true
  source_ami                 = "${emu.ami}"
  instance_type              = "t3.micro"
  ssh_username               = "admin"
  ami_name                   = "bench-${n++}"
}
build {
  sources = ["source.amazon-ebs.debian"]
  provisioner "shell" {
    inline = ["sudo mkdir -p /opt/app && sudo chown admin /opt/app"]
  }
  provisioner "file" {
    source      = "payload.bin"
    destination = "/opt/app/payload.bin"
  }
  provisioner "file" {
    source      = "site"
    destination = "/opt/app"
  }
  provisioner "shell" {
    inline = ["sha256sum /opt/app/payload.bin", "ls /opt/app/site | wc -l"]
  }
}
`;
const file = join(dir, 't.pkr.hcl');
const env = { AWS_POLL_DELAY_SECONDS: '1', CHECKPOINT_DISABLE: '1', KILN_STATE_DIR: join(dir, 'state'), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: '1' };
// Each build makes an AMI: a fresh name every time, or the second would be refused.
const prepare = () => writeFileSync(file, template());
try {
  const r = compare({ name: 'amazon-ebs build on the EC2 emulator (16 MiB + 300 files)', kiln: ['node', KILN, 'build', file], peer: ['packer', 'build', file], runs: Number(process.env.RUNS ?? 3), warmup: 1, prepare, opts: { cwd: dir, env } });
  console.log(`${r.ratio <= 1 ? 'INFO' : 'INFO (slower)'} amazon-ebs build: kiln ${r.kilnMs} ms, packer ${r.peerMs} ms, ratio ${r.ratio}`);
} finally {
  await emu.stop();
}
