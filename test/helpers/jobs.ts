/** In-process jobs for unit tests of the runner: plugins are plain objects, configs are given. */
import { z } from 'zod';
import type { SourceRange } from '../../src/core/errors/diagnostic.js';
import { EventBus, type Stamped } from '../../src/core/events.js';
import type { Prompter } from '../../src/core/prompt.js';
import { Redactor } from '../../src/core/redact.js';
import type { Job, RunEnv } from '../../src/core/runner.js';
import type { BuilderPlugin, PostProcessorPlugin, ProvisionerPlugin } from '../../src/sdk/plugin.js';
import { Ledger } from '../../src/state/ledger.js';
import { Value } from '../../src/template/eval/value.js';
import type { PlannedBuild, PlannedStep } from '../../src/template/plan.js';

const pos = { line: 1, column: 1, byte: 0 };
export const RANGE: SourceRange = { filename: 'test.pkr.hcl', start: pos, end: pos };

export function plannedStep(type: string, extra: Partial<PlannedStep> = {}): PlannedStep {
  return {
    type,
    config: Value.object({}),
    origins: new Map(),
    defRange: RANGE,
    evaluateWith: () => ({ value: Value.object({}), origins: new Map(), diags: [] }),
    ...extra,
  };
}

export function plannedBuild(name: string): PlannedBuild {
  const [type, source] = name.split('.') as [string, string];
  return { name, type, sourceName: source, sourceRef: name, config: Value.object({}), origins: new Map(), provisioners: [], postProcessors: [], defRange: RANGE };
}

export const anyConfig = z.object({}).passthrough();

export function job(name: string, builder: BuilderPlugin<unknown>, parts: Partial<Omit<Job, 'build' | 'builder'>> = {}): Job {
  return { build: plannedBuild(name), builder, builderConfig: {}, provisioners: [], postProcessors: [], ...parts };
}

export function provisionerStep(p: ProvisionerPlugin<unknown>, extra: Partial<PlannedStep> = {}): Job['provisioners'][number] {
  return { planned: plannedStep(p.type, extra), plugin: p };
}

export function ppStep(p: PostProcessorPlugin<unknown>, extra: Partial<PlannedStep> = {}): Job['postProcessors'][number][number] {
  return { planned: plannedStep(p.type, extra), plugin: p };
}

export const noPrompts: Prompter = {
  interactive: false,
  choose: () => Promise.reject(new Error('no terminal in tests')),
  pause: () => Promise.reject(new Error('no terminal in tests')),
};

export function testEnv(runsDir: string, over: Partial<RunEnv> = {}): { env: RunEnv; events: Stamped[] } {
  const redactor = new Redactor(['s3cr3t-value']);
  const bus = new EventBus(redactor);
  const events: Stamped[] = [];
  bus.subscribe((e) => events.push(e));
  const runId = '0190aaaa-bbbb-7ccc-8ddd-eeeeffff0000';
  const env: RunEnv = {
    runId,
    bus,
    ledger: Ledger.open(runId, `${runsDir}/${runId}`),
    redactor,
    onError: 'cleanup',
    debug: false,
    force: false,
    prompter: noPrompts,
    retryBackoffMs: 10,
    ...over,
  };
  return { env, events };
}
