/**
 * Pulling an image into an OCI layout: the manifest (OCI or Docker media types; an index or
 * manifest list resolved to the wanted platform), then config and layers, each blob verified
 * against its digest while it streams to disk. Blobs the layout already has are not fetched.
 */
import { sha256Digest } from '../digest.js';
import { DigestMismatchError, type OciLayout } from '../layout.js';
import { formatPlatform, isIndex, isManifest, MEDIA, selectPlatform, type Descriptor, type Index, type Manifest, type Platform } from '../media.js';
import { failure, readAll, RegistryClient, RegistryError } from './client.js';
import { formatReference, referenceTarget, type ImageReference } from './reference.js';

const ACCEPT = [MEDIA.ociManifest, MEDIA.ociIndex, MEDIA.dockerManifest, MEDIA.dockerList].join(', ');

export interface PulledImage {
  manifest: Manifest;
  /** The platform manifest's descriptor, as stored in the layout. */
  descriptor: Descriptor;
}

export interface PullOptions {
  platform: Platform;
  onProgress?: (digest: string, done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Fetches a manifest (by tag or digest); verifies it when the digest is known. */
export async function getManifest(client: RegistryClient, repository: string, target: string): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
  const res = await client.request('GET', `/v2/${repository}/manifests/${target}`, { headers: { accept: ACCEPT }, scopes: [`repository:${repository}:pull`], ok: [200, 404] });
  if (res.status === 404) {
    res.body.resume();
    throw new RegistryError(`${client.registry}/${repository}:${target} does not exist (manifest unknown)`, 404);
  }
  if (res.status !== 200) throw await failure(`fetching the manifest of ${repository}:${target}`, res);
  const bytes = await readAll(res.body);
  const digest = sha256Digest(bytes);
  if (target.startsWith('sha256:') && digest !== target) throw new RegistryError(`manifest of ${repository}@${target} does not match its digest (got ${digest})`);
  const header = res.headers['docker-content-digest'];
  if (typeof header === 'string' && header.startsWith('sha256:') && header !== digest) throw new RegistryError(`manifest of ${repository}:${target} does not match the digest the registry reports (${header} vs ${digest})`);
  const parsed = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown; layers?: unknown };
  const mediaType = String(res.headers['content-type'] ?? '').split(';')[0]!.trim() || parsed.mediaType || (parsed.manifests ? MEDIA.ociIndex : MEDIA.ociManifest);
  return { bytes, mediaType: parsed.mediaType ?? mediaType, digest };
}

async function fetchBlob(client: RegistryClient, layout: OciLayout, repository: string, d: Descriptor, o: PullOptions): Promise<void> {
  if (await layout.hasBlob(d.digest, d.size)) return;
  const res = await client.request('GET', `/v2/${repository}/blobs/${d.digest}`, { scopes: [`repository:${repository}:pull`], ok: [200], follow: true });
  if (res.status !== 200) throw await failure(`fetching blob ${d.digest} of ${repository}`, res);
  let done = 0;
  const counted = async function* (): AsyncGenerator<Buffer> {
    for await (const c of res.body as AsyncIterable<Buffer>) {
      done += c.length;
      o.onProgress?.(d.digest, done, d.size);
      yield c;
    }
  };
  try {
    await layout.putBlob(counted(), { expected: d.digest, size: d.size, signal: o.signal });
  } catch (err) {
    // The layout keeps nothing of a blob that fails its digest; say which registry sent it.
    if (err instanceof DigestMismatchError) throw new RegistryError(`${client.registry}/${repository} sent blob ${d.digest} with other content: ${err.message}`);
    throw err;
  }
}

/**
 * Pulls `ref` for `o.platform` into `layout`. Only with `tags` does the image get an index.json
 * entry: a base pulled for a build is blobs the new image shares, and an untagged entry for it
 * would make the user's layout hold two images where they wrote one.
 */
export async function pullImage(client: RegistryClient, ref: ImageReference, layout: OciLayout, o: PullOptions, tags: readonly string[] = []): Promise<PulledImage> {
  const name = formatReference(ref);
  let m = await getManifest(client, ref.repository, referenceTarget(ref));
  if (isIndex(m.mediaType)) {
    const idx = JSON.parse(m.bytes.toString('utf8')) as Index;
    const pick = selectPlatform(idx, o.platform);
    if (!pick) {
      const have = idx.manifests.map((x) => (x.platform ? formatPlatform(x.platform) : '?')).join(', ');
      throw new RegistryError(`${name} has no image for ${formatPlatform(o.platform)} (it has ${have})`);
    }
    m = await getManifest(client, ref.repository, pick.digest);
  }
  if (!isManifest(m.mediaType)) throw new RegistryError(`${name} is a ${m.mediaType}, not an image kiln can use`);
  const manifest = JSON.parse(m.bytes.toString('utf8')) as Manifest;
  for (const l of manifest.layers) {
    if (l.mediaType === MEDIA.dockerForeignLayer) throw new RegistryError(`${name} has a foreign (non-distributable) layer ${l.digest}: kiln cannot pull Windows base layers`);
  }
  await fetchBlob(client, layout, ref.repository, manifest.config, o);
  for (const l of manifest.layers) await fetchBlob(client, layout, ref.repository, l, o);
  const stored = await layout.putBytes(m.bytes);
  const descriptor: Descriptor = { mediaType: m.mediaType, digest: stored.digest, size: stored.size, platform: o.platform };
  if (tags.length > 0) await layout.addManifest(descriptor, tags);
  return { manifest, descriptor };
}
