// Template generators for the benchmarks: plain Packer HCL2 that Packer 1.6.6 accepts too.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function scratch(prefix) {
  return mkdtempSync(join(tmpdir(), `kiln-bench-${prefix}-`));
}

/** `n` null builds, each with a 3-line shell-local provisioner; optionally a manifest post-processor. */
export function nullBuilds(n, { manifest = false } = {}) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(`source "null" "b${i}" {\n  communicator = "none"\n}\n`);
  out.push('build {');
  out.push(`  sources = [${Array.from({ length: n }, (_, i) => `"source.null.b${i}"`).join(', ')}]`);
  out.push('  provisioner "shell-local" {');
  out.push('    inline = ["echo one ${source.name}", "echo two", "echo three"]');
  out.push('  }');
  if (manifest) out.push('  post-processor "manifest" {\n    output = "manifest.json"\n  }');
  out.push('}');
  return out.join('\n') + '\n';
}

/**
 * A large template: variables, locals and `builds` builds of several provisioners each, about
 * 33 lines per build (60 builds ≈ 2,000 lines), the shape of a real multi-target template.
 */
export function largeTemplate(builds) {
  const out = [];
  out.push('variable "region" {\n  type    = string\n  default = "eu-west-1"\n}\n');
  out.push('variable "owner" {\n  type    = string\n  default = "platform-team"\n}\n');
  out.push('locals {\n  stamp  = "2026-01-01"\n  prefix = "golden-${var.region}"\n}\n');
  for (let i = 0; i < builds; i++) {
    out.push(`source "null" "target${i}" {\n  communicator = "none"\n}\n`);
    out.push(`# Target ${i}: one golden image per environment, rebuilt nightly.
build {
  name        = "b${i}"
  description = "golden image ${i}"
  sources     = ["source.null.target${i}"]

  provisioner "shell-local" {
    inline = [
      "echo building \${local.prefix}-${i}",
      "echo owner \${var.owner}",
      "echo stamp \${local.stamp}",
    ]
  }

  provisioner "shell-local" {
    environment_vars = ["TARGET=${i}", "REGION=\${var.region}"]
    inline           = ["echo $TARGET $REGION"]
  }

  provisioner "shell-local" {
    inline = ["echo \${upper(var.owner)}"]
  }

  post-processor "shell-local" {
    inline = ["echo done ${i}"]
  }
}
`);
  }
  return out.join('\n');
}

export function writeTemplate(dir, name, text) {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
