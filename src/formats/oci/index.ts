/** OCI images: layers, configs, manifests, layouts, docker archives, and the registry client. */
export { MEDIA, REF_NAME, hostPlatform, parsePlatform, formatPlatform, selectPlatform, isIndex, isManifest, layerCompression } from './media.js';
export type { Descriptor, Manifest, Index, ImageConfig, RuntimeConfig, Platform, History } from './media.js';
export { Digester, sha256Digest, digestHex } from './digest.js';
export { compress, decompress, parallelGzip, zstdAvailable, zstdMissingMessage, type Compression } from './compression.js';
export { snapshot, diffTree, type FsSnapshot, type LayerEntry, type DiffOptions } from './fs-diff.js';
export { tarBytes, writeLayer, layerMediaType, type WrittenLayer } from './layer.js';
export { OciLayout, LayoutError } from './layout.js';
export { applyChange, checkChanges, SUPPORTED_CHANGES } from './changes.js';
export { emptyConfig, serializeConfig, serializeManifest, commitImage, toOciLayerType, type StoredImage } from './image.js';
export { applyLayer, type UnpackResult } from './unpack.js';
export { dockerArchive } from './docker-archive.js';
export { resolveInRoot, resolveParentInRoot } from './root-path.js';
export { parseBase, type BaseSpec } from './base.js';
export { parseReference, formatReference, referenceTarget, ReferenceError, type ImageReference } from './registry/reference.js';
export { findCredentials, type Credentials } from './registry/credentials.js';
export { RegistryClient, RegistryError, AuthError, type ClientOptions } from './registry/client.js';
export { pullImage, getManifest, type PulledImage, type PullOptions } from './registry/pull.js';
export { pushImage, type PushOptions, type PushResult } from './registry/push.js';
