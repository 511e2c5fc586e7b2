/**
 * The `vhd` post-processor: the build's disk image as a VHD. Fixed by default (what Azure takes:
 * raw data plus a footer, its size rounded up to a whole MiB, with a notice when that changes
 * it); `dynamic = true` writes a dynamic VHD that stores only the blocks holding data.
 *
 * When nothing reads the input after this step (see PostProcessContext.inputDisposable), a raw
 * input becomes the fixed VHD in place: the file is extended and the footer appended, so the time
 * does not grow with the disk. Otherwise only the input's data is copied and holes stay holes.
 */
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { postProcessor, z, type Artifact, type PluginSet } from '../../src/sdk/index.js';
import { diskIdentity, diskImageOf, diskOutputPath, DISK_PARTIAL_KIND, dynamicVhdSize, fixedVhdInPlace, fixedVhdSize, partialRecorder, progressReporter, rawInputOf, reapDiskPartial, writeAtomically, writeDynamicVhd, writeError, writeFixedVhd } from '../../src/sdk/images.js';

export const BUILDER_ID = 'kiln.post-processor.vhd';

const schema = z
  .object({
    /** Where the VHD goes; defaults to the input's path with a .vhd extension. */
    output: z.string().min(1, 'output must not be empty').optional(),
    dynamic: z.boolean().default(false),
    /** Makes the VHD's unique id reproducible (SOURCE_DATE_EPOCH fixes its time stamp). */
    uuid_seed: z.string().optional(),
  })
  .strict();

const vhd = postProcessor({
  type: 'vhd',
  schema,
  async process(ctx, input) {
    const { output, dynamic, uuid_seed } = ctx.config;
    const disk = diskImageOf(input);
    const out = diskOutputPath(disk, '.vhd', output);
    const identity = diskIdentity(uuid_seed, out);
    const raw = await rawInputOf(ctx, disk);
    const rawSize = (await stat(raw.path)).size;
    const size = dynamic ? dynamicVhdSize(rawSize) : fixedVhdSize(rawSize);
    if (size !== rawSize) {
      ctx.ui.say(
        dynamic
          ? `The disk is ${rawSize} bytes, not whole 512-byte sectors: the VHD's disk is ${size} bytes (padded with zeros)`
          : `The disk is ${rawSize} bytes, not a whole number of MiB as Azure requires: the VHD's disk is rounded up to ${size} bytes (${size / 2 ** 20} MiB, padded with zeros)`,
      );
    }
    const onProgress = progressReporter(ctx, `vhd:${out}`, rawSize, `Writing ${out}`);
    await mkdir(dirname(out), { recursive: true });
    // In place means a rename, which cannot cross filesystems.
    const sameFilesystem = (await stat(dirname(out))).dev === (await stat(raw.path)).dev;
    const consumable = sameFilesystem && (raw.temporary || (ctx.inputDisposable === true && raw.path === disk));
    if (!dynamic && consumable) {
      ctx.ui.say(`Converting ${raw.temporary ? 'the raw copy' : disk} to a fixed VHD in place (${out})`);
      try {
        await fixedVhdInPlace(raw.path, size, { identity });
        await rename(raw.path, out);
      } catch (err) {
        throw writeError(err, out);
      }
    } else {
      ctx.ui.say(`Writing ${dynamic ? 'dynamic' : 'fixed'} VHD ${out} from ${disk}`);
      const opts = { identity, signal: ctx.signal, onProgress };
      await writeAtomically(out, (part) => (dynamic ? writeDynamicVhd(raw.path, part, size, opts) : writeFixedVhd(raw.path, part, size, opts)), partialRecorder(ctx));
      if (raw.temporary) await rm(raw.path, { force: true });
    }
    ctx.ui.say(`VHD ${out} completed`);
    const artifact: Artifact = {
      builderId: BUILDER_ID,
      id: out,
      files: [out],
      description: `${dynamic ? 'Dynamic' : 'Fixed'} VHD: ${out}`,
      state: { ...input.state, diskPaths: [out], diskType: dynamic ? 'vhd-dynamic' : 'vhd-fixed', diskSize: size },
      destroy: () => rm(out, { force: true }),
    };
    return { artifact, keepInput: false };
  },
});

export default { postProcessors: [vhd], reapers: { [DISK_PARTIAL_KIND]: reapDiskPartial } } satisfies PluginSet;
