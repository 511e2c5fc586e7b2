import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import plugin, { BUILDER_ID } from '../../../plugins/postprocessor-checksum/index.js';
import { hashFile } from '../../../plugins/postprocessor-checksum/hash.js';
import { checkTemplate, renderTemplate } from '../../../src/sdk/output-template.js';
import type { PostProcessorPlugin } from '../../../src/sdk/plugin.js';
import { fileArtifact, runPostProcessor } from '../../helpers/postprocessor-context.js';

const checksum = plugin.postProcessors[0] as PostProcessorPlugin<unknown>;

let dir: string;
let cwd: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-checksum-test-'));
  cwd = process.cwd();
  // The default output is relative, as in Packer: run in the test's own directory.
  process.chdir(dir);
});
afterEach(() => {
  process.chdir(cwd);
  rmSync(dir, { recursive: true, force: true });
});

const HELLO_MD5 = '5d41402abc4b2a76b9719d911017c592';
const HELLO_SHA256 = '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';

function x(raw: Record<string, unknown>, files: string[]) {
  return runPostProcessor(checksum, raw, fileArtifact(files), { sourceName: 'x', builderType: 'file' });
}

describe('checksum post-processor', () => {
  it("writes Packer's default file names and `<hex>\\t<base name>\\n` lines", async () => {
    writeFileSync('out.txt', 'hello');
    const { result, recorded } = await x({ checksum_types: ['md5', 'sha256'] }, ['out.txt']);
    expect(readFileSync('packer_x_file_md5.checksum', 'utf8')).toBe(`${HELLO_MD5}\tout.txt\n`);
    expect(readFileSync('packer_x_file_sha256.checksum', 'utf8')).toBe(`${HELLO_SHA256}\tout.txt\n`);
    expect(result.keepInput).toBe(true);
    expect(result.forceOverride).toBe(true);
    expect(result.artifact).toMatchObject({
      builderId: BUILDER_ID,
      id: '',
      files: ['out.txt', 'packer_x_file_md5.checksum', 'packer_x_file_sha256.checksum'],
      description: 'Created artifact from files: out.txt, packer_x_file_md5.checksum, packer_x_file_sha256.checksum',
    });
    expect(recorded.ui).toEqual([]);
  });

  it('defaults to md5', async () => {
    writeFileSync('out.txt', 'hello');
    await x({}, ['out.txt']);
    expect(readFileSync('packer_x_file_md5.checksum', 'utf8')).toBe(`${HELLO_MD5}\tout.txt\n`);
  });

  it('appends to an existing checksum file and then does not list it as its own', async () => {
    writeFileSync('out.txt', 'hello');
    await x({}, ['out.txt']);
    const { result } = await x({}, ['out.txt']);
    expect(readFileSync('packer_x_file_md5.checksum', 'utf8')).toBe(`${HELLO_MD5}\tout.txt\n`.repeat(2));
    expect(result.artifact.files).toEqual(['out.txt']);
  });

  it('writes every type and file into one output without {{.ChecksumType}}, by type then file', async () => {
    writeFileSync('a', 'hello');
    writeFileSync('b', '');
    await x({ checksum_types: ['sha256', 'md5'], output: 'sums/ALL.{{.BuildName}}' }, [join(dir, 'a'), 'b']);
    const empty256 = createHash('sha256').update('').digest('hex');
    const emptyMd5 = createHash('md5').update('').digest('hex');
    expect(readFileSync('sums/ALL.x', 'utf8')).toBe(`${HELLO_SHA256}\ta\n${empty256}\tb\n${HELLO_MD5}\ta\n${emptyMd5}\tb\n`);
  });

  it('computes all six types in one pass, matching node:crypto on a multi-chunk file', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync('big.bin', data);
    const types = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
    const got = await hashFile('big.bin', types);
    for (const t of types) expect(got.get(t)).toBe(createHash(t).update(data).digest('hex'));
  });

  it('fills {{.Name}} from the builder generated data too', async () => {
    writeFileSync('out.txt', 'hello');
    await runPostProcessor(checksum, { output: '{{ .ID }}-{{.ChecksumType}}.sum' }, fileArtifact(['out.txt']), { generatedData: new Map([['ID', 'img-42']]) });
    expect(existsSync('img-42-md5.sum')).toBe(true);
  });

  it('says which placeholder does not exist', async () => {
    writeFileSync('out.txt', 'hello');
    await expect(x({ output: '{{.Nope}}.sum' }, ['out.txt'])).rejects.toThrow(/there is no \{\{\.Nope\}\}; available: .*\{\{\.BuildName\}\}/);
  });

  it('fails naming the file it cannot read, and writes no checksum file', async () => {
    await expect(x({}, ['missing.img'])).rejects.toThrow(/unable to compute md5 checksums of missing.img/);
    expect(existsSync('packer_x_file_md5.checksum')).toBe(false);
  });

  it('writes no file for an artifact without files', async () => {
    const { result } = await x({}, []);
    expect(result.artifact.files).toEqual([]);
    expect(existsSync('packer_x_file_md5.checksum')).toBe(false);
  });

  it('destroying its artifact removes the listed files, as Packer does', async () => {
    writeFileSync('out.txt', 'hello');
    const { result } = await x({}, ['out.txt']);
    await result.artifact.destroy?.();
    expect(existsSync('out.txt')).toBe(false);
    expect(existsSync('packer_x_file_md5.checksum')).toBe(false);
  });

  it('validates the config: Packer message for unknown types, unknown options, unsupported templates', () => {
    const bad = checksum.schema.safeParse({ checksum_types: ['sha3'] });
    expect(bad.error?.issues[0]?.message).toMatch(/^Unrecognized checksum type: sha3/);
    expect(checksum.schema.safeParse({ checksum_type: ['md5'] }).error?.issues[0]?.code).toBe('unrecognized_keys');
    expect(checksum.schema.safeParse({ output: '{{timestamp}}.sum' }).error?.issues[0]?.message).toMatch(/"\{\{timestamp\}\}" is not supported/);
    expect(checksum.schema.parse({})).toEqual({ checksum_types: ['md5'], output: 'packer_{{.BuildName}}_{{.BuilderType}}_{{.ChecksumType}}.checksum' });
  });
});

describe('output templates', () => {
  it('replaces {{.Name}} with or without spaces and leaves other text alone', () => {
    expect(renderTemplate('a/{{.A}}_{{ .B }}.{x}', new Map([['A', '1'], ['B', '2']]))).toBe('a/1_2.{x}');
    expect(checkTemplate('plain')).toBeUndefined();
    expect(checkTemplate('{{ .Fine }}')).toBeUndefined();
    expect(checkTemplate('{{ user `x` }}')).toMatch(/not supported/);
  });
});
