/**
 * The `qemu` builder: boots a VM under QEMU from an install ISO or a disk image, provisions it
 * over SSH (or not at all with communicator "none"), shuts it down and leaves its disk (qcow2 or
 * raw) in output_directory, as Packer's qemu builder does. See config.ts for the options and
 * where kiln differs from Packer.
 *
 * Every QEMU process is recorded in the resource ledger before it starts and stopped by cleanup
 * or by `kiln cleanup` (reaper `qemu.vm`). The serial console is written to `<build>-serial.log`
 * beside the build's log in the run's folder, so it survives a failed build (whose output
 * directory is removed, as Packer does); a finished build copies it into output_directory as
 * `<vm_name>-serial.log`. It is never one of the artifact's files, which are the disks alone, so
 * `compress`, `checksum` and the disk post-processors take them as Packer's. Its last lines are
 * part of boot and SSH errors.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import { isAbsolute, basename, join, resolve } from 'node:path';
import { builder, buildLogFile, clearTemporaryKey, connectSsh, NoneCommunicator, parseDuration, temporaryKeyPair, type Artifact, type BuildContext, type Communicator, type PluginSet, type Reaper, type TemporaryKeyPair } from '../../src/sdk/index.js';
import { qemuImgInfo, writeIso } from '../../src/sdk/images.js';
import { probeKvm } from './accel.js';
import { qemuArgv } from './args.js';
import { parseBootCommand, type BootAction } from './boot-command.js';
import { cdEntries, cloudInitSeed } from './cd.js';
import { parseDiskSize, schema, type QemuConfig } from './config.js';
import { withConsole } from './console.js';
import { compactDisk, createAdditionalDisks, prepareDisk } from './disk.js';
import { fetchImage, PARTIAL_DOWNLOAD_KIND, PARTIAL_DOWNLOAD_NAME } from './download.js';
import { startHttpServer, USER_NET_HOST_IP } from './http-server.js';
import { freePort } from './ports.js';
import { checkPrograms } from './preflight.js';
import { reapVm, spawnQemu, stopQemu, VM_KIND, type QemuProcess } from './process.js';
import { Qmp } from './qmp.js';
import { exitsWithin, shutdownVm } from './shutdown.js';

/** Packer's builder id for qemu artifacts, so manifests and post-processors recognise them. */
export const BUILDER_ID = 'transcend.qemu';
/** Packer's default interval between typed keys for the qemu builder. */
const KEY_INTERVAL_MS = 100;
/** How long QEMU may take to open its QMP socket after starting. */
const QMP_READY_MS = 30_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Replaces only `{{ .SSHPublicKey }}`: cloud-init files may hold jinja `{{ … }}` of their own. */
function withPublicKey(text: string, key: TemporaryKeyPair | undefined): string {
  return key ? text.replace(/\{\{\s*\.SSHPublicKey\s*\}\}/g, key.publicKey.trim()) : text;
}

function usesTemporaryKey(c: QemuConfig): boolean {
  return (c.communicator ?? 'ssh') === 'ssh' && c.ssh_password === undefined && c.ssh_private_key_file === undefined && c.ssh_agent_auth !== true;
}

async function prepareOutputDirectory(ctx: BuildContext<QemuConfig>, dir: string): Promise<void> {
  if (existsSync(dir)) {
    if (!ctx.force) throw new Error(`Output directory exists: ${dir}. Use the -force flag to delete it prior to building.`);
    ctx.ui.say(`Deleting previous output directory ${dir} (-force)`);
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(dir, { recursive: true });
}

/** Connects to the VM's QMP socket, waiting for QEMU to create it; fails if QEMU exits first. */
async function connectQmp(vm: QemuProcess, socket: string, signal: AbortSignal): Promise<Qmp | undefined> {
  const deadline = Date.now() + QMP_READY_MS;
  while (vm.running && Date.now() < deadline && !signal.aborted) {
    try {
      return await Qmp.connect(socket);
    } catch {
      await sleep(50, signal);
    }
  }
  return undefined;
}

async function typeBootCommand(ctx: BuildContext<QemuConfig>, qmp: Qmp, actions: readonly BootAction[]): Promise<void> {
  const interval = ctx.config.boot_key_interval ?? (process.env.PACKER_KEY_INTERVAL ? (parseDuration(process.env.PACKER_KEY_INTERVAL) ?? KEY_INTERVAL_MS) : KEY_INTERVAL_MS);
  ctx.ui.say('Typing the boot command over QMP...');
  for (const a of actions) {
    ctx.signal.throwIfAborted();
    if ('waitMs' in a) await sleep(a.waitMs, ctx.signal);
    else {
      await qmp.execute('send-key', { keys: a.keys.map((k) => ({ type: 'qcode', data: k })) });
      await sleep(interval, ctx.signal);
    }
  }
}

const qemuBuilder = builder({
  type: 'qemu',
  schema,
  generatedData: ['HTTPIP', 'HTTPPort', 'SSHHostPort'],
  async run(ctx) {
    const c = ctx.config;
    const outputDir = resolve(c.output_directory ?? `output-${ctx.sourceName}`);
    const vmName = c.vm_name ?? `packer-${ctx.sourceName}`;
    const disk = join(outputDir, vmName);
    const serialLog = await buildLogFile(ctx, '-serial.log');
    const sizeBytes = parseDiskSize(c.disk_size)!;
    const additionalDisks = c.disk_additional_size.map((_, i) => `${disk}-${i + 1}`);
    let succeeded = false;

    await ctx.step('check programs', async () => checkPrograms([c.qemu_binary, 'qemu-img']));
    await ctx.step('prepare output directory', () => prepareOutputDirectory(ctx, outputDir));
    // Packer removes the output directory of a failed or cancelled build.
    ctx.cleanup.push(`remove ${outputDir} unless the build succeeded`, async () => {
      if (!succeeded) await rm(outputDir, { recursive: true, force: true });
    });

    const urls = c.iso_urls ?? [c.iso_url!];
    const source = await ctx.step('download', () => fetchImage(ctx, urls, c.iso_checksum!, c.iso_target_path));
    await ctx.step('create disk', async () => {
      await prepareDisk(ctx, disk, c.disk_image ? source : undefined, sizeBytes);
      await createAdditionalDisks(ctx, additionalDisks, c.disk_additional_size.map((s) => parseDiskSize(s)!));
    });

    const tempKey = usesTemporaryKey(c) ? await ctx.step('create temporary SSH key', () => temporaryKeyPair(ctx, c)) : undefined;
    const work = await ctx.tempDir('kiln-qemu-');

    const cd = await ctx.step('create CD', async () => {
      let content = Object.fromEntries(Object.entries(c.cd_content ?? {}).map(([k, v]) => [k, withPublicKey(v, tempKey)]));
      let label = c.cd_label;
      if (tempKey && c.disk_image && c.cd_files === undefined && c.cd_content === undefined) {
        ctx.ui.say(`Attaching a cloud-init NoCloud seed (CD "cidata") that installs the temporary SSH key for ${c.ssh_username ?? 'root'}`);
        content = cloudInitSeed(c.ssh_username ?? 'root', tempKey.publicKey, vmName, `kiln-${ctx.runId}`);
        label = 'cidata';
      }
      const entries = await cdEntries(c.cd_files ?? [], content);
      if (entries.length === 0) return undefined;
      const iso = join(work, 'cd.iso');
      const epoch = process.env.SOURCE_DATE_EPOCH;
      await writeIso(iso, entries, { label: label ?? 'CDROM', unixTime: epoch && /^\d+$/.test(epoch) ? Number(epoch) : Math.floor(Date.now() / 1000), signal: ctx.signal });
      ctx.ui.message(`CD image ${iso}: ${entries.map((e) => e.path).join(', ')}`);
      return iso;
    });

    const templateVars = new Map<string, string>([
      ['HTTPIP', USER_NET_HOST_IP],
      ['HTTPPort', ''],
      ['Name', vmName],
      ['OutputDir', outputDir],
      ['SSHHostPort', ''],
    ]);
    if (c.http_directory !== undefined || c.http_content !== undefined) {
      const content = c.http_content && Object.fromEntries(Object.entries(c.http_content).map(([k, v]) => [k, withPublicKey(v, tempKey)]));
      const { port } = await ctx.step('start HTTP server', () => startHttpServer(ctx, { directory: c.http_directory, content }, c.http_port_min, c.http_port_max, c.http_bind_address));
      templateVars.set('HTTPPort', String(port));
    }
    ctx.generatedData.set('HTTPIP', USER_NET_HOST_IP);
    ctx.generatedData.set('HTTPPort', templateVars.get('HTTPPort')!);

    const accel = await ctx.step('choose accelerator', async () => {
      if (c.accelerator !== undefined) return c.accelerator;
      const probe = await probeKvm(c.qemu_binary, work, ctx.resources);
      if (probe.ok) ctx.ui.say('KVM works here: using accelerator kvm');
      else ctx.ui.say(`Not using KVM: ${probe.reason ?? 'it does not work here'}. Using tcg (slower: full emulation).`);
      return probe.ok ? 'kvm' : 'tcg';
    });

    const noDisplay = c.headless || !(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
    if (!c.headless && noDisplay) ctx.ui.message('No display to show the VM window on: running headless');
    const ssh = (c.communicator ?? 'ssh') === 'ssh';
    const qmpSocket = join(work, 'qmp.sock');

    ctx.ui.message(`Serial console log: ${serialLog}`);
    const { vm, qmp } = await ctx.step('start VM', async () => {
      const tried = new Set<number>();
      for (let attempt = 0; ; attempt++) {
        const sshHostPort = ssh ? await freePort(c.host_port_min ?? c.ssh_host_port_min, c.host_port_max ?? c.ssh_host_port_max, 'the SSH port forward', tried) : undefined;
        if (sshHostPort !== undefined) {
          tried.add(sshHostPort);
          templateVars.set('SSHHostPort', String(sshHostPort));
          ctx.generatedData.set('SSHHostPort', String(sshHostPort));
        }
        const argv = qemuArgv(c, { accel, vmName, disk, additionalDisks, iso: c.disk_image ? undefined : source, cd, sshHostPort, qmpSocket, serialLog, noDisplay, templateVars });
        ctx.ui.say(`Starting VM${sshHostPort !== undefined ? `, forwarding 127.0.0.1:${sshHostPort} to the guest's SSH port` : ''}`);
        ctx.ui.message(`Qemu args: ${argv.join(' ')}`);
        const started = await spawnQemu(ctx.resources, argv, `QEMU VM ${vmName} (${ctx.buildName})`);
        ctx.cleanup.push(`stop VM ${vmName}`, () => stopQemu(started));
        const q = await connectQmp(started, qmpSocket, ctx.signal);
        if (q) {
          ctx.cleanup.push('close QMP', () => q.close());
          return { vm: started, qmp: q };
        }
        await stopQemu(started);
        const err = started.stderr().trim();
        // Another process took the port between our check and QEMU's bind: try another.
        if (/host forwarding rule|Address already in use/i.test(err) && attempt < 5) continue;
        ctx.signal.throwIfAborted();
        throw new Error(await withConsole(`QEMU failed to start: ${err || 'it exited without a message'}`, serialLog));
      }
    });
    const hostPort = ctx.generatedData.get('SSHHostPort');

    // Stops waits (boot_wait, SSH) as soon as the VM is gone: a crashed guest fails fast.
    const vmGone = new AbortController();
    void vm.exited.then(() => vmGone.abort(new Error('the VM exited')));
    const whileRunning = AbortSignal.any([ctx.signal, vmGone.signal]);

    if (c.boot_wait > 0) {
      ctx.ui.say(`Waiting ${Math.round(c.boot_wait / 1000)}s for boot...`);
      await sleep(c.boot_wait, whileRunning);
    }
    if (c.boot_command.length > 0) {
      const lines = c.boot_command.map((l) => withPublicKey(l, tempKey).replace(/\{\{\s*\.(HTTPIP|HTTPPort|Name)\s*\}\}/g, (_m, k: string) => templateVars.get(k) ?? ''));
      await ctx.step('type boot command', () => typeBootCommand(ctx, qmp, parseBootCommand(lines)));
    }
    if (!vm.running) throw new Error(await withConsole('The VM stopped during boot', serialLog));

    let comm: Communicator | undefined;
    if (ssh) {
      comm = await ctx.step('connect', async () => {
        // ssh_timeout is enforced here too: a connection QEMU's user network accepts before sshd
        // listens can otherwise hang in the handshake past it.
        const timeout = c.ssh_wait_timeout ?? c.ssh_timeout ?? 5 * 60_000;
        const timer = new AbortController();
        const t = setTimeout(() => timer.abort(), timeout);
        try {
          return await connectSsh({ ...ctx, signal: AbortSignal.any([whileRunning, timer.signal]) }, c, { host: '127.0.0.1', port: Number(hostPort), privateKey: tempKey?.privateKey, publicKey: tempKey?.publicKey });
        } catch (err) {
          ctx.signal.throwIfAborted();
          const why = vmGone.signal.aborted
            ? 'The VM stopped before SSH came up'
            : timer.signal.aborted
              ? `Timeout waiting for SSH after ${Math.round(timeout / 1000)}s (ssh_timeout): the guest never answered SSH on 127.0.0.1:${hostPort ?? '?'}`
              : (err as Error).message;
          throw new Error(await withConsole(why, serialLog));
        } finally {
          clearTimeout(t);
        }
      });
    }
    await ctx.step('provision', () => ctx.provision(comm ?? new NoneCommunicator()));
    if (comm && tempKey && c.ssh_clear_authorized_keys) await ctx.step('clear temporary key', () => clearTemporaryKey(ctx, comm, tempKey));

    await ctx.step('shut down', async () => {
      const { how } = await shutdownVm(ctx, vm, qmp, comm);
      ctx.ui.message(`VM stopped (${how})`);
    });
    await comm?.close();
    await ctx.step('compact disk', async () => {
      for (const d of [disk, ...additionalDisks]) await compactDisk(ctx, d);
    });

    // The finished build's console log also goes into output_directory, beside its disk, for
    // whoever ships the folder; it is not one of the artifact's files.
    const keptLog = join(outputDir, `${vmName}-serial.log`);
    await copyFile(serialLog, keptLog);
    succeeded = true;
    const files = [disk, ...additionalDisks];
    ctx.generatedData.set('ID', vmName);
    const artifact: Artifact = {
      builderId: BUILDER_ID,
      id: vmName,
      files,
      description: `VM files in directory: ${outputDir}`,
      state: {
        generated_data: Object.fromEntries(ctx.generatedData),
        diskName: vmName,
        diskPaths: files,
        diskType: c.format,
        diskSize: (await qemuImgInfo(disk, c.format, { signal: ctx.signal })).virtualSize,
        domainType: accel,
      },
      // Only the build's own files, then the directory if nothing else is in it.
      destroy: async () => {
        for (const f of [...files, keptLog]) await rm(f, { force: true });
        if ((await readdir(outputDir).catch(() => ['?'])).length === 0) await rmdir(outputDir).catch(() => undefined);
      },
    };
    return artifact;
  },
});

/** Removes a partial download left by a killed run; refuses anything not named like one. */
const reapDownload: Reaper = async (data) => {
  const path = data.path;
  if (typeof path !== 'string' || !isAbsolute(path) || !PARTIAL_DOWNLOAD_NAME.test(basename(path))) {
    throw new Error(`refusing to remove ${String(path)}: not a partial download of the qemu builder`);
  }
  await rm(path, { force: true });
};

export default { builders: [qemuBuilder], reapers: { [VM_KIND]: reapVm, [PARTIAL_DOWNLOAD_KIND]: reapDownload } } satisfies PluginSet;
