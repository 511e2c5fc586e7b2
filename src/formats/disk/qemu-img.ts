/**
 * qcow2 (and conversions between formats kiln does not write itself) through `qemu-img`, run as a
 * recorded local process so cancellation and `kiln cleanup` stop it. A missing qemu-img is an
 * error that names the package to install.
 */
import { CommandNotFoundError, runLocal } from '../../communicator/local.js';
import type { ResourceTracker } from '../../sdk/plugin.js';

export const QEMU_IMG_PACKAGE = 'qemu-utils';

export class QemuImgError extends Error {
  override name = 'QemuImgError';
  /** ENOSPC or EDQUOT when qemu-img failed because its output's filesystem is full. */
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.code = code;
  }
}

/** qemu-img reports a full disk only as strerror text; the errno code lets writeError say it plainly. */
function fullDiskCode(stderr: string): string | undefined {
  if (/No space left on device/i.test(stderr)) return 'ENOSPC';
  if (/Disk quota exceeded/i.test(stderr)) return 'EDQUOT';
  return undefined;
}

export interface QemuImgOptions {
  signal?: AbortSignal;
  resources?: ResourceTracker;
}

/** Runs `qemu-img args…`; resolves to its standard output, rejects with its last error lines. */
export async function qemuImg(args: readonly string[], opts: QemuImgOptions = {}): Promise<string> {
  const out: string[] = [];
  const err: string[] = [];
  let r;
  try {
    r = await runLocal(['qemu-img', ...args], {
      signal: opts.signal,
      resources: opts.resources,
      onStdout: (l) => out.push(l),
      onStderr: (l) => err.push(l),
    });
  } catch (e) {
    if (e instanceof CommandNotFoundError) {
      throw new QemuImgError(`qemu-img is not installed: install the Debian package ${QEMU_IMG_PACKAGE} (apt-get install ${QEMU_IMG_PACKAGE}), or your system's qemu-img package`);
    }
    throw e;
  }
  opts.signal?.throwIfAborted();
  if (r.exitCode !== 0) {
    const why = err.slice(-5).join(' ').trim() || out.slice(-5).join(' ').trim();
    throw new QemuImgError(`qemu-img ${args[0] ?? ''} failed (${r.exitCode === null ? `signal ${r.signal ?? '?'}` : `exit ${r.exitCode}`}): ${why}`, fullDiskCode(why));
  }
  return out.join('\n');
}

export interface ConvertOptions extends QemuImgOptions {
  srcFormat: string;
  dstFormat: string;
  /** -c: compressed clusters (qcow2). */
  compress?: boolean;
  /** -o key=value pairs. */
  options?: Readonly<Record<string, string>>;
}

export async function qemuImgConvert(src: string, dst: string, o: ConvertOptions): Promise<void> {
  const args = ['convert', '-f', o.srcFormat, '-O', o.dstFormat];
  if (o.compress) args.push('-c');
  const opts = Object.entries(o.options ?? {});
  // qemu-img splits -o at commas; a literal comma is written twice.
  if (opts.length > 0) args.push('-o', opts.map(([k, v]) => `${k}=${v.replace(/,/g, ',,')}`).join(','));
  args.push(src, dst);
  await qemuImg(args, o);
}

export interface ImageInfo {
  format: string;
  virtualSize: number;
  actualSize: number;
  backingFile?: string;
}

export async function qemuImgInfo(path: string, format?: string, opts: QemuImgOptions = {}): Promise<ImageInfo> {
  const args = ['info', '--output=json', ...(format ? ['-f', format] : []), path];
  const j = JSON.parse(await qemuImg(args, opts)) as { format: string; 'virtual-size': number; 'actual-size': number; 'backing-filename'?: string };
  return { format: j.format, virtualSize: j['virtual-size'], actualSize: j['actual-size'], backingFile: j['backing-filename'] };
}
