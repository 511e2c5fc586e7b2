/**
 * The `checksum` post-processor: appends `<hex digest>\t<file name>` lines for every artifact
 * file to one checksum file per type (Packer's format, which `sha256sum -c` reads too). Its
 * artifact lists the input files plus the checksum files it created, as Packer's does, and the
 * input is always kept.
 */
import { appendFile, mkdir, rm, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { postProcessor, z, type Artifact, type PluginSet, checkTemplate, renderTemplate, templateVars } from '../../src/sdk/index.js';
import { CHECKSUM_TYPES, hashFile, type ChecksumType } from './hash.js';

/** Packer's id for artifacts of this post-processor. */
export const BUILDER_ID = 'packer.post-processor.checksum';
export const DEFAULT_OUTPUT = 'packer_{{.BuildName}}_{{.BuilderType}}_{{.ChecksumType}}.checksum';

const schema = z
  .object({
    checksum_types: z
      .array(z.enum(CHECKSUM_TYPES, { error: (iss) => `Unrecognized checksum type: ${String(iss.input)} (use one of ${CHECKSUM_TYPES.join(', ')})` }))
      .default(['md5']),
    output: z
      .string()
      .min(1, 'output must not be empty')
      .default(DEFAULT_OUTPUT)
      .superRefine((v, ctx) => {
        const problem = checkTemplate(v);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
  })
  .strict();

export type ChecksumConfig = z.output<typeof schema>;

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

const checksum = postProcessor({
  type: 'checksum',
  schema,
  async process(ctx, input) {
    const { checksum_types: types, output } = ctx.config;
    // Packer's BuildName is the source's name under HCL2 (`packer_x_file_md5.checksum` for source file.x).
    const base = { BuildName: ctx.sourceName, BuilderType: ctx.builderType };
    const paths = new Map<ChecksumType, string>();
    for (const t of types) paths.set(t, renderTemplate(output, templateVars(ctx.generatedData, input.state, { ...base, ChecksumType: t })));

    const unique = [...new Set(types)];
    const digests = new Map<string, Map<ChecksumType, string>>();
    for (const file of input.files) {
      try {
        digests.set(file, await hashFile(file, unique, ctx.signal));
      } catch (err) {
        ctx.signal.throwIfAborted();
        throw new Error(`unable to compute ${unique.join(', ')} checksums of ${file}: ${(err as Error).message}`);
      }
    }

    // Lines per checksum file, in Packer's order (by type, then by file). Each file gets one
    // append, so builds sharing a checksum file (output = "SHA256SUMS") never interleave lines.
    const text = new Map<string, string>();
    const created: string[] = [];
    for (const t of types) {
      const path = paths.get(t)!;
      for (const file of input.files) {
        if (!text.has(path)) {
          text.set(path, '');
          // Packer lists only the checksum files this step created; appended-to ones were someone else's.
          if (!(await exists(path))) created.push(path);
        }
        text.set(path, `${text.get(path)!}${digests.get(file)!.get(t)!}\t${basename(file)}\n`);
      }
    }
    for (const [path, lines] of text) {
      await mkdir(dirname(path), { recursive: true });
      await appendFile(path, lines, { mode: 0o644 });
    }

    const files = [...input.files, ...created];
    const artifact: Artifact = {
      builderId: BUILDER_ID,
      id: '',
      files,
      description: `Created artifact from files: ${files.join(', ')}`,
      state: {},
      // As Packer's: destroying this artifact removes every file it lists, the checksummed ones too.
      destroy: async () => {
        for (const f of files) await rm(f, { recursive: true, force: true });
      },
    };
    // Keep the input whatever keep_input_artifact says: it is what the checksums describe.
    return { artifact, keepInput: true, forceOverride: true };
  },
});

export default { postProcessors: [checksum] } satisfies PluginSet;
