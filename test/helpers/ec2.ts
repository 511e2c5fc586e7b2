/**
 * The EC2 emulator's base image (test/emulators/ec2/): a podman image store built and cached by
 * test/setup/ami-image.sh. Its instances are rootful podman containers running sshd, so the
 * tests that start the emulator need root as well.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './cli.js';
import { commandExists, type Component } from './components.js';

/** Where test/setup/ami-image.sh keeps the base image store (override: KILN_TEST_AMI_DIR). */
export function amiCacheDir(): string {
  return process.env.KILN_TEST_AMI_DIR ?? join(homedir(), '.cache', 'kiln-test-ami');
}

/** The podman image every seeded AMI runs unless told otherwise. */
export const EC2_BASE_PODMAN_IMAGE = 'localhost/kiln-ec2-base:latest';

export const EC2_BASE_IMAGE: Component = {
  name: "the EC2 emulator's base image (~/.cache/kiln-test-ami, from test/setup/ami-image.sh, run as root; the emulator needs root and podman too)",
  available: () => {
    if (process.getuid?.() !== 0 || !commandExists('podman')) return false;
    const dir = amiCacheDir();
    const script = join(ROOT, 'test', 'setup', 'ami-image.sh');
    const stamp = createHash('sha256').update(readFileSync(script)).digest('hex').slice(0, 16);
    return existsSync(join(dir, 'storage', 'overlay-images', 'images.json')) && existsSync(join(dir, 'stamp')) && readFileSync(join(dir, 'stamp'), 'utf8').trim() === stamp;
  },
  setup: 'sudo bash test/setup/ami-image.sh (after sudo bash test/setup/install-packages.sh), and run the tests as root',
};
