/**
 * The CD image attached to the VM (cd_files, cd_content, cd_label), as Packer's cd step builds
 * it, written by kiln's own ISO 9660/Joliet writer (no xorriso or genisoimage needed):
 *
 * - cd_files: each file goes to the CD's root under its name; a directory goes with its name,
 *   or its contents to the root when written with a trailing slash; `*`, `?` and `[…]` patterns
 *   are expanded (relative to the working directory).
 * - cd_content: path on the CD → text.
 *
 * `cloudInitSeed` writes the NoCloud files kiln uses to hand a temporary SSH key to a cloud image.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import picomatch from 'picomatch';
import type { IsoEntry } from '../../src/sdk/images.js';

/** The entries for cd_files and cd_content; cd_content wins over a file of the same path. */
export async function cdEntries(files: readonly string[], content: Readonly<Record<string, string>>): Promise<IsoEntry[]> {
  const entries = new Map<string, IsoEntry>();
  for (const spec of files) {
    const matches = /[*?[]/.test(spec) ? await expandGlob(spec) : [spec];
    if (matches.length === 0) throw new Error(`cd_files: "${spec}" matches no file`);
    for (const m of matches) {
      const st = await stat(m).catch(() => undefined);
      if (!st) throw new Error(`cd_files: "${m}" does not exist`);
      if (st.isDirectory()) {
        const prefix = m.endsWith('/') ? '' : basename(resolve(m));
        for (const f of await walk(resolve(m))) {
          const path = join(prefix, relative(resolve(m), f)).split('\\').join('/');
          entries.set(path, { path, source: { file: f } });
        }
      } else entries.set(basename(m), { path: basename(m), source: { file: resolve(m) } });
    }
  }
  for (const [path, text] of Object.entries(content)) {
    const p = path.replace(/^\/+/, '');
    entries.set(p, { path: p, source: { content: Buffer.from(text, 'utf8') } });
  }
  return [...entries.values()];
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile() || e.isSymbolicLink()) out.push(p);
  }
  return out.sort();
}

/** Files and directories matching a glob, searched from the part of the pattern before the first wildcard. */
async function expandGlob(pattern: string): Promise<string[]> {
  const parts = pattern.split('/');
  const fixed: string[] = [];
  for (const p of parts) {
    if (/[*?[]/.test(p)) break;
    fixed.push(p);
  }
  const base = fixed.join('/') || '.';
  const isMatch = picomatch(pattern, { dot: false });
  const found: string[] = [];
  const visit = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const p = dir === '.' ? e.name : join(dir, e.name);
      if (isMatch(p)) found.push(p);
      if (e.isDirectory()) await visit(p);
    }
  };
  await visit(base);
  return found.sort();
}

/**
 * cloud-init NoCloud `user-data` and `meta-data` that install `publicKey` for `user`: root gets it
 * directly (disable_root off), another user is created with passwordless sudo, as cloud images'
 * default users have.
 */
export function cloudInitSeed(user: string, publicKey: string, hostname: string, instanceId: string): Record<string, string> {
  const key = JSON.stringify(publicKey.trim());
  const userData =
    user === 'root'
      ? ['#cloud-config', 'disable_root: false', 'ssh_pwauth: false', 'ssh_authorized_keys:', `  - ${key}`, '']
      : [
          '#cloud-config',
          'ssh_pwauth: false',
          'users:',
          '  - default',
          `  - name: ${JSON.stringify(user)}`,
          '    sudo: "ALL=(ALL) NOPASSWD:ALL"',
          '    shell: /bin/bash',
          '    lock_passwd: true',
          '    ssh_authorized_keys:',
          `      - ${key}`,
          '',
        ];
  return {
    'user-data': userData.join('\n'),
    'meta-data': `instance-id: ${instanceId}\nlocal-hostname: ${hostname}\n`,
  };
}
