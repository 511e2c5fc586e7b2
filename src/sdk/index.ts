/**
 * The public plugin API. Built-in plugins and third-party `kiln-plugin-*` packages import
 * from here only: the contract, config schema helpers, and the shared pieces of kiln they may
 * build on (local command execution, shell quoting, line splitting).
 */
export type { Artifact } from './artifact.js';
export type { Communicator, ExecOptions, ExecResult, TransferOptions, TransferProgress } from './communicator.js';
export { PermanentCommunicatorError } from './communicator.js';
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
  RequiredProgram,
  ResourceHandle,
  ResourceTracker,
} from './plugin.js';
export { builder, dataSource, postProcessor, provisioner } from './plugin.js';
export { z, duration, blocks, intList, envVarList } from './config.js';
export { CancelledError, sleep } from './cancel.js';
export { runLocal, CommandNotFoundError, type LocalRunOptions } from '../communicator/local.js';
export { findCommand } from '../communicator/find-command.js';
export { shellQuote } from '../communicator/shell-quote.js';
export { LineSplitter } from '../communicator/lines.js';
export { NoneCommunicator } from '../communicator/none.js';
export { shellLocalSchema, runShellLocal, type ShellLocalConfig } from './shell-local.js';
// Process identity (PID + start time), so a plugin's lock file of a dead process can be broken safely.
export { processStartTime, isSameProcessAlive } from '../state/proc.js';
export { checkTemplate, renderTemplate, templateVars } from './output-template.js';
// SSH: the shared ssh_* option schema and the connect helper every SSH-capable builder uses.
export { sshFields, checkSsh, resolveSsh, expandHome, type SshConfigFields, type SshSettings, type SshEndpoint, type SshCheckOptions } from './ssh-config.js';
export { connectSsh, prefetchSsh, sshSettings, temporaryKeyPair, clearTemporaryKey, type SshTarget, type TemporaryKeyPair } from './ssh.js';
// Files kept beside the build's log in the run's folder (a VM's serial console).
export { buildLogFile } from './run-files.js';
// Go durations ("1m30s") for options parsed at run time (boot_command's <wait1m>).
export { parseDuration } from '../template/duration.js';
// Disk images, ISO images and tar headers are in ./images.js: only the plugins that write images
// load them (a null build's validate does not pay for sixteen disk-format modules).
