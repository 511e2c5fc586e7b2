/**
 * The EC2 API as the builder uses it: the official SDK, imported only when an amazon-ebs build
 * runs (it costs ≈ 0.5 s to load), one client per build, and errors turned into sentences that
 * name the call and EC2's own code.
 */
import { Agent } from 'node:https';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { sleep } from '../../src/sdk/index.js';

export type Ec2Sdk = typeof import('@aws-sdk/client-ec2');

let loading: Promise<Ec2Sdk> | undefined;
export const ec2Sdk = (): Promise<Ec2Sdk> => (loading ??= import('@aws-sdk/client-ec2'));

export interface Ec2Access {
  region: string;
  endpoint?: string;
  accessKey?: string;
  secretKey?: string;
  token?: string;
  profile?: string;
  maxRetries?: number;
  /** insecure_skip_tls_verify: an endpoint with a certificate that does not verify. */
  insecure?: boolean;
}

/** What the ledger keeps to reach the same account and region again (`kiln cleanup`); no secrets. */
export interface Ec2Where {
  region: string;
  endpoint?: string;
  profile?: string;
}

export async function ec2Client(a: Ec2Access): Promise<EC2Client> {
  const sdk = await ec2Sdk();
  return new sdk.EC2Client({
    region: a.region,
    ...(a.endpoint !== undefined && { endpoint: a.endpoint }),
    ...(a.profile !== undefined && { profile: a.profile }),
    ...(a.accessKey !== undefined && a.secretKey !== undefined && { credentials: { accessKeyId: a.accessKey, secretAccessKey: a.secretKey, ...(a.token !== undefined && { sessionToken: a.token }) } }),
    // The SDK's retries are attempts including the first; Packer's max_retries counts retries.
    ...(a.maxRetries !== undefined && { maxAttempts: a.maxRetries + 1 }),
    // A stalled connection must not hang a build (or its Ctrl-C) for ever.
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000, ...(a.insecure && { httpsAgent: new Agent({ rejectUnauthorized: false }) }) },
  });
}

/** An EC2 call that failed, with EC2's error code (`InvalidAMIID.NotFound`) when it gave one. */
export class Ec2Error extends Error {
  static is(err: unknown, ...codes: string[]): boolean {
    return err instanceof Ec2Error && err.code !== undefined && codes.includes(err.code);
  }

  constructor(
    readonly action: string,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** Runs one EC2 call; a failure says which call, EC2's code and its message. */
export async function call<T>(action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err as { name?: string; Code?: string; message?: string; $metadata?: unknown };
    // SDK errors carry EC2's code as their name; a network failure has a Node code instead.
    const code = e.$metadata !== undefined ? (e.Code ?? e.name) : undefined;
    const why = code ? `${code}: ${e.message ?? ''}`.trim() : (e.message ?? String(err));
    throw new Ec2Error(action, code, `EC2 ${action} failed: ${why}`);
  }
}

export interface Polling {
  delayMs: number;
  /** Attempts before giving up; Infinity when only the deadline counts. */
  maxAttempts: number;
  deadlineMs: number;
}

/**
 * Asks `probe` until it returns a value, as Packer's waiters do; `what` names the wait in the
 * error. A cancelled build stops waiting at once.
 */
export async function waitFor<T>(what: string, p: Polling, signal: AbortSignal, probe: () => Promise<T | undefined>): Promise<T> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    signal.throwIfAborted();
    const v = await probe();
    if (v !== undefined) return v;
    const waited = Date.now() - started;
    if (attempt >= p.maxAttempts) throw new Error(`gave up waiting for ${what} after ${attempt} attempts (aws_polling.max_attempts)`);
    if (waited + p.delayMs > p.deadlineMs) throw new Error(`gave up waiting for ${what} after ${Math.round(waited / 1000)} s (state_timeout)`);
    await sleep(p.delayMs, signal);
  }
}
