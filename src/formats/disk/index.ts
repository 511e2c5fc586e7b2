/**
 * Disk image formats, written by kiln itself and streamed: fixed and dynamic VHD (Azure, Hyper-V),
 * stream-optimized VMDK (vSphere, OVA), readers for each; qcow2 and other conversions through
 * qemu-img. Sparse inputs are read by their data map, so holes cost nothing.
 */
export { dataRegions, type Region } from './data-map.js';
export { dataBlocks, isZero, sparseChunks, sparseFileChunks, type BlockReadOptions, type DataBlock } from './blocks.js';
export { detectImageFormat, type ImageFormat } from './detect.js';
export { formatUuid, imageIdentity, IdentityError, type IdentityOptions, type ImageIdentity } from './identity.js';
export { openDiskImage } from './open.js';
// The disk writers' name for the output error every image writer shares.
export { DiskFullError, isDiskFull, outputError as writeError } from '../disk-full.js';
export { PARTIAL_NAME, partialPath, writeAtomically, type PartialRecorder } from './output.js';
export { QEMU_IMG_PACKAGE, QemuImgError, qemuImg, qemuImgConvert, qemuImgInfo, type ConvertOptions, type ImageInfo, type QemuImgOptions } from './qemu-img.js';
export { readAll, type DiskReader } from './reader.js';
export { copySparse } from './sparse-copy.js';
export { chsGeometry, parseFooter, VhdFormatError, type Geometry, type VhdFooter } from './vhd/footer.js';
export { openVhd, type VhdInfo } from './vhd/read.js';
export { dynamicVhdSize, fixedVhdInPlace, fixedVhdSize, MIB, writeDynamicVhd, writeFixedVhd, type VhdWriteOptions } from './vhd/write.js';
export { VmdkFormatError } from './vmdk/layout.js';
export { openStreamOptimizedVmdk, type VmdkInfo } from './vmdk/read.js';
export { ADAPTER_TYPES, writeStreamOptimizedVmdk, type VmdkWriteOptions } from './vmdk/write.js';
