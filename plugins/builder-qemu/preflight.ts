/**
 * The programs the qemu builder runs, looked for when the build starts: a missing QEMU or
 * qemu-img must fail the build before anything is downloaded, copied or created, not minutes
 * later at the step that first runs it. Each missing program is named with its Debian package.
 */
import { findCommand } from '../../src/sdk/index.js';
import { packageOf } from './process.js';

/** Fails with every missing program and the package to install for each. */
export function checkPrograms(commands: readonly string[]): void {
  const missing = commands.filter((cmd) => findCommand(cmd) === undefined);
  if (missing.length === 0) return;
  throw new Error(missing.map((cmd) => `${cmd} is not installed: install the Debian package ${packageOf(cmd)} (apt-get install ${packageOf(cmd)})`).join('\n'));
}
