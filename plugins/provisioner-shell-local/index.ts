/** The `shell-local` provisioner: runs a script on the machine running kiln. */
import { provisioner, runShellLocal, shellLocalSchema, type PluginSet } from '../../src/sdk/index.js';

const shellLocal = provisioner({
  type: 'shell-local',
  schema: shellLocalSchema,
  provision: (ctx) => runShellLocal(ctx),
});

export default { provisioners: [shellLocal] } satisfies PluginSet;
