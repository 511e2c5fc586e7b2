/**
 * Image references as Docker reads them: `alpine` → docker.io/library/alpine:latest,
 * `127.0.0.1:5000/team/app:1.0`, `repo@sha256:…`. The first path part is a registry host when it
 * has a dot or a colon or is `localhost`.
 */

export interface ImageReference {
  /** Host[:port] as written; docker.io for Docker Hub. */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const DOCKER_HUB = 'docker.io';
const NAME_PART = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

export class ReferenceError extends Error {
  override name = 'ReferenceError';
}

export function parseReference(ref: string): ImageReference {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw new ReferenceError(`"${ref}": "${digest}" is not a sha256 digest`);
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new ReferenceError(`"${ref}": "${tag}" is not a valid tag`);
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  if (parts.length > 1 && (parts[0]!.includes('.') || parts[0]!.includes(':') || parts[0] === 'localhost')) registry = parts.shift()!;
  if (registry === 'index.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  for (const p of parts) {
    if (!NAME_PART.test(p)) throw new ReferenceError(`"${ref}" is not an image reference: "${p}" must be lower-case letters, digits and separators (. _ -)`);
  }
  return { registry, repository: parts.join('/'), ...(tag !== undefined && { tag }), ...(digest && { digest }) };
}

export function formatReference(r: ImageReference): string {
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** What to ask the registry for: the digest when pinned, else the tag (latest by default). */
export function referenceTarget(r: ImageReference): string {
  return r.digest ?? r.tag ?? 'latest';
}

/** The host to connect to: Docker Hub's API lives at registry-1.docker.io. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
}
