import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { callFunction, type FunctionContext } from '../../../src/template/eval/functions/define.js';
import { FUNCTIONS } from '../../../src/template/eval/functions/index.js';
import { T, typeString } from '../../../src/template/eval/types.js';
import { Value } from '../../../src/template/eval/value.js';
import { callIn, fails, js, makeCtx, map } from './helpers.js';

let root: string;
let ctx: FunctionContext;
const savedHome = process.env.HOME;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'kiln-fn-'));
  ctx = makeCtx({ baseDir: root });
  // The tree of Packer's fileset documentation, plus a few extra cases.
  const files: Record<string, string | Buffer> = {
    'build-linux.pkr.hcl': 'build {}',
    'linux/files/hello.txt': 'Hello World',
    'linux/files/world.txt': 'world',
    'linux/scripts/script-1-install.sh': '#!/bin/sh',
    'linux/scripts/script-2-setup.sh': '#!/bin/sh',
    'extra/.hidden': 'h',
    'extra/a1.txt': 'a',
    'extra/deep/er/z.sh': 'z',
    'bin.dat': Buffer.from([0xff, 0xfe, 0x00]),
    'tmpl/hello.tmpl': 'Hello, ${name}!',
    'home/.ssh/id_rsa': 'KEY',
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  symlinkSync(join(root, 'linux'), join(root, 'extra', 'link-to-linux'));
  symlinkSync(join(root, 'extra', 'a1.txt'), join(root, 'extra', 'link-to-a1.txt'));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  process.env.HOME = savedHome;
});

const run = (name: string, ...args: (string | number | Value)[]) => js(callIn(ctx, name, ...args));

describe('file and filebase64', () => {
  it('read files relative to the template directory (documented examples)', () => {
    expect(run('file', 'linux/files/hello.txt')).toBe('Hello World');
    expect(run('filebase64', 'linux/files/hello.txt')).toBe('SGVsbG8gV29ybGQ=');
    expect(run('file', join(root, 'linux/files/world.txt'))).toBe('world');
    expect(run('file', './linux/../linux/files/world.txt')).toBe('world');
  });

  it('expand ~ to the home directory', () => {
    process.env.HOME = join(root, 'home');
    expect(run('file', '~/.ssh/id_rsa')).toBe('KEY');
    fails('file', ['~someone/x'], 'cannot expand user-specific home dir', 0, ctx);
  });

  it('read binary files only as Base64', () => {
    expect(run('filebase64', 'bin.dat')).toBe('//4A');
    fails('file', ['bin.dat'], 'contents of bin.dat are not valid UTF-8; use the filebase64 function', 0, ctx);
  });

  it('say which file is missing', () => {
    fails('file', ['nope.txt'], `no file exists at ${join(root, 'nope.txt')}`, 0, ctx);
    fails('filebase64', ['nope.txt'], 'no file exists at', 0, ctx);
    fails('file', ['linux'], `failed to read ${join(root, 'linux')}`, 0, ctx);
  });
});

describe('fileexists', () => {
  it('tells whether a regular file exists (documented example)', () => {
    expect(run('fileexists', 'linux/files/hello.txt')).toBe(true);
    expect(run('fileexists', 'nope.txt')).toBe(false);
    expect(run('fileexists', 'extra/link-to-a1.txt')).toBe(true);
  });

  it('refuses directories', () => {
    fails('fileexists', ['linux'], /linux is not a regular file, but "d[rwx-]{9}"/, 0, ctx);
  });
});

describe('fileset', () => {
  it('matches the documented examples', () => {
    expect(run('fileset', '.', '*')).toEqual(['bin.dat', 'build-linux.pkr.hcl']);
    expect(run('fileset', '.', 'linux/scripts/*')).toEqual(['linux/scripts/script-1-install.sh', 'linux/scripts/script-2-setup.sh']);
    expect(run('fileset', 'linux', 'files/{hello,world}.txt')).toEqual(['files/hello.txt', 'files/world.txt']);
    expect(run('fileset', './linux/files', '*')).toEqual(['hello.txt', 'world.txt']);
    expect(run('fileset', './linux', '**')).toEqual(['files/hello.txt', 'files/world.txt', 'scripts/script-1-install.sh', 'scripts/script-2-setup.sh']);
  });

  it('supports ?, classes, ** in the middle and dot files, and lists only regular files', () => {
    expect(run('fileset', 'extra', '*')).toEqual(['.hidden', 'a1.txt', 'link-to-a1.txt']);
    expect(run('fileset', 'extra', '[a-z]?.txt')).toEqual(['a1.txt']);
    expect(run('fileset', '.', '**/*.sh')).toEqual(['extra/deep/er/z.sh', 'linux/scripts/script-1-install.sh', 'linux/scripts/script-2-setup.sh']);
    expect(run('fileset', '.', 'extra/**/z.sh')).toEqual(['extra/deep/er/z.sh']);
    expect(run('fileset', root, './linux/files/*.txt')).toEqual(['linux/files/hello.txt', 'linux/files/world.txt']);
  });

  it('gives an empty set of strings when nothing matches', () => {
    const r = callIn(ctx, 'fileset', 'missing-dir', '*');
    expect(js(r)).toEqual([]);
    expect(typeString(r.type)).toBe('set(string)');
    fails('fileset', ['.', '../*'], 'must not lead outside the directory', 1, ctx);
  });
});

describe('templatefile', () => {
  // A stand-in for the evaluator's renderer: ${name} interpolation only.
  const render = (text: string, _file: string, vars: ReadonlyMap<string, Value>): Value =>
    Value.string(text.replace(/\$\{(\w+)\}/g, (_, n: string) => vars.get(n)!.str()));

  it('reads the file and renders it with the variables', () => {
    const seen: string[] = [];
    const c = makeCtx({
      baseDir: root,
      renderTemplate: (text, file, vars) => {
        seen.push(file);
        return render(text, file, vars);
      },
    });
    expect(js(callIn(c, 'templatefile', 'tmpl/hello.tmpl', { name: 'Packer' }))).toBe('Hello, Packer!');
    expect(js(callIn(c, 'templatefile', 'tmpl/hello.tmpl', map({ name: 'map' })))).toBe('Hello, map!');
    expect(seen).toEqual(['tmpl/hello.tmpl', 'tmpl/hello.tmpl']);
  });

  it('checks the variables', () => {
    const c = makeCtx({ baseDir: root, renderTemplate: render });
    fails('templatefile', ['tmpl/hello.tmpl', 'x'], 'Invalid value for "vars" parameter: invalid vars value: must be a map', 1, c);
    fails('templatefile', ['tmpl/hello.tmpl', { '1x': 'a' }], 'invalid template variable name "1x"', 1, c);
    fails('templatefile', ['missing.tmpl', {}], 'no file exists at', 0, c);
  });

  it('refuses to call itself from a template', () => {
    const c: FunctionContext = makeCtx({
      baseDir: root,
      renderTemplate: () => callFunction('templatefile', FUNCTIONS.get('templatefile')!, [Value.string('tmpl/hello.tmpl'), Value.object({})], c),
    });
    fails('templatefile', ['tmpl/hello.tmpl', {}], 'cannot recursively call templatefile from inside templatefile call', 0, c);
    // The guard is released after a failure.
    expect(js(callIn(makeCtx({ baseDir: root, renderTemplate: render }), 'templatefile', 'tmpl/hello.tmpl', { name: 'again' }))).toBe('Hello, again!');
  });

  it('is unknown when the variables are', () => {
    const c = makeCtx({ baseDir: root, renderTemplate: render });
    expect(callIn(c, 'templatefile', 'tmpl/hello.tmpl', Value.unknown(T.dynamic)).isKnown).toBe(false);
  });
});

describe('path functions', () => {
  it('make paths absolute from the working directory (documented example)', () => {
    expect(run('abspath', root)).toBe(root);
    expect(run('abspath', 'some/rel')).toBe(resolve(process.cwd(), 'some/rel'));
    expect(run('abspath', '/a/b/../c/')).toBe('/a/c');
  });

  it('split paths as Go filepath does (documented examples)', () => {
    expect(run('basename', 'foo/bar/baz.txt')).toBe('baz.txt');
    expect(run('dirname', 'foo/bar/baz.txt')).toBe('foo/bar');
    expect([run('basename', ''), run('basename', '/'), run('basename', 'a/b/'), run('basename', '//')]).toEqual(['.', '/', 'b', '/']);
    expect([run('dirname', ''), run('dirname', 'a'), run('dirname', '/a'), run('dirname', 'a//b/c'), run('dirname', './a/../b/c')]).toEqual(['.', '.', '/', 'a/b', 'b']);
  });

  it('expands ~ (documented examples)', () => {
    process.env.HOME = '/home/steve';
    expect(run('pathexpand', '~/.ssh/id_rsa')).toBe('/home/steve/.ssh/id_rsa');
    expect(run('pathexpand', '~')).toBe('/home/steve');
    expect(run('pathexpand', '/etc/resolv.conf')).toBe('/etc/resolv.conf');
    expect(run('pathexpand', 'a/~')).toBe('a/~');
    fails('pathexpand', ['~bob/x'], 'cannot expand user-specific home dir', 0, ctx);
  });
});
