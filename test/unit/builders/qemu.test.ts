/**
 * The qemu builder's pure parts: config checks and defaults, the QEMU command line (with
 * qemuargs overriding defaults as in Packer), boot_command parsing, checksums, the cloud-init
 * seed and the QMP client against a fake QMP server.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { BuildContext } from '../../../src/sdk/plugin.js';
import { fakeContext } from '../../helpers/postprocessor-context.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { qemuArgv, type LaunchPlan } from '../../../plugins/builder-qemu/args.js';
import { parseBootCommand } from '../../../plugins/builder-qemu/boot-command.js';
import { cdEntries, cloudInitSeed } from '../../../plugins/builder-qemu/cd.js';
import { parseDiskSize, schema } from '../../../plugins/builder-qemu/config.js';
import { expectedChecksum, fetchImage, parseChecksum } from '../../../plugins/builder-qemu/download.js';
import { Qmp } from '../../../plugins/builder-qemu/qmp.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-qemu-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = { iso_url: 'disk.img', iso_checksum: 'none', disk_image: true, ssh_username: 'root' };

function plan(over: Partial<LaunchPlan> = {}): LaunchPlan {
  return {
    accel: 'tcg',
    vmName: 'vm',
    disk: '/out/vm',
    additionalDisks: [],
    sshHostPort: 2345,
    qmpSocket: '/tmp/q.sock',
    serialLog: '/out/vm-serial.log',
    noDisplay: true,
    templateVars: new Map([
      ['HTTPIP', '10.0.2.2'],
      ['HTTPPort', '8100'],
      ['Name', 'vm'],
    ]),
    ...over,
  };
}

describe('qemu config', () => {
  it("names Packer options kiln does not implement as such, and accepts qmp_enable (QMP is always on)", () => {
    const r = schema.safeParse({ ...base, floppy_files: ['ks.cfg'], efi_boot: true, qmp_socket: '/tmp/q', qmp_enable: true, disk_additional_size: ['big'] });
    expect(r.success).toBe(false);
    const issues = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues).toContain('floppy_files: floppy_files is not supported by kiln: kiln attaches no floppy drive; put the files on a CD with cd_files (or cd_content)');
    expect(issues.some((i) => i.startsWith('efi_boot: efi_boot is not supported by kiln: '))).toBe(true);
    expect(issues.some((i) => i.startsWith('qmp_socket: qmp_socket is not supported by kiln: '))).toBe(true);
    expect(issues).toContain('disk_additional_size.0: disk_additional_size "big" is not a size: write MiB as a number, or like "10G"');
    expect(issues.join('\n')).not.toMatch(/qmp_enable|nrecognized/);
    expect(schema.parse({ ...base, qmp_enable: true, disable_vnc: true }).disk_additional_size).toEqual([]);
  });


  it("applies Packer's defaults", () => {
    const c = schema.parse(base);
    expect(c).toMatchObject({ format: 'qcow2', cpus: 1, memory: 512, machine_type: 'pc', net_device: 'virtio-net', disk_interface: 'virtio', boot_wait: 10_000, shutdown_timeout: 300_000, ssh_host_port_min: 2222, ssh_host_port_max: 4444, disk_size: '40960M', headless: false });
  });

  it('reports every problem at once', () => {
    const r = schema.safeParse({ disk_size: 'big', use_backing_file: true, format: 'raw', ssh_host_port_min: 5000, ssh_host_port_max: 4000, qemuargs: [['m', '1']] });
    expect(r.success).toBe(false);
    const messages = r.error!.issues.map((i) => i.message).join('\n');
    expect(messages).toContain('iso_url (or iso_urls) must be set');
    expect(messages).toContain('iso_checksum must be set');
    expect(messages).toContain('disk_size "big" is not a size');
    expect(messages).toContain('use_backing_file needs disk_image = true and format = "qcow2"');
    expect(messages).toContain('ssh_host_port_max (4000) must not be below ssh_host_port_min (5000)');
    expect(messages).toContain('each qemuargs entry is a list starting with a flag');
    expect(messages).toContain('ssh_username must be set');
  });

  it('reads disk sizes as Packer does (MiB by default)', () => {
    expect(parseDiskSize(2048)).toBe(2 * 2 ** 30);
    expect(parseDiskSize('40960M')).toBe(40 * 2 ** 30);
    expect(parseDiskSize('10G')).toBe(10 * 2 ** 30);
    expect(parseDiskSize('512')).toBe(512 * 2 ** 20);
    expect(parseDiskSize('1T')).toBe(2 ** 40);
    expect(parseDiskSize('lots')).toBeUndefined();
  });
});

describe('QEMU command line', () => {
  it('forwards SSH on 127.0.0.1 only and attaches disk, CD, serial log and QMP', () => {
    const argv = qemuArgv(schema.parse(base), plan({ cd: '/tmp/cd.iso' }));
    const line = argv.join(' ');
    expect(argv[0]).toBe('qemu-system-x86_64');
    expect(line).toContain('-machine type=pc,accel=tcg');
    expect(line).toContain('-netdev user,id=user.0,hostfwd=tcp:127.0.0.1:2345-:22');
    expect(line).toContain('-drive if=virtio,file=/out/vm,cache=writeback,discard=ignore,format=qcow2,detect-zeroes=off');
    expect(line).toContain('-drive file=/tmp/cd.iso,media=cdrom,readonly=on');
    expect(line).toContain('-serial file:/out/vm-serial.log');
    expect(line).toContain('-qmp unix:/tmp/q.sock,server=on,wait=off');
    expect(line).toContain('-boot c');
    expect(line).toContain('-display none');
  });

  it('lets qemuargs replace every default of the same flag, with templates filled in', () => {
    const c = schema.parse({ ...base, qemuargs: [['-m', '2048M'], ['-device', 'e1000,netdev=user.0'], ['-append', 'url=http://{{ .HTTPIP }}:{{ .HTTPPort }}/{{ .Name }}']] });
    const argv = qemuArgv(c, plan());
    expect(argv.filter((a) => a === '-m')).toHaveLength(1);
    expect(argv[argv.indexOf('-m') + 1]).toBe('2048M');
    expect(argv.filter((a) => a === '-device')).toHaveLength(1);
    expect(argv).toContain('url=http://10.0.2.2:8100/vm');
  });

  it('uses virtio-scsi with a controller, and an ISO install boots from the CD once', () => {
    const argv = qemuArgv(schema.parse({ ...base, disk_image: false, disk_interface: 'virtio-scsi', format: 'raw' }), plan({ iso: '/iso/x,y.iso', accel: 'none' })).join(' ');
    expect(argv).toContain('-device virtio-scsi-pci,id=scsi0 -device scsi-hd,bus=scsi0.0,drive=drive0 -drive if=none,id=drive0,file=/out/vm');
    expect(argv).toContain('file=/iso/x,,y.iso,media=cdrom');
    expect(argv).toContain('-boot once=d');
    expect(argv).toContain('-machine type=pc ');
  });

  it("cpu_model, firmware, display and use_default_display with Packer's meaning", () => {
    const c = schema.parse({ ...base, cpu_model: 'host', firmware: '/usr/share/ovmf/OVMF.fd', display: 'gtk' });
    const windowed = qemuArgv(c, plan({ noDisplay: false }));
    expect(windowed.join(' ')).toContain('-cpu host -bios /usr/share/ovmf/OVMF.fd -display gtk -serial');
    // Headless (or no display to show a window on) wins over display.
    expect(qemuArgv(c, plan({ noDisplay: true })).join(' ')).toContain('-display none');
    const qemuDefault = qemuArgv(schema.parse({ ...base, display: 'gtk', use_default_display: true }), plan({ noDisplay: false }));
    expect(qemuDefault).not.toContain('-display');
    expect(qemuDefault).not.toContain('-cpu');
    expect(qemuDefault).not.toContain('-bios');
    // qemuargs still replace them.
    expect(qemuArgv(schema.parse({ ...base, cpu_model: 'host', qemuargs: [['-cpu', 'max']] }), plan()).join(' ')).not.toContain('-cpu host');
  });

  it('disk_additional_size adds one drive per disk on the same interface', () => {
    const extra = { additionalDisks: ['/out/vm-1', '/out/vm-2'] };
    const virtio = qemuArgv(schema.parse({ ...base, disk_additional_size: ['1G', 2048] }), plan(extra)).join(' ');
    expect(virtio).toMatch(/-drive if=virtio,file=\/out\/vm,.* -drive if=virtio,file=\/out\/vm-1,cache=writeback,discard=ignore,format=qcow2,.* -drive if=virtio,file=\/out\/vm-2,/);
    const scsi = qemuArgv(schema.parse({ ...base, disk_interface: 'virtio-scsi', disk_additional_size: ['1G'] }), plan({ additionalDisks: ['/out/vm-1'] })).join(' ');
    expect(scsi.match(/virtio-scsi-pci/g)).toHaveLength(1);
    expect(scsi).toContain('-device scsi-hd,bus=scsi0.0,drive=drive1 -drive if=none,id=drive1,file=/out/vm-1,');
  });
});

describe('boot_command', () => {
  it('turns text, special keys, modifiers and waits into QMP key presses', () => {
    const actions = parseBootCommand(['aB <enter><wait><wait2><wait1m30s>', '<leftCtrlOn>c<leftCtrlOff><f12><esc>:']);
    expect(actions).toEqual([
      { keys: ['a'] },
      { keys: ['shift', 'b'] },
      { keys: ['spc'] },
      { keys: ['ret'] },
      { waitMs: 1000 },
      { waitMs: 2000 },
      { waitMs: 90_000 },
      { keys: ['ctrl', 'c'] },
      { keys: ['f12'] },
      { keys: ['esc'] },
      { keys: ['shift', 'semicolon'] },
    ]);
  });

  it('rejects unknown keys and characters a US keyboard cannot type', () => {
    expect(() => parseBootCommand(['<nosuchkey>'])).toThrow(/<nosuchkey> is not a key/);
    expect(() => parseBootCommand(['é'])).toThrow(/cannot be typed/);
  });
});

describe('iso_checksum', () => {
  it('reads the forms Packer accepts', () => {
    expect(parseChecksum('none')).toBe('none');
    expect(parseChecksum(`sha256:${'A'.repeat(64)}`)).toEqual({ type: 'sha256', hex: 'a'.repeat(64) });
    expect(parseChecksum('d41d8cd98f00b204e9800998ecf8427e')).toEqual({ type: 'md5', hex: 'd41d8cd98f00b204e9800998ecf8427e' });
    expect(parseChecksum('file:https://example.com/SHA256SUMS')).toEqual({ file: 'https://example.com/SHA256SUMS' });
    expect(() => parseChecksum('sha256:abc')).toThrow(/is not a checksum/);
  });

  it('finds the image in GNU and BSD checksum files', async () => {
    const sums = join(dir, 'SUMS');
    writeFileSync(sums, `${'1'.repeat(64)}  other.img\n${'2'.repeat(64)} *disk.img\nSHA512 (bsd.img) = ${'3'.repeat(128)}\n`);
    const signal = new AbortController().signal;
    expect(await expectedChecksum(`file:${sums}`, '/images/disk.img', signal)).toEqual({ type: 'sha256', hex: '2'.repeat(64) });
    expect(await expectedChecksum(`file:${sums}`, 'https://example.com/x/bsd.img', signal)).toEqual({ type: 'sha512', hex: '3'.repeat(128) });
    await expect(expectedChecksum(`file:${sums}`, 'missing.img', signal)).rejects.toThrow(/has no line for missing.img/);
  });
});

describe('CD contents', () => {
  it('installs the key for root directly, or creates a sudo user', () => {
    const root = cloudInitSeed('root', 'ssh-ed25519 AAAA kiln', 'vm', 'id-1');
    expect(root['user-data']).toContain('disable_root: false');
    expect(root['user-data']).toContain('- "ssh-ed25519 AAAA kiln"');
    expect(root['meta-data']).toBe('instance-id: id-1\nlocal-hostname: vm\n');
    const user = cloudInitSeed('debian', 'ssh-ed25519 AAAA kiln', 'vm', 'id-1');
    expect(user['user-data']).toContain('name: "debian"');
    expect(user['user-data']).toContain('sudo: "ALL=(ALL) NOPASSWD:ALL"');
  });

  it('places cd_files by name, directories with or without their name, and cd_content', async () => {
    const src = join(dir, 'cdsrc');
    for (const f of ['a.txt', 'tree/b.txt', 'tree/sub/c.txt', 'glob/x.cfg', 'glob/y.cfg', 'glob/z.txt']) {
      const p = join(src, f);
      rmSync(p, { force: true });
      mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, f);
    }
    const entries = await cdEntries([join(src, 'a.txt'), join(src, 'tree'), `${join(src, 'tree')}/`, `${join(src, 'glob')}/*.cfg`], { 'meta-data': 'x', 'a.txt': 'from content' });
    const paths = entries.map((e) => e.path).sort();
    expect(paths).toEqual(['a.txt', 'b.txt', 'meta-data', 'sub/c.txt', 'tree/b.txt', 'tree/sub/c.txt', 'x.cfg', 'y.cfg']);
    expect(entries.find((e) => e.path === 'a.txt')!.source).toEqual({ content: Buffer.from('from content') });
    await expect(cdEntries([join(src, 'nope')], {})).rejects.toThrow(/does not exist/);
  });
});

describe('QMP client', () => {
  it('negotiates capabilities, runs commands, reports errors and events', async () => {
    const sock = join(dir, 'qmp.sock');
    const events: string[] = [];
    const server = createServer((c) => {
      c.write('{"QMP": {"version": {}, "capabilities": []}}\n');
      c.on('data', (d) => {
        for (const line of d.toString().split('\n').filter(Boolean)) {
          const cmd = JSON.parse(line) as { execute: string };
          if (cmd.execute === 'bad') c.write('{"error": {"class": "GenericError", "desc": "no such thing"}}\n');
          else c.write(`{"event": "SEEN", "data": {}}\n{"return": {"ok": "${cmd.execute}"}}\n`);
        }
      });
    });
    await new Promise<void>((r) => server.listen(sock, () => r()));
    const qmp = await Qmp.connect(sock, (e) => events.push(e.event));
    expect(await qmp.execute('system_powerdown')).toEqual({ ok: 'system_powerdown' });
    await expect(qmp.execute('bad')).rejects.toThrow('QMP bad: no such thing');
    expect(events.length).toBeGreaterThanOrEqual(2);
    qmp.close();
    await new Promise<void>((r) => server.close(() => r()));
  });
});

describe('iso_url download', () => {
  it('downloads over HTTP into the cache, checks the checksum, reuses the cached file, and tries the next URL when one fails', async () => {
    const body = Buffer.from('pretend this is an ISO\n'.repeat(1000));
    const sum = createHash('sha256').update(body).digest('hex');
    let gets = 0;
    const server = createHttpServer((req, res) => {
      if (req.url?.startsWith('/good.iso')) {
        gets++;
        res.writeHead(200, { 'content-length': body.length }).end(body);
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const cache = join(dir, 'cache');
    const saved = process.env.PACKER_CACHE_DIR;
    process.env.PACKER_CACHE_DIR = cache;
    try {
      const { ctx, recorded } = fakeContext({});
      const build = ctx as unknown as BuildContext<unknown>;
      const urls = [`http://127.0.0.1:${port}/missing.iso`, `http://127.0.0.1:${port}/good.iso`];
      const first = await fetchImage(build, urls, `sha256:${sum}`);
      expect(first.startsWith(cache)).toBe(true);
      expect(readFileSync(first).equals(body)).toBe(true);
      expect(recorded.ui.some((u) => u.level === 'error' && u.text.includes('missing.iso failed: HTTP 404'))).toBe(true);
      // The partial download was recorded in the ledger and released.
      expect(recorded.resources.filter((r) => r.kind === 'qemu.download').every((r) => r.released)).toBe(true);
      const again = await fetchImage(build, urls.slice(1), `sha256:${sum}`);
      expect(again).toBe(first);
      expect(gets).toBe(1);
      await expect(fetchImage(build, [`http://127.0.0.1:${port}/good.iso?x`], `sha256:${'0'.repeat(64)}`)).rejects.toThrow(/checksum mismatch/);
      expect(readdirSync(cache).filter((n) => n.endsWith('.part'))).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.PACKER_CACHE_DIR;
      else process.env.PACKER_CACHE_DIR = saved;
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
