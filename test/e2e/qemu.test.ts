/**
 * The qemu builder as a user runs it, against real QEMU under TCG:
 *
 * - the Debian test VM (test/setup/vm-image.sh) booted from a disk image, the temporary SSH key
 *   handed to cloud-init on a NoCloud CD, shell and file provisioners over SSH, the HTTP server,
 *   a graceful shutdown, a qcow2 out, then vhd (fixed and dynamic) and vmdk post-processors;
 *   qemu-img check and compare confirm every output holds the VM's disk;
 * - failures, with a tiny busybox guest that boots in seconds: a guest that never brings SSH up,
 *   one that ignores shutdown, keys typed by boot_command; and failures before any VM starts:
 *   a checksum mismatch, qemu or qemu-img missing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kiln, workspace } from '../helpers/cli.js';
import { BUSYBOX, QEMU, QEMU_IMG, skipWithout, TEST_VM_IMAGE, testVmDir } from '../helpers/components.js';
import { TINY_GOT, TINY_READY, tinyInitramfs } from '../helpers/tiny-guest.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function ws(files: Record<string, string>): string {
  const w = workspace(files);
  cleanups.push(w.cleanup);
  return w.dir;
}
function stateEnv(dir: string): Record<string, string> {
  return { KILN_STATE_DIR: join(dir, '.state'), PACKER_CACHE_DIR: join(dir, '.cache') };
}
function qemuImg(args: string[]): string {
  return execFileSync('qemu-img', args, { encoding: 'utf8' });
}

let skipVm = false;
beforeAll(() => {
  skipVm = skipWithout(QEMU) || skipWithout(QEMU_IMG) || skipWithout(TEST_VM_IMAGE) || skipWithout(BUSYBOX);
});

const VM = testVmDir();
const KERNEL_ARGS = (append: string) => `
  qemuargs = [
    ["-cpu", "max"],
    ["-kernel", "${VM}/vmlinuz"],
    ["-initrd", "${VM}/initrd.img"],
    ["-append", "${append}"],
  ]`;

describe('qemu builder with the Debian test VM', () => {
  it('boots, provisions over SSH with the temporary key, shuts down, and the disk converts to VHD and VMDK', () => {
    if (skipVm) return;
    const dir = ws({
      'upload/hello.txt': 'uploaded by the file provisioner\n',
      'vm.pkr.hcl': `
source "qemu" "debian" {
  iso_url          = "${VM}/vm.raw"
  iso_checksum     = "file:${VM}/SHA256SUMS"
  disk_image       = true
  format           = "qcow2"
  disk_size        = "3G"
  headless         = true
  accelerator      = "tcg"
  boot_wait        = "0s"
  machine_type     = "q35"
  memory           = 1024
  cpus             = 2
  ssh_username     = "root"
  ssh_timeout      = "10m"
  shutdown_command = "shutdown -P now"
  output_directory = "out"
  vm_name          = "debian.qcow2"
  http_content     = { "/greeting.txt" = "served by kiln" }
  ${KERNEL_ARGS('root=LABEL=root rw console=ttyS0 net.ifnames=0')}
}
build {
  sources = ["source.qemu.debian"]
  provisioner "file" {
    source      = "upload/hello.txt"
    destination = "/root/uploaded/hello.txt"
  }
  provisioner "shell" {
    inline = [
      "set -e",
      "cat /root/uploaded/hello.txt",
      "python3 -c \\"import urllib.request; print(urllib.request.urlopen('http://\${build.HTTPIP}:\${build.HTTPPort}/greeting.txt').read().decode())\\" > /root/greeting.txt",
      "echo provisioned-by-kiln > /root/kiln.txt",
      "sync",
    ]
  }
  post-processor "vhd" {
    output              = "images/debian-fixed.vhd"
    keep_input_artifact = true
  }
  post-processor "vhd" {
    output  = "images/debian-dynamic.vhd"
    dynamic = true
  }
  post-processor "vmdk" {
    output = "images/debian.vmdk"
  }
}
`,
    });
    const r = kiln(['build', 'vm.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('Attaching a cloud-init NoCloud seed (CD "cidata") that installs the temporary SSH key for root');
    expect(r.stdout).toContain('uploaded by the file provisioner');
    expect(r.stdout).toContain('Gracefully halting virtual machine...');
    expect(r.stdout).toContain('VM stopped (shutdown_command)');
    expect(r.stdout).toMatch(/HTTP GET \/greeting\.txt/);

    const qcow2 = join(dir, 'out', 'debian.qcow2');
    expect(JSON.parse(qemuImg(['info', '--output=json', qcow2])).format).toBe('qcow2');
    expect(qemuImg(['check', qcow2])).toContain('No errors');
    expect(readFileSync(join(dir, 'out', 'debian.qcow2-serial.log'), 'utf8')).toContain('reboot: Power down');

    const fixed = join(dir, 'images', 'debian-fixed.vhd');
    const dynamic = join(dir, 'images', 'debian-dynamic.vhd');
    const vmdk = join(dir, 'images', 'debian.vmdk');
    // qemu-img has no check for VHDs; compare reads them through its own vpc driver.
    for (const [file, fmt] of [
      [fixed, 'vpc'],
      [dynamic, 'vpc'],
      [vmdk, 'vmdk'],
    ] as const) {
      expect(qemuImg(['compare', '-f', 'qcow2', '-F', fmt, qcow2, file]), file).toContain('Images are identical');
    }
    expect(qemuImg(['check', vmdk])).toContain('No errors');
    // The fixed VHD is the raw disk plus a footer: the provisioned files are in its ext4 filesystem.
    const cat = (path: string) => execFileSync('debugfs', ['-R', `cat ${path}`, fixed], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(cat('/root/kiln.txt')).toBe('provisioned-by-kiln\n');
    expect(cat('/root/greeting.txt')).toBe('served by kiln\n');
    expect(cat('/root/uploaded/hello.txt')).toBe('uploaded by the file provisioner\n');
    // A 3 GiB disk is already whole MiB: no rounding notice.
    expect(r.stdout).not.toContain('rounded up');
    expect(readdirSync(join(dir, 'images')).filter((n) => n.endsWith('.part'))).toEqual([]);
  }, 20 * 60_000);
});

describe('qemu builder failures', () => {
  const tiny = (dir: string, extra: string) => `
source "qemu" "tiny" {
  iso_url          = "disk.raw"
  iso_checksum     = "none"
  disk_image       = true
  format           = "raw"
  disk_size        = "8M"
  headless         = true
  output_directory = "out"
  ${KERNEL_ARGS('console=ttyS0 panic=-1')}
  ${extra}
}
build { sources = ["source.qemu.tiny"] }
`;
  function tinyWorkspace(extra: string, accelerator = 'accelerator = "tcg"'): string {
    const dir = ws({});
    writeFileSync(join(dir, 'disk.raw'), Buffer.alloc(1 << 20));
    const initrd = tinyInitramfs(dir);
    writeFileSync(join(dir, 't.pkr.hcl'), tiny(dir, `${accelerator}\n${extra}`).replace(`${VM}/initrd.img`, initrd));
    return dir;
  }

  it('a guest that never brings SSH up: the timeout error shows the last console lines', () => {
    if (skipVm) return;
    const dir = tinyWorkspace(`
  boot_wait    = "0s"
  ssh_username = "root"
  ssh_password = "unused"
  ssh_timeout  = "20s"`);
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toContain('Timeout waiting for SSH after 20s (ssh_timeout)');
    expect(out).toMatch(/Last lines of the serial console \(.*tiny-serial\.log\)/);
    expect(out).toContain(`| ${TINY_READY}`);
    // The failed build's output directory is removed, as Packer does.
    expect(existsSync(join(dir, 'out'))).toBe(false);
  }, 5 * 60_000);

  it('types boot_command keys over QMP, and a guest that ignores shutdown is forced off after shutdown_timeout, saying so', () => {
    if (skipVm) return;
    const dir = tinyWorkspace(`
  communicator     = "none"
  boot_wait        = "20s"
  boot_command     = ["Hello, Kiln! <wait>typed:{{ .Name }}<enter>"]
  shutdown_timeout = "3s"`, '');
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // No accelerator set: KVM is probed with a real boot (on this CI's hosts /dev/kvm exists and hangs).
    expect(r.stdout).toMatch(/KVM works here: using accelerator kvm|Not using KVM: .*Using tcg/);
    expect(r.stdout).toContain('Waiting up to 3s for the guest to power off by itself (communicator "none")');
    expect(r.stdout).toContain('The VM did not stop within shutdown_timeout (3s): sending an ACPI power-down through QMP');
    expect(r.stdout).toContain('killing QEMU (forced after shutdown_timeout = 3s)');
    expect(r.stdout).toContain('VM stopped (killed)');
    const serial = readFileSync(join(dir, 'out', 'packer-tiny-serial.log'), 'utf8');
    expect(serial).toContain(`${TINY_GOT}Hello, Kiln! typed:packer-tiny`);
    expect(existsSync(join(dir, 'out', 'packer-tiny'))).toBe(true);
  }, 5 * 60_000);

  it('a checksum mismatch stops the build before any VM starts', () => {
    if (skipVm) return;
    const dir = tinyWorkspace('communicator = "none"');
    writeFileSync(join(dir, 't.pkr.hcl'), readFileSync(join(dir, 't.pkr.hcl'), 'utf8').replace('iso_checksum     = "none"', `iso_checksum     = "sha256:${'0'.repeat(64)}"`));
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/checksum mismatch for .*disk\.raw: iso_checksum says sha256:0{64}, the file has sha256:30e14955ebf1352266dc2ff8067e68104607e750abb9d3b36582b8af909fcb58/);
    expect(r.stdout).not.toContain('Starting VM');
  });

  it('names the package to install when qemu-img or qemu is missing', () => {
    if (skipVm) return;
    const dir = tinyWorkspace('communicator = "none"');
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const noQemuImg = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: { ...stateEnv(dir), PATH: bin } });
    expect(noQemuImg.code).toBe(1);
    expect(noQemuImg.stdout + noQemuImg.stderr).toContain('qemu-img is not installed: install the Debian package qemu-utils');
    symlinkSync(execFileSync('sh', ['-c', 'command -v qemu-img'], { encoding: 'utf8' }).trim(), join(bin, 'qemu-img'));
    const noQemu = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: { ...stateEnv(dir), PATH: bin } });
    expect(noQemu.code).toBe(1);
    expect(noQemu.stdout + noQemu.stderr).toContain('qemu-system-x86_64 is not installed: install the Debian package qemu-system-x86');
  });
});
