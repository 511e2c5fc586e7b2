/**
 * The OCI writers' names for the error every image output shows when its disk is full (one
 * wording, in ../disk-full.ts). Kept under these names for layout.ts and the SDK's plugins.
 */
export { DiskFullError as OutputError, outputError } from '../disk-full.js';
