/**
 * The plugin contract. A plugin package (built-in folder or npm `kiln-plugin-<name>`)
 * default-exports a PluginSet; each component declares its config schema (zod) and does its
 * work through the context it is given: signal for cancellation, ui for output, cleanup and
 * resources so nothing it creates outlives the build.
 */
import type { ZodType } from 'zod';
import type { Artifact } from './artifact.js';
import type { Communicator } from './communicator.js';
import type { Ui } from './ui.js';

export interface CleanupStack {
  /** Registers an undo action; they run in reverse order when the build ends, however it ends. */
  push(description: string, fn: () => Promise<void> | void): void;
}

/** A durable record of a temporary resource, written before the resource exists. */
export interface ResourceHandle {
  readonly id: string;
  /** Adds what became known after creation (an instance id, a PID). Durable before it returns. */
  update(data: Record<string, unknown>): Promise<void>;
  /** The resource is gone: closes the record. */
  release(): Promise<void>;
}

export interface ResourceTracker {
  /**
   * Records a resource about to be created. `kind` names the reaper that can delete it if the
   * run dies (`tempdir`, `process`, `container`, or a plugin's own kind such as `aws.instance`).
   */
  record(kind: string, description: string, data: Record<string, unknown>): Promise<ResourceHandle>;
}

/** What every component's context has. */
export interface ComponentContext<C> {
  readonly config: C;
  /** Full build name, e.g. `golden.amazon-ebs.ubuntu`. */
  readonly buildName: string;
  /** The builder type of this build (PACKER_BUILDER_TYPE). */
  readonly builderType: string;
  /**
   * The name of the top-level source block this build comes from — what Packer calls the build
   * name in PACKER_BUILD_NAME, the manifest's `name` and `{{.BuildName}}` (a nested source
   * block's `name = …` renames the build, not this).
   */
  readonly sourceName: string;
  readonly runId: string;
  readonly signal: AbortSignal;
  readonly ui: Ui;
  readonly cleanup: CleanupStack;
  readonly resources: ResourceTracker;
  /** A new private (0700) directory, removed when the build ends and recorded in the ledger. */
  tempDir(prefix?: string): Promise<string>;
  /** Values set by the builder: `build.*` in templates (ID, Host, Port, User, …). */
  readonly generatedData: ReadonlyMap<string, string>;
  /** Values that must never be shown; ui output is redacted already, this is for plugin-built files. */
  redact(text: string): string;
  /** Waits for the person at the terminal to press Enter; fails when there is no terminal. */
  pause(message: string): Promise<void>;
  /** `-force`: replace existing artifacts, output directories and manifests instead of failing or appending. */
  readonly force: boolean;
}

export interface BuildContext<C> extends ComponentContext<C> {
  readonly generatedData: Map<string, string>;
  /** Runs the build's provisioners over this communicator. Builders call it once, when the machine is ready. */
  provision(comm: Communicator): Promise<void>;
  /** Runs one named step: emits step events, and with -debug pauses before it. */
  step<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

export type ProvisionContext<C> = ComponentContext<C>;
export interface PostProcessContext<C> extends ComponentContext<C> {
  /**
   * True when nothing reads the input artifact after this post-processor and the template does
   * not keep it (no keep_input_artifact = true, no later chain starting from it): the
   * post-processor may then reuse the input's files, e.g. turn a raw disk into a VHD in place,
   * instead of copying them. A post-processor that does so returns keepInput: false.
   */
  readonly inputDisposable?: boolean;
}
export type DataSourceContext<C> = Omit<ComponentContext<C>, 'generatedData' | 'buildName' | 'builderType' | 'sourceName'>;

export interface BuilderPlugin<C = unknown> {
  readonly type: string;
  readonly schema: ZodType<C>;
  /** `build.*` names this builder sets beyond the common ones (for templates to refer to). */
  readonly generatedData?: readonly string[];
  /**
   * Config fields whose values are hidden in every output, as sensitive variables are (cloud
   * credentials: Packer's builders hand these to its log filter).
   */
  readonly sensitive?: readonly string[];
  /** Builds and returns the artifact, or undefined when the builder produces none (null). */
  run(ctx: BuildContext<C>): Promise<Artifact | undefined>;
}

export interface ProvisionerPlugin<C = unknown> {
  readonly type: string;
  readonly schema: ZodType<C>;
  provision(ctx: ProvisionContext<C>, comm: Communicator): Promise<void>;
}

export interface PostProcessorResult {
  artifact: Artifact;
  /** Whether the input artifact must be kept (the template's keep_input_artifact can force it). */
  keepInput: boolean;
  /** When true the plugin's answer wins over keep_input_artifact (Packer's forceOverride). */
  forceOverride?: boolean;
}

/** A program a component runs, and how a person gets it. */
export interface RequiredProgram {
  command: string;
  /** What to do when it is missing: "install qemu-utils (Debian, Ubuntu)". */
  install: string;
}

export interface PostProcessorPlugin<C = unknown> {
  readonly type: string;
  readonly schema: ZodType<C>;
  /**
   * Programs it always runs: `kiln build` checks them before any build starts, so a long build
   * does not fail at its last step for want of one.
   */
  readonly programs?: readonly RequiredProgram[];
  process(ctx: PostProcessContext<C>, input: Artifact): Promise<PostProcessorResult>;
}

export interface DataSourcePlugin<C = unknown> {
  readonly type: string;
  readonly schema: ZodType<C>;
  execute(ctx: DataSourceContext<C>): Promise<Record<string, unknown>>;
}

/** Deletes a leftover resource of one kind, from what its ledger record holds. */
export type Reaper = (data: Record<string, unknown>, signal: AbortSignal) => Promise<void>;

export interface PluginSet {
  builders?: readonly BuilderPlugin<unknown>[];
  provisioners?: readonly ProvisionerPlugin<unknown>[];
  postProcessors?: readonly PostProcessorPlugin<unknown>[];
  dataSources?: readonly DataSourcePlugin<unknown>[];
  reapers?: Readonly<Record<string, Reaper>>;
}

/** Identity helper that keeps each component's config type checked against its schema. */
export function builder<C>(p: BuilderPlugin<C>): BuilderPlugin<C> {
  return p;
}
export function provisioner<C>(p: ProvisionerPlugin<C>): ProvisionerPlugin<C> {
  return p;
}
export function postProcessor<C>(p: PostProcessorPlugin<C>): PostProcessorPlugin<C> {
  return p;
}
export function dataSource<C>(p: DataSourcePlugin<C>): DataSourcePlugin<C> {
  return p;
}
