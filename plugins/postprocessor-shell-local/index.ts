/**
 * The `shell-local` post-processor: runs a script on this machine with the artifact at hand
 * (PACKER_ARTIFACT_ID and PACKER_ARTIFACT_FILES), passing the artifact on unchanged.
 */
import { postProcessor, runShellLocal, shellLocalSchema, type PluginSet } from '../../src/sdk/index.js';

const shellLocal = postProcessor({
  type: 'shell-local',
  schema: shellLocalSchema,
  async process(ctx, input) {
    await runShellLocal(ctx, { PACKER_ARTIFACT_ID: input.id, PACKER_ARTIFACT_FILES: input.files.join(' ') });
    return { artifact: input, keepInput: true };
  },
});

export default { postProcessors: [shellLocal] } satisfies PluginSet;
