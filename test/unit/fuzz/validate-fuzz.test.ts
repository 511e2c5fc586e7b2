/**
 * Fuzzing the template engine: 10,000 mutated and truncated templates go through the template
 * pipeline (parse, decode, evaluate, plan), and 2,000 more through the whole `kiln validate`
 * command in-process (flags, plugin resolution and every plugin's config schema, diagnostics
 * printed with their source line and caret). None may throw or hang; every failure must come back
 * as diagnostics with a position, printed as a user sees them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../../src/cli/program.js';
import { planTemplate } from '../../../src/template/index.js';

const SEEDS = [
  `variable "region" {
  type    = string
  default = "eu-west-1"
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+-[0-9]$", var.region))
    error_message = "Bad region."
  }
}
variable "disks" {
  type = list(object({ size = number, name = optional(string, "data") }))
  default = [{ size = 10 }, { size = 20, name = "logs" }]
}
locals {
  tags = { for k, v in { a = 1, b = 2 } : upper(k) => v * 2 if v > 0 }
  names = [for d in var.disks : "\${d.name}-\${d.size}"]
  text = <<-EOT
    hello %{ for n in local.names ~}
    \${n}
    %{~ endfor }
  EOT
}
source "null" "a" {
  communicator = "none"
}
build {
  name = "fuzz"
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = [join(",", local.names), local.text, var.disks[0].name, "\${build.ID}"]
    only = ["null.a"]
  }
  post-processors {
    post-processor "shell-local" {
      inline = ["echo \${source.name}"]
    }
  }
}
`,
  `{
  "variable": { "x": { "default": [1, 2, "three"] } },
  "locals": { "y": "\${length(var.x) > 2 ? \\"many\\" : \\"few\\"}" },
  "source": { "null": { "a": { "communicator": "none" } } },
  "build": [{ "sources": ["source.null.a"], "provisioner": [{ "shell-local": { "inline": ["echo \${local.y}"] } }] }]
}
`,
  // Plugin configs for the schema checks only the full validate path runs.
  `variable "password" {
  type      = string
  default   = "fuzz-secret-value"
  sensitive = true
}
source "null" "ssh" {
  communicator         = "ssh"
  ssh_host             = "127.0.0.1"
  ssh_port             = 2222
  ssh_username         = "root"
  ssh_password         = var.password
  ssh_timeout          = "30s"
  ssh_handshake_attempts = 3
}
source "file" "f" {
  content = "hello \${upper("x")}"
  target  = "out/\${source.name}.txt"
}
build {
  sources = ["source.null.ssh", "source.file.f"]
  provisioner "shell" {
    inline           = ["echo hi"]
    environment_vars = ["PW=\${var.password}"]
    only             = ["null.ssh"]
    max_retries      = 2
    timeout          = "1m"
  }
  provisioner "shell-local" {
    inline = ["echo \${build.ID}"]
    override = {
      f = { inline = ["echo file"] }
    }
  }
  post-processors {
    post-processor "checksum" {
      checksum_types = ["sha256", "md5"]
      output         = "out/{{.BuildName}}.{{.ChecksumType}}"
    }
    post-processor "manifest" {
      output     = "out/manifest.json"
      strip_path = true
    }
  }
}
`,
];

/** A small deterministic PRNG, so a failure can be reproduced from its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const TOKENS = ['{', '}', '[', ']', '(', ')', '"', '${', '%{', '~}', '<<EOT\n', 'EOT\n', '\n', '=', ',', '.', '*', '...', '?', ':', '=>', 'for', 'in', 'if', 'null', '#', '//', '/*', '\\', '$${', '\u0000', 'é', '🙂', 'var.', 'local.', 'endfor', 'endif', '-1e9', '0x'];

function mutate(text: string, r: () => number): string {
  const kind = Math.floor(r() * 5);
  const at = Math.floor(r() * (text.length + 1));
  switch (kind) {
    case 0:
      return text.slice(0, at); // truncation
    case 1:
      return text.slice(0, at) + TOKENS[Math.floor(r() * TOKENS.length)] + text.slice(at);
    case 2: {
      const len = Math.floor(r() * 20);
      return text.slice(0, at) + text.slice(at + len);
    }
    case 3: {
      const from = Math.floor(r() * text.length);
      return text.slice(0, at) + text.slice(from, from + Math.floor(r() * 40)) + text.slice(at);
    }
    default:
      return text.slice(0, at) + String.fromCharCode(Math.floor(r() * 128)) + text.slice(at + 1);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'kiln-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('validate fuzzing', () => {
  it('survives 10,000 mutated and truncated templates with diagnostics, never an exception or hang', () => {
    const N = 10_000;
    let withErrors = 0;
    let slowest = 0;
    for (let i = 0; i < N; i++) {
      const r = rng(i + 1);
      const json = i % 5 === 4;
      let text = SEEDS[json ? 1 : i % 5 === 3 ? 2 : 0]!;
      const rounds = 1 + Math.floor(r() * 4);
      for (let k = 0; k < rounds; k++) text = mutate(text, r);
      const file = join(dir, json ? 't.pkr.json' : 't.pkr.hcl');
      writeFileSync(file, text);
      const t0 = performance.now();
      let result;
      try {
        result = planTemplate({ path: file, env: {}, now: new Date(0) });
      } catch (err) {
        throw new Error(`case ${i} threw ${(err as Error).stack}\n--- template ---\n${text}`);
      }
      const ms = performance.now() - t0;
      slowest = Math.max(slowest, ms);
      // A hang guard, not a benchmark: one template must never take seconds.
      expect(ms, `case ${i} took ${ms} ms`).toBeLessThan(5000);
      const errors = result.diags.filter((d) => d.severity === 'error');
      if (errors.length > 0) withErrors++;
      for (const d of errors) {
        expect(typeof d.summary).toBe('string');
        if (d.subject) expect(d.subject.start.line).toBeGreaterThanOrEqual(1);
      }
    }
    // Most mutations break something; the engine must have said so rather than passed silently.
    expect(withErrors).toBeGreaterThan(N / 4);
  }, 300_000);
});

const SENSITIVE_DECLARATION = SEEDS[2]!.slice(0, SEEDS[2]!.indexOf('}\n') + 2);

/** Runs `kiln validate FILE` in this process, as main.js does, capturing what it prints. */
async function validateInProcess(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
  const capture = (into: string[]) => ((chunk: string | Uint8Array): boolean => (into.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stdout.write = capture(out);
  process.stderr.write = capture(err);
  try {
    const code = await run(['validate', file]);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
  }
}

describe('validate fuzzing through the whole command', () => {
  it('every seed is a valid template on its own', async () => {
    for (const [i, seed] of SEEDS.entries()) {
      const file = join(dir, i === 1 ? `seed${i}.pkr.json` : `seed${i}.pkr.hcl`);
      writeFileSync(file, seed);
      const r = await validateInProcess(file);
      expect(r, `seed ${i}`).toEqual({ code: 0, stdout: 'The configuration is valid.\n', stderr: '' });
    }
  });

  it('answers 2,000 mutated templates with exit 0 or 1, printed diagnostics with caret lines, no stack trace', async () => {
    const N = 2_000;
    let rejected = 0;
    let accepted = 0;
    for (let i = 0; i < N; i++) {
      // Seeds from 1,000,001 on: different cases from the loop above.
      const r = rng(1_000_001 + i);
      const seed = i % 3;
      let text = SEEDS[seed]!;
      const rounds = 1 + Math.floor(r() * 3);
      for (let k = 0; k < rounds; k++) text = mutate(text, r);
      const file = join(dir, seed === 1 ? 'full.pkr.json' : 'full.pkr.hcl');
      writeFileSync(file, text);
      const t0 = performance.now();
      const res = await validateInProcess(file);
      const ms = performance.now() - t0;
      const why = `case ${i} (exit ${res.code}, ${ms} ms)\n--- template ---\n${text}\n--- stderr ---\n${res.stderr}`;
      expect(ms, why).toBeLessThan(5000);
      expect([0, 1], why).toContain(res.code);
      expect(res.stderr, why).not.toMatch(/\n\s+at .*\.[jt]s:\d+|This is a bug in kiln/);
      // While its declaration is intact, the sensitive default is never printed, not even in a
      // quoted source line. (Once a mutation breaks the declaration it is no longer sensitive.)
      if (seed === 2 && text.startsWith(SENSITIVE_DECLARATION)) expect(res.stderr + res.stdout, why).not.toContain('fuzz-secret-value');
      if (res.code === 0) {
        expect(res.stdout, why).toBe('The configuration is valid.\n');
        accepted++;
        continue;
      }
      rejected++;
      expect(res.stderr, why).toMatch(/^Error: /m);
      // Every position in the template is quoted with its line and a caret under it.
      for (const m of res.stderr.matchAll(/^ {2}on (.+):(\d+):(\d+):\n(.*)\n(.*)$/gm)) {
        if (m[1] !== file) continue;
        expect(m[4], why).toMatch(new RegExp(`^ *${m[2]} \\| `));
        expect(m[5], why).toMatch(/^ *\| [ \t]*\^+$/);
      }
    }
    // Both ends are reached: most mutations break something, and enough survive to pass every
    // plugin's schema check (so the mutations in between exercise those checks too).
    expect(rejected).toBeGreaterThan(N / 4);
    expect(accepted, `${accepted} accepted`).toBeGreaterThan(N / 50);
  }, 300_000);
});
