/**
 * Integration tests need real components (packer, sshd, qemu…), installed and started by
 * test/setup/. When one is missing a test fails with a message naming the setup step; a user
 * who cannot install it (no root) may skip such tests explicitly with KILN_SKIP_MISSING=1.
 * CI sets KILN_REQUIRE_ALL=1, which never skips.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** OpenSSH's sshd and scp: tests start private servers with test/setup/sshd.sh, which needs root. */
export const SSHD: Component = {
  name: 'OpenSSH sshd (Debian package openssh-server, run as root)',
  available: () => existsSync('/usr/sbin/sshd') && existsSync('/usr/bin/scp') && process.getuid?.() === 0,
  setup: 'sudo bash test/setup/install-packages.sh, and run the tests as root (they start sshd with test/setup/sshd.sh)',
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

export const QEMU_IMG: Component = {
  name: 'qemu-img (Debian package qemu-utils)',
  available: () => commandExists('qemu-img'),
  setup: 'sudo bash test/setup/install-packages.sh',
};

export const QEMU: Component = {
  name: 'QEMU (Debian package qemu-system-x86)',
  available: () => commandExists('qemu-system-x86_64'),
  setup: 'sudo bash test/setup/install-packages.sh',
};

/** The zstd command: kiln compresses with it where node:zlib has no zstd, and tests check zstd output with it. */
export const ZSTD: Component = {
  name: 'zstd (Debian package zstd)',
  available: () => commandExists('zstd'),
  setup: 'sudo bash test/setup/install-packages.sh',
};

/** xorriso reads ISO 9660 images independently of kiln's writer. */
export const XORRISO: Component = {
  name: 'xorriso (Debian package xorriso)',
  available: () => commandExists('xorriso'),
  setup: 'sudo bash test/setup/install-packages.sh',
};

/** A static busybox for tiny initramfs guests that boot in seconds under TCG. */
export const BUSYBOX: Component = {
  name: 'busybox (Debian package busybox-static)',
  available: () => existsSync('/bin/busybox') || commandExists('busybox'),
  setup: 'sudo bash test/setup/install-packages.sh',
};

/** Where test/setup/vm-image.sh keeps the bootable Debian test VM. */
export function testVmDir(): string {
  return process.env.KILN_TEST_VM_DIR ?? join(homedir(), '.cache', 'kiln-test-vm');
}

/** The Debian test VM, built by the current version of test/setup/vm-image.sh. */
export const TEST_VM_IMAGE: Component = {
  name: 'the Debian test VM image (~/.cache/kiln-test-vm)',
  available: () => {
    const dir = testVmDir();
    const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'setup', 'vm-image.sh');
    const stamp = createHash('sha256').update(readFileSync(script)).digest('hex').slice(0, 16);
    return ['vm.raw', 'vmlinuz', 'initrd.img', 'SHA256SUMS'].every((f) => existsSync(join(dir, f))) && existsSync(join(dir, 'stamp')) && readFileSync(join(dir, 'stamp'), 'utf8').trim() === stamp;
  },
  setup: 'sudo bash test/setup/vm-image.sh',
};
