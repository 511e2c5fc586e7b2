/**
 * Files a plugin keeps beside the build's log, in the run's folder (`<state>/runs/<run id>/logs/`):
 * they outlive the build whether it succeeds or fails (an output directory may be removed on
 * failure), and they are not part of any artifact, so post-processors never see them. A VM's
 * serial console log is one.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runDir } from '../state/paths.js';
import { safeFileName } from '../ui/log-files.js';
import type { ComponentContext } from './plugin.js';

/**
 * The path of `<build><suffix>` in the run's log folder, which it creates if need be. The build
 * name is made safe for a file name by the build's own log file's rule (safeFileName), so the two sit
 * side by side (`qemu.tiny.log`, `qemu.tiny-serial.log`).
 */
export async function buildLogFile(ctx: Pick<ComponentContext<unknown>, 'runId' | 'buildName'>, suffix: string): Promise<string> {
  const dir = join(runDir(ctx.runId), 'logs');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return join(dir, `${safeFileName(ctx.buildName)}${suffix}`);
}
