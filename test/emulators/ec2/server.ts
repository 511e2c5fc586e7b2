/**
 * The HTTP side of the Query protocol: POST form bodies (or GET query strings), SigV4-signed.
 * The signature itself is not checked (credentials are fake), but a request without a SigV4
 * Authorization header fails with AuthFailure as EC2's does, and the region comes from its
 * credential scope — that is how EC2 tells regions apart behind one endpoint here.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context, Handler } from './context.js';
import { Ec2Error } from './errors.js';
import { QueryParams } from './query.js';
import type { RegionState } from './state.js';
import { errorXml, responseXml } from './xml.js';

export interface Call {
  action: string;
  region: string;
  params: Record<string, string>;
  /** The error code it answered with, if any. */
  error?: string;
}

export interface ServerDeps {
  handlers: Readonly<Record<string, Handler>>;
  regions: ReadonlyMap<string, RegionState>;
  context(region: RegionState): Context;
  /** failNext: consumed by the next call of the action. */
  takeFailure(action: string): { code: string; message: string } | undefined;
  record(call: Call): void;
}

const SCOPE = /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\/ec2\/aws4_request\b/;

function statusFor(code: string): number {
  if (code === 'AuthFailure' || code === 'UnauthorizedOperation') return code === 'AuthFailure' ? 401 : 403;
  if (code === 'InternalError') return 500;
  if (code === 'Unavailable' || code === 'ServiceUnavailable' || code === 'RequestLimitExceeded') return 503;
  if (code === 'DryRunOperation') return 412;
  return 400;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 32 * 1024 * 1024) throw new Ec2Error('RequestEntityTooLarge', 'Request is too large', 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startServer(deps: ServerDeps): Promise<{ server: Server; endpoint: string }> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    let action = '';
    let region = '';
    let params: QueryParams | undefined;
    try {
      const body = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://localhost');
      params = QueryParams.parse(req.method === 'GET' ? url.search.slice(1) : body);
      action = params.str('Action') ?? '';
      const m = SCOPE.exec(req.headers.authorization ?? '');
      if (!m) throw new Ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);
      region = m[1] as string;
      const state = deps.regions.get(region);
      if (!state) throw new Ec2Error('AuthFailure', `AWS was not able to validate the provided access credentials (region ${region} is not enabled for this account)`, 401);
      if (!action) throw new Ec2Error('MissingAction', 'The request must contain the parameter Action');
      const handler = Object.hasOwn(deps.handlers, action) ? deps.handlers[action] : undefined;
      if (!handler) throw new Ec2Error('InvalidAction', `The action ${action} is not valid for this web service.`);
      const failure = deps.takeFailure(action);
      if (failure) throw new Ec2Error(failure.code, failure.message, statusFor(failure.code));
      if (params.bool('DryRun')) throw new Ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
      const out = await handler(deps.context(state), params);
      deps.record({ action, region, params: Object.fromEntries(params.entries()) });
      res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId });
      res.end(responseXml(action, requestId, out));
    } catch (err) {
      const e = err instanceof Ec2Error ? err : new Ec2Error('InternalError', `An internal error has occurred: ${err instanceof Error ? err.message : String(err)}`, 500);
      deps.record({ action, region, params: params ? Object.fromEntries(params.entries()) : {}, error: e.code });
      res.writeHead(e.status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId });
      res.end(errorXml(e.code, e.message, requestId));
    }
  };
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { server, endpoint: `http://127.0.0.1:${port}` };
}
