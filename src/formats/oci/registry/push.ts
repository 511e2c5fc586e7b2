/**
 * Pushing an image from an OCI layout: each blob is first asked for with HEAD (a blob the
 * registry has is never sent again), then mounted from another repository of the same registry
 * when one is named, else uploaded — in one PUT, or in PATCH chunks when a chunk size is set or
 * the registry refuses a monolithic upload. The manifest is PUT only after every blob is in, so
 * a push that dies halfway never names a partial image, and the next push skips what arrived.
 * An image index goes the same way one level up: each platform's image (blobs, then its
 * manifest by digest) before the index itself.
 */
import { createReadStream } from 'node:fs';
import type { OciLayout } from '../layout.js';
import { isIndex, type Descriptor, type Index, type Manifest } from '../media.js';
import { failure, RegistryClient, RegistryError } from './client.js';

export interface PushOptions {
  /** Repositories on the same registry to mount blobs from (cross-repository mount). */
  mountFrom?: readonly string[];
  /** Upload in PATCH chunks of this many bytes. */
  chunkSize?: number;
  onProgress?: (digest: string, done: number, total: number) => void;
  onBlob?: (digest: string, outcome: 'exists' | 'mounted' | 'uploaded') => void;
  signal?: AbortSignal;
}

export interface PushResult {
  /** The manifest digest the registry stored. */
  digest: string;
  blobs: { exists: number; mounted: number; uploaded: number };
}

function withQuery(location: string, key: string, value: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}${key}=${encodeURIComponent(value)}`;
}

async function* counted(src: AsyncIterable<Buffer>, report: (n: number) => void): AsyncGenerator<Buffer> {
  let n = 0;
  for await (const c of src) {
    n += c.length;
    report(n);
    yield c;
  }
}

async function exists(client: RegistryClient, repo: string, d: Descriptor): Promise<boolean> {
  const res = await client.request('HEAD', `/v2/${repo}/blobs/${d.digest}`, { scopes: [`repository:${repo}:pull,push`], ok: [200, 404] });
  res.body.resume();
  return res.status === 200;
}

async function startUpload(client: RegistryClient, repo: string, query: string, scopes: string[]): Promise<{ status: number; location?: string }> {
  const res = await client.request('POST', `/v2/${repo}/blobs/uploads/${query}`, { scopes, ok: [201, 202], headers: { 'content-length': '0' } });
  res.body.resume();
  if (res.status !== 201 && res.status !== 202) throw await failure(`starting an upload to ${repo}`, res);
  return { status: res.status, location: res.headers.location };
}

async function uploadBlob(client: RegistryClient, layout: OciLayout, repo: string, d: Descriptor, o: PushOptions, location: string): Promise<void> {
  const scopes = [`repository:${repo}:pull,push`];
  const progress = (n: number): void => o.onProgress?.(d.digest, n, d.size);
  if (!o.chunkSize) {
    const res = await client.request('PUT', withQuery(location, 'digest', d.digest), {
      scopes,
      ok: [201, 413],
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(d.size) },
      body: () => counted(layout.blobStream(d.digest), progress),
      retry: false,
    });
    res.body.resume();
    if (res.status === 201) return;
    if (res.status !== 413) throw await failure(`uploading blob ${d.digest} to ${repo}`, res);
    // Too large for one request: start again in chunks.
    const again = await startUpload(client, repo, '', scopes);
    return uploadChunks(client, layout, repo, d, 16 << 20, again.location!, progress);
  }
  return uploadChunks(client, layout, repo, d, o.chunkSize, location, progress);
}

async function uploadChunks(client: RegistryClient, layout: OciLayout, repo: string, d: Descriptor, chunk: number, start: string, progress: (n: number) => void): Promise<void> {
  const scopes = [`repository:${repo}:pull,push`];
  let location = start;
  for (let off = 0; off < d.size; off += chunk) {
    const end = Math.min(off + chunk, d.size) - 1;
    const path = layout.blobPath(d.digest);
    const res = await client.request('PATCH', location, {
      scopes,
      ok: [202],
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${off}-${end}`, 'content-length': String(end - off + 1) },
      body: () => counted(createReadStream(path, { start: off, end, highWaterMark: 1 << 20 }), (n) => progress(off + n)),
      retry: false,
    });
    res.body.resume();
    if (res.status !== 202) throw await failure(`uploading a chunk of ${d.digest} to ${repo}`, res);
    if (!res.headers.location) throw new RegistryError(`${client.registry} answered a chunk upload without a Location`);
    location = res.headers.location;
  }
  const res = await client.request('PUT', withQuery(location, 'digest', d.digest), { scopes, ok: [201], headers: { 'content-length': '0' }, retry: false });
  res.body.resume();
  if (res.status !== 201) throw await failure(`finishing the upload of ${d.digest} to ${repo}`, res);
}

/** Sends one blob unless the registry has it; says which of the three happened. */
async function pushBlob(client: RegistryClient, layout: OciLayout, repo: string, d: Descriptor, o: PushOptions): Promise<'exists' | 'mounted' | 'uploaded'> {
  if (await exists(client, repo, d)) return 'exists';
  const scopes = [`repository:${repo}:pull,push`];
  for (const from of o.mountFrom ?? []) {
    if (from === repo) continue;
    const r = await startUpload(client, repo, `?mount=${encodeURIComponent(d.digest)}&from=${encodeURIComponent(from)}`, [...scopes, `repository:${from}:pull`]);
    if (r.status === 201) return 'mounted';
    // 202: the registry could not mount and opened an ordinary upload instead.
    if (r.location) {
      await uploadBlob(client, layout, repo, d, o, r.location);
      return 'uploaded';
    }
  }
  const r = await startUpload(client, repo, '', scopes);
  if (!r.location) throw new RegistryError(`${client.registry} opened an upload without a Location`);
  await uploadBlob(client, layout, repo, d, o, r.location);
  return 'uploaded';
}

/** PUTs a manifest (or index) under each ref, checking the registry stored it under the digest kiln computed. */
async function putManifest(client: RegistryClient, repo: string, desc: Descriptor, bytes: Buffer, mediaType: string, refs: readonly string[]): Promise<void> {
  for (const ref of refs) {
    const res = await client.request('PUT', `/v2/${repo}/manifests/${ref}`, {
      scopes: [`repository:${repo}:pull,push`],
      ok: [201],
      headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
      body: () => bytes,
    });
    res.body.resume();
    if (res.status !== 201) throw await failure(`pushing the manifest ${repo}:${ref}`, res);
    const stored = res.headers['docker-content-digest'];
    if (typeof stored === 'string' && stored !== desc.digest) throw new RegistryError(`${client.registry} stored ${repo}:${ref} as ${stored}, not ${desc.digest}`);
  }
}

/**
 * Pushes the image or image index `manifestDesc` names in `layout` to `repo` under each tag (the
 * digest alone when none). An index's images are pushed by digest first: a registry refuses an
 * index naming manifests it does not have.
 */
export async function pushImage(client: RegistryClient, layout: OciLayout, manifestDesc: Descriptor, repo: string, tags: readonly string[], o: PushOptions = {}): Promise<PushResult> {
  const bytes = await layout.readBlob(manifestDesc.digest);
  const doc = JSON.parse(bytes.toString('utf8')) as (Manifest | Index) & { mediaType?: string };
  const mediaType = doc.mediaType ?? manifestDesc.mediaType;
  const result: PushResult = { digest: manifestDesc.digest, blobs: { exists: 0, mounted: 0, uploaded: 0 } };
  const refs = tags.length > 0 ? tags : [manifestDesc.digest];
  if (isIndex(mediaType)) {
    for (const child of (doc as Index).manifests) {
      const r = await pushImage(client, layout, child, repo, [], o);
      for (const k of ['exists', 'mounted', 'uploaded'] as const) result.blobs[k] += r.blobs[k];
    }
    await putManifest(client, repo, manifestDesc, bytes, mediaType, refs);
    return result;
  }
  const manifest = doc as Manifest;
  for (const d of [manifest.config, ...manifest.layers]) {
    o.signal?.throwIfAborted();
    const outcome = await pushBlob(client, layout, repo, d, o);
    result.blobs[outcome]++;
    o.onBlob?.(d.digest, outcome);
  }
  await putManifest(client, repo, manifestDesc, bytes, mediaType, refs);
  return result;
}
