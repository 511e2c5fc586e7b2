/**
 * How an artifact says "I am an image in an OCI layout": the `oci` builder (and post-processors
 * that make images) put this under `state.oci`, and oci-push / oci-export read it from there.
 */
import type { Platform } from './media.js';

export interface OciArtifactState {
  layout: string;
  digest: string;
  mediaType: string;
  size: number;
  platform?: Platform;
  tags: string[];
  sourceDateEpoch?: number;
  /**
   * The image is also in the multi-platform index of this name in `layout` (oci-export's
   * index_tag): oci-push then pushes that index, as it stands when the push starts.
   */
  indexTag?: string;
}

/** The image an artifact holds, or undefined when it holds none. */
export function ociStateOf(state: Readonly<Record<string, unknown>>): OciArtifactState | undefined {
  const s = state.oci as Partial<OciArtifactState> | undefined;
  if (!s || typeof s.layout !== 'string' || typeof s.digest !== 'string' || typeof s.size !== 'number' || typeof s.mediaType !== 'string') return undefined;
  return { layout: s.layout, digest: s.digest, mediaType: s.mediaType, size: s.size, tags: Array.isArray(s.tags) ? s.tags : [], ...(s.platform && { platform: s.platform }), ...(s.sourceDateEpoch !== undefined && { sourceDateEpoch: s.sourceDateEpoch }), ...(typeof s.indexTag === 'string' && { indexTag: s.indexTag }) };
}
