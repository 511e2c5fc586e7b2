/**
 * Building an image's config and manifest from a base and a new layer. Keys are written in a
 * fixed order and times come from the caller, so equal inputs give byte-identical documents.
 */
import type { OciLayout } from './layout.js';
import { MEDIA, type Descriptor, type History, type ImageConfig, type Manifest, type Platform, type RuntimeConfig } from './media.js';

export function emptyConfig(platform: Platform): ImageConfig {
  return {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant && { variant: platform.variant }),
    config: {},
    rootfs: { type: 'layers', diff_ids: [] },
    history: [],
  };
}

const RUNTIME_KEYS: ReadonlyArray<keyof RuntimeConfig> = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal'];

function sortedRecord<V>(r: Record<string, V> | undefined): Record<string, V> | undefined {
  if (!r) return undefined;
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The config serialized with a fixed key order. */
export function serializeConfig(c: ImageConfig): string {
  const rc: Record<string, unknown> = {};
  for (const k of RUNTIME_KEYS) {
    let v: unknown = c.config[k];
    if (k === 'ExposedPorts' || k === 'Volumes' || k === 'Labels') v = sortedRecord(v as Record<string, unknown> | undefined);
    if (v !== undefined) rc[k] = v;
  }
  const ordered = {
    ...(c.created !== undefined && { created: c.created }),
    ...(c.author !== undefined && { author: c.author }),
    architecture: c.architecture,
    os: c.os,
    ...(c.variant !== undefined && { variant: c.variant }),
    config: rc,
    rootfs: { type: 'layers', diff_ids: c.rootfs.diff_ids },
    ...(c.history !== undefined && {
      history: c.history.map((h: History) => ({
        ...(h.created !== undefined && { created: h.created }),
        ...(h.created_by !== undefined && { created_by: h.created_by }),
        ...(h.author !== undefined && { author: h.author }),
        ...(h.comment !== undefined && { comment: h.comment }),
        ...(h.empty_layer && { empty_layer: true }),
      })),
    }),
  };
  return JSON.stringify(ordered);
}

export function serializeManifest(config: Descriptor, layers: readonly Descriptor[], annotations?: Record<string, string>): string {
  const d = (x: Descriptor) => ({ mediaType: x.mediaType, digest: x.digest, size: x.size, ...(x.annotations && { annotations: sortedRecord(x.annotations) }) });
  const m: Manifest = {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: d(config),
    layers: layers.map(d),
    ...(annotations && Object.keys(annotations).length > 0 && { annotations: sortedRecord(annotations)! }),
  };
  return JSON.stringify(m);
}

/** An image stored in a layout: where, and which manifest. */
export interface StoredImage {
  layout: string;
  /** The manifest's descriptor (digest, size, media type, platform). */
  manifest: Descriptor;
}

/** Writes config + manifest for `layers` into `layout`; returns the manifest descriptor. */
export async function commitImage(layout: OciLayout, config: ImageConfig, layers: readonly Descriptor[], platform: Platform): Promise<Descriptor> {
  const cfg = await layout.putBytes(serializeConfig(config));
  const configDesc: Descriptor = { mediaType: MEDIA.ociConfig, digest: cfg.digest, size: cfg.size };
  // Base layers in Docker's media types are rewritten to OCI ones: the bytes are the same.
  const ociLayers = layers.map((l) => ({ ...l, mediaType: toOciLayerType(l.mediaType) }));
  const m = await layout.putBytes(serializeManifest(configDesc, ociLayers));
  return { mediaType: MEDIA.ociManifest, digest: m.digest, size: m.size, platform: { ...platform } };
}

export function toOciLayerType(mediaType: string): string {
  if (mediaType === MEDIA.dockerLayerGzip) return MEDIA.ociLayerGzip;
  if (mediaType === 'application/vnd.docker.image.rootfs.diff.tar') return MEDIA.ociLayer;
  return mediaType;
}
