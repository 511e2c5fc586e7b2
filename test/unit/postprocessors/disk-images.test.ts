/**
 * The vhd, vmdk and qcow2 post-processors called as the runner calls them: what they write, when
 * they convert in place, what they say, and their errors.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Artifact } from '../../../src/sdk/artifact.js';
import type { PostProcessorPlugin } from '../../../src/sdk/plugin.js';
import compressPlugin from '../../../plugins/postprocessor-compress/index.js';
import qcow2Plugin from '../../../plugins/postprocessor-qcow2/index.js';
import vhdPlugin from '../../../plugins/postprocessor-vhd/index.js';
import vmdkPlugin from '../../../plugins/postprocessor-vmdk/index.js';
import { QEMU_IMG, skipWithout } from '../../helpers/components.js';
import { fakeContext, fileArtifact } from '../../helpers/postprocessor-context.js';

const MIB = 1 << 20;
const vhd = vhdPlugin.postProcessors[0]! as PostProcessorPlugin<unknown>;
const vmdk = vmdkPlugin.postProcessors[0]! as PostProcessorPlugin<unknown>;
const qcow2 = qcow2Plugin.postProcessors[0]! as PostProcessorPlugin<unknown>;
const compress = compressPlugin.postProcessors[0]! as PostProcessorPlugin<unknown>;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-diskpp-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function raw(name: string, size: number): string {
  const path = join(dir, name);
  rmSync(path, { force: true });
  const fd = openSync(path, 'w');
  writeSync(fd, Buffer.from('data at the start'), 0, 17, 0);
  writeSync(fd, Buffer.alloc(70_000, 9), 0, 70_000, Math.floor(size / 2));
  closeSync(fd);
  truncateSync(path, size);
  return path;
}

async function run(plugin: PostProcessorPlugin<unknown>, raw: Record<string, unknown>, input: Artifact, inputDisposable = false) {
  const { ctx, recorded } = fakeContext(plugin.schema.parse(raw));
  const result = await plugin.process({ ...ctx, inputDisposable }, input);
  return { result, recorded, says: recorded.ui.map((u) => u.text) };
}

function compare(a: string, fa: string, b: string, fb: string): string {
  return execFileSync('qemu-img', ['compare', '-f', fa, '-F', fb, a, b], { encoding: 'utf8' });
}

describe('vhd post-processor', () => {
  it('converts in place when the input is disposable, rounding up to a whole MiB with a notice', async () => {
    if (skipWithout(QEMU_IMG)) return;
    const input = raw('inplace.raw', 5 * MIB + 4096);
    const reference = join(dir, 'inplace-ref.raw');
    execFileSync('cp', ['--sparse=always', input, reference]);
    const { result, says } = await run(vhd, {}, fileArtifact([input]), true);
    const out = join(dir, 'inplace.vhd');
    expect(result.artifact.files).toEqual([out]);
    expect(result.keepInput).toBe(false);
    expect(existsSync(input)).toBe(false);
    expect(statSync(out).size).toBe(6 * MIB + 512);
    expect(says.join('\n')).toMatch(/not a whole number of MiB as Azure requires: the VHD's disk is rounded up to 6291456 bytes \(6 MiB/);
    expect(says.join('\n')).toContain('in place');
    // The padding reads as zeros, so the images compare equal up to the original size.
    expect(compare(reference, 'raw', out, 'vpc')).toContain('Images are identical');
  });

  it('copies (sparse) when the input is still needed, and leaves the input as it was', async () => {
    if (skipWithout(QEMU_IMG)) return;
    const input = raw('kept.raw', 8 * MIB);
    const out = join(dir, 'out', 'kept-fixed.vhd');
    const { result } = await run(vhd, { output: out }, fileArtifact([input]), false);
    expect(result.artifact.files).toEqual([out]);
    expect(statSync(input).size).toBe(8 * MIB);
    expect(statSync(out).blocks * 512).toBeLessThan(MIB);
    expect(compare(input, 'raw', out, 'vpc')).toContain('Images are identical');
    expect(readdirSync(join(dir, 'out')).filter((n) => n.endsWith('.part'))).toEqual([]);
  });

  it('writes a dynamic VHD with dynamic = true', async () => {
    if (skipWithout(QEMU_IMG)) return;
    const input = raw('dyn.raw', 16 * MIB);
    const { result } = await run(vhd, { dynamic: true }, fileArtifact([input]), true);
    const out = result.artifact.files[0]!;
    expect(existsSync(input)).toBe(true);
    expect(statSync(out).size).toBeLessThan(5 * MIB);
    expect(compare(input, 'raw', out, 'vpc')).toContain('Images are identical');
  });

  it('reads a qcow2 input through qemu-img', async () => {
    if (skipWithout(QEMU_IMG)) return;
    const input = raw('fromq.raw', 4 * MIB);
    const q = join(dir, 'fromq.qcow2');
    execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', input, q]);
    const { result, says } = await run(vhd, { output: join(dir, 'fromq.vhd') }, { ...fileArtifact([q, join(dir, 'serial.log')]) });
    expect(says.join('\n')).toContain('Reading the qcow2 image');
    expect(compare(input, 'raw', result.artifact.files[0]!, 'vpc')).toContain('Images are identical');
  });

  it('refuses an output that is the input, and artifacts without a clear disk', async () => {
    const input = raw('same.raw', MIB);
    await expect(run(vhd, { output: input }, fileArtifact([input]))).rejects.toThrow(/is the input image itself/);
    await expect(run(vhd, {}, fileArtifact([input, join(dir, 'other.raw')]))).rejects.toThrow(/cannot tell which file/);
    await expect(run(vhd, {}, fileArtifact([]))).rejects.toThrow(/has no files/);
  });
});

describe('vmdk post-processor', () => {
  it('writes a stream-optimized VMDK that qemu-img checks and compares equal', async () => {
    if (skipWithout(QEMU_IMG)) return;
    const input = raw('v.raw', 12 * MIB);
    const { result } = await run(vmdk, { compression_level: 1, adapter_type: 'ide' }, fileArtifact([input]), true);
    const out = result.artifact.files[0]!;
    expect(out).toBe(join(dir, 'v.vmdk'));
    expect(execFileSync('qemu-img', ['check', out], { encoding: 'utf8' })).toContain('No errors');
    expect(compare(input, 'raw', out, 'vmdk')).toContain('Images are identical');
  });

  it('rejects an unknown adapter type', () => {
    expect(() => vmdk.schema.parse({ adapter_type: 'scsi' })).toThrow(/adapter_type must be one of/);
  });
});

describe('qcow2 post-processor', () => {
  it('converts with compression and compat through qemu-img', async () => {
    if (skipWithout(QEMU_IMG)) return;
    const input = raw('c.raw', 10 * MIB);
    const { result } = await run(qcow2, { compression: true, compat: '0.10' }, fileArtifact([input]));
    const out = result.artifact.files[0]!;
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', out], { encoding: 'utf8' })) as { format: string; 'format-specific': { data: { compat: string } } };
    expect(info.format).toBe('qcow2');
    expect(info['format-specific'].data.compat).toBe('0.10');
    expect(execFileSync('qemu-img', ['check', out], { encoding: 'utf8' })).toContain('No errors');
    expect(compare(input, 'raw', out, 'qcow2')).toContain('Images are identical');
  });

  it('names the Debian package when qemu-img is missing', async () => {
    const input = raw('m.raw', MIB);
    const path = process.env.PATH;
    process.env.PATH = join(dir, 'no-such-bin');
    try {
      await expect(run(qcow2, {}, fileArtifact([input]))).rejects.toThrow(/qemu-img is not installed: install the Debian package qemu-utils/);
    } finally {
      process.env.PATH = path;
    }
    expect(readdirSync(dir).filter((n) => n.endsWith('.part'))).toEqual([]);
  });
});

describe('compress post-processor with disk images', () => {
  it('compresses a sparse image (gzip and tar.gz) to the same bytes, reading only its data', async () => {
    const input = raw('big-sparse.raw', 256 * MIB);
    for (const output of [join(dir, 'img.raw.gz'), join(dir, 'img.tar.gz')]) {
      const { result } = await run(compress, { output }, fileArtifact([input]));
      expect(result.artifact.files).toEqual([output]);
    }
    const hash = (cmd: string) => execFileSync('sh', ['-c', `${cmd} | sha256sum`], { encoding: 'utf8' }).split(' ')[0];
    const want = hash(`cat ${input}`);
    expect(hash(`gzip -dc ${join(dir, 'img.raw.gz')}`)).toBe(want);
    expect(hash(`tar -xzOf ${join(dir, 'img.tar.gz')} big-sparse.raw`)).toBe(want);
  });
});
