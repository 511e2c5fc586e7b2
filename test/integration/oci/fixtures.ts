/** Small real root filesystems for the OCI tests: busybox-static and its applet links. */
import { chmodSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

const APPLETS = ['sh', 'ls', 'cat', 'echo', 'rm', 'mkdir', 'touch', 'uname', 'id', 'find', 'sort', 'stat', 'chown', 'chmod', 'sleep'];

/** `dir/rootfs/` with bin/busybox, applet links and an /etc/os-release. */
export function busyboxRootfs(dir: string): string {
  const root = join(dir, 'rootfs');
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'tmp'), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777); // past the umask: any user may write there
  const busybox = execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim();
  copyFileSync(busybox, join(root, 'bin', 'busybox'));
  for (const a of APPLETS) symlinkSync('busybox', join(root, 'bin', a));
  writeFileSync(join(root, 'etc', 'os-release'), 'NAME=kiln-test\n');
  return root;
}

export function sh(cmd: string, opts: { cwd?: string; env?: Record<string, string> } = {}): string {
  return execFileSync('sh', ['-c', cmd], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, encoding: 'utf8', maxBuffer: 1 << 26 });
}

/** Two scratch builds of one template, for linux/amd64 and linux/arm64/v8: the head of a build block (close it). */
export const TWO_PLATFORMS_BUILD = `
source "oci" "amd64" {
  base     = "scratch"
  platform = "linux/amd64"
}
source "oci" "arm64" {
  base     = "scratch"
  platform = "linux/arm64/v8"
}
build {
  sources = ["source.oci.amd64", "source.oci.arm64"]
`;
