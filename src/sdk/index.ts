/**
 * The public plugin API. Built-in plugins and third-party `kiln-plugin-*` packages import
 * from here only: the contract, config schema helpers, and the shared pieces of kiln they may
 * build on (local command execution, shell quoting, line splitting).
 */
export type { Artifact } from './artifact.js';
export type { Communicator, ExecOptions, ExecResult, TransferOptions, TransferProgress } from './communicator.js';
export type { Ui } from './ui.js';
export type {
  BuildContext,
  BuilderPlugin,
  CleanupStack,
  ComponentContext,
  DataSourceContext,
  DataSourcePlugin,
  PluginSet,
  PostProcessContext,
  PostProcessorPlugin,
  PostProcessorResult,
  ProvisionContext,
  ProvisionerPlugin,
  Reaper,
  ResourceHandle,
  ResourceTracker,
} from './plugin.js';
export { builder, dataSource, postProcessor, provisioner } from './plugin.js';
export { z, duration, blocks, intList, envVarList } from './config.js';
export { runLocal, CommandNotFoundError, type LocalRunOptions } from '../communicator/local.js';
export { shellQuote } from '../communicator/shell-quote.js';
export { LineSplitter } from '../communicator/lines.js';
export { NoneCommunicator } from '../communicator/none.js';
export { shellLocalSchema, runShellLocal, type ShellLocalConfig } from './shell-local.js';
// Process identity (PID + start time), so a plugin's lock file of a dead process can be broken safely.
export { processStartTime, isSameProcessAlive } from '../state/proc.js';
export { checkTemplate, renderTemplate, templateVars } from './output-template.js';
