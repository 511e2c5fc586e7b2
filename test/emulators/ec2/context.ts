/** What every action handler gets: the account, the request's region, and the instance runtime. */
import type { LoopbackAllocator } from './addresses.js';
import type { QueryParams } from './query.js';
import type { InstanceRuntime } from './runtime.js';
import type { RegionState } from './state.js';
import type { XmlObject } from './xml.js';

export interface Context {
  accountId: string;
  /** The region the request was signed for. */
  region: RegionState;
  regions: ReadonlyMap<string, RegionState>;
  runtime: InstanceRuntime;
  addresses: LoopbackAllocator;
  /** Work that outlives a request (instance transitions, image snapshots): stop() waits for it. */
  background(work: Promise<unknown>): void;
}

export type Handler = (ctx: Context, p: QueryParams) => XmlObject | Promise<XmlObject>;
