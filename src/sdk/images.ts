/**
 * The SDK's image-writing API, kept out of the main barrel (./index.js) so that only plugins that
 * write images load it: disk formats kiln writes itself (VHD, VMDK), qemu-img for the rest, what
 * the disk post-processors share (input disk, raw bytes, partial outputs, reproducible identity),
 * ISO 9660 images, and the ustar/PAX header writer image layers and the compress post-processor use.
 */
export {
  ADAPTER_TYPES,
  copySparse,
  detectImageFormat,
  dynamicVhdSize,
  fixedVhdInPlace,
  fixedVhdSize,
  isDiskFull,
  qemuImg,
  qemuImgConvert,
  qemuImgInfo,
  sparseFileChunks,
  writeAtomically,
  writeDynamicVhd,
  writeError,
  writeFixedVhd,
  writeStreamOptimizedVmdk,
} from '../formats/disk/index.js';
export { writeIso, type IsoEntry } from '../formats/iso9660.js';
export { diskIdentity, diskImageOf, diskOutputPath, DISK_PARTIAL_KIND, partialRecorder, progressReporter, rawInputOf, reapDiskPartial } from './disk.js';
export { encodeHeader as encodeTarHeader, padding as tarPadding, END_OF_ARCHIVE, paxRecord, type TarHeader } from '../formats/tar/header.js';
export { DEFAULT_ZSTD_LEVEL, zstdAvailable, zstdCompressStream, zstdMissingMessage, zstdThreads } from '../formats/zstd.js';
