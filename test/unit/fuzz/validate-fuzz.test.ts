/**
 * Fuzzing the template engine: 10,000 mutated and truncated templates go through the whole
 * validate pipeline (parse, decode, evaluate, plan). None may throw or hang; every failure must
 * come back as diagnostics with a position.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
      let text = SEEDS[json ? 1 : 0]!;
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
