/**
 * Third-party plugins: an npm package `kiln-plugin-<name>` next to the template, or a local
 * path, declared in required_plugins and loaded only because the template asks for it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kiln, ROOT, workspace } from '../helpers/cli.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const SDK = join(ROOT, 'dist', 'src', 'sdk', 'index.js');

/** A plugin exactly as a third party would write it: a provisioner that writes a file. */
const PLUGIN = `
import { writeFileSync } from 'node:fs';
import { provisioner, z } from ${JSON.stringify(SDK)};
const stamp = provisioner({
  type: 'stamp',
  schema: z.object({ path: z.string(), text: z.string() }).strict(),
  async provision(ctx) {
    ctx.ui.say('stamping ' + ctx.config.path);
    writeFileSync(ctx.config.path, ctx.config.text + ' for ' + ctx.sourceName + '\\n');
  },
});
export default { provisioners: [stamp] };
`;

const TEMPLATE = (source: string) => `
packer {
  required_plugins {
    stamp = { source = "${source}", version = ">= 0.1" }
  }
}
source "null" "a" { communicator = "none" }
build {
  sources = ["source.null.a"]
  provisioner "stamp" {
    path = "stamped.txt"
    text = "hello"
  }
}
`;

describe('third-party plugins', () => {
  it('loads kiln-plugin-<name> from the template directory node_modules', () => {
    const w = workspace({
      't.pkr.hcl': TEMPLATE('github.com/example/stamp'),
      'node_modules/kiln-plugin-stamp/package.json': JSON.stringify({ name: 'kiln-plugin-stamp', type: 'module', main: 'index.js' }),
      'node_modules/kiln-plugin-stamp/index.js': PLUGIN,
    });
    cleanups.push(w.cleanup);
    const r = kiln(['build', 't.pkr.hcl'], { cwd: w.dir, env: { KILN_STATE_DIR: join(w.dir, '.state') } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('==> null.a: stamping stamped.txt');
    expect(readFileSync(join(w.dir, 'stamped.txt'), 'utf8')).toBe('hello for a\n');
  });

  it('loads a plugin from a local path and checks its config schema', () => {
    const w = workspace({ 't.pkr.hcl': TEMPLATE('./my-plugin').replace('text = "hello"', 'txt = "hello"'), 'my-plugin/index.js': PLUGIN, 'my-plugin/package.json': '{"type":"module","main":"index.js"}' });
    cleanups.push(w.cleanup);
    const r = kiln(['validate', 't.pkr.hcl'], { cwd: w.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('An argument named "txt" is not expected in provisioner "stamp"');
    expect(r.stderr).toContain('Did you mean "text"?');
  });

  it('says how to install a plugin that is missing', () => {
    const w = workspace({ 't.pkr.hcl': TEMPLATE('github.com/example/stamp') });
    cleanups.push(w.cleanup);
    const r = kiln(['validate', 't.pkr.hcl'], { cwd: w.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('npm install kiln-plugin-stamp');
  });
});
