/**
 * A `docker load` / `podman load` tarball of an image in a layout. It holds Docker's
 * manifest.json (config and layer paths, repo tags) over an OCI layout's files (oci-layout,
 * index.json, blobs/sha256/…), as `docker save` writes from Docker 25 on, so both Docker-archive
 * and OCI-archive readers take it. Blobs are streamed from the layout; entries are sorted and
 * their times fixed, so the same image gives the same tarball.
 */
import { createReadStream } from 'node:fs';
import { encodeHeader, END_OF_ARCHIVE, padding, type TarHeader } from '../tar/header.js';
import { digestHex } from './digest.js';
import type { OciLayout } from './layout.js';
import { MEDIA, REF_NAME, type Descriptor, type Manifest } from './media.js';

function fileHeader(name: string, size: number, mtime: number): TarHeader {
  return { name, type: 'file', mode: 0o644, uid: 0, gid: 0, size, mtime };
}

/** The tarball's bytes: `repoTags` like "kiln/app:1.0" name the image for the loader. */
export async function* dockerArchive(layout: OciLayout, manifestDesc: Descriptor, repoTags: readonly string[], mtime = 0): AsyncGenerator<Buffer> {
  const manifest = await layout.readJson<Manifest>(manifestDesc.digest);
  const blobs = [manifestDesc, manifest.config, ...manifest.layers];
  const dockerManifest = JSON.stringify([
    {
      Config: `blobs/sha256/${digestHex(manifest.config.digest)}`,
      RepoTags: [...repoTags],
      Layers: manifest.layers.map((l) => `blobs/sha256/${digestHex(l.digest)}`),
    },
  ]);
  const tagOnly = repoTags.map((t) => t.slice(t.lastIndexOf(':') + 1));
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA.ociIndex,
    manifests: [
      {
        mediaType: manifestDesc.mediaType,
        digest: manifestDesc.digest,
        size: manifestDesc.size,
        annotations: { ...(repoTags[0] && { 'io.containerd.image.name': repoTags[0], [REF_NAME]: tagOnly[0]! }) },
      },
    ],
  });
  const small: Array<[string, Buffer]> = [
    ['index.json', Buffer.from(index)],
    ['manifest.json', Buffer.from(dockerManifest)],
    ['oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }))],
  ];
  yield encodeHeader({ name: 'blobs/', type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime });
  yield encodeHeader({ name: 'blobs/sha256/', type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime });
  const seen = new Set<string>();
  for (const b of [...blobs].sort((x, y) => (x.digest < y.digest ? -1 : 1))) {
    if (seen.has(b.digest)) continue;
    seen.add(b.digest);
    yield encodeHeader(fileHeader(`blobs/sha256/${digestHex(b.digest)}`, b.size, mtime));
    let n = 0;
    for await (const c of createReadStream(layout.blobPath(b.digest), { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      n += c.length;
      yield c;
    }
    if (n !== b.size) throw new Error(`blob ${b.digest} in ${layout.dir} is ${n} bytes, its descriptor says ${b.size}`);
    yield padding(b.size);
  }
  for (const [name, data] of small) {
    yield encodeHeader(fileHeader(name, data.length, mtime));
    yield data;
    yield padding(data.length);
  }
  yield END_OF_ARCHIVE;
}
