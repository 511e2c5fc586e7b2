/**
 * The real container components the OCI tests run against (see ../shared/TESTBED.md), and
 * helpers that start and stop them through test/setup/ — each registry gets a free port and each
 * podman its own storage, so test files (and whole test runs) in parallel never meet.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './cli.js';
import { commandExists, type Component } from './components.js';
import { freePort } from './sshd.js';

const INSTALL = 'sudo bash test/setup/install-packages.sh';

export const REGISTRY: Component = { name: 'the distribution registry (Debian package docker-registry)', available: () => commandExists('docker-registry') && commandExists('curl'), setup: INSTALL };
export const PODMAN: Component = { name: 'podman with runc (Debian packages podman, runc)', available: () => commandExists('podman') && (commandExists('runc') || commandExists('/usr/sbin/runc')), setup: INSTALL };
export const SKOPEO: Component = { name: 'skopeo', available: () => commandExists('skopeo'), setup: INSTALL };
export const UMOCI: Component = { name: 'umoci', available: () => commandExists('umoci'), setup: INSTALL };
export const BUSYBOX: Component = { name: 'busybox (Debian package busybox-static)', available: () => commandExists('busybox'), setup: INSTALL };

export interface RunningRegistry {
  dir: string;
  port: number;
  host: string;
  stop(): void;
  /** Starts it again on the same storage (after a stop). */
  start(): void;
}

export async function startRegistry(opts: { htpasswd?: string } = {}): Promise<RunningRegistry> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kiln-registry-'));
  const script = join(ROOT, 'test', 'setup', 'registry.sh');
  const start = (): void => {
    execFileSync('bash', [script, 'start', dir, String(port), ...(opts.htpasswd ? [opts.htpasswd] : [])], { stdio: 'pipe' });
  };
  start();
  return {
    dir,
    port,
    host: `127.0.0.1:${port}`,
    start,
    stop: () => execFileSync('bash', [script, 'stop', dir], { stdio: 'pipe' }),
  };
}

export function removeRegistry(r: RunningRegistry): void {
  r.stop();
  rmSync(r.dir, { recursive: true, force: true });
}

export interface RunningPodman {
  dir: string;
  socket: string;
  env: Record<string, string>;
  /** Runs the podman CLI against the same storage as the service. */
  podman(args: readonly string[], input?: Buffer): string;
  stop(): void;
}

export function startPodman(insecureRegistries: readonly string[] = []): RunningPodman {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-podman-'));
  const script = join(ROOT, 'test', 'setup', 'podman.sh');
  execFileSync('bash', [script, 'start', dir, ...insecureRegistries], { stdio: 'pipe' });
  const env = Object.fromEntries(
    execFileSync('bash', [script, 'env', dir], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return {
    dir,
    socket: join(dir, 'podman.sock'),
    env,
    podman: (args, input) =>
      execFileSync('podman', ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--storage-driver=overlay', ...args], { env: { ...process.env, ...env }, encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] }),
    stop: () => {
      execFileSync('bash', [script, 'stop', dir], { stdio: 'pipe' });
      // Overlay mounts of the storage go with it; a container's cleanup may still be letting go
      // of one, so unmount and remove a few times before giving up.
      for (let i = 0; ; i++) {
        try {
          execFileSync('sh', ['-c', `grep -o " ${dir}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`], { stdio: 'pipe' });
        } catch {
          // nothing mounted
        }
        try {
          rmSync(dir, { recursive: true, force: true });
          return;
        } catch (err) {
          if (i >= 20) throw err;
          execFileSync('sleep', ['0.1']);
        }
      }
    },
  };
}
