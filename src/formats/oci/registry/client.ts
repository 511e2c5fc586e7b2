/**
 * An HTTP client for one registry (distribution spec v2): HTTPS by default, plain HTTP only
 * when `insecure` (which also accepts a self-signed certificate); anonymous, Basic and Bearer
 * (token realm) authentication, tokens cached per scope — a Docker identity token (OAuth2
 * refresh token) is traded at the realm for an access token, as docker does; retries with exponential backoff on
 * connection errors, 429 and 5xx for requests whose body can be produced again.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Credentials } from './credentials.js';
import { apiHost } from './reference.js';

export class RegistryError extends Error {
  override name = 'RegistryError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export class AuthError extends RegistryError {
  override name = 'AuthError';
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Produces the body; called again for a retry. */
  body?: () => Buffer | AsyncIterable<Buffer>;
  /** Token scopes the request needs, e.g. `repository:team/app:pull,push`. */
  scopes: readonly string[];
  /** Statuses that are answers, not failures. */
  ok: readonly number[];
  /** Follow 307/302/303 (blob downloads redirect to storage). */
  follow?: boolean;
  /** Whether a failure may be retried (uploads after the registry saw part of a body may not). */
  retry?: boolean;
}

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
}

export interface ClientOptions {
  insecure?: boolean;
  credentials?: Credentials;
  signal?: AbortSignal;
  /** Tries after the first one, for retriable failures. */
  retries?: number;
  /** Milliseconds before the first retry; doubles each time. */
  backoffMs?: number;
  onRetry?: (message: string) => void;
}

const RETRIABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNABORTED', 'UND_ERR_SOCKET']);

const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 16 });
const insecureHttpsAgent = new https.Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false });

interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const m = /^(\w+)\s*(.*)$/s.exec(header.trim());
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)="([^"]*)"/g)) params[p[1]!.toLowerCase()] = p[2]!;
  return { scheme, params };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason instanceof Error ? signal.reason : new Error('cancelled'));
      },
      { once: true },
    );
  });
}

export async function readAll(body: IncomingMessage, limit = 16 << 20): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of body as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) throw new RegistryError(`response larger than ${limit} bytes`);
    parts.push(c);
  }
  return Buffer.concat(parts);
}

export class RegistryClient {
  private scheme: 'https' | 'http' = 'https';
  private readonly host: string;
  /** Authorization header per scope set, once known. */
  private readonly tokens = new Map<string, string>();
  private basic: string | undefined;

  constructor(
    readonly registry: string,
    private readonly opts: ClientOptions = {},
  ) {
    this.host = apiHost(registry);
    if (opts.credentials?.username !== undefined) {
      this.basic = `Basic ${Buffer.from(`${opts.credentials.username}:${opts.credentials.password ?? ''}`).toString('base64')}`;
    }
  }

  get base(): string {
    return `${this.scheme}://${this.host}`;
  }

  /** Sends a request, authenticating and retrying as needed; the caller reads or drains the body. */
  async request(method: string, pathOrUrl: string, o: RequestOptions): Promise<Response> {
    const retries = o.retry === false ? 0 : (this.opts.retries ?? 4);
    let attempt = 0;
    for (;;) {
      try {
        const res = await this.authed(method, pathOrUrl, o);
        if ((res.status === 429 || res.status >= 500) && attempt < retries && !o.ok.includes(res.status)) {
          res.body.resume();
          throw Object.assign(new RegistryError(`${method} ${pathOrUrl}: ${res.status} ${res.body.statusMessage ?? ''}`, res.status), { retriable: true });
        }
        return res;
      } catch (err) {
        const e = err as NodeJS.ErrnoException & { retriable?: boolean };
        const retriable = e.retriable === true || (e.code !== undefined && RETRIABLE_CODES.has(e.code)) || /socket hang up/.test(e.message);
        if (!retriable || attempt >= retries || this.opts.signal?.aborted) throw this.explain(err as Error);
        const wait = (this.opts.backoffMs ?? 250) * 2 ** attempt;
        attempt++;
        this.opts.onRetry?.(`${this.registry}: ${e.message}; retrying in ${wait} ms (${attempt}/${retries})`);
        await sleep(wait, this.opts.signal);
      }
    }
  }

  private explain(err: Error): Error {
    if (err instanceof RegistryError) return err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') return new RegistryError(`cannot reach the registry ${this.registry} (${this.base}): connection refused. Is it running?`);
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new RegistryError(`cannot resolve the registry host ${this.host}`);
    return new RegistryError(`${this.registry}: ${err.message}`);
  }

  private async authed(method: string, pathOrUrl: string, o: RequestOptions): Promise<Response> {
    const key = [...o.scopes].sort().join(' ');
    const auth = this.tokens.get(key);
    let res = await this.send(method, pathOrUrl, o, auth);
    if (res.status !== 401) return res;
    const challenge = parseChallenge(res.headers['www-authenticate'] as string | undefined);
    res.body.resume();
    if (!challenge) throw new AuthError(`${this.registry} refused ${method} ${pathOrUrl} (401) without saying how to authenticate`, 401);
    const header = challenge.scheme === 'basic' ? this.basicOrFail() : await this.token(challenge, o.scopes);
    this.tokens.set(key, header);
    res = await this.send(method, pathOrUrl, o, header);
    if (res.status === 401) {
      res.body.resume();
      throw this.rejected();
    }
    return res;
  }

  private basicOrFail(): string {
    if (!this.basic && this.opts.credentials?.identityToken) {
      throw new AuthError(`${this.registry} asked for Basic authentication, but ${this.opts.credentials.source} holds only an identity token for it (which works with token authentication): log in again with a password`, 401);
    }
    if (!this.basic) throw new AuthError(`${this.registry} needs credentials: set login_username/login_password (or username/password) in the template, KILN_REGISTRY_USERNAME/KILN_REGISTRY_PASSWORD, or log in with docker login`, 401);
    return this.basic;
  }

  private rejected(): AuthError {
    const from = this.opts.credentials ? ` from ${this.opts.credentials.source}` : '';
    return new AuthError(`${this.registry} rejected the credentials${from} (401 Unauthorized): check the user name and password`, 401);
  }

  private async token(ch: Challenge, scopes: readonly string[]): Promise<string> {
    const realm = ch.params.realm;
    if (!realm) throw new AuthError(`${this.registry} asked for a bearer token but named no realm`, 401);
    const url = new URL(realm);
    const refresh = this.opts.credentials?.identityToken;
    if (refresh) return this.oauthToken(url, ch.params.service, scopes, refresh);
    if (ch.params.service) url.searchParams.set('service', ch.params.service);
    for (const s of scopes) url.searchParams.append('scope', s);
    const headers: Record<string, string> = {};
    if (this.basic) headers.authorization = this.basic;
    const res = await this.raw('GET', url, headers, undefined);
    const text = (await readAll(res.body)).toString('utf8');
    if (res.status === 401 || res.status === 403) throw this.basic ? this.rejected() : new AuthError(`${this.registry} denied an anonymous token for ${scopes.join(' ')}: this needs credentials`, res.status);
    if (res.status !== 200) throw new AuthError(`token request to ${url.origin} failed: ${res.status} ${text.slice(0, 200)}`, res.status);
    const body = JSON.parse(text) as { token?: string; access_token?: string };
    const t = body.token ?? body.access_token;
    if (!t) throw new AuthError(`token response from ${url.origin} holds no token`);
    return `Bearer ${t}`;
  }

  /** Docker's OAuth2 flow: POST the refresh token to the realm, get an access token back. */
  private async oauthToken(url: URL, service: string | undefined, scopes: readonly string[], refreshToken: string): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: 'kiln', refresh_token: refreshToken, ...(service && { service }) });
    if (scopes.length > 0) form.set('scope', scopes.join(' '));
    const body = Buffer.from(form.toString());
    const res = await this.raw('POST', url, { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) }, body);
    const text = (await readAll(res.body)).toString('utf8');
    const source = this.opts.credentials?.source ?? 'the Docker config';
    if (res.status === 400 || res.status === 401 || res.status === 403) {
      throw new AuthError(`${this.registry} rejected the identity token from ${source} (${res.status}): log in again (docker login)`, res.status);
    }
    if (res.status !== 200) throw new AuthError(`token request to ${url.origin} failed: ${res.status} ${text.slice(0, 200)}`, res.status);
    const parsed = JSON.parse(text) as { access_token?: string; token?: string };
    const t = parsed.access_token ?? parsed.token;
    if (!t) throw new AuthError(`token response from ${url.origin} holds no access token`);
    return `Bearer ${t}`;
  }

  private async send(method: string, pathOrUrl: string, o: RequestOptions, auth: string | undefined): Promise<Response> {
    let url = new URL(pathOrUrl, this.base);
    let res: Response;
    for (let hops = 0; ; hops++) {
      const headers = { ...o.headers };
      // Credentials go only to the registry itself, never to a storage redirect.
      if (auth && url.host === this.host) headers.authorization = auth;
      try {
        res = await this.raw(method, url, headers, o.body?.());
      } catch (err) {
        const msg = (err as Error).message;
        if (this.scheme === 'https' && url.host === this.host && /wrong version number|EPROTO|packet length too long/i.test(msg + String((err as NodeJS.ErrnoException).code))) {
          if (!this.opts.insecure) throw new RegistryError(`${this.registry} does not speak HTTPS; if it is a plain-HTTP registry you trust, set insecure = true`);
          this.scheme = 'http';
          url = new URL(url.pathname + url.search, this.base);
          continue;
        }
        throw err;
      }
      if (o.follow && [301, 302, 303, 307, 308].includes(res.status) && res.headers.location && hops < 5) {
        res.body.resume();
        url = new URL(res.headers.location, url);
        continue;
      }
      return res;
    }
  }

  private raw(method: string, url: URL, headers: Record<string, string>, body: Buffer | AsyncIterable<Buffer> | undefined): Promise<Response> {
    const lib = url.protocol === 'http:' ? http : https;
    const agent = url.protocol === 'http:' ? httpAgent : this.opts.insecure ? insecureHttpsAgent : httpsAgent;
    return new Promise<Response>((resolve, reject) => {
      const req = lib.request(url, { method, headers: { 'user-agent': 'kiln', ...headers }, agent, signal: this.opts.signal }, (res) => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
      });
      req.on('error', reject);
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        void (async () => {
          try {
            for await (const chunk of body) {
              if (!req.write(chunk)) await new Promise<void>((r) => req.once('drain', () => r()));
            }
            req.end();
          } catch (err) {
            req.destroy(err as Error);
          }
        })();
      }
    });
  }
}

/** Turns an error response into a message with the registry's own error codes. */
export async function failure(what: string, res: Response): Promise<RegistryError> {
  const text = (await readAll(res.body).catch(() => Buffer.alloc(0))).toString('utf8');
  let detail = text.slice(0, 300);
  try {
    const errs = (JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> }).errors;
    if (errs?.length) detail = errs.map((e) => `${e.code ?? ''}: ${e.message ?? ''}`).join('; ');
  } catch {
    // not JSON
  }
  if (res.status === 401) return new AuthError(`${what}: 401 Unauthorized ${detail}`, 401);
  if (res.status === 403) return new AuthError(`${what}: 403 Forbidden: the credentials are not allowed to do this ${detail}`, 403);
  return new RegistryError(`${what}: ${res.status} ${detail}`.trim(), res.status);
}
