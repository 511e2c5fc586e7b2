import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kiln, workspace } from '../helpers/cli.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function ws(files: Record<string, string>): string {
  const w = workspace(files);
  cleanups.push(w.cleanup);
  return w.dir;
}

const VALID = `
variable "region" {
  type    = string
  default = "eu-west-1"
}
variable "password" {
  type      = string
  default   = "p4ssw0rd-very-secret"
  sensitive = true
}
locals {
  name = "golden-\${var.region}"
}
source "null" "a" {
  communicator = "none"
}
source "null" "b" {
  communicator = "none"
}
build {
  name    = "golden"
  sources = ["source.null.a", "source.null.b"]
  provisioner "shell-local" {
    inline = ["echo \${local.name} \${source.name} \${var.password}", "echo \${build.ID}"]
  }
  provisioner "shell-local" {
    only   = ["null.b"]
    inline = ["echo only-b"]
  }
  post-processor "shell-local" {
    inline = ["echo done"]
  }
}
`;

describe('kiln validate', () => {
  it('accepts a valid template', () => {
    const dir = ws({ 'main.pkr.hcl': VALID });
    const r = kiln(['validate', dir]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('The configuration is valid.\n');
    expect(r.code).toBe(0);
  });

  it('lists every problem with file:line:col and a caret, and no stack trace', () => {
    const dir = ws({
      'main.pkr.hcl': `variable "1count" {
  type    = number
  default = "many"
}
locals {
  x = lenght([1])
}
source "null" "a" {
  comunicator = "none"
}
build {
  sources = ["source.null.a", "source.null.nope"]
}
`,
    });
    const r = kiln(['validate', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Error: Invalid variable name');
    expect(r.stderr).toContain('Error: Call to unknown function');
    expect(r.stderr).toContain('main.pkr.hcl:6:7');
    expect(r.stderr).toContain('Did you mean "length"?');
    expect(r.stderr).toContain('There is no source "null.nope"');
    expect(r.stderr).toMatch(/main\.pkr\.hcl:12:31:\n\s+12 \|   sources = \["source\.null\.a", "source\.null\.nope"\]\n\s+\|\s+\^+/);
    expect(r.stderr).toContain('Did you mean "communicator"?');
    expect(r.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
  });

  it('reports syntax errors with their position', () => {
    const dir = ws({ 'main.pkr.hcl': 'source "null" "a" {\n  communicator = "none"\n' });
    const r = kiln(['validate', '-syntax-only', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Error: Unclosed configuration block');
    expect(r.stderr).toContain('main.pkr.hcl:1:19');
  });

  it('never prints a sensitive value in an error', () => {
    const dir = ws({
      'main.pkr.hcl': `variable "pw" {
  default   = "hunter2-secret-value"
  sensitive = true
  validation {
    condition     = length(var.pw) < 5
    error_message = "The password must be short."
  }
}
source "null" "a" { communicator = "none" }
build { sources = ["source.null.a"] }
`,
    });
    const r = kiln(['validate', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('The password must be short.');
    expect(r.stderr).not.toContain('hunter2-secret-value');
  });

  it('never prints part of a sensitive value in a function error', () => {
    const dir = ws({
      'main.pkr.hcl': `variable "pw" {
  default   = "hunter2-secret-value-long-enough-to-be-cut-short"
  sensitive = true
}
locals {
  parsed = jsondecode(var.pw)
}
source "null" "a" { communicator = "none" }
build { sources = ["source.null.a"] }
`,
    });
    const r = kiln(['validate', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('main.pkr.hcl:6:23');
    expect(r.stderr).toContain('Call to function "jsondecode" failed: invalid JSON; the text is sensitive, so it is not shown.');
    expect(r.stderr).not.toContain('hunter');
    expect(r.stderr).not.toContain("'h'");
  });
});

describe('kiln plan', () => {
  it('prints the jobs as documented JSON, sensitive values redacted and build values deferred', () => {
    const dir = ws({ 'main.pkr.hcl': VALID });
    const r = kiln(['plan', '--json', dir]);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.builds.map((b: { name: string }) => b.name)).toEqual(['golden.null.a', 'golden.null.b']);
    const [a, b] = plan.builds;
    expect(a).toMatchObject({ type: 'null', source: 'a', build: 'golden', config: { communicator: 'none' } });
    expect(a.provisioners).toHaveLength(1);
    expect(b.provisioners).toHaveLength(2);
    expect(a.provisioners[0].config.inline[0]).toBe('<sensitive>');
    expect(a.provisioners[0].config.inline[1]).toEqual({ $deferred: 'echo ${build.ID}' });
    expect(a.post_processors).toEqual([[{ type: 'shell-local', name: null, config: { inline: ['echo done'] }, keep_input_artifact: null }]]);
    expect(a.error_cleanup_provisioner).toBeNull();
    expect(a.provisioners[0]).toMatchObject({ pause_before: null, max_retries: null, timeout: null });
    expect(plan.variables).toEqual({ region: 'eu-west-1', password: '<sensitive>' });
    expect(r.stdout).not.toContain('p4ssw0rd-very-secret');
  });

  it('carries pause_before, max_retries, timeout, keep_input_artifact and the error-cleanup-provisioner', () => {
    const dir = ws({
      'main.pkr.hcl': `source "null" "a" { communicator = "none" }
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    name         = "setup"
    inline       = ["true"]
    pause_before = "90s"
    max_retries  = 3
    timeout      = "1h"
  }
  error-cleanup-provisioner "shell-local" {
    inline = ["echo cleaning"]
  }
  post-processors {
    post-processor "shell-local" {
      inline              = ["echo one"]
      keep_input_artifact = true
    }
    post-processor "shell-local" {
      name   = "second"
      inline = ["echo two"]
    }
  }
}
`,
    });
    const r = kiln(['plan', '--json', dir]);
    expect(r.stderr).toBe('');
    const [b] = JSON.parse(r.stdout).builds;
    expect(b.provisioners).toEqual([
      { type: 'shell-local', name: 'setup', config: { inline: ['true'] }, pause_before: '1m30s', max_retries: 3, timeout: '1h0m0s' },
    ]);
    expect(b.error_cleanup_provisioner).toEqual({
      type: 'shell-local',
      name: null,
      config: { inline: ['echo cleaning'] },
      pause_before: null,
      max_retries: null,
      timeout: null,
    });
    expect(b.post_processors).toEqual([
      [
        { type: 'shell-local', name: null, config: { inline: ['echo one'] }, keep_input_artifact: true },
        { type: 'shell-local', name: 'second', config: { inline: ['echo two'] }, keep_input_artifact: null },
      ],
    ]);
  });

  it('filters builds with -only and -except globs', () => {
    const dir = ws({ 'main.pkr.hcl': VALID });
    const only = JSON.parse(kiln(['plan', '--json', '-only=*.b', dir]).stdout);
    expect(only.builds.map((b: { name: string }) => b.name)).toEqual(['golden.null.b']);
    const except = JSON.parse(kiln(['plan', '--json', '--except', 'golden.null.b', dir]).stdout);
    expect(except.builds.map((b: { name: string }) => b.name)).toEqual(['golden.null.a']);
  });

  it('applies variable precedence: default < PKR_VAR_ < auto.pkrvars < -var-file (in order) < -var', () => {
    const tpl = `variable "v" {
  default = "default"
}
source "null" "a" { communicator = "none" }
build {
  sources = ["source.null.a"]
  provisioner "shell-local" { inline = ["\${var.v}"] }
}
`;
    const value = (dir: string, args: string[], env: Record<string, string> = {}): string =>
      JSON.parse(kiln(['plan', '--json', ...args, dir], { env }).stdout).builds[0].provisioners[0].config.inline[0];
    const d1 = ws({ 'main.pkr.hcl': tpl, 'one.pkrvars.hcl': 'v = "file1"\n', 'two.pkrvars.hcl': 'v = "file2"\n' });
    expect(value(d1, [])).toBe('default');
    expect(value(d1, [], { PKR_VAR_v: 'env' })).toBe('env');
    const d2 = ws({ 'main.pkr.hcl': tpl, 'x.auto.pkrvars.hcl': 'v = "auto"\n', 'one.pkrvars.hcl': 'v = "file1"\n', 'two.pkrvars.json': '{"v": "file2"}' });
    expect(value(d2, [], { PKR_VAR_v: 'env' })).toBe('auto');
    expect(value(d2, ['-var-file', `${d2}/one.pkrvars.hcl`, '-var-file', `${d2}/two.pkrvars.json`])).toBe('file2');
    expect(value(d2, ['-var-file', `${d2}/two.pkrvars.json`, '-var-file', `${d2}/one.pkrvars.hcl`])).toBe('file1');
    expect(value(d2, ['-var', 'v=cli1', '-var-file', `${d2}/one.pkrvars.hcl`, '-var', 'v=cli2'])).toBe('cli2');
  });

  it('warns about values for undeclared variables and explains how to set a missing one', () => {
    const dir = ws({
      'main.pkr.hcl': 'variable "needed" {}\nsource "null" "a" { communicator = "none" }\nbuild { sources = ["source.null.a"] }\n',
      'x.auto.pkrvars.hcl': 'neede = 1\n',
    });
    const r = kiln(['plan', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Warning: Undefined variable');
    expect(r.stderr).toContain('Did you mean "needed"?');
    expect(r.stderr).toContain("Set it with -var 'needed=…'");
  });
});

describe('kiln inspect', () => {
  it('shows variables, locals and builds as packer inspect does', () => {
    const dir = ws({ 'main.pkr.hcl': VALID });
    const r = kiln(['inspect', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('var.region: "eu-west-1"');
    expect(r.stdout).toContain('var.password: "<sensitive>"');
    expect(r.stdout).toContain('local.name: "golden-eu-west-1"');
    expect(r.stdout).toMatch(/> golden:\n\n {4}sources:\n\n {6}null\.a\n\n {6}null\.b/);
  });
});

describe('kiln console', () => {
  it('evaluates expressions against the template', () => {
    const dir = ws({ 'main.pkr.hcl': VALID });
    const r = kiln(['console', '--eval', 'upper(local.name)', '--eval', 'var.password', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('"GOLDEN-EU-WEST-1"\n(<sensitive>)\n');
  });

  it('shows a literal ${ or %{ escaped, so the output reads back as the same string', () => {
    const dir = ws({ 'main.pkr.hcl': 'locals {\n  cmd = "echo $${HOME} %%{x}"\n}\n' });
    const r = kiln(['console', '--eval', 'local.cmd', '--eval', 'length(local.cmd)', '--eval', '"a $${b}\\n"', dir]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('"echo $${HOME} %%{x}"\n17\n<<EOT\na $${b}\nEOT\n');
  });

  it('reads one expression per line from standard input', () => {
    const dir = ws({ 'main.pkr.hcl': VALID });
    const r = kiln(['console', dir], { input: '1 + 2\n[for s in ["a","b"] : upper(s)]\n' });
    expect(r.stdout).toBe('3\n[\n  "A",\n  "B",\n]\n');
  });
});

describe('references and version checks', () => {
  it('knows path.root, path.cwd, packer.version and one timestamp() per run', () => {
    const dir = ws({ 'sub/main.pkr.hcl': 'locals {\n  a = timestamp()\n  b = timestamp()\n}\nsource "null" "a" { communicator = "none" }\nbuild { sources = ["source.null.a"] }\n' });
    const r = kiln(['console', '--eval', 'path.root', '--eval', 'path.cwd', '--eval', 'packer.version', '--eval', 'local.a == local.b', 'sub'], { cwd: dir });
    expect(r.code).toBe(0);
    const [root, cwd, version, same] = r.stdout.trim().split('\n');
    expect(root).toBe('"sub"');
    expect(JSON.parse(cwd!)).toBe(dir);
    expect(version).toMatch(/^"1\.\d+\.\d+"$/);
    expect(same).toBe('true');
  });

  it('checks packer { required_version }', () => {
    const dir = ws({ 'main.pkr.hcl': 'packer {\n  required_version = ">= 99.0.0"\n}\nsource "null" "a" { communicator = "none" }\nbuild { sources = ["source.null.a"] }\n' });
    const r = kiln(['validate', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Error: Unsupported Packer version');
    expect(r.stderr).toContain('main.pkr.hcl:2:22');
    // A malformed term is reported even after a term the version does not satisfy.
    const bad = ws({ 'main.pkr.hcl': 'packer {\n  required_version = ">= 99.0.0, newest"\n}\nsource "null" "a" { communicator = "none" }\nbuild { sources = ["source.null.a"] }\n' });
    const b = kiln(['validate', bad]);
    expect(b.code).toBe(1);
    expect(b.stderr).toContain('Error: Invalid required_version');
    expect(b.stderr).toContain('"newest" is not a valid version constraint; write terms like ">= 1.7.0" or "~> 1.9".');
    expect(b.stderr).not.toContain('Unsupported Packer version');
  });
});

describe('kiln console on a terminal', () => {
  it('is a REPL with a prompt (driven through a pseudo-terminal by script(1))', async () => {
    const { spawnSync } = await import('node:child_process');
    const { KILN_BIN } = await import('../helpers/cli.js');
    const dir = ws({ 'main.pkr.hcl': VALID });
    const r = spawnSync('script', ['-qec', `${process.execPath} ${KILN_BIN} console ${dir}`, '/dev/null'], {
      input: 'upper(local.name)\nvar.password\nexit\n',
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.status).toBe(0);
    const shown = r.stdout.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '');
    expect(shown).toContain('> ');
    expect(shown).toContain('"GOLDEN-EU-WEST-1"');
    expect(shown).toContain('(<sensitive>)');
  });
});

describe('kiln fmt flags, spelled as Packer spells them', () => {
  const UNFORMATTED = 'a = 1\nbbb = 2\n';
  const FORMATTED = 'a   = 1\nbbb = 2\n';
  const files = (): { dir: string; read: (name: string) => string } => {
    const dir = ws({ 'x.pkr.hcl': UNFORMATTED, 'sub/y.pkr.hcl': UNFORMATTED, 'notes.txt': UNFORMATTED });
    return { dir, read: (name) => readFileSync(join(dir, name), 'utf8') };
  };

  it('bare -write is a switch: the path after it is still the path, and the file is rewritten', () => {
    const { dir, read } = files();
    const r = kiln(['fmt', '-write', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${join(dir, 'x.pkr.hcl')}\n`);
    expect(read('x.pkr.hcl')).toBe(FORMATTED);
    expect(read('sub/y.pkr.hcl')).toBe(UNFORMATTED);
    expect(read('notes.txt')).toBe(UNFORMATTED);
  });

  it('-write=false and --no-write only list the files; -write=true writes', () => {
    const { dir, read } = files();
    for (const flag of ['-write=false', '--write=false', '--no-write', '-write=0']) {
      const r = kiln(['fmt', flag, dir]);
      expect(r.code, flag).toBe(0);
      expect(r.stdout, flag).toBe(`${join(dir, 'x.pkr.hcl')}\n`);
      expect(read('x.pkr.hcl'), flag).toBe(UNFORMATTED);
    }
    expect(kiln(['fmt', '-write', '-write=false', dir]).code).toBe(0);
    expect(read('x.pkr.hcl')).toBe(UNFORMATTED);
    expect(kiln(['fmt', '-write=true', dir]).code).toBe(0);
    expect(read('x.pkr.hcl')).toBe(FORMATTED);
  });

  it('-recursive also formats subdirectories; -check=false after -check does not check', () => {
    const { dir, read } = files();
    expect(kiln(['fmt', '-check', '-recursive', dir]).code).toBe(3);
    expect(read('sub/y.pkr.hcl')).toBe(UNFORMATTED);
    const r = kiln(['fmt', '-check', '-check=false', '-recursive', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${join(dir, 'sub', 'y.pkr.hcl')}\n${join(dir, 'x.pkr.hcl')}\n`);
    expect(read('sub/y.pkr.hcl')).toBe(FORMATTED);
    expect(read('x.pkr.hcl')).toBe(FORMATTED);
    expect(kiln(['fmt', '-check', '-recursive', dir]).code).toBe(0);
  });

  it('a switch given something other than true or false is refused', () => {
    const { dir, read } = files();
    const r = kiln(['fmt', '-write=maybe', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("'--write=maybe'");
    expect(read('x.pkr.hcl')).toBe(UNFORMATTED);
  });
});

describe('template blocks and their diagnostics', () => {
  const NULL_BUILD = 'source "null" "n" {\n  communicator = "none"\n}\nbuild {\n  sources = ["source.null.n"]\n}\n';

  it('nullable = false refuses a null value where it is given; nullable variables take null', () => {
    const dir = ws({
      'main.pkr.hcl': `variable "strict" {\n  type     = string\n  nullable = false\n}\nvariable "loose" {\n  type    = string\n  default = "x"\n}\n${NULL_BUILD}`,
      'x.auto.pkrvars.hcl': 'strict = null\nloose  = null\n',
    });
    const r = kiln(['validate', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Error: Invalid value for variable');
    expect(r.stderr).toContain('x.auto.pkrvars.hcl:1:10');
    expect(r.stderr).toContain('The variable "strict" is not nullable');
    expect(r.stderr).not.toContain('"loose"');
    const ok = ws({ 'main.pkr.hcl': `variable "loose" {\n  type    = string\n  default = "x"\n}\n${NULL_BUILD}`, 'x.auto.pkrvars.hcl': 'loose = null\n' });
    expect(kiln(['console', '--eval', 'var.loose == null', ok]).stdout).toBe('true\n');
  });

  it('a variables {} block declares variables with defaults, set like any other', () => {
    const dir = ws({ 'main.pkr.hcl': `variables {\n  region = "eu-west-1"\n  zones  = ["a", "b"]\n}\n${NULL_BUILD}` });
    expect(kiln(['console', '--eval', 'var.region', '--eval', 'length(var.zones)', dir]).stdout).toBe('"eu-west-1"\n2\n');
    expect(kiln(['console', '--eval', 'var.region', '-var', 'region=us-east-2', dir]).stdout).toBe('"us-east-2"\n');
  });

  it('env() works in a variable default and is refused anywhere else, saying what to do', () => {
    const dir = ws({ 'main.pkr.hcl': `variable "home" {\n  default = env("KILN_TEST_HOME")\n}\nlocals {\n  user = env("USER")\n}\n${NULL_BUILD}` });
    const r = kiln(['validate', dir], { env: { KILN_TEST_HOME: '/home/ci' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Error: Function not available here');
    expect(r.stderr).toMatch(/main\.pkr\.hcl:5:10:\n\s+5 \|   user = env\("USER"\)\n\s+\|\s+\^\^\^\n/);
    expect(r.stderr).toContain('declare a variable with default = env("NAME") and use var.NAME here');
    expect(printedErrors(r.stderr)).toEqual(['Function not available here']);
    const ok = ws({ 'main.pkr.hcl': `variable "home" {\n  default = env("KILN_TEST_HOME")\n}\n${NULL_BUILD}` });
    expect(kiln(['console', '--eval', 'var.home', ok], { env: { KILN_TEST_HOME: '/home/ci' } }).stdout).toBe('"/home/ci"\n');
  });

  it('a nested source block may fill unset fields but not change one the source already sets', () => {
    const dir = ws({
      'main.pkr.hcl': `source "file" "f" {\n  content = "hello"\n}\nbuild {\n  source "source.file.f" {\n    name    = "g"\n    target  = "out.txt"\n    content = "other"\n  }\n}\n`,
    });
    const r = kiln(['validate', dir]);
    expect(r.code).toBe(1);
    expect(printedErrors(r.stderr)).toEqual(['Duplicate argument']);
    expect(r.stderr).toContain('main.pkr.hcl:8:5');
    expect(r.stderr).toMatch(/The argument "content" was already set at \S*main\.pkr\.hcl:2,3\./);
  });

  it('plan JSON: a nested block is an object when single and a list of objects when repeated', () => {
    const dir = ws({
      'main.pkr.hcl': `source "amazon-ebs" "one" {
  launch_block_device_mappings {
    device_name = "/dev/sda1"
    volume_size = 20
  }
}
source "amazon-ebs" "two" {
  launch_block_device_mappings {
    device_name = "/dev/sda1"
  }
  dynamic "launch_block_device_mappings" {
    for_each = ["sdb", "sdc"]
    content {
      device_name = "/dev/\${launch_block_device_mappings.value}"
    }
  }
}
build {
  sources = ["source.amazon-ebs.one", "source.amazon-ebs.two"]
}
`,
    });
    const r = kiln(['plan', '--json', dir]);
    expect(r.code, r.stderr).toBe(0);
    const [one, two] = JSON.parse(r.stdout).builds;
    expect(one.config.launch_block_device_mappings).toEqual({ device_name: '/dev/sda1', volume_size: 20 });
    expect(two.config.launch_block_device_mappings).toEqual([{ device_name: '/dev/sda1' }, { device_name: '/dev/sdb' }, { device_name: '/dev/sdc' }]);
  });

  it('a cycle among locals is reported once, with its whole chain, at the reference that closes it', () => {
    const dir = ws({ 'main.pkr.hcl': `locals {\n  a = "\${local.b}-x"\n  b = local.c\n  c = upper(local.a)\n}\n${NULL_BUILD}` });
    const r = kiln(['validate', dir]);
    expect(r.code).toBe(1);
    expect(printedErrors(r.stderr)).toEqual(['Cycle in local values']);
    expect(r.stderr).toContain('main.pkr.hcl:4:13');
    expect(r.stderr).toContain('These values refer to each other in a loop: local.a → local.b → local.c → local.a.');
  });

  it('an unknown block type gets a "did you mean", at top level and inside a build', () => {
    const dir = ws({ 'main.pkr.hcl': `${NULL_BUILD}buidl {}\nbuild {\n  sources = ["source.null.n"]\n  provisionr "shell-local" {\n    inline = ["true"]\n  }\n}\n` });
    const r = kiln(['validate', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('main.pkr.hcl:7:1');
    expect(r.stderr).toContain('Blocks of type "buidl" are not expected at the top level of a template. Did you mean "build"?');
    expect(r.stderr).toContain('main.pkr.hcl:10:3');
    expect(r.stderr).toMatch(/Blocks of type "provisionr" are not expected [^\n]*\. Did you mean "provisioner"\?/);
  });
});

/** The summaries of the errors kiln printed, in order. */
function printedErrors(stderr: string): string[] {
  return [...stderr.matchAll(/^Error: (.*)$/gm)].map((m) => m[1]!);
}
