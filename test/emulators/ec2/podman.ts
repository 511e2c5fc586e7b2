/**
 * The emulator's own podman: rootful, configured as test/setup/podman.sh configures it for this
 * machine kind (runc, cgroupfs, ulimits under the 20000 open-files limit, the file events
 * logger), with storage private to one emulator (a temp dir) that sees the cached base image
 * store of test/setup/ami-image.sh as a read-only additional image store. No image is copied per
 * emulator, and nothing one emulator does (containers, committed AMIs) is visible to another.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PodmanResult {
  stdout: string;
  stderr: string;
}

export class PodmanError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
    readonly exitCode: number | null,
  ) {
    super(`podman ${args.join(' ')} failed (exit ${exitCode}): ${stderr.trim()}`);
  }
}

export class Podman {
  private constructor(
    /** The emulator's private directory: configuration, storage, run root. */
    readonly dir: string,
    readonly env: Record<string, string>,
  ) {}

  static async create(baseStore: string): Promise<Podman> {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-ec2-'));
    await mkdir(join(dir, 'tmp'));
    await writeFile(
      join(dir, 'containers.conf'),
      [
        '[containers]',
        'default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]',
        '[engine]',
        'runtime = "runc"',
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        `events_logfile_path = "${dir}/events.log"`,
        `tmp_dir = "${dir}/tmp"`,
        '',
      ].join('\n'),
    );
    await writeFile(join(dir, 'registries.conf'), 'unqualified-search-registries = []\n');
    // Storage options come from this file only: podman drops the file's options (the additional
    // image store among them) when --root or --storage-driver is given on its command line.
    await writeFile(
      join(dir, 'storage.conf'),
      ['[storage]', 'driver = "overlay"', `graphroot = "${dir}/root"`, `runroot = "${dir}/run"`, '[storage.options]', `additionalimagestores = ["${baseStore}"]`, ''].join('\n'),
    );
    const env: Record<string, string> = {
      CONTAINERS_CONF: join(dir, 'containers.conf'),
      CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf'),
      CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
    };
    return new Podman(dir, env);
  }

  run(args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<PodmanResult> {
    return new Promise((resolve, reject) => {
      execFile('podman', args, { env: { ...process.env, ...this.env }, maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 120_000 }, (err, stdout, stderr) => {
        if (err) reject(new PodmanError(args, String(stderr || err.message), typeof err.code === 'number' ? err.code : null));
        else resolve({ stdout: String(stdout), stderr: String(stderr) });
      });
    });
  }

  /** Commands a test can run by hand against this storage (`env … podman ps -a`). */
  shellEnv(): string {
    return Object.entries(this.env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
  }

  /**
   * Removes every container and every image of the private store, then the store itself. The
   * base store is read-only to this podman, so it is never touched.
   */
  async dispose(): Promise<void> {
    await this.run(['rm', '--all', '--force', '--time', '0']).catch(() => undefined);
    const images = await this.run(['images', '--quiet', '--no-trunc', '--filter', 'readonly=false']).catch(() => ({ stdout: '' }));
    const ids = [...new Set(images.stdout.split('\n').filter(Boolean))];
    if (ids.length) await this.run(['rmi', '--force', ...ids]).catch(() => undefined);
    await this.killStrayConmons();
    await this.unmountAll();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** conmon can outlive `rm -f` (see TESTBED.md): stop those of this storage only, by PID. */
  private async killStrayConmons(): Promise<void> {
    const pids: number[] = [];
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if ((await readFile(`/proc/${entry}/comm`, 'utf8')).trim() !== 'conmon') continue;
        if ((await readFile(`/proc/${entry}/cmdline`, 'utf8')).includes(`${this.dir}/`)) pids.push(Number(entry));
      } catch {
        // gone already
      }
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone already
      }
    }
  }

  private async unmountAll(): Promise<void> {
    const mounts = (await readFile('/proc/mounts', 'utf8'))
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((m) => m.startsWith(`${this.dir}/`))
      .sort()
      .reverse();
    for (const m of mounts) {
      await new Promise<void>((resolve) => execFile('umount', ['-l', m], () => resolve()));
    }
  }
}
