/**
 * Writing a stream-optimized VMDK (what vSphere imports and OVA/OVF packages carry) from a raw
 * image, as one forward pass: header and descriptor, the grains that hold data (each deflated on
 * its own, zero grains left out), each grain table after its grains, the grain directory, the
 * footer and the end-of-stream marker. Nothing is written twice or out of order.
 *
 * Grains are deflated on libuv's thread pool, several at once, and written in order; at most
 * `IN_FLIGHT` grains (64 KiB each, plus their 4 MiB read batches) are held in memory.
 */
import { promisify } from 'node:util';
import { deflate as deflateCb } from 'node:zlib';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ImageIdentity } from '../identity.js';
import { dataBlocks, writeFully, zeroBytes, type BlockReadOptions } from '../blocks.js';
import {
  buildHeader,
  descriptorText,
  GD_AT_END,
  GRAIN_SECTORS,
  GRAIN_SIZE,
  GT_SECTORS,
  GTES_PER_GT,
  MARKER_EOS,
  MARKER_FOOTER,
  MARKER_GD,
  MARKER_GT,
  metadataMarker,
  SECTOR,
} from './layout.js';

const deflate = promisify(deflateCb);
const IN_FLIGHT = 16;

export interface VmdkWriteOptions extends BlockReadOptions {
  identity: ImageIdentity;
  /** zlib level 1–9; 6 (zlib's default, as qemu-img and VMware use) when not given. */
  compressionLevel?: number;
  /** ddb.adapterType: lsilogic (default), ide, buslogic, lsilogicsas, pvscsi. */
  adapterType?: string;
  /** ddb.virtualHWVersion; 4 is what every ESXi accepts. */
  hardwareVersion?: number;
  /** The file name the descriptor's extent line names, when `out` is a temporary name. */
  extentName?: string;
}

export const ADAPTER_TYPES = ['lsilogic', 'ide', 'buslogic', 'lsilogicsas', 'pvscsi'] as const;

/** Writes a stream-optimized VMDK at `out` (created; must not exist) from the raw image at `raw`. */
export async function writeStreamOptimizedVmdk(raw: string, out: string, opts: VmdkWriteOptions): Promise<void> {
  const rawSize = (await stat(raw)).size;
  const capacity = Math.max(1, Math.ceil(rawSize / SECTOR));
  const grains = Math.ceil(capacity / GRAIN_SECTORS);
  const tables = Math.ceil(grains / GTES_PER_GT);
  const descriptor = Buffer.from(
    descriptorText({
      cid: opts.identity.id32('vmdk-cid'),
      capacitySectors: capacity,
      extentFile: basename(opts.extentName ?? out),
      adapterType: opts.adapterType ?? 'lsilogic',
      hardwareVersion: opts.hardwareVersion ?? 4,
    }),
    'utf8',
  );
  const descriptorSectors = Math.max(1, Math.ceil(descriptor.length / SECTOR));
  // Grains start on a grain boundary, as VMware's writers place them.
  const overHead = Math.ceil((1 + descriptorSectors) / GRAIN_SECTORS) * GRAIN_SECTORS;
  const header = { capacity, grainSize: GRAIN_SECTORS, descriptorOffset: 1, descriptorSize: descriptorSectors, overHead };
  const level = opts.compressionLevel ?? 6;

  const src = await open(raw, 'r');
  const dst = await open(out, 'wx', 0o644);
  try {
    const w = new SectorWriter(dst);
    await w.put(buildHeader({ ...header, gdOffset: GD_AT_END }));
    await w.put(descriptor);
    await w.padTo(overHead);

    const gd = Buffer.alloc(Math.ceil((tables * 4) / SECTOR) * SECTOR);
    let table = -1;
    let gt = Buffer.alloc(GT_SECTORS * SECTOR);
    let tableHasGrains = false;
    const flushTable = async (): Promise<void> => {
      if (table < 0 || !tableHasGrains) return;
      await w.put(metadataMarker(MARKER_GT, GT_SECTORS));
      gd.writeUInt32LE(w.sector, table * 4);
      await w.put(gt);
      gt = Buffer.alloc(GT_SECTORS * SECTOR);
      tableHasGrains = false;
    };
    const writeGrain = async (index: number, compressed: Buffer): Promise<void> => {
      const t = Math.floor(index / GTES_PER_GT);
      if (t !== table) {
        await flushTable();
        table = t;
      }
      gt.writeUInt32LE(w.sector, (index % GTES_PER_GT) * 4);
      tableHasGrains = true;
      const marker = Buffer.alloc(12);
      marker.writeBigUInt64LE(BigInt(index * GRAIN_SECTORS), 0);
      marker.writeUInt32LE(compressed.length, 8);
      await w.put(Buffer.concat([marker, compressed]));
    };

    // Deflate runs ahead on the thread pool; writes happen in grain order.
    const pending: Array<{ index: number; job: Promise<Buffer> }> = [];
    // 1 MiB reads into a few reused buffers; each compression holds its buffer until it is done.
    for await (const b of dataBlocks(src, raw, rawSize, GRAIN_SIZE, { ...opts, batchBytes: 1 << 20, ring: 4 })) {
      // A short last grain is padded: qemu rejects a grain that inflates to less than a grain.
      const data = b.data.length === GRAIN_SIZE ? b.data : Buffer.concat([b.data, zeroBytes(GRAIN_SIZE - b.data.length)]);
      const job = deflate(data, { level });
      job.catch(() => undefined);
      b.hold(job);
      pending.push({ index: b.index, job });
      if (pending.length >= IN_FLIGHT) {
        const first = pending.shift()!;
        await writeGrain(first.index, await first.job);
      }
    }
    for (const p of pending) await writeGrain(p.index, await p.job);
    await flushTable();

    await w.put(metadataMarker(MARKER_GD, gd.length / SECTOR));
    const gdSector = w.sector;
    await w.put(gd);
    await w.put(metadataMarker(MARKER_FOOTER, 1));
    await w.put(buildHeader({ ...header, gdOffset: BigInt(gdSector) }));
    await w.put(metadataMarker(MARKER_EOS, 0));
  } finally {
    await Promise.all([src.close(), dst.close()]);
  }
}

/** Sequential writes, each padded to whole sectors; `sector` is where the next one goes. */
class SectorWriter {
  sector = 0;

  constructor(private readonly fh: FileHandle) {}

  async put(buf: Buffer): Promise<void> {
    const padded = buf.length % SECTOR === 0 ? buf : Buffer.concat([buf, Buffer.alloc(SECTOR - (buf.length % SECTOR))]);
    await writeFully(this.fh, padded, this.sector * SECTOR);
    this.sector += padded.length / SECTOR;
  }

  /** Zeros up to `sector`. */
  async padTo(sector: number): Promise<void> {
    if (sector > this.sector) await this.put(zeroBytes((sector - this.sector) * SECTOR));
  }
}
