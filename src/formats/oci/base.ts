/** Where an image starts: `scratch`, `oci-layout:PATH[:TAG]`, or a registry reference. */
import { parseReference, type ImageReference } from './registry/reference.js';

export type BaseSpec = { kind: 'scratch' } | { kind: 'layout'; path: string; tag?: string } | { kind: 'registry'; ref: ImageReference };

const LAYOUT_PREFIX = 'oci-layout:';

/** The base a template names, or a message saying how to write it. */
export function parseBase(s: string): BaseSpec | string {
  if (s === 'scratch') return { kind: 'scratch' };
  if (s.startsWith(LAYOUT_PREFIX)) {
    const rest = s.slice(LAYOUT_PREFIX.length);
    // The tag follows the last colon after the last slash: PATH may hold colons in folder names.
    const colon = rest.lastIndexOf(':');
    const slash = rest.lastIndexOf('/');
    const path = colon > slash ? rest.slice(0, colon) : rest;
    const tag = colon > slash ? rest.slice(colon + 1) : undefined;
    if (path === '') return `"${s}" names no folder: write oci-layout:PATH or oci-layout:PATH:TAG`;
    return { kind: 'layout', path, ...(tag && { tag }) };
  }
  try {
    return { kind: 'registry', ref: parseReference(s) };
  } catch (err) {
    return `${(err as Error).message}; base must be "scratch", oci-layout:PATH[:TAG] or an image reference such as 127.0.0.1:5000/team/app:1.0`;
  }
}
