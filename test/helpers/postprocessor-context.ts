/**
 * A small ComponentContext for calling post-processor plugins directly in unit tests: it records
 * what the plugin says and the resources it records, and hands out real temp dirs.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Artifact } from '../../src/sdk/artifact.js';
import type { PostProcessContext, PostProcessorPlugin, PostProcessorResult, ResourceHandle } from '../../src/sdk/plugin.js';
import type { Ui } from '../../src/sdk/ui.js';

export interface FakeContextOptions {
  force?: boolean;
  sourceName?: string;
  builderType?: string;
  buildName?: string;
  runId?: string;
  signal?: AbortSignal;
  generatedData?: Map<string, string>;
  redact?: (text: string) => string;
}

export interface UiRecord {
  level: 'say' | 'message' | 'error' | 'stdout' | 'stderr';
  text: string;
}

export interface Recorded {
  ui: UiRecord[];
  /** Resources recorded and whether each was released again. */
  resources: Array<{ kind: string; data: Record<string, unknown>; released: boolean }>;
}

export function fakeContext<C>(config: C, opts: FakeContextOptions = {}): { ctx: PostProcessContext<C>; recorded: Recorded } {
  const recorded: Recorded = { ui: [], resources: [] };
  const ui: Ui = {
    say: (text) => void recorded.ui.push({ level: 'say', text }),
    message: (text) => void recorded.ui.push({ level: 'message', text }),
    error: (text) => void recorded.ui.push({ level: 'error', text }),
    output: (stream, text) => void recorded.ui.push({ level: stream, text }),
    progress: () => undefined,
  };
  const sourceName = opts.sourceName ?? 'a';
  const builderType = opts.builderType ?? 'null';
  const ctx: PostProcessContext<C> = {
    config,
    buildName: opts.buildName ?? `${builderType}.${sourceName}`,
    builderType,
    sourceName,
    runId: opts.runId ?? '0190aaaa-bbbb-7ccc-8ddd-eeeeffff0000',
    signal: opts.signal ?? new AbortController().signal,
    ui,
    cleanup: { push: () => undefined },
    force: opts.force ?? false,
    resources: {
      record: async (kind, _description, data) => {
        const entry = { kind, data: { ...data }, released: false };
        recorded.resources.push(entry);
        const handle: ResourceHandle = {
          id: `r${recorded.resources.length}`,
          update: async (more) => void Object.assign(entry.data, more),
          release: async () => void (entry.released = true),
        };
        return handle;
      },
    },
    tempDir: (prefix = 'kiln-') => mkdtemp(join(tmpdir(), prefix)),
    generatedData: opts.generatedData ?? new Map(),
    redact: opts.redact ?? ((t) => t),
    pause: () => Promise.reject(new Error('no terminal in tests')),
  };
  return { ctx, recorded };
}

/** Parses `raw` with the plugin's own schema (as the core does) and runs it on `input`. */
export async function runPostProcessor(
  plugin: PostProcessorPlugin<unknown>,
  raw: Record<string, unknown>,
  input: Artifact,
  opts: FakeContextOptions = {},
): Promise<{ result: PostProcessorResult; recorded: Recorded }> {
  const config = plugin.schema.parse(raw);
  const { ctx, recorded } = fakeContext(config, opts);
  const result = await plugin.process(ctx, input);
  return { result, recorded };
}

/** An artifact over existing files, like a builder's. */
export function fileArtifact(files: string[], id = 'File'): Artifact {
  return { builderId: 'test.files', id, files, description: `files ${files.join(', ')}`, state: {} };
}
