/** The `breakpoint` provisioner: pauses the build until Enter is pressed (unless disabled). */
import { provisioner, z, type PluginSet } from '../../src/sdk/index.js';

const schema = z.object({ disable: z.boolean().optional(), note: z.string().optional() }).strict();

const breakpoint = provisioner({
  type: 'breakpoint',
  schema,
  async provision(ctx) {
    if (ctx.config.disable) {
      ctx.ui.say('Breakpoint provisioner disabled, continuing...');
      return;
    }
    const note = ctx.config.note ? ` with note "${ctx.config.note}"` : '';
    ctx.ui.say(`Pausing at breakpoint provisioner${note}.`);
    await ctx.pause('Waiting at the breakpoint.');
  },
});

export default { provisioners: [breakpoint] } satisfies PluginSet;
