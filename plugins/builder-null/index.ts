/**
 * The `null` builder: builds nothing, runs the provisioners. With `communicator = "none"` they
 * run without a machine (shell-local); with `ssh` (Packer's default) they provision an existing
 * host at ssh_host.
 */
import { builder, checkSsh, connectSsh, prefetchSsh, NoneCommunicator, sshFields, z, type PluginSet } from '../../src/sdk/index.js';

const schema = z
  .object(sshFields)
  .strict()
  .superRefine((c, ctx) => {
    checkSsh(c, ctx, { canInstallTemporaryKey: false, hostFromBuilder: false });
    if ((c.communicator ?? 'ssh') === 'ssh') prefetchSsh();
  });

const nullBuilder = builder({
  type: 'null',
  schema,
  async run(ctx) {
    ctx.generatedData.set('ID', 'Null');
    const comm = (ctx.config.communicator ?? 'ssh') === 'ssh' ? await ctx.step('connect', () => connectSsh(ctx, ctx.config)) : new NoneCommunicator();
    await ctx.step('provision', () => ctx.provision(comm));
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
