/**
 * Getting the base image into the build's layout and unpacking it: from nowhere (`scratch`),
 * from another OCI layout (blobs linked or copied), or pulled from a registry.
 */
import { resolve } from 'node:path';
import type { BuildContext } from '../../src/sdk/index.js';
import {
  applyLayer,
  emptyConfig,
  findCredentials,
  formatReference,
  layerCompression,
  OciLayout,
  pullImage,
  RegistryClient,
  type BaseSpec,
  type Descriptor,
  type ImageConfig,
  type Platform,
} from '../../src/sdk/oci.js';
import type { OciBuilderConfig } from './config.js';

export interface BaseImage {
  config: ImageConfig;
  layers: Descriptor[];
  /** What it was, for history and messages. */
  name: string;
}

export async function fetchBase(ctx: BuildContext<OciBuilderConfig>, spec: BaseSpec, layout: OciLayout, platform: Platform): Promise<BaseImage> {
  if (spec.kind === 'scratch') return { config: emptyConfig(platform), layers: [], name: 'scratch' };
  if (spec.kind === 'layout') {
    const from = await OciLayout.open(resolve(spec.path));
    const { manifest } = await from.resolve(spec.tag, platform);
    for (const d of [manifest.config, ...manifest.layers]) await layout.copyBlobFrom(from, d);
    ctx.ui.say(`Base image ${manifest.config.digest.slice(0, 19)} from layout ${spec.path}${spec.tag ? `:${spec.tag}` : ''}`);
    return { config: await layout.readJson<ImageConfig>(manifest.config.digest), layers: manifest.layers, name: `oci-layout:${spec.path}${spec.tag ? `:${spec.tag}` : ''}` };
  }
  const ref = spec.ref;
  const credentials = await findCredentials(ref.registry, { username: ctx.config.login_username, password: ctx.config.login_password }, { warn: (m) => ctx.ui.say(m) });
  const client = new RegistryClient(ref.registry, { insecure: ctx.config.insecure, credentials, signal: ctx.signal, onRetry: (m) => ctx.ui.message(m) });
  ctx.ui.say(`Pulling ${formatReference(ref)}`);
  const pulled = await pullImage(client, ref, layout, {
    platform,
    signal: ctx.signal,
    onProgress: (digest, done, total) => ctx.ui.progress(`pull ${digest}`, done, total, `pull ${digest.slice(7, 19)}`),
  });
  return { config: await layout.readJson<ImageConfig>(pulled.manifest.config.digest), layers: pulled.manifest.layers, name: formatReference(ref) };
}

/** Applies the base's layers in order to an empty `root`. */
export async function unpackBase(ctx: BuildContext<OciBuilderConfig>, layout: OciLayout, base: BaseImage, root: string): Promise<void> {
  let skipped = 0;
  for (const [i, l] of base.layers.entries()) {
    ctx.ui.message(`Unpacking layer ${i + 1}/${base.layers.length} ${l.digest.slice(7, 19)}`);
    const r = await applyLayer(root, layout.blobStream(l.digest), layerCompression(l.mediaType), ctx.signal);
    skipped += r.skippedDevices;
  }
  if (skipped > 0) ctx.ui.message(`${skipped} device node(s) of the base were not created (creating them needs root); they are unchanged in the image`);
}
