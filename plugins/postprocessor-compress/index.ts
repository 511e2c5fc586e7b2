/**
 * The `compress` post-processor: puts the artifact's files into one archive (tar, gzip, or
 * zstd from node:zlib or the zstd command), chosen from the output name as Packer does. Bytes are streamed; the
 * archive is written under a temporary name and renamed when complete, so a failed or cancelled
 * build never leaves a truncated archive under the real name. Its input is not kept unless
 * keep_input_artifact says so (Packer's default).
 */
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { postProcessor, z, type Artifact, type PluginSet, type Reaper, checkTemplate, renderTemplate, templateVars } from '../../src/sdk/index.js';
import { isDiskFull, sparseFileChunks, writeError } from '../../src/sdk/images.js';
import { compressor, coresFor, detectFormat, type Format } from './format.js';
import { tarStream } from './tar.js';

/** Packer's id for artifacts of this post-processor. */
export const BUILDER_ID = 'packer.post-processor.compress';
export const DEFAULT_OUTPUT = 'packer_{{.BuildName}}_{{.BuilderType}}';
/** The ledger kind of a partly written archive, removed by `kiln cleanup` if kiln was killed. */
const PARTIAL_KIND = 'compress.partial';
const PARTIAL_NAME = /^\..+\.kiln-[0-9a-f]+\.part$/;

const schema = z
  .object({
    output: z.string().min(1, 'output must not be empty').default(DEFAULT_OUTPUT),
    format: z.string().min(1, 'format must not be empty').optional(),
    // A number in Packer's schema; HCL would convert "9" to 9, so a numeric string is taken too.
    compression_level: z
      .union([z.number(), z.string().regex(/^-?\d+$/, 'compression_level must be a whole number').transform(Number)])
      .pipe(z.number().int('compression_level must be a whole number').min(-1, 'compression_level must be -1 (the default) or more'))
      .optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const problem = checkTemplate(c.output);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, path: ['output'] });
    // Decided from the output as written (before placeholders are filled), as Packer does.
    const f = detectFormat(c.output, c.format);
    if (typeof f === 'string') ctx.addIssue({ code: 'custom', message: f, path: [c.format ? 'format' : 'output'] });
  });

export type CompressConfig = z.output<typeof schema>;

function describe(f: Format): string {
  return f.algorithm === 'none' ? 'no compression' : f.algorithm;
}

function partialName(target: string): string {
  return join(dirname(target), `.${basename(target)}.kiln-${randomBytes(4).toString('hex')}.part`);
}

const compress = postProcessor({
  type: 'compress',
  schema,
  async process(ctx, input) {
    const { output, format, compression_level } = ctx.config;
    const fmt = detectFormat(output, format);
    if (typeof fmt === 'string') throw new Error(fmt);
    const files = input.files;
    if (fmt.archive === 'none' && files.length !== 1) {
      throw new Error(`Can only have 1 input file when not using tar (output "${output}"). Found ${files.length} files: ${files.join(', ') || '(none)'}. Use a .tar.gz or .tar output to archive several files.`);
    }
    // Packer's BuildName is the source's name under HCL2.
    const target = renderTemplate(output, templateVars(ctx.generatedData, input.state, { BuildName: ctx.sourceName, BuilderType: ctx.builderType }));

    if (fmt.algorithm !== 'none') {
      const cores = coresFor(fmt.algorithm);
      ctx.ui.say(`Using ${fmt.algorithm} compression with ${cores} ${cores === 1 ? 'core' : 'cores'} for ${target}`);
    }
    if (fmt.archive === 'tar') ctx.ui.say(`Tarring ${target} with ${describe(fmt)}`);
    else ctx.ui.say(`Archiving ${files[0]!} with ${describe(fmt)}`);

    await mkdir(dirname(target), { recursive: true });
    const part = partialName(target);
    const record = await ctx.resources.record(PARTIAL_KIND, `partial archive ${part}`, { path: resolve(part) });
    let fh: FileHandle | undefined;
    try {
      // Opened before the pipeline starts, so the removal below can never run ahead of the creation.
      fh = await open(part, 'wx', 0o644);
      // Disk images are sparse: holes are fed to the compressor as zeros without reading them.
      const source = fmt.archive === 'tar' ? Readable.from(tarStream(files, ctx.signal)) : Readable.from(sparseFileChunks(files[0]!, (await stat(files[0]!)).size, { signal: ctx.signal }));
      const sink = fh.createWriteStream(); // closes the handle when done
      const squeeze = compressor(fmt.algorithm, compression_level);
      if (squeeze) await pipeline(source, squeeze, sink, { signal: ctx.signal });
      else await pipeline(source, sink, { signal: ctx.signal });
      // On disk before it gets its real name: a crash right after leaves a whole archive or none.
      const written = await open(part, 'r');
      try {
        await written.sync();
      } finally {
        await written.close();
      }
      ctx.signal.throwIfAborted();
      await rename(part, target);
    } catch (err) {
      // Only a file this step created is removed (the open itself may have failed).
      if (fh) {
        await fh.close().catch(() => undefined); // already closed when its stream ended
        await rm(part, { force: true });
      }
      ctx.signal.throwIfAborted();
      // A full disk is said as the disk post-processors say it; other errors keep Packer's words.
      throw isDiskFull(err) ? writeError(err, target) : new Error(`Unable to create archive ${target}: ${(err as Error).message}`);
    } finally {
      await record.release();
    }

    ctx.ui.say(`Archive ${target} completed`);
    const artifact: Artifact = {
      builderId: BUILDER_ID,
      id: '',
      files: [target],
      description: `compressed artifacts in: ${target}`,
      state: {},
      destroy: () => rm(target, { force: true }),
    };
    return { artifact, keepInput: false };
  },
});

/** Removes a partial archive left by a killed run; refuses anything not named like one. */
const reapPartial: Reaper = async (data) => {
  const path = data.path;
  if (typeof path !== 'string' || !isAbsolute(path) || !PARTIAL_NAME.test(basename(path))) {
    throw new Error(`refusing to remove ${String(path)}: not a partial archive of the compress post-processor`);
  }
  await rm(path, { force: true });
};

export default { postProcessors: [compress], reapers: { [PARTIAL_KIND]: reapPartial } } satisfies PluginSet;
