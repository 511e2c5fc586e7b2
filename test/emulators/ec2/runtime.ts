/**
 * Instances as podman containers: `--network host`, one OpenSSH sshd as PID 1 listening only on
 * the instance's loopback address, port 22. The container's command does at each start what
 * cloud-init does on EC2: on an instance's first boot (the instance id differs from the one
 * recorded in the filesystem — a new instance, or one launched from an AMI made of another) it
 * removes inherited host keys and installs the key pair's public key for root and the default
 * user; every boot generates missing host keys and starts sshd. Stop/start keeps the
 * container's filesystem, so host keys and everything written survive, as on an EBS volume.
 */
import { connect } from 'node:net';
import type { Podman } from './podman.js';

const BOOT_SCRIPT = `
set -e
mkdir -p /run/sshd /var/lib/kiln-ec2
if [ "$(cat /var/lib/kiln-ec2/instance-id 2>/dev/null)" != "$KILN_EC2_INSTANCE_ID" ]; then
  rm -f /etc/ssh/ssh_host_*
  if [ -n "$KILN_EC2_PUBLIC_KEY" ]; then
    for home in /root "/home/$KILN_EC2_USER"; do
      [ -d "$home" ] || continue
      owner=$(stat -c %u:%g "$home")
      mkdir -p "$home/.ssh"
      touch "$home/.ssh/authorized_keys"
      grep -qxF "$KILN_EC2_PUBLIC_KEY" "$home/.ssh/authorized_keys" || printf '%s\\n' "$KILN_EC2_PUBLIC_KEY" >>"$home/.ssh/authorized_keys"
      chmod 700 "$home/.ssh"; chmod 600 "$home/.ssh/authorized_keys"; chown -R "$owner" "$home/.ssh"
    done
  fi
  mkdir -p /var/lib/cloud/instance
  printf '%s' "$KILN_EC2_USER_DATA" | base64 -d >/var/lib/cloud/instance/user-data.txt 2>/dev/null || true
  echo "$KILN_EC2_INSTANCE_ID" >/var/lib/kiln-ec2/instance-id
fi
ssh-keygen -A >/dev/null
exec /usr/sbin/sshd -D -e -o ListenAddress="$KILN_EC2_ADDRESS" -o Port=22
`;

export interface ContainerSpec {
  instanceId: string;
  /** The podman image of the AMI. */
  image: string;
  address: string;
  hostname: string;
  /** authorized_keys line of the key pair, if the instance has one. */
  publicKey?: string;
  /** Base64, as RunInstances received it. */
  userData?: string;
}

export const containerName = (instanceId: string): string => `kiln-ec2-${instanceId}`;

export class InstanceRuntime {
  constructor(
    private readonly podman: Podman,
    private readonly defaultUser: string,
  ) {}

  /** Creates and starts the container; resolves once sshd answers with its banner. */
  async launch(spec: ContainerSpec): Promise<void> {
    await this.podman.run([
      'run',
      '--detach',
      '--pull=never',
      `--name=${containerName(spec.instanceId)}`,
      '--label=kiln-ec2-emulator=1',
      '--network=host',
      `--hostname=${spec.hostname}`,
      // sudo looks the hostname up; the host's /etc/hosts knows nothing of it.
      `--add-host=${spec.hostname}:${spec.address}`,
      `--env=KILN_EC2_INSTANCE_ID=${spec.instanceId}`,
      `--env=KILN_EC2_ADDRESS=${spec.address}`,
      `--env=KILN_EC2_USER=${this.defaultUser}`,
      `--env=KILN_EC2_PUBLIC_KEY=${spec.publicKey ?? ''}`,
      `--env=KILN_EC2_USER_DATA=${spec.userData ?? ''}`,
      spec.image,
      '/bin/sh',
      '-c',
      BOOT_SCRIPT,
    ]);
    await this.waitForSshd(spec.instanceId, spec.address);
  }

  async stop(instanceId: string): Promise<void> {
    await this.podman.run(['stop', '--time=10', containerName(instanceId)]);
  }

  async start(instanceId: string, address: string): Promise<void> {
    await this.podman.run(['start', containerName(instanceId)]);
    await this.waitForSshd(instanceId, address);
  }

  async remove(instanceId: string): Promise<void> {
    await this.podman.run(['rm', '--force', '--time=0', containerName(instanceId)]);
  }

  /** A snapshot of the container's filesystem as a new podman image. */
  async commit(instanceId: string, image: string): Promise<void> {
    await this.podman.run(['commit', '--quiet', containerName(instanceId), image]);
  }

  async tagImage(source: string, target: string): Promise<void> {
    await this.podman.run(['tag', source, target]);
  }

  /** Untags it (and removes it when that was its last name); fails while a container uses it. */
  async removeImage(image: string): Promise<void> {
    await this.podman.run(['rmi', image]);
  }

  async exec(instanceId: string, command: string): Promise<string> {
    return (await this.podman.run(['exec', containerName(instanceId), '/bin/sh', '-c', command])).stdout;
  }

  async logs(instanceId: string): Promise<string> {
    const r = await this.podman.run(['logs', containerName(instanceId)]).catch(() => ({ stdout: '', stderr: '' }));
    return `${r.stdout}${r.stderr}`;
  }

  private async waitForSshd(instanceId: string, address: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let checks = 0;
    while (Date.now() < deadline) {
      if (await sshBanner(address)) return;
      // Every second or so: has the container died (sshd failed to start)?
      if (++checks % 20 === 0) {
        const state = await this.podman.run(['inspect', '--format={{.State.Running}}', containerName(instanceId)]).catch(() => ({ stdout: 'false' }));
        if (state.stdout.trim() !== 'true') break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`sshd of ${instanceId} did not come up on ${address}:22: ${(await this.logs(instanceId)).trim().slice(-2000)}`);
  }
}

/** True once something on address:22 sends an SSH identification string. */
function sshBanner(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: address, port: 22 });
    let got = '';
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('SSH-')) done(true);
    });
    sock.on('error', () => done(false));
    sock.on('close', () => done(got.includes('SSH-')));
  });
}
