/**
 * The `null` builder: builds nothing, runs the provisioners. With `communicator = "none"` they
 * run without a machine (shell-local); the ssh communicator provisions an existing host.
 */
import { builder, NoneCommunicator, z, type PluginSet } from '../../src/sdk/index.js';

const schema = z
  .object({
    communicator: z.literal('none', { message: 'only communicator = "none" is available for the null builder in this version of kiln' }),
  })
  .strict();

const nullBuilder = builder({
  type: 'null',
  schema,
  async run(ctx) {
    ctx.generatedData.set('ID', 'Null');
    await ctx.step('provision', () => ctx.provision(new NoneCommunicator()));
    return {
      builderId: 'fnoeding.null',
      id: 'Null',
      files: [],
      description: 'Did not export anything. This is the null builder',
      state: { generated_data: Object.fromEntries(ctx.generatedData) },
    };
  },
});

export default { builders: [nullBuilder] } satisfies PluginSet;
