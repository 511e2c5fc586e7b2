/**
 * The `vmdk` post-processor: the build's disk image as a stream-optimized VMDK, the form vSphere
 * imports and OVA/OVF packages carry: deflated 64 KiB grains, zero grains left out, grain tables,
 * directory, footer and end-of-stream marker, with the descriptor embedded.
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { postProcessor, z, type Artifact, type PluginSet } from '../../src/sdk/index.js';
import { ADAPTER_TYPES, diskIdentity, diskImageOf, diskOutputPath, DISK_PARTIAL_KIND, partialRecorder, progressReporter, rawInputOf, reapDiskPartial, writeAtomically, writeStreamOptimizedVmdk } from '../../src/sdk/images.js';

export const BUILDER_ID = 'kiln.post-processor.vmdk';

const schema = z
  .object({
    /** Where the VMDK goes; defaults to the input's path with a .vmdk extension. */
    output: z.string().min(1, 'output must not be empty').optional(),
    /** zlib level for the grains: 1 (fastest) to 9 (smallest); 6 by default. */
    compression_level: z.number().int('compression_level must be a whole number').min(1, 'compression_level must be 1 to 9').max(9, 'compression_level must be 1 to 9').optional(),
    adapter_type: z.enum(ADAPTER_TYPES, { message: `adapter_type must be one of ${ADAPTER_TYPES.join(', ')}` }).default('lsilogic'),
    hardware_version: z.number().int().min(4, 'hardware_version must be 4 or more').default(4),
    /** Makes the content id (CID) reproducible. */
    uuid_seed: z.string().optional(),
  })
  .strict();

const vmdk = postProcessor({
  type: 'vmdk',
  schema,
  async process(ctx, input) {
    const { output, compression_level, adapter_type, hardware_version, uuid_seed } = ctx.config;
    const disk = diskImageOf(input);
    const out = diskOutputPath(disk, '.vmdk', output);
    const raw = await rawInputOf(ctx, disk);
    const rawSize = (await stat(raw.path)).size;
    if (rawSize % 512 !== 0) ctx.ui.say(`The disk is ${rawSize} bytes, not whole 512-byte sectors: the VMDK's disk is padded with zeros to the next sector`);
    ctx.ui.say(`Writing stream-optimized VMDK ${out} from ${disk}`);
    await mkdir(dirname(out), { recursive: true });
    await writeAtomically(
      out,
      (part) =>
        writeStreamOptimizedVmdk(raw.path, part, {
          identity: diskIdentity(uuid_seed, out),
          compressionLevel: compression_level,
          adapterType: adapter_type,
          hardwareVersion: hardware_version,
          extentName: out,
          signal: ctx.signal,
          onProgress: progressReporter(ctx, `vmdk:${out}`, rawSize, `Writing ${out}`),
        }),
      partialRecorder(ctx),
    );
    if (raw.temporary) await rm(raw.path, { force: true });
    ctx.ui.say(`VMDK ${out} completed`);
    const artifact: Artifact = {
      builderId: BUILDER_ID,
      id: out,
      files: [out],
      description: `Stream-optimized VMDK: ${out}`,
      state: { ...input.state, diskPaths: [out], diskType: 'vmdk-stream-optimized', diskSize: Math.ceil(rawSize / 512) * 512 },
      destroy: () => rm(out, { force: true }),
    };
    return { artifact, keepInput: false };
  },
});

export default { postProcessors: [vmdk], reapers: { [DISK_PARTIAL_KIND]: reapDiskPartial } } satisfies PluginSet;
