/**
 * A client for the Docker Engine API (Docker, or podman's Docker-compatible service) over its
 * unix socket — `DOCKER_HOST` (unix:// or plain tcp://) or /var/run/docker.sock. Only what the
 * docker builder and post-processors use: ping, pull, create/start/remove containers, exec with
 * a multiplexed (hijacked) stream, archive upload/download as tar streams, commit, export, tag,
 * push. Progress streams (pull, push) are JSON lines whose errors are reported as errors.
 */
import http, { type IncomingMessage } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { LineSplitter } from '../lines.js';

export class DockerError extends Error {
  override name = 'DockerError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface Endpoint {
  /** For messages: unix:///run/podman.sock, tcp://127.0.0.1:2375. */
  url: string;
  socketPath?: string;
  host?: string;
  port?: number;
}

export function dockerEndpoint(env: Readonly<Record<string, string | undefined>> = process.env): Endpoint {
  const h = env.DOCKER_HOST;
  if (!h) return { url: 'unix:///var/run/docker.sock', socketPath: '/var/run/docker.sock' };
  if (h.startsWith('unix://')) return { url: h, socketPath: h.slice('unix://'.length) };
  const m = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(h);
  if (m) return { url: h, host: m[1]!, port: Number(m[2]) };
  throw new DockerError(`DOCKER_HOST="${h}" is not understood: use unix:///path/to/docker.sock or tcp://host:port`);
}

export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

/** Go's base64.URLEncoding: the URL alphabet *with* padding, which engines insist on. */
function registryAuth(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

function authHeader(auth: RegistryAuth | undefined): Record<string, string> {
  return auth ? { 'x-registry-auth': registryAuth(auth) } : {};
}

export interface ExecStreams {
  env?: Readonly<Record<string, string>>;
  user?: string;
  workdir?: string;
  stdin?: Readable | string;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  signal?: AbortSignal;
}

/** Splits Docker's multiplexed stream (8-byte frame headers) into stdout and stderr. */
class Demux {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly out: (b: Buffer) => void, private readonly err: (b: Buffer) => void) {}
  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 8) {
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) return;
      const payload = this.buf.subarray(8, 8 + size);
      if (this.buf[0] === 2) this.err(payload);
      else this.out(payload);
      this.buf = this.buf.subarray(8 + size);
    }
  }
}

export class DockerClient {
  constructor(readonly endpoint: Endpoint = dockerEndpoint()) {}

  private options(method: string, path: string, headers: Record<string, string>): http.RequestOptions {
    const e = this.endpoint;
    return { method, path, headers: { host: 'docker', ...headers }, ...(e.socketPath ? { socketPath: e.socketPath } : { host: e.host, port: e.port }) };
  }

  private unreachable(err: NodeJS.ErrnoException): DockerError {
    if (err.code === 'ENOENT') return new DockerError(`cannot connect to the Docker engine at ${this.endpoint.url}: the socket does not exist. Start Docker (or podman system service), or point DOCKER_HOST at its socket`);
    if (err.code === 'ECONNREFUSED') return new DockerError(`cannot connect to the Docker engine at ${this.endpoint.url}: connection refused (is the engine running?)`);
    if (err.code === 'EACCES') return new DockerError(`cannot connect to the Docker engine at ${this.endpoint.url}: permission denied (is this user in the docker group?)`);
    return new DockerError(`Docker engine at ${this.endpoint.url}: ${err.message}`);
  }

  /** One request; the body may be streamed. */
  request(method: string, path: string, o: { body?: Buffer | Readable | AsyncIterable<Buffer>; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = http.request({ ...this.options(method, path, o.headers ?? {}), ...(o.signal && { signal: o.signal }) }, resolve);
      req.on('error', (e: NodeJS.ErrnoException) => reject(e.name === 'AbortError' ? e : this.unreachable(e)));
      const b = o.body;
      if (b === undefined) req.end();
      else if (Buffer.isBuffer(b)) req.end(b);
      else
        void (async () => {
          try {
            for await (const chunk of b as AsyncIterable<Buffer>) if (!req.write(chunk)) await new Promise<void>((r) => req.once('drain', () => r()));
            req.end();
          } catch (err) {
            req.destroy(err as Error);
          }
        })();
    });
  }

  private async text(res: IncomingMessage): Promise<string> {
    const parts: Buffer[] = [];
    for await (const c of res as AsyncIterable<Buffer>) parts.push(c);
    return Buffer.concat(parts).toString('utf8');
  }

  private async fail(what: string, res: IncomingMessage): Promise<DockerError> {
    const t = await this.text(res);
    let msg = t.trim();
    try {
      msg = (JSON.parse(t) as { message?: string }).message ?? msg;
    } catch {
      // plain text
    }
    return new DockerError(`${what}: ${msg || `HTTP ${res.statusCode}`}`, res.statusCode);
  }

  /** A JSON request; anything but 2xx (or an `ok` status) is an error carrying the engine's message. */
  async json<T>(method: string, path: string, what: string, body?: unknown, ok: readonly number[] = []): Promise<{ status: number; value: T | undefined }> {
    const res = await this.request(method, path, body === undefined ? {} : { body: Buffer.from(JSON.stringify(body)), headers: { 'content-type': 'application/json' } });
    const status = res.statusCode ?? 0;
    if ((status < 200 || status >= 300) && !ok.includes(status)) throw await this.fail(what, res);
    const t = await this.text(res);
    return { status, value: t.trim() === '' ? undefined : (JSON.parse(t) as T) };
  }

  async ping(): Promise<void> {
    const res = await this.request('GET', '/_ping');
    if (res.statusCode !== 200) throw await this.fail(`Docker engine at ${this.endpoint.url} is not healthy`, res);
    res.resume();
  }

  /** Reads a JSON-lines progress stream; an `error` line is thrown. */
  private async progress(res: IncomingMessage, what: string, onLine?: (status: string) => void): Promise<void> {
    if ((res.statusCode ?? 0) >= 300) throw await this.fail(what, res);
    let error: string | undefined;
    const split = new LineSplitter((line) => {
      if (line.trim() === '') return;
      try {
        const m = JSON.parse(line) as { status?: string; error?: string; errorDetail?: { message?: string }; progress?: string; id?: string };
        if (m.error || m.errorDetail) error ??= m.errorDetail?.message ?? m.error;
        else if (m.status) onLine?.([m.id, m.status, m.progress].filter(Boolean).join(' '));
      } catch {
        onLine?.(line);
      }
    });
    for await (const c of res as AsyncIterable<Buffer>) split.push(c);
    split.end();
    if (error) throw new DockerError(`${what}: ${error}`);
  }

  async pull(image: string, o: { platform?: string; auth?: RegistryAuth; onLine?: (s: string) => void; signal?: AbortSignal } = {}): Promise<void> {
    const q = new URLSearchParams({ fromImage: image });
    if (o.platform) q.set('platform', o.platform);
    const res = await this.request('POST', `/images/create?${q}`, { headers: authHeader(o.auth), ...(o.signal && { signal: o.signal }) });
    await this.progress(res, `pulling ${image}`, o.onLine);
  }

  async imageExists(image: string): Promise<boolean> {
    const r = await this.json<unknown>('GET', `/images/${encodeURIComponent(image)}/json`, `inspecting ${image}`, undefined, [404]);
    return r.status !== 404;
  }

  async createContainer(name: string, spec: Record<string, unknown>, platform?: string): Promise<string> {
    const q = new URLSearchParams({ name });
    if (platform) q.set('platform', platform);
    const r = await this.json<{ Id: string }>('POST', `/containers/create?${q}`, 'creating the container', spec);
    return r.value!.Id;
  }

  async start(id: string): Promise<void> {
    await this.json('POST', `/containers/${id}/start`, 'starting the container', undefined, [304]);
  }

  /** Removes a container and its anonymous volumes; one that is already gone is fine. */
  async remove(idOrName: string): Promise<void> {
    await this.json('DELETE', `/containers/${encodeURIComponent(idOrName)}?force=true&v=true`, `removing container ${idOrName}`, undefined, [404]);
  }

  async exec(id: string, argv: readonly string[], o: ExecStreams = {}): Promise<number | null> {
    const created = await this.json<{ Id: string }>('POST', `/containers/${id}/exec`, 'starting a command in the container', {
      AttachStdin: o.stdin !== undefined,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      Cmd: argv,
      ...(o.env && { Env: Object.entries(o.env).map(([k, v]) => `${k}=${v}`) }),
      ...(o.user && { User: o.user }),
      ...(o.workdir && { WorkingDir: o.workdir }),
    });
    const execId = created.value!.Id;
    const demux = new Demux(o.onStdout ?? (() => undefined), o.onStderr ?? (() => undefined));
    await new Promise<void>((resolve, reject) => {
      const req = http.request(this.options('POST', `/exec/${execId}/start`, { 'content-type': 'application/json', connection: 'Upgrade', upgrade: 'tcp' }));
      const pump = (stream: Duplex | IncomingMessage, writable: Duplex | undefined): void => {
        stream.on('data', (c: Buffer) => demux.push(c));
        stream.on('end', () => resolve());
        stream.on('close', () => resolve());
        stream.on('error', reject);
        o.signal?.addEventListener('abort', () => stream.destroy(), { once: true });
        if (o.stdin !== undefined && writable) {
          if (typeof o.stdin === 'string') writable.end(o.stdin);
          else o.stdin.pipe(writable);
        }
      };
      req.on('upgrade', (_res, socket, head) => {
        if (head.length > 0) demux.push(head);
        pump(socket, socket);
      });
      req.on('response', (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          void this.fail('running a command in the container', res).then(reject, reject);
          return;
        }
        pump(res, undefined);
      });
      req.on('error', (e: NodeJS.ErrnoException) => reject(this.unreachable(e)));
      req.end(JSON.stringify({ Detach: false, Tty: false }));
    });
    // The engine may record the exit code a moment after the stream closes.
    for (let i = 0; i < 200; i++) {
      const info = await this.json<{ Running: boolean; ExitCode: number | null }>('GET', `/exec/${execId}/json`, 'reading the command status');
      if (info.value && !info.value.Running) return info.value.ExitCode;
      await new Promise((r) => setTimeout(r, 25));
    }
    return null;
  }

  /** Unpacks a tar stream into the container at `path` (which must exist). */
  async putArchive(id: string, path: string, tar: AsyncIterable<Buffer>, signal?: AbortSignal): Promise<void> {
    const res = await this.request('PUT', `/containers/${id}/archive?path=${encodeURIComponent(path)}`, { body: tar, headers: { 'content-type': 'application/x-tar' }, ...(signal && { signal }) });
    if ((res.statusCode ?? 0) >= 300) throw await this.fail(`copying files to ${path} in the container`, res);
    res.resume();
  }

  /** A path's kind in the container, or undefined when it does not exist. */
  async statPath(id: string, path: string): Promise<{ mode: number; isDir: boolean } | undefined> {
    const res = await this.request('HEAD', `/containers/${id}/archive?path=${encodeURIComponent(path)}`);
    res.resume();
    if (res.statusCode === 404) return undefined;
    const h = res.headers['x-docker-container-path-stat'];
    if (res.statusCode !== 200 || typeof h !== 'string') return undefined;
    const st = JSON.parse(Buffer.from(h, 'base64').toString('utf8')) as { mode: number };
    // Go's os.ModeDir is the top bit of a 32-bit mode.
    return { mode: st.mode, isDir: (st.mode & 0x80000000) !== 0 };
  }

  /** A tar stream of `path` in the container. */
  async getArchive(id: string, path: string): Promise<IncomingMessage> {
    const res = await this.request('GET', `/containers/${id}/archive?path=${encodeURIComponent(path)}`);
    if (res.statusCode !== 200) throw await this.fail(`copying ${path} out of the container`, res);
    return res;
  }

  async commit(id: string, o: { changes: readonly string[]; author?: string; message?: string }): Promise<string> {
    const q = new URLSearchParams({ container: id, pause: 'true' });
    for (const c of o.changes) q.append('changes', c);
    if (o.author) q.set('author', o.author);
    if (o.message) q.set('comment', o.message);
    // The body is the container config to merge; engines want a JSON document, even an empty one.
    const r = await this.json<{ Id: string }>('POST', `/commit?${q}`, 'committing the container', {});
    const imageId = r.value!.Id;
    return imageId.startsWith('sha256:') ? imageId : `sha256:${imageId}`;
  }

  async export(id: string): Promise<IncomingMessage> {
    const res = await this.request('GET', `/containers/${id}/export`);
    if (res.statusCode !== 200) throw await this.fail('exporting the container', res);
    return res;
  }

  async tag(image: string, repo: string, tag: string): Promise<void> {
    const q = new URLSearchParams({ repo, tag });
    await this.json('POST', `/images/${encodeURIComponent(image)}/tag?${q}`, `tagging ${image} as ${repo}:${tag}`);
  }

  async push(repo: string, tag: string, o: { auth?: RegistryAuth; onLine?: (s: string) => void; signal?: AbortSignal } = {}): Promise<void> {
    // Podman and Docker both want some X-Registry-Auth, even an empty one, on push.
    const headers = { 'x-registry-auth': registryAuth(o.auth ?? {}) };
    const res = await this.request('POST', `/images/${encodeURIComponent(repo)}/push?tag=${encodeURIComponent(tag)}`, { headers, ...(o.signal && { signal: o.signal }) });
    await this.progress(res, `pushing ${repo}:${tag}`, o.onLine);
  }
}
