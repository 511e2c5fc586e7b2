/**
 * The `qcow2` post-processor: the build's disk image as qcow2, written by qemu-img (which must be
 * installed: Debian package qemu-utils). `compression = true` compresses clusters (-c); `compat`
 * picks the qcow2 version ("1.1", the default, or "0.10" for very old readers).
 */
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { postProcessor, z, type Artifact, type PluginSet } from '../../src/sdk/index.js';
import { detectImageFormat, diskImageOf, diskOutputPath, DISK_PARTIAL_KIND, partialRecorder, qemuImgConvert, qemuImgInfo, reapDiskPartial, writeAtomically } from '../../src/sdk/images.js';

export const BUILDER_ID = 'kiln.post-processor.qcow2';

const schema = z
  .object({
    /** Where the qcow2 goes; defaults to the input's path with a .qcow2 extension. */
    output: z.string().min(1, 'output must not be empty').optional(),
    compression: z.boolean().default(false),
    compat: z.enum(['1.1', '0.10'], { message: 'compat must be "1.1" or "0.10"' }).default('1.1'),
  })
  .strict();

/** qemu-img's names for the formats kiln detects. */
const QEMU_FORMAT: Record<string, string> = { raw: 'raw', qcow2: 'qcow2', vhd: 'vpc', vhdx: 'vhdx', vmdk: 'vmdk' };

const qcow2 = postProcessor({
  type: 'qcow2',
  schema,
  programs: [{ command: 'qemu-img', install: 'install it (Debian and Ubuntu package qemu-utils)' }],
  async process(ctx, input) {
    const { output, compression, compat } = ctx.config;
    const disk = diskImageOf(input);
    const out = diskOutputPath(disk, '.qcow2', output);
    const format = await detectImageFormat(disk);
    ctx.ui.say(`Converting ${disk} (${format}) to qcow2 ${out}${compression ? ' with compressed clusters' : ''} (qemu-img, compat ${compat})`);
    await mkdir(dirname(out), { recursive: true });
    await writeAtomically(
      out,
      (part) =>
        qemuImgConvert(disk, part, {
          srcFormat: QEMU_FORMAT[format] ?? format,
          dstFormat: 'qcow2',
          compress: compression,
          options: { compat },
          signal: ctx.signal,
          resources: ctx.resources,
        }),
      partialRecorder(ctx),
    );
    const info = await qemuImgInfo(out, 'qcow2', { signal: ctx.signal });
    ctx.ui.say(`qcow2 ${out} completed`);
    const artifact: Artifact = {
      builderId: BUILDER_ID,
      id: out,
      files: [out],
      description: `qcow2 disk image: ${out}`,
      state: { ...input.state, diskPaths: [out], diskType: 'qcow2', diskSize: info.virtualSize },
      destroy: () => rm(out, { force: true }),
    };
    return { artifact, keepInput: false };
  },
});

export default { postProcessors: [qcow2], reapers: { [DISK_PARTIAL_KIND]: reapDiskPartial } } satisfies PluginSet;
