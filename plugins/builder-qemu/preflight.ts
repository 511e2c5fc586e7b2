/**
 * The programs the qemu builder runs, looked for when the build starts: a missing QEMU or
 * qemu-img must fail the build before anything is downloaded, copied or created, not minutes
 * later at the step that first runs it. Each missing program is named with its Debian package.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { packageOf } from './process.js';

async function executable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** Whether `command` runs: a path as given, a bare name through PATH (as spawn looks it up). */
export async function commandExists(command: string, path = process.env.PATH ?? ''): Promise<boolean> {
  if (command.includes('/')) return executable(command);
  for (const dir of path.split(delimiter)) {
    if (dir !== '' && (await executable(join(dir, command)))) return true;
  }
  return false;
}

/** Fails with every missing program and the package to install for each. */
export async function checkPrograms(commands: readonly string[]): Promise<void> {
  const missing: string[] = [];
  for (const cmd of commands) if (!(await commandExists(cmd))) missing.push(cmd);
  if (missing.length === 0) return;
  throw new Error(missing.map((cmd) => `${cmd} is not installed: install the Debian package ${packageOf(cmd)} (apt-get install ${packageOf(cmd)})`).join('\n'));
}
