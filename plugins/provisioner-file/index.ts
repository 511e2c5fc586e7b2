/**
 * The `file` provisioner, as Packer's: uploads files and directory trees (or `content`) to the
 * machine, or downloads from it, with Packer's trailing-slash rules. Transfers stream and report
 * progress; unlike Packer, missing parent directories of the destination are created.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { provisioner, z, type Communicator, type PluginSet, type ProvisionContext, type TransferOptions } from '../../src/sdk/index.js';

const schema = z
  .object({
    source: z.string().optional(),
    sources: z.array(z.string()).optional(),
    content: z.string().optional(),
    destination: z.string({ message: 'Destination must be specified.' }).min(1, 'Destination must be specified.'),
    direction: z.enum(['upload', 'download'], { message: 'Direction must be one of: download, upload.' }).optional(),
    generated: z.boolean().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const sources = [...(c.sources ?? []), ...(c.source !== undefined ? [c.source] : [])];
    if (sources.length > 0 && c.content !== undefined) ctx.addIssue({ code: 'custom', path: ['content'], message: 'source(s) conflicts with content.' });
    if (sources.length === 0 && c.content === undefined) ctx.addIssue({ code: 'custom', message: 'one of source, sources or content must be set' });
    if ((c.direction ?? 'upload') === 'upload' && !c.generated) {
      for (const s of sources) {
        if (!s.includes('${') && !existsSync(s)) ctx.addIssue({ code: 'custom', path: [c.source === s ? 'source' : 'sources'], message: `Bad source '${s}': no such file or directory (set generated = true if an earlier step creates it)` });
      }
    }
    if (c.direction === 'download' && c.content !== undefined) ctx.addIssue({ code: 'custom', path: ['content'], message: 'content can only be uploaded' });
  });

type Config = z.output<typeof schema>;

function transferOptions(ctx: ProvisionContext<Config>, id: string, label: string): TransferOptions {
  return { signal: ctx.signal, onProgress: (done, total) => ctx.ui.progress(id, done, total, label) };
}

async function provision(ctx: ProvisionContext<Config>, comm: Communicator): Promise<void> {
  const c = ctx.config;
  const sources = [...(c.sources ?? []), ...(c.source !== undefined ? [c.source] : [])];
  const dst = c.destination;
  if ((c.direction ?? 'upload') === 'download') {
    for (const src of sources) await download(ctx, comm, src, dst);
    return;
  }
  if (c.content !== undefined) {
    const data = Buffer.from(c.content);
    ctx.ui.say(`Uploading content => ${dst}`);
    await comm.upload({ stream: Readable.from([data]), size: data.length }, dst, transferOptions(ctx, `upload:${dst}`, basename(dst)));
    return;
  }
  for (const src of sources) {
    ctx.ui.say(`Uploading ${src} => ${dst}`);
    let info;
    try {
      info = await stat(src);
    } catch {
      throw new Error(`Bad source '${src}': no such file or directory${c.generated ? ' (generated = true, but no earlier step created it)' : ''}`);
    }
    if (info.isDirectory()) {
      await comm.uploadDir(src, dst, transferOptions(ctx, `upload:${src}`, basename(src.replace(/\/+$/, ''))));
      continue;
    }
    const fileDst = dst.endsWith('/') ? dst + basename(src) : dst;
    await comm.upload(src, fileDst, transferOptions(ctx, `upload:${src}`, basename(src)));
  }
}

/** Packer's download rules: `dst/` receives the file by its name; `src/` is a directory. */
async function download(ctx: ProvisionContext<Config>, comm: Communicator, src: string, dst: string): Promise<void> {
  if (/[*?[]/.test(src)) throw new Error(`Cannot download "${src}": wildcards in a download source are not supported by kiln; name the directory with a trailing slash instead`);
  const isDir = src.endsWith('/');
  const target = dst.endsWith('/') && !isDir ? join(dst, basename(src)) : dst;
  ctx.ui.say(`Downloading ${src} => ${target}`);
  const opts = transferOptions(ctx, `download:${src}`, basename(src.replace(/\/+$/, '')));
  if (isDir) {
    if (!comm.downloadDir) throw new Error(`Cannot download the directory ${src}: the ${comm.description} communicator cannot download directories`);
    await comm.downloadDir(src, target, opts);
    return;
  }
  const s = await stat(target).catch(() => undefined);
  if (s?.isDirectory()) throw new Error(`Cannot download ${src} to ${target}: it is a directory (end the destination with "/" to put the file inside it)`);
  await comm.download(src, target, opts);
}

const file = provisioner({ type: 'file', schema, provision });

export default { provisioners: [file] } satisfies PluginSet;
