/**
 * An OCI image layout on disk (`oci-layout`, `index.json`, `blobs/sha256/…`). Blobs are written
 * under a temporary name while their digest is computed and renamed into place when complete,
 * so a crash never leaves a blob whose name lies about its content; index.json is replaced
 * atomically, and updates from builds in this process are serialized per layout.
 */
import { createReadStream } from 'node:fs';
import { access, copyFile, link, mkdir, open, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Digester, digestHex, sha256Digest } from './digest.js';
import { outputError } from './output-error.js';
import { formatPlatform, isIndex, MEDIA, REF_NAME, selectPlatform, type Descriptor, type Index, type Manifest, type Platform } from './media.js';

const LAYOUT_FILE = JSON.stringify({ imageLayoutVersion: '1.0.0' });

const locks = new Map<string, Promise<unknown>>();
/** Bytes gathered before one write of a blob being stored. */
const WRITE_BATCH = 1 << 20;

async function writeAll(fh: FileHandle, b: Buffer): Promise<void> {
  for (let off = 0; off < b.length; ) off += (await fh.write(b, off, b.length - off)).bytesWritten;
}

/** Runs `fn` after every earlier update of the same layout in this process. */
async function serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(key) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  locks.set(key, next.catch(() => undefined));
  return next;
}

export class LayoutError extends Error {
  override name = 'LayoutError';
}

/** A blob whose bytes do not hash to the digest it was stored under (a corrupt download, say). */
export class DigestMismatchError extends LayoutError {
  override name = 'DigestMismatchError';
}

export class OciLayout {
  private constructor(readonly dir: string) {}

  /** Opens a layout; with `create`, makes it (and its folders) when missing. */
  static async open(dir: string, opts: { create?: boolean } = {}): Promise<OciLayout> {
    const abs = resolve(dir);
    const marker = join(abs, 'oci-layout');
    const exists = await access(marker).then(
      () => true,
      () => false,
    );
    if (!exists) {
      if (!opts.create) throw new LayoutError(`${dir} is not an OCI image layout (it has no oci-layout file)`);
      await mkdir(join(abs, 'blobs', 'sha256'), { recursive: true });
      await writeFile(marker, LAYOUT_FILE);
      await access(join(abs, 'index.json')).catch(() => writeFile(join(abs, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [] })));
    } else {
      await mkdir(join(abs, 'blobs', 'sha256'), { recursive: true });
    }
    return new OciLayout(abs);
  }

  /** Where a blob is written before it is complete and gets its name. */
  private tempName(): string {
    return join(this.dir, 'blobs', 'sha256', `.tmp-${randomBytes(6).toString('hex')}`);
  }

  blobPath(digest: string): string {
    return join(this.dir, 'blobs', 'sha256', digestHex(digest));
  }

  async hasBlob(digest: string, size?: number): Promise<boolean> {
    const st = await stat(this.blobPath(digest)).catch(() => undefined);
    return st !== undefined && (size === undefined || st.size === size);
  }

  /**
   * Streams `src` into a blob. With `expected`, the bytes must hash to it (and be `size` long),
   * or nothing is kept: a pulled blob is verified before it gets its name.
   */
  async putBlob(src: AsyncIterable<Buffer>, opts: { expected?: string; size?: number; signal?: AbortSignal } = {}): Promise<{ digest: string; size: number }> {
    const tmp = this.tempName();
    const d = new Digester();
    const fh = await open(tmp, 'wx', 0o644);
    try {
      // Small chunks (a compressor's 64 KiB pipe reads) are copied into writes of WRITE_BATCH:
      // one write each, a thread-pool round trip, cost more main-thread time than hashing them.
      // A copy, because a source may reuse its buffer once the next chunk is asked for.
      const batch = Buffer.allocUnsafe(WRITE_BATCH);
      let fill = 0;
      for await (const chunk of src) {
        opts.signal?.throwIfAborted();
        d.update(chunk);
        if (fill + chunk.length > WRITE_BATCH) {
          await writeAll(fh, batch.subarray(0, fill));
          fill = 0;
        }
        if (chunk.length >= WRITE_BATCH) await writeAll(fh, chunk);
        else fill += chunk.copy(batch, fill);
      }
      if (fill > 0) await writeAll(fh, batch.subarray(0, fill));
      await fh.close();
    } catch (err) {
      await fh.close().catch(() => undefined);
      await rm(tmp, { force: true });
      throw outputError(err, this.dir);
    }
    const digest = d.digest();
    if ((opts.expected && digest !== opts.expected) || (opts.size !== undefined && d.size !== opts.size)) {
      await rm(tmp, { force: true });
      throw new DigestMismatchError(`blob digest mismatch: expected ${opts.expected} (${opts.size ?? '?'} bytes), got ${digest} (${d.size} bytes)`);
    }
    await rename(tmp, this.blobPath(digest));
    return { digest, size: d.size };
  }

  /**
   * Stores as a blob the file that `write` creates at the temporary path it is given (a
   * compressor writing it itself); `write` returns the file's digest and size. A failure removes
   * the partial file.
   */
  async putBlobWrittenBy(write: (tmp: string) => Promise<{ digest: string; size: number }>): Promise<{ digest: string; size: number }> {
    const tmp = this.tempName();
    try {
      const blob = await write(tmp);
      await rename(tmp, this.blobPath(blob.digest));
      return blob;
    } catch (err) {
      await rm(tmp, { force: true });
      throw outputError(err, this.dir);
    }
  }

  /** Stores a JSON document byte for byte as given (its digest is over exactly these bytes). */
  async putBytes(bytes: Buffer | string): Promise<{ digest: string; size: number }> {
    const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    const digest = sha256Digest(buf);
    if (!(await this.hasBlob(digest, buf.length))) {
      const tmp = this.tempName();
      await settle(this.dir, tmp, async () => {
        await writeFile(tmp, buf);
        await rename(tmp, this.blobPath(digest));
      });
    }
    return { digest, size: buf.length };
  }

  async readBlob(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest));
    } catch {
      throw new LayoutError(`${this.dir} is missing blob ${digest}`);
    }
  }

  async readJson<T>(digest: string): Promise<T> {
    return JSON.parse((await this.readBlob(digest)).toString('utf8')) as T;
  }

  blobStream(digest: string, start = 0): AsyncIterable<Buffer> {
    return createReadStream(this.blobPath(digest), { highWaterMark: 1 << 20, start });
  }

  /** Gives this layout a blob `other` has: a hard link when they share a file system, else a copy. */
  async copyBlobFrom(other: OciLayout, desc: Descriptor): Promise<void> {
    if (other.dir === this.dir || (await this.hasBlob(desc.digest, desc.size))) return;
    const tmp = this.tempName();
    await settle(this.dir, tmp, async () => {
      try {
        await link(other.blobPath(desc.digest), tmp);
      } catch {
        await copyFile(other.blobPath(desc.digest), tmp);
      }
      await rename(tmp, this.blobPath(desc.digest));
    });
  }

  async index(): Promise<Index> {
    const text = await readFile(join(this.dir, 'index.json'), 'utf8').catch(() => {
      throw new LayoutError(`${this.dir} has no index.json`);
    });
    const idx = JSON.parse(text) as Index;
    if (!Array.isArray(idx.manifests)) throw new LayoutError(`${this.dir}/index.json has no manifests list`);
    return idx;
  }

  /**
   * Runs `fn` with no update of this layout from this process in between: oci-push reads the
   * multi-platform index and pushes it in one go, so the push that runs last (every build adds
   * its image before pushing) always carries every image added.
   */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return serialized(this.dir, fn);
  }

  /** The index.json entry tagged `tag` (an image manifest or an image index). */
  async tagged(tag: string): Promise<Descriptor> {
    const idx = await this.index();
    const desc = idx.manifests.find((m) => m.annotations?.[REF_NAME] === tag);
    if (!desc) {
      const known = idx.manifests.map((m) => m.annotations?.[REF_NAME]).filter(Boolean);
      throw new LayoutError(`${this.dir} has no image tagged "${tag}"${known.length ? ` (it has: ${known.join(', ')})` : ''}`);
    }
    return desc;
  }

  /** Adds a manifest to index.json; with tags, each replaces any entry of the same name. */
  async addManifest(desc: Descriptor, tags: readonly string[] = []): Promise<void> {
    await serialized(this.dir, () => this.tagUnlocked(desc, tags));
  }

  /**
   * Puts an image into the multi-platform index `tag` names (made when missing), replacing an
   * image of the same platform. Builds for several platforms, each adding its own, meet here:
   * updates are serialized, and entries are sorted by platform so the index digest depends only
   * on what it holds.
   */
  async addToIndex(tag: string, desc: Descriptor): Promise<Descriptor> {
    if (!desc.platform) throw new LayoutError(`an image without a platform cannot join the multi-platform index "${tag}"`);
    return serialized(this.dir, async () => {
      const idx = await this.index();
      const current = idx.manifests.find((m) => m.annotations?.[REF_NAME] === tag);
      const key = (p: Platform | undefined) => (p ? formatPlatform(p) : '');
      let entries: Descriptor[] = current && isIndex(current.mediaType) ? (await this.readJson<Index>(current.digest)).manifests : [];
      entries = entries.filter((m) => key(m.platform) !== key(desc.platform));
      entries.push(clean({ ...desc, annotations: undefined }));
      entries.sort((a, b) => (key(a.platform) < key(b.platform) ? -1 : 1));
      const blob = await this.putBytes(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: entries }));
      const indexDesc: Descriptor = { mediaType: MEDIA.ociIndex, digest: blob.digest, size: blob.size };
      await this.tagUnlocked(indexDesc, [tag]);
      return indexDesc;
    });
  }

  private async tagUnlocked(desc: Descriptor, tags: readonly string[]): Promise<void> {
    const idx = await this.index();
    let manifests = idx.manifests;
    const entries: Descriptor[] = [];
    if (tags.length === 0) {
      if (!manifests.some((m) => m.digest === desc.digest && !m.annotations?.[REF_NAME])) entries.push({ ...desc, annotations: undefined });
    } else {
      manifests = manifests.filter((m) => !tags.includes(m.annotations?.[REF_NAME] ?? '\0'));
      for (const t of tags) entries.push({ mediaType: desc.mediaType, digest: desc.digest, size: desc.size, ...(desc.platform && { platform: desc.platform }), annotations: { [REF_NAME]: t } });
    }
    const next: Index = { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [...manifests, ...entries.map(clean)], ...(idx.annotations && { annotations: idx.annotations }) };
    const tmp = join(this.dir, `.index.json.${randomBytes(4).toString('hex')}`);
    await settle(this.dir, tmp, async () => {
      await writeFile(tmp, JSON.stringify(next));
      await rename(tmp, join(this.dir, 'index.json'));
    });
  }

  /**
   * The image manifest a tag names (the only image when there is no tag and only one), an index
   * resolved to `platform`.
   */
  async resolve(tag: string | undefined, platform: Platform): Promise<{ descriptor: Descriptor; manifest: Manifest }> {
    let desc: Descriptor | undefined;
    if (tag !== undefined) desc = await this.tagged(tag);
    else {
      const idx = await this.index();
      const names = new Set(idx.manifests.map((m) => m.digest));
      if (names.size !== 1) throw new LayoutError(`${this.dir} holds ${names.size} images: name one with oci-layout:PATH:TAG`);
      desc = idx.manifests[0];
    }
    for (let depth = 0; desc && isIndex(desc.mediaType) && depth < 4; depth++) {
      const sub = await this.readJson<Index>(desc.digest);
      desc = selectPlatform(sub, platform) ?? (sub.manifests.length === 1 && !sub.manifests[0]!.platform ? sub.manifests[0] : undefined);
    }
    if (!desc) throw new LayoutError(`${this.dir} has no image for platform ${platform.os}/${platform.architecture}`);
    return { descriptor: desc, manifest: await this.readJson<Manifest>(desc.digest) };
  }
}

/**
 * Runs `fn`, which fills `tmp` and renames it into place; on failure (a full disk) `tmp` goes
 * and the error names the layout folder `dir`.
 */
async function settle(dir: string, tmp: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    await rm(tmp, { force: true });
    throw outputError(err, dir);
  }
}

function clean(d: Descriptor): Descriptor {
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.platform) out.platform = d.platform;
  if (d.annotations && Object.keys(d.annotations).length > 0) out.annotations = d.annotations;
  return out;
}
