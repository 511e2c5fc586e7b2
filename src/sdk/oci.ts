/**
 * The OCI part of the plugin API (layers, layouts, images, the registry client), in its own
 * entry point so that plugins which build no container images never load it.
 */
export * from '../formats/oci/index.js';
export { readTar, type TarEntry, type TarEntryHeader } from '../formats/tar/reader.js';
export { encodeHeader, padding, END_OF_ARCHIVE, type TarHeader, type TarType } from '../formats/tar/header.js';
export { RootfsCommunicator, NamespaceError, type RootfsOptions } from '../communicator/container/rootfs.js';
export { uploadTree, type LocalEntry } from '../communicator/container/tree.js';
export { DockerClient, DockerError, dockerEndpoint, type Endpoint, type RegistryAuth } from '../communicator/container/docker-api.js';
export { DockerExecCommunicator } from '../communicator/container/docker-exec.js';
