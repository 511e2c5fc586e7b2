/** The `oci` builder's settings, checked completely before anything is created. */
import { z } from '../../src/sdk/index.js';
import { checkChanges, parseBase, parsePlatform, zstdAvailable, zstdMissingMessage } from '../../src/sdk/oci.js';

const stringOrList = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));

export const schema = z
  .object({
    /** "scratch", oci-layout:PATH[:TAG], or a registry reference. */
    base: z.string().min(1, 'base must name an image: "scratch", oci-layout:PATH[:TAG] or a registry reference'),
    changes: z.array(z.string()).default([]),
    /** Folder for the OCI image layout the image is written to. */
    export_layout: z.string().min(1).optional(),
    /** Tags for the image in the layout (org.opencontainers.image.ref.name). */
    tag: stringOrList.optional(),
    platform: z.string().optional(),
    /** Plain HTTP (or unverified TLS) to the base image's registry. */
    insecure: z.boolean().default(false),
    login_username: z.string().optional(),
    login_password: z.string().optional(),
    compression: z.enum(['gzip', 'zstd', 'none']).default('gzip'),
    compression_level: z.number().int().min(1).max(22).optional(),
    /** Clamp for file times and the image's creation time; SOURCE_DATE_EPOCH when unset. */
    source_date_epoch: z.number().int().min(0).optional(),
    author: z.string().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const b = parseBase(c.base);
    if (typeof b === 'string') ctx.addIssue({ code: 'custom', path: ['base'], message: b });
    if (c.platform !== undefined) {
      const p = parsePlatform(c.platform);
      if (typeof p === 'string') ctx.addIssue({ code: 'custom', path: ['platform'], message: p });
    }
    checkChanges(c.changes).forEach((m, i) => ctx.addIssue({ code: 'custom', path: ['changes', i], message: m }));
    if (c.compression === 'zstd' && !zstdAvailable()) ctx.addIssue({ code: 'custom', path: ['compression'], message: zstdMissingMessage('compression = "zstd"') });
    if (c.compression_level !== undefined && c.compression === 'gzip' && c.compression_level > 9) ctx.addIssue({ code: 'custom', path: ['compression_level'], message: 'gzip levels go from 1 to 9' });
  });

export type OciBuilderConfig = z.output<typeof schema>;

/** The clamp time: the template's value, else SOURCE_DATE_EPOCH, else none. */
export function sourceDateEpoch(c: OciBuilderConfig, env: Readonly<Record<string, string | undefined>> = process.env): number | undefined {
  if (c.source_date_epoch !== undefined) return c.source_date_epoch;
  const v = env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new Error(`SOURCE_DATE_EPOCH is "${v}": it must be a whole number of seconds since 1970`);
  return Number(v);
}
