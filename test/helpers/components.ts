/**
 * Integration tests need real components (packer, sshd, qemu…), installed and started by
 * test/setup/. When one is missing a test fails with a message naming the setup step; a user
 * who cannot install it (no root) may skip such tests explicitly with KILN_SKIP_MISSING=1.
 * CI sets KILN_REQUIRE_ALL=1, which never skips.
 */
import { execFileSync } from 'node:child_process';

export interface Component {
  /** What it is, for messages: "Packer 1.6.6". */
  name: string;
  /** True when it is present and usable. */
  available: () => boolean;
  /** The setup step that installs or starts it. */
  setup: string;
}

export function commandExists(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const PACKER: Component = {
  name: 'Packer 1.6.6 (Debian package packer)',
  available: () => commandExists('packer'),
  setup: 'sudo bash test/setup/install-packages.sh',
};

/**
 * Whether tests needing `c` should be skipped. Throws (failing the suite with a message that
 * names the setup step) when it is missing and skipping was not asked for.
 */
export function skipWithout(c: Component): boolean {
  if (c.available()) return false;
  const how = `${c.name} is not available: run "${c.setup}" first`;
  if (process.env.KILN_REQUIRE_ALL === '1' || process.env.KILN_SKIP_MISSING !== '1') {
    throw new Error(`${how}. (Without root, set KILN_SKIP_MISSING=1 to skip the tests that need it.)`);
  }
  process.stderr.write(`skipping: ${how}\n`);
  return true;
}
