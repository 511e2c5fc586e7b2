/**
 * The qemu builder as a user runs it, against real QEMU under TCG:
 *
 * - examples/qemu on the Debian test VM (test/setup/vm-image.sh), booted from a disk image, the temporary SSH key
 *   handed to cloud-init on a NoCloud CD, shell and file provisioners over SSH, the HTTP server,
 *   a graceful shutdown, a qcow2 out, then vhd (fixed and dynamic) and vmdk post-processors;
 *   qemu-img check and compare confirm every output holds the VM's disk;
 * - with a tiny busybox guest that boots in seconds: the artifact through compress and checksum,
 *   non-default hardware (q35, e1000, virtio-scsi, an additional disk), iso_urls fallback, cd_files,
 *   http_directory and its path guard, an ISO install's empty disk; failures: a guest that never
 *   brings SSH up, one that ignores shutdown, keys typed by boot_command; and failures before any
 *   VM starts: a checksum mismatch, qemu or qemu-img missing.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kiln, kilnProcess, ROOT, workspace } from '../helpers/cli.js';
import { BUSYBOX, QEMU, QEMU_IMG, skipWithout, TEST_VM_IMAGE, testVmDir, XORRISO } from '../helpers/components.js';
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
/** Running (a zombie counts as gone: PID 1 here may not reap). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
/** The running VM's PID and its run, from the run's ledger (recorded before QEMU starts, PID once it runs). */
async function vmFromLedger(dir: string, proc: ChildProcess): Promise<{ pid: number; run: string }> {
  const runs = join(dir, '.state', 'runs');
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (Date.now() > deadline || proc.exitCode !== null) {
      proc.kill('SIGKILL');
      throw new Error(`no running QEMU VM in the run's ledger (kiln ${proc.exitCode === null ? 'still running after 2 min' : `exited with ${proc.exitCode}`})`);
    }
    await new Promise((r) => setTimeout(r, 100));
    const run = existsSync(runs) ? readdirSync(runs)[0] : undefined;
    const ledger = run ? join(runs, run, 'ledger.jsonl') : undefined;
    if (!run || !ledger || !existsSync(ledger)) continue;
    type Entry = { t: string; id: string; kind?: string; description?: string; data?: { pid?: number } };
    // Only whole lines: the last one may be half-written while kiln appends.
    const lines = readFileSync(ledger, 'utf8').split('\n').slice(0, -1).filter(Boolean);
    const entries = lines.map((l) => JSON.parse(l) as Entry);
    const vm = entries.find((e) => e.t === 'create' && e.kind === 'qemu.vm' && e.description?.startsWith('QEMU VM'));
    const pid = vm && entries.find((e) => e.t === 'update' && e.id === vm.id && e.data?.pid)?.data?.pid;
    if (pid !== undefined) return { pid, run };
  }
}
/** The serial console log of build `build` in the workspace's only run folder (beside the build's log). */
function serialLogOf(dir: string, build: string): string {
  const runs = join(dir, '.state', 'runs');
  const [run, ...more] = readdirSync(runs);
  expect(more, 'one run').toEqual([]);
  return join(runs, run!, 'logs', `${build}-serial.log`);
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
  it('runs examples/qemu: boots, provisions over SSH with the temporary key, shuts down, and the disk converts to VHD and VMDK', () => {
    if (skipVm) return;
    const dir = ws({
      'testvm.pkrvars.hcl': `
image_url      = "${VM}/vm.raw"
image_checksum = "file:${VM}/SHA256SUMS"
ssh_username   = "root"
${KERNEL_ARGS('root=LABEL=root rw console=ttyS0 net.ifnames=0')}
`,
    });
    cpSync(join(ROOT, 'examples', 'qemu'), join(dir, 'example'), { recursive: true });
    const r = kiln(['build', '-var-file=testvm.pkrvars.hcl', 'example/debian.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('Attaching a cloud-init NoCloud seed (CD "cidata") that installs the temporary SSH key for root');
    expect(r.stdout).toContain('Hello from the kiln qemu example.');
    expect(r.stdout).toContain('Gracefully halting virtual machine...');
    expect(r.stdout).toContain('VM stopped (shutdown_command)');
    expect(r.stdout).toMatch(/HTTP GET \/motd/);

    const qcow2 = join(dir, 'output', 'qemu', 'debian.qcow2');
    expect(JSON.parse(qemuImg(['info', '--output=json', qcow2])).format).toBe('qcow2');
    expect(qemuImg(['check', qcow2])).toContain('No errors');
    expect(readFileSync(serialLogOf(dir, 'qemu.debian'), 'utf8')).toContain('reboot: Power down');
    expect(readdirSync(join(dir, 'output', 'qemu')).sort()).toEqual(['debian.qcow2', 'debian.qcow2-serial.log']);

    const images = join(dir, 'output', 'images');
    const fixed = join(images, 'debian-azure.vhd');
    // qemu-img has no check for VHDs; compare reads them through its own vpc driver.
    for (const [file, fmt] of [
      [fixed, 'vpc'],
      [join(images, 'debian-hyperv.vhd'), 'vpc'],
      [join(images, 'debian-vsphere.vmdk'), 'vmdk'],
    ] as const) {
      expect(qemuImg(['compare', '-f', 'qcow2', '-F', fmt, qcow2, file]), file).toContain('Images are identical');
    }
    expect(qemuImg(['check', join(images, 'debian-vsphere.vmdk')])).toContain('No errors');
    // The fixed VHD is the raw disk plus a footer: the provisioned files are in its ext4 filesystem.
    const cat = (path: string) => execFileSync('debugfs', ['-R', `cat ${path}`, fixed], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(cat('/etc/kiln/hello.txt')).toBe('Hello from the kiln qemu example.\n');
    expect(cat('/etc/kiln/motd')).toBe('Built by kiln with QEMU.\n');
    // 4 GiB is already whole MiB: no rounding notice.
    expect(r.stdout).not.toContain('rounded up');
    expect(readdirSync(images).filter((n) => n.endsWith('.part'))).toEqual([]);
  }, 20 * 60_000);
});

describe('qemu builder failures', () => {
  const tiny = (extra: string, disk = 'format = "raw"\n  disk_size = "8M"', post = '') => `
source "qemu" "tiny" {
  iso_url          = "disk.raw"
  iso_checksum     = "none"
  disk_image       = true
  ${disk}
  headless         = true
  output_directory = "out"
  ${KERNEL_ARGS('console=ttyS0 panic=-1')}
  ${extra}
}
build {
  sources = ["source.qemu.tiny"]
  ${post}
}
`;
  function tinyWorkspace(extra: string, accelerator = 'accelerator = "tcg"', disk?: string, post?: string): string {
    const dir = ws({});
    writeFileSync(join(dir, 'disk.raw'), Buffer.alloc(1 << 20));
    const initrd = tinyInitramfs(dir);
    writeFileSync(join(dir, 't.pkr.hcl'), tiny(`${accelerator}\n${extra}`, disk, post).replace(`${VM}/initrd.img`, initrd));
    return dir;
  }

  it('use_backing_file makes a qcow2 overlay grown to disk_size, and cd_content goes on a CD', () => {
    if (skipVm) return;
    const dir = tinyWorkspace(
      `
  communicator     = "none"
  boot_wait        = "0s"
  shutdown_timeout = "1s"
  cd_label         = "cidata"
  cd_content       = { "meta-data" = "instance-id: tiny\\n", "user-data" = "#cloud-config\\n" }`,
      undefined,
      'format = "qcow2"\n  use_backing_file = true\n  disk_size = "16M"',
    );
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('Creating qcow2 overlay');
    expect(r.stdout).toMatch(/CD image .*cd\.iso: meta-data, user-data/);
    expect(r.stdout).toMatch(/-drive file=[^ ]*cd\.iso,media=cdrom,readonly=on/);
    const info = JSON.parse(qemuImg(['info', '--output=json', join(dir, 'out', 'packer-tiny')])) as { format: string; 'virtual-size': number; 'backing-filename': string };
    expect(info.format).toBe('qcow2');
    expect(info['virtual-size']).toBe(16 << 20);
    expect(info['backing-filename']).toBe(join(dir, 'disk.raw'));
  }, 5 * 60_000);

  it('the artifact is the disk alone: compress writes disk.raw.gz from it and checksum lists only that', () => {
    if (skipVm) return;
    const dir = tinyWorkspace(
      `
  communicator     = "none"
  boot_wait        = "0s"
  shutdown_timeout = "1s"`,
      undefined,
      undefined,
      `post-processors {
    post-processor "compress" {
      output              = "images/disk.raw.gz"
      keep_input_artifact = true
    }
    post-processor "checksum" {
      checksum_types = ["sha256"]
      output         = "images/disk.{{.ChecksumType}}"
    }
  }`,
    );
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // The disk and, outside the artifact, a copy of the console log.
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['packer-tiny', 'packer-tiny-serial.log']);
    const gz = readFileSync(join(dir, 'images', 'disk.raw.gz'));
    expect(gunzipSync(gz).equals(readFileSync(join(dir, 'out', 'packer-tiny')))).toBe(true);
    const sums = readFileSync(join(dir, 'images', 'disk.sha256'), 'utf8').trim().split('\n');
    expect(sums).toEqual([`${createHash('sha256').update(gz).digest('hex')}\tdisk.raw.gz`]);
    // The console log is kept beside the build's log, outside the artifact.
    expect(readFileSync(join(dir, 'out', 'packer-tiny-serial.log'), 'utf8')).toBe(readFileSync(serialLogOf(dir, 'qemu.tiny'), 'utf8'));
    expect(r.stdout).toContain(`Serial console log: ${serialLogOf(dir, 'qemu.tiny')}`);
  }, 5 * 60_000);

  it('non-default hardware, iso_urls falling back to a good file:// URL, cd_files and http_directory on a real VM', async () => {
    if (skipVm) return;
    const dir = tinyWorkspace(`
  communicator         = "none"
  boot_wait            = "15s"
  shutdown_timeout     = "1s"
  machine_type         = "q35"
  net_device           = "e1000"
  disk_interface       = "virtio-scsi"
  disk_additional_size = ["4M"]
  cd_files             = ["cd/hello.txt"]
  http_directory       = "www"
  http_port_min        = 18100
  http_port_max        = 18199`);
    mkdirSync(join(dir, 'cd'));
    writeFileSync(join(dir, 'cd', 'hello.txt'), 'on the CD\n');
    mkdirSync(join(dir, 'www'));
    writeFileSync(join(dir, 'www', 'ks.cfg'), 'kickstart\n');
    writeFileSync(join(dir, 'secret.txt'), 'outside the http_directory\n');
    writeFileSync(
      join(dir, 't.pkr.hcl'),
      readFileSync(join(dir, 't.pkr.hcl'), 'utf8').replace('iso_url          = "disk.raw"', `iso_urls = ["${dir}/missing.raw", "file://${dir}/disk.raw"]`),
    );
    const p = kilnProcess(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    let stdout = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stdout += c.toString()));
    const closed = new Promise<number | null>((resolve) => p.on('close', resolve));
    // While the VM boots, the server answers as the guest would be answered (it listens on 127.0.0.1).
    const deadline = Date.now() + 120_000;
    let port: string | undefined;
    while (!port && Date.now() < deadline && p.exitCode === null) {
      await new Promise((r) => setTimeout(r, 100));
      port = /Starting VM/.test(stdout) ? /Starting HTTP server on port (\d+)/.exec(stdout)?.[1] : undefined;
    }
    expect(port, stdout).toBeDefined();
    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: Number(port), path }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', (e) => reject(new Error(`GET ${path}: ${e.message}\n${stdout}`)));
        req.end();
      });
    expect(await get('/ks.cfg')).toEqual({ status: 200, body: 'kickstart\n' });
    for (const escape of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/www/..%2f..%2fsecret.txt']) expect((await get(escape)).status, escape).toBe(404);
    // A malformed path is refused; it used to crash kiln with a stack trace and leave the VM running.
    expect((await get('/%zz')).status).toBe(400);
    expect(await get('/ks.cfg')).toEqual({ status: 200, body: 'kickstart\n' });
    expect(await closed, stdout).toBe(0);

    expect(stdout).toMatch(/missing\.raw/);
    expect(stdout).toMatch(/-machine type=q35,accel=tcg/);
    expect(stdout).toContain('-device e1000,netdev=user.0');
    expect(stdout).toMatch(/-device virtio-scsi-pci,id=scsi0 -device scsi-hd,bus=scsi0\.0,drive=drive0 -drive if=none,id=drive0,file=[^ ]*packer-tiny,.* -device scsi-hd,bus=scsi0\.0,drive=drive1 -drive if=none,id=drive1,file=[^ ]*packer-tiny-1,/);
    expect(stdout).toMatch(/CD image .*cd\.iso: hello\.txt/);
    expect(stdout).toMatch(/-drive file=[^ ]*cd\.iso,media=cdrom,readonly=on/);
    expect(readFileSync(serialLogOf(dir, 'qemu.tiny'), 'utf8')).toContain(TINY_READY);
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['packer-tiny', 'packer-tiny-1', 'packer-tiny-serial.log']);
    const extra = JSON.parse(qemuImg(['info', '--output=json', join(dir, 'out', 'packer-tiny-1')])) as { format: string; 'virtual-size': number };
    expect(extra).toMatchObject({ format: 'raw', 'virtual-size': 4 << 20 });
  }, 5 * 60_000);

  it('an ISO install (disk_image = false): an empty disk of disk_size, the ISO on a CD booted once', () => {
    if (skipVm || skipWithout(XORRISO)) return;
    const dir = tinyWorkspace(`
  communicator     = "none"
  boot_wait        = "0s"
  shutdown_timeout = "1s"`);
    mkdirSync(join(dir, 'iso'));
    writeFileSync(join(dir, 'iso', 'README'), 'install media\n');
    execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-V', 'INSTALL', '-o', join(dir, 'install.iso'), join(dir, 'iso')], { stdio: 'ignore' });
    const sum = createHash('sha256').update(readFileSync(join(dir, 'install.iso'))).digest('hex');
    writeFileSync(
      join(dir, 't.pkr.hcl'),
      readFileSync(join(dir, 't.pkr.hcl'), 'utf8')
        .replace('iso_url          = "disk.raw"', 'iso_url = "install.iso"')
        .replace('iso_checksum     = "none"', `iso_checksum = "sha256:${sum}"`)
        .replace('disk_image       = true', 'disk_image = false'),
    );
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`Creating raw disk ${join(dir, 'out', 'packer-tiny')} (${8 << 20} bytes)`);
    // The kernel still comes from qemuargs (-kernel): booting the ISO itself is not what is tested.
    expect(r.stdout).toMatch(/-drive file=[^ ]*install\.iso,media=cdrom,readonly=on -boot once=d/);
    const info = JSON.parse(qemuImg(['info', '--output=json', join(dir, 'out', 'packer-tiny')])) as { format: string; 'virtual-size': number };
    expect(info).toMatchObject({ format: 'raw', 'virtual-size': 8 << 20 });
  }, 5 * 60_000);

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
    const named = /Last lines of the serial console \((.*)\):/.exec(out)?.[1];
    expect(named).toBe(serialLogOf(dir, 'qemu.tiny'));
    expect(out).toContain(`| ${TINY_READY}`);
    // The failed build's output directory is removed, as Packer does; the log it names is kept.
    expect(existsSync(join(dir, 'out'))).toBe(false);
    expect(readFileSync(named!, 'utf8')).toContain(TINY_READY);
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
    const serial = readFileSync(serialLogOf(dir, 'qemu.tiny'), 'utf8');
    expect(serial).toContain(`${TINY_GOT}Hello, Kiln! typed:packer-tiny`);
    expect(existsSync(join(dir, 'out', 'packer-tiny'))).toBe(true);
  }, 5 * 60_000);

  it('after SIGKILL, kiln cleanup stops the VM the run left (reaper qemu.vm)', async () => {
    if (skipVm) return;
    const dir = tinyWorkspace(`
  communicator = "none"
  boot_wait    = "30m"`);
    const p = kilnProcess(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    const closed = new Promise((resolve) => p.on('close', resolve));
    const { pid, run } = await vmFromLedger(dir, p);
    p.kill('SIGKILL');
    await closed;
    expect(alive(pid)).toBe(true);
    const r = kiln(['cleanup', '--run', run], { cwd: dir, env: stateEnv(dir) });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Removed \d+ resource\(s\)/);
    expect(alive(pid)).toBe(false);
  }, 5 * 60_000);

  it('Ctrl-C stops the VM, removes the output directory and leaves nothing in the ledger', async () => {
    if (skipVm) return;
    const dir = tinyWorkspace(`
  communicator = "none"
  boot_wait    = "30m"`);
    const p = kilnProcess(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    const closed = new Promise<number | null>((resolve) => p.on('close', resolve));
    const { pid, run } = await vmFromLedger(dir, p);
    p.kill('SIGINT');
    expect(await closed).toBe(130);
    expect(alive(pid)).toBe(false);
    expect(existsSync(join(dir, 'out'))).toBe(false);
    expect(existsSync(join(dir, '.state', 'runs', run, 'ledger.jsonl'))).toBe(false);
  }, 5 * 60_000);

  it('QEMU refusing its arguments fails the build with its own message', () => {
    if (skipVm) return;
    const dir = tinyWorkspace('communicator = "none"');
    writeFileSync(join(dir, 't.pkr.hcl'), readFileSync(join(dir, 't.pkr.hcl'), 'utf8').replace('["-cpu", "max"],', '["-cpu", "max"],\n    ["-no-such-option"],'));
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/QEMU failed to start: qemu-system-x86_64: -no-such-option: invalid option/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('a checksum mismatch stops the build before any VM starts', () => {
    if (skipVm) return;
    const dir = tinyWorkspace('communicator = "none"');
    writeFileSync(join(dir, 't.pkr.hcl'), readFileSync(join(dir, 't.pkr.hcl'), 'utf8').replace('iso_checksum     = "none"', `iso_checksum     = "sha256:${'0'.repeat(64)}"`));
    const r = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: stateEnv(dir) });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/checksum mismatch for .*disk\.raw: iso_checksum says sha256:0{64}, the file has sha256:30e14955ebf1352266dc2ff8067e68104607e750abb9d3b36582b8af909fcb58/);
    expect(r.stdout).not.toContain('Starting VM');
  });

  it('names the package to install when qemu-img or qemu is missing, before anything is created', () => {
    if (skipVm) return;
    const dir = tinyWorkspace('communicator = "none"');
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const neither = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: { ...stateEnv(dir), PATH: bin } });
    expect(neither.code).toBe(1);
    const out = neither.stdout + neither.stderr;
    // Both are reported at once, when the build starts: no output directory, no disk, no CD.
    expect(out).toContain('qemu-system-x86_64 is not installed: install the Debian package qemu-system-x86');
    expect(out).toContain('qemu-img is not installed: install the Debian package qemu-utils');
    expect(out).not.toMatch(/Copying|Creating|CD image/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
    symlinkSync(execFileSync('sh', ['-c', 'command -v qemu-img'], { encoding: 'utf8' }).trim(), join(bin, 'qemu-img'));
    const noQemu = kiln(['build', 't.pkr.hcl'], { cwd: dir, env: { ...stateEnv(dir), PATH: bin } });
    expect(noQemu.code).toBe(1);
    expect(noQemu.stdout + noQemu.stderr).toContain('qemu-system-x86_64 is not installed: install the Debian package qemu-system-x86');
    expect(noQemu.stdout + noQemu.stderr).not.toContain('qemu-img is not installed');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });
});
