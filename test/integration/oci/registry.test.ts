/**
 * The registry client against the real distribution registry, cross-checked with skopeo: push
 * (monolithic, chunked, cross-repository mount, several tags), re-push that only asks HEAD,
 * pull with platform selection and digest verification, Basic authentication, a plain-HTTP
 * registry without insecure, and a registry that dies halfway through a push.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workspace } from '../../helpers/cli.js';
import { skipWithout } from '../../helpers/components.js';
import { REGISTRY, SKOPEO, removeRegistry, startRegistry, type RunningRegistry } from '../../helpers/oci-components.js';
import {
  commitImage,
  diffTree,
  emptyConfig,
  findCredentials,
  MEDIA,
  OciLayout,
  parseReference,
  pullImage,
  pushImage,
  RegistryClient,
  writeLayer,
  type Descriptor,
  type Index,
  type Platform,
} from '../../../src/formats/oci/index.js';
import { sh } from './fixtures.js';

const missing = [REGISTRY, SKOPEO].some((c) => skipWithout(c));
const AMD64: Platform = { architecture: 'amd64', os: 'linux' };
const ARM64: Platform = { architecture: 'arm64', os: 'linux', variant: 'v8' };

/** An image of `layers` layers, each a folder with one file of `size` random bytes. */
async function makeImage(layoutDir: string, tag: string, layers: number, size: number, platform: Platform = AMD64): Promise<Descriptor> {
  const layout = await OciLayout.open(layoutDir, { create: true });
  const cfg = emptyConfig(platform);
  const descs: Descriptor[] = [];
  for (let i = 0; i < layers; i++) {
    const dir = join(layoutDir, '..', `src-${tag}-${i}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `data-${i}`), randomBytes(size));
    const l = await writeLayer(layout, diffTree(dir, undefined, { clampMtime: 0 }), { compression: 'gzip' });
    descs.push(l.descriptor);
    cfg.rootfs.diff_ids.push(l.diffId);
  }
  const m = await commitImage(layout, cfg, descs, platform);
  await layout.addManifest(m, [tag]);
  return m;
}

/** A loopback proxy in front of the registry that counts requests by method. */
function countingProxy(target: number): Promise<{ port: number; counts: Map<string, number>; close: () => void }> {
  const counts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    counts.set(req.method!, (counts.get(req.method!) ?? 0) + 1);
    const up = http.request({ host: '127.0.0.1', port: target, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as { port: number }).port, counts, close: () => server.close() })));
}

/**
 * A loopback proxy in front of the registry that misbehaves: `fault` sees each request and may
 * answer it with a status, drop the connection, or let it through with its response body passed
 * through `mangle`.
 */
type Fault = 'pass' | 'reset' | number | { mangle: (b: Buffer) => Buffer };
function faultyProxy(target: number, fault: (req: http.IncomingMessage) => Fault): Promise<{ port: number; close: () => void }> {
  const server = http.createServer((req, res) => {
    const f = fault(req);
    if (f === 'reset') {
      req.socket.destroy();
      return;
    }
    if (typeof f === 'number') {
      req.resume();
      res.writeHead(f, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'the proxy says no' }] }));
      return;
    }
    const up = http.request({ host: '127.0.0.1', port: target, path: req.url, method: req.method, headers: req.headers }, (r) => {
      if (f === 'pass') {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
        return;
      }
      const parts: Buffer[] = [];
      r.on('data', (c: Buffer) => parts.push(c));
      r.on('end', () => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        res.end(f.mangle(Buffer.concat(parts)));
      });
    });
    req.pipe(up);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as { port: number }).port, close: () => server.close() })));
}

/** Fails the first `n` requests `match` selects with `fault`, then lets everything through. */
function firstN(n: number, match: (req: http.IncomingMessage) => boolean, fault: Fault, seen: string[]): (req: http.IncomingMessage) => Fault {
  let left = n;
  return (req) => {
    if (left > 0 && match(req)) {
      left--;
      seen.push(`${req.method} ${typeof fault === 'object' ? 'mangled' : fault}`);
      return fault;
    }
    return 'pass';
  };
}

describe.skipIf(missing)('registry client', () => {
  let reg: RunningRegistry;
  let ws: ReturnType<typeof workspace>;
  let layoutDir: string;
  let image: Descriptor;
  const client = () => new RegistryClient(reg.host, { insecure: true, backoffMs: 20, retries: 2 });

  beforeAll(async () => {
    reg = await startRegistry();
    ws = workspace({});
    layoutDir = join(ws.dir, 'layout');
    image = await makeImage(layoutDir, 'v1', 3, 256 * 1024);
  });
  afterAll(() => {
    removeRegistry(reg);
    ws.cleanup();
  });

  it('pushes an image under several tags; skopeo reads it with the same digests', async () => {
    const layout = await OciLayout.open(layoutDir);
    const r = await pushImage(client(), layout, image, 'kiln/one', ['v1', 'latest']);
    expect(r.blobs).toEqual({ exists: 0, mounted: 0, uploaded: 4 });
    for (const tag of ['v1', 'latest']) {
      const remote = JSON.parse(sh(`skopeo inspect --tls-verify=false docker://${reg.host}/kiln/one:${tag}`));
      expect(remote.Digest).toBe(image.digest);
      expect(remote.Layers).toEqual(JSON.parse(sh(`skopeo inspect oci:${layoutDir}:v1`)).Layers);
    }
    sh(`skopeo copy --src-tls-verify=false docker://${reg.host}/kiln/one:v1 oci:${join(ws.dir, 'copied')}:v1`);
  });

  it('re-pushes an unchanged image with one HEAD per blob and nothing else but the manifest', async () => {
    const proxy = await countingProxy(reg.port);
    try {
      const c = new RegistryClient(`127.0.0.1:${proxy.port}`, { insecure: true });
      const r = await pushImage(c, await OciLayout.open(layoutDir), image, 'kiln/one', ['v1']);
      expect(r.blobs).toEqual({ exists: 4, mounted: 0, uploaded: 0 });
      expect(Object.fromEntries(proxy.counts)).toEqual({ HEAD: 4, PUT: 1 });
    } finally {
      proxy.close();
    }
  });

  it('uploads in chunks and mounts blobs across repositories', async () => {
    const layout = await OciLayout.open(layoutDir);
    const chunked = await pushImage(client(), layout, image, 'kiln/chunked', ['v1'], { chunkSize: 64 * 1024 });
    expect(chunked.blobs.uploaded).toBe(4);
    expect(JSON.parse(sh(`skopeo inspect --tls-verify=false docker://${reg.host}/kiln/chunked:v1`)).Digest).toBe(image.digest);
    const mounted = await pushImage(client(), layout, image, 'kiln/mounted', ['v1'], { mountFrom: ['kiln/one'] });
    expect(mounted.blobs).toEqual({ exists: 0, mounted: 4, uploaded: 0 });
    sh(`skopeo copy --src-tls-verify=false docker://${reg.host}/kiln/mounted:v1 dir:${join(ws.dir, 'mounted-dir')}`);
  });

  it('pulls Docker-typed images and multi-platform indexes, verifying digests against skopeo', async () => {
    // skopeo writes the Docker v2 schema 2 form; kiln must read it and keep its digest.
    sh(`skopeo copy --dest-tls-verify=false --format v2s2 oci:${layoutDir}:v1 docker://${reg.host}/kiln/docker:v1`);
    const dockerDigest = JSON.parse(sh(`skopeo inspect --tls-verify=false docker://${reg.host}/kiln/docker:v1`)).Digest as string;
    const into = await OciLayout.open(join(ws.dir, 'pulled'), { create: true });
    const pulled = await pullImage(client(), parseReference(`${reg.host}/kiln/docker:v1`), into, { platform: AMD64 });
    expect(pulled.descriptor.digest).toBe(dockerDigest);
    expect(pulled.manifest.mediaType).toBe(MEDIA.dockerManifest);
    expect(pulled.manifest.layers.map((l) => l.digest)).toEqual(JSON.parse(sh(`skopeo inspect oci:${layoutDir}:v1`)).Layers);

    // A two-platform index: kiln picks the arm64 image.
    const arm = await makeImage(layoutDir, 'arm', 1, 1024, ARM64);
    const layout = await OciLayout.open(layoutDir);
    const index: Index = { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [{ ...image, platform: AMD64 }, { ...arm, platform: ARM64 }] };
    const idx = await layout.putBytes(JSON.stringify(index));
    await layout.addManifest({ mediaType: MEDIA.ociIndex, digest: idx.digest, size: idx.size }, ['multi']);
    sh(`skopeo copy --all --dest-tls-verify=false oci:${layoutDir}:multi docker://${reg.host}/kiln/multi:1`);
    const got = await pullImage(client(), parseReference(`${reg.host}/kiln/multi:1`), into, { platform: ARM64 });
    expect(got.descriptor.digest).toBe(arm.digest);
    await expect(pullImage(client(), parseReference(`${reg.host}/kiln/multi:1`), into, { platform: { os: 'linux', architecture: 's390x' } })).rejects.toThrow(/has no image for linux\/s390x \(it has linux\/amd64, linux\/arm64\/v8\)/);
    await expect(pullImage(client(), parseReference(`${reg.host}/kiln/nothing:1`), into, { platform: AMD64 })).rejects.toThrow(/does not exist/);
  });

  it('pushes a multi-platform index: each image by digest, then the index under its tags', async () => {
    const amd = await makeImage(layoutDir, 'idx-amd', 1, 2048, AMD64);
    const arm = await makeImage(layoutDir, 'idx-arm', 1, 2048, ARM64);
    const layout = await OciLayout.open(layoutDir);
    const bytes = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [{ ...amd, platform: AMD64 }, { ...arm, platform: ARM64 }] });
    const stored = await layout.putBytes(bytes);
    const r = await pushImage(client(), layout, { mediaType: MEDIA.ociIndex, ...stored }, 'kiln/index', ['1', 'latest']);
    expect(r.digest).toBe(stored.digest);
    expect(r.blobs.uploaded).toBe(4);
    const raw = JSON.parse(sh(`skopeo inspect --raw --tls-verify=false docker://${reg.host}/kiln/index:1`));
    expect(raw.mediaType).toBe(MEDIA.ociIndex);
    expect(raw.manifests.map((m: Descriptor) => m.digest)).toEqual([amd.digest, arm.digest]);
    // skopeo's Digest is the index's; the platform's image shows in its layers and architecture.
    const layersOf = async (d: Descriptor) => (await layout.readJson<{ layers: Descriptor[] }>(d.digest)).layers.map((l) => l.digest);
    const onArm = JSON.parse(sh(`skopeo inspect --tls-verify=false --override-arch arm64 docker://${reg.host}/kiln/index:latest`));
    expect(onArm.Digest).toBe(stored.digest);
    expect([onArm.Architecture, onArm.Layers]).toEqual(['arm64', await layersOf(arm)]);
    const onAmd = JSON.parse(sh(`skopeo inspect --tls-verify=false --override-arch amd64 docker://${reg.host}/kiln/index:1`));
    expect([onAmd.Architecture, onAmd.Layers]).toEqual(['amd64', await layersOf(amd)]);
  });

  it('retries 5xx, 429 and dropped connections with backoff: push and pull still succeed', async () => {
    const img = await makeImage(layoutDir, 'flaky', 2, 64 * 1024);
    const seen: string[] = [];
    const faults = [
      firstN(1, (r) => r.method === 'HEAD', 'reset', seen),
      firstN(2, (r) => r.method === 'POST', 503, seen),
      firstN(1, (r) => r.method === 'PUT' && r.url!.includes('/manifests/'), 429, seen),
      firstN(1, (r) => r.method === 'GET' && r.url!.includes('/blobs/'), 'reset', seen),
      firstN(1, (r) => r.method === 'GET' && r.url!.includes('/manifests/'), 502, seen),
    ];
    const proxy = await faultyProxy(reg.port, (req) => faults.map((f) => f(req)).find((f) => f !== 'pass') ?? 'pass');
    try {
      const retries: string[] = [];
      const c = () => new RegistryClient(`127.0.0.1:${proxy.port}`, { insecure: true, backoffMs: 10, retries: 3, onRetry: (m) => retries.push(m) });
      const pushed = await pushImage(c(), await OciLayout.open(layoutDir), img, 'kiln/flaky', ['v1']);
      expect(pushed.digest).toBe(img.digest);
      expect(JSON.parse(sh(`skopeo inspect --tls-verify=false docker://${reg.host}/kiln/flaky:v1`)).Digest).toBe(img.digest);
      const into = await OciLayout.open(join(ws.dir, 'flaky-pull'), { create: true });
      const pulled = await pullImage(c(), parseReference(`127.0.0.1:${proxy.port}/kiln/flaky:v1`), into, { platform: AMD64 });
      expect(pulled.descriptor.digest).toBe(img.digest);
      for (const l of pulled.manifest.layers) expect(await into.hasBlob(l.digest, l.size)).toBe(true);
      expect(seen.sort()).toEqual(['GET 502', 'GET reset', 'HEAD reset', 'POST 503', 'POST 503', 'PUT 429']);
      expect(retries).toHaveLength(6);
      expect(retries.some((m) => /503 .*retrying in \d+ ms \(\d\/3\)/.test(m))).toBe(true);
    } finally {
      proxy.close();
    }
  });

  it('refuses a blob whose bytes do not match its digest, keeping nothing of it', async () => {
    const img = await makeImage(layoutDir, 'corrupt', 1, 32 * 1024);
    await pushImage(client(), await OciLayout.open(layoutDir), img, 'kiln/corrupt', ['v1']);
    const layer = (await (await OciLayout.open(layoutDir)).readJson<{ layers: Descriptor[] }>(img.digest)).layers[0]!;
    const flip = (b: Buffer): Buffer => {
      const copy = Buffer.from(b);
      const mid = copy.length >> 1;
      copy[mid] = copy[mid]! ^ 0xff;
      return copy;
    };
    const proxy = await faultyProxy(reg.port, (req) => (req.method === 'GET' && req.url!.endsWith(`/blobs/${layer.digest}`) ? { mangle: flip } : 'pass'));
    try {
      const into = await OciLayout.open(join(ws.dir, 'corrupt-pull'), { create: true });
      const c = new RegistryClient(`127.0.0.1:${proxy.port}`, { insecure: true, retries: 0 });
      await expect(pullImage(c, parseReference(`127.0.0.1:${proxy.port}/kiln/corrupt:v1`), into, { platform: AMD64 })).rejects.toThrow(
        `127.0.0.1:${proxy.port}/kiln/corrupt sent blob ${layer.digest} with other content: blob digest mismatch: expected ${layer.digest}`,
      );
      expect(await into.hasBlob(layer.digest)).toBe(false);
      expect(readdirSync(join(ws.dir, 'corrupt-pull', 'blobs', 'sha256')).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
      expect((await into.index()).manifests).toEqual([]);
    } finally {
      proxy.close();
    }
  });

  it('refuses plain HTTP unless insecure is set', async () => {
    const c = new RegistryClient(reg.host, { retries: 0 });
    await expect(pushImage(c, await OciLayout.open(layoutDir), image, 'kiln/one', ['v1'])).rejects.toThrow(/does not speak HTTPS.*insecure = true/);
  });

  it('a registry that dies mid-push gets no manifest; the next push skips the blobs that arrived', async () => {
    const big = await makeImage(layoutDir, 'big', 3, 2 << 20);
    const layout = await OciLayout.open(layoutDir);
    let stopped = false;
    await expect(
      pushImage(client(), layout, big, 'kiln/dies', ['v1'], {
        onBlob: (_d, outcome) => {
          if (outcome === 'uploaded' && !stopped) {
            stopped = true;
            reg.stop();
          }
        },
      }),
    ).rejects.toThrow(/connection refused/);
    reg.start();
    const manifest = await fetch(`http://${reg.host}/v2/kiln/dies/manifests/v1`, { headers: { accept: MEDIA.ociManifest } });
    expect(manifest.status).toBe(404);
    const again = await pushImage(client(), layout, big, 'kiln/dies', ['v1']);
    expect(again.blobs.exists).toBe(1);
    expect(again.blobs.uploaded).toBe(3);
    expect(JSON.parse(sh(`skopeo inspect --tls-verify=false docker://${reg.host}/kiln/dies:v1`)).Digest).toBe(big.digest);
  });
});

describe.skipIf(missing)('registry authentication (Basic, htpasswd)', () => {
  let reg: RunningRegistry;
  let ws: ReturnType<typeof workspace>;
  let image: Descriptor;

  beforeAll(async () => {
    ws = workspace({ htpasswd: `kiln:${bcrypt.hashSync('s3cret', 10)}\n` });
    reg = await startRegistry({ htpasswd: join(ws.dir, 'htpasswd') });
    image = await makeImage(join(ws.dir, 'layout'), 'v1', 1, 4096);
  });
  afterAll(() => {
    removeRegistry(reg);
    ws.cleanup();
  });

  const push = async (username?: string, password?: string) => {
    const c = new RegistryClient(reg.host, { insecure: true, ...(username && { credentials: { username, password, source: 'the test' } }) });
    return pushImage(c, await OciLayout.open(join(ws.dir, 'layout')), image, 'kiln/private', ['v1']);
  };

  it('says credentials are needed, rejects a wrong password by name, and pushes with the right one', async () => {
    await expect(push()).rejects.toThrow(/needs credentials/);
    await expect(push('kiln', 'wrong')).rejects.toThrow(/rejected the credentials from the test \(401 Unauthorized\)/);
    const r = await push('kiln', 's3cret');
    expect(r.digest).toBe(image.digest);
    expect(JSON.parse(sh(`skopeo inspect --tls-verify=false --creds kiln:s3cret docker://${reg.host}/kiln/private:v1`)).Digest).toBe(image.digest);
  });
});

describe.skipIf(missing)('registry authentication (Bearer token realm)', () => {
  let reg: RunningRegistry;
  let ws: ReturnType<typeof workspace>;
  let image: Descriptor;
  let server: http.Server;
  let port = 0;
  const scopes: string[] = [];

  // A token service in front of the real registry, as Docker Hub and most registries work:
  // /v2/ answers 401 with a Bearer challenge, /token trades Basic credentials for a token.
  beforeAll(async () => {
    reg = await startRegistry();
    ws = workspace({});
    image = await makeImage(join(ws.dir, 'layout'), 'v1', 1, 4096);
    server = http.createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/token' && req.method === 'POST') {
        // Docker's OAuth2 flow for an identity token from docker login.
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          const form = new URLSearchParams(body);
          scopes.push(...(form.get('scope') ?? '').split(' '));
          const ok = form.get('grant_type') === 'refresh_token' && form.get('refresh_token') === 'refresh-me' && form.get('service') === 'kiln-test';
          res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
          res.end(ok ? JSON.stringify({ access_token: 'good-token' }) : '{}');
        });
        return;
      }
      if (url.pathname === '/token') {
        scopes.push(...url.searchParams.getAll('scope'));
        const ok = req.headers.authorization === `Basic ${Buffer.from('kiln:pw').toString('base64')}`;
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
        res.end(ok ? JSON.stringify({ token: 'good-token' }) : '{}');
        return;
      }
      if (req.headers.authorization !== 'Bearer good-token') {
        res.writeHead(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="kiln-test"` });
        res.end();
        req.resume();
        return;
      }
      const up = http.request({ host: '127.0.0.1', port: reg.port, path: req.url, method: req.method, headers: { ...req.headers, authorization: '' } }, (r) => {
        const headers = { ...r.headers };
        // The registry's own Location points at itself; clients must come back through the gate.
        if (headers.location) headers.location = headers.location.replace(`127.0.0.1:${reg.port}`, `127.0.0.1:${port}`);
        res.writeHead(r.statusCode ?? 502, headers);
        r.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => {
    server.close();
    removeRegistry(reg);
    ws.cleanup();
  });

  it('fetches a token for the push scope with the credentials, and names a wrong password', async () => {
    const client = (password: string) => new RegistryClient(`127.0.0.1:${port}`, { insecure: true, credentials: { username: 'kiln', password, source: 'the test' } });
    await expect(pushImage(client('nope'), await OciLayout.open(join(ws.dir, 'layout')), image, 'kiln/bearer', ['v1'])).rejects.toThrow(/rejected the credentials from the test/);
    const r = await pushImage(client('pw'), await OciLayout.open(join(ws.dir, 'layout')), image, 'kiln/bearer', ['v1']);
    expect(r.blobs.uploaded).toBe(2);
    expect(scopes).toContain('repository:kiln/bearer:pull,push');
    expect(JSON.parse(sh(`skopeo inspect --tls-verify=false docker://${reg.host}/kiln/bearer:v1`)).Digest).toBe(image.digest);
  });

  it('trades an identity token from the Docker config for an access token, and names a stale one', async () => {
    const configDir = join(ws.dir, 'docker');
    mkdirSync(configDir, { recursive: true });
    const withToken = async (token: string) => {
      writeFileSync(join(configDir, 'config.json'), JSON.stringify({ auths: { [`127.0.0.1:${port}`]: { identitytoken: token } } }));
      const credentials = await findCredentials(`127.0.0.1:${port}`, {}, { env: { DOCKER_CONFIG: configDir } });
      return new RegistryClient(`127.0.0.1:${port}`, { insecure: true, ...(credentials && { credentials }) });
    };
    const r = await pushImage(await withToken('refresh-me'), await OciLayout.open(join(ws.dir, 'layout')), image, 'kiln/oauth', ['v1']);
    expect(r.digest).toBe(image.digest);
    expect(scopes).toContain('repository:kiln/oauth:pull,push');
    expect(JSON.parse(sh(`skopeo inspect --tls-verify=false docker://${reg.host}/kiln/oauth:v1`)).Digest).toBe(image.digest);
    await expect(pushImage(await withToken('stale'), await OciLayout.open(join(ws.dir, 'layout')), image, 'kiln/oauth', ['v2'])).rejects.toThrow(
      `rejected the identity token from ${join(configDir, 'config.json')} (401): log in again`,
    );
  });
});
