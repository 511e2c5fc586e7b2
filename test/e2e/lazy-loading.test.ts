/**
 * Start-up stays light: `kiln --version` loads next to nothing, and validating a template that
 * uses no cloud or SSH never loads a cloud SDK, ssh2, or the plugins it does not use.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KILN_BIN, ROOT } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-lazy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function loaded(args: string[]): string[] {
  const log = join(dir, `imports-${args.join('_').replace(/\W/g, '')}.txt`);
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', join(ROOT, 'test', 'helpers', 'record-imports-register.mjs'), KILN_BIN, ...args], {
    cwd: dir,
    env: { ...process.env, KILN_IMPORT_LOG: log },
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('file:'));
}

/** `file:///…/dist/bin/builder-null-AbC12_x.js` → `bin/builder-null`: the chunk without its content hash. */
function chunkName(url: string): string {
  return url.replace(/.*\/dist\//, '').replace(/-[\w-]{8}\.js$|\.js$/, '');
}

describe('lazy loading', () => {
  it('kiln --version loads only its entry point', () => {
    const files = loaded(['--version']).filter((u) => !u.includes('record-imports'));
    expect(files.map(chunkName)).toEqual(['bin/main', 'bin/version']);
  });

  it('validating a null/shell-local template loads no cloud SDK, no ssh2 and no unused plugin', () => {
    writeFileSync(join(dir, 'one.pkr.hcl'), 'source "null" "a" {\n  communicator = "none"\n}\nbuild {\n  sources = ["source.null.a"]\n  provisioner "shell-local" {\n    inline = ["echo hi"]\n  }\n}\n');
    const files = loaded(['validate', 'one.pkr.hcl']);
    expect(files.filter((u) => /@aws-sdk|@azure|\/ssh2\//.test(u))).toEqual([]);
    // The bundle puts each plugin (a dynamic import) in a chunk named after its folder.
    const pluginNames = new Set(readdirSync(join(ROOT, 'plugins')));
    const plugins = [...new Set(files.map(chunkName).map((c) => c.replace(/^bin\//, '')).filter((c) => pluginNames.has(c)))].sort();
    expect(plugins).toEqual(['builder-null', 'provisioner-shell-local']);
  });

  it('validating an amazon-ebs template loads its plugin but not the AWS SDK (no AWS call is needed)', () => {
    writeFileSync(join(dir, 'ebs.pkr.hcl'), 'source "amazon-ebs" "a" {\n  region = "us-east-1"\n  source_ami = "ami-0123456789abcdef0"\n  instance_type = "t3.micro"\n  ssh_username = "admin"\n  ami_name = "x-1"\n}\nbuild {\n  sources = ["source.amazon-ebs.a"]\n}\n');
    const files = loaded(['validate', 'ebs.pkr.hcl']);
    expect(files.map(chunkName)).toContain('bin/builder-amazon-ebs');
    expect(files.filter((u) => /@aws-sdk|@smithy|\/ssh2\//.test(u))).toEqual([]);
  });
});
