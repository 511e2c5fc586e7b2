/**
 * The `file` builder: writes `content`, or copies `source`, to `target` (streamed, holes kept;
 * missing parent directories created), then runs the provisioners. Handy for tests and for feeding
 * post-processors with an existing file.
 */
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { builder, NoneCommunicator, z, type PluginSet } from '../../src/sdk/index.js';
import { copySparse } from '../../src/sdk/images.js';

const schema = z
  .object({
    source: z.string().optional(),
    content: z.string().optional(),
    target: z.string().min(1, 'target must not be empty'),
  })
  .strict()
  .refine((c) => (c.source === undefined) !== (c.content === undefined), { message: 'set exactly one of source or content' });

const fileBuilder = builder({
  type: 'file',
  schema,
  async run(ctx) {
    const { source, content, target } = ctx.config;
    await ctx.step('write target', async () => {
      await mkdir(dirname(target), { recursive: true });
      // Write next to the target and rename, so a cancelled copy never leaves half a file.
      const tmp = `${target}.kiln-${ctx.runId.slice(0, 8)}.part`;
      try {
        if (content !== undefined) {
          // Packer writes content files readable by their owner only, and says nothing.
          await writeFile(tmp, content, { signal: ctx.signal, mode: 0o600 });
        } else {
          ctx.ui.say(`Copying ${source} to ${target}`);
          const st = await stat(source!).catch(() => undefined);
          if (!st?.isFile()) throw new Error(`source file "${source}" does not exist or is not a regular file`);
          // Sparse-aware: a disk image's holes are neither read nor written (as cp --sparse=always).
          await copySparse(source!, tmp, { mode: st.mode & 0o777, signal: ctx.signal });
          ctx.ui.say(`Copied ${st.size} bytes`);
        }
        await rename(tmp, target);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    });
    ctx.generatedData.set('ID', target);
    await ctx.step('provision', () => ctx.provision(new NoneCommunicator()));
    return {
      builderId: 'packer.file',
      id: 'File',
      files: [target],
      description: `Stored file: ${target}`,
      state: { generated_data: Object.fromEntries(ctx.generatedData) },
      destroy: () => rm(target, { force: true }),
    };
  },
});

export default { builders: [fileBuilder] } satisfies PluginSet;
