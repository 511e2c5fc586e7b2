/**
 * `kiln init`: the starter templates are listed, one is copied into a folder, and what it writes
 * validates (the container one also builds, needing nothing); files already there stay untouched.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kiln, workspace } from '../helpers/cli.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function ws(): string {
  const w = workspace({});
  cleanups.push(w.cleanup);
  return w.dir;
}

describe('kiln init', () => {
  it('lists the starter templates with what each makes', () => {
    const r = kiln(['init'], { cwd: ws() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/golden-debian\s+A golden Debian 12 image for AWS \(AMI\) and QEMU\/KVM \(qcow2\)/);
    expect(r.stdout).toMatch(/static-site-image\s+A container image of \.\/site/);
  });

  it('copies a template that validates, and the container one builds as it is', () => {
    const dir = ws();
    for (const name of ['golden-debian', 'static-site-image']) {
      const r = kiln(['init', '-template', name, name], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`Wrote the ${name} template into ${name}`);
      expect(kiln(['validate', name], { cwd: dir }).stdout).toBe('The configuration is valid.\n');
    }
    expect(kiln(['plan', 'golden-debian'], { cwd: dir }).stdout).toMatch(/golden\.amazon-ebs\.debian[\s\S]*golden\.qemu\.debian/);
    const built = kiln(['build', '.'], { cwd: join(dir, 'static-site-image'), env: { KILN_STATE_DIR: join(dir, 'state') } });
    expect(built.code, built.stdout + built.stderr).toBe(0);
    expect(readdirSync(join(dir, 'static-site-image', 'output')).sort()).toEqual(['oci', 'static-site.tar']);
  });

  it('writes nothing when a file is already there, unless -force; an unknown name lists the real ones', () => {
    const dir = ws();
    writeFileSync(join(dir, 'site.pkr.hcl'), 'mine\n');
    const r = kiln(['init', '-template', 'static-site-image'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('site.pkr.hcl already exists: nothing was written (-force overwrites).');
    expect(readdirSync(dir)).toEqual(['site.pkr.hcl']);
    expect(readFileSync(join(dir, 'site.pkr.hcl'), 'utf8')).toBe('mine\n');
    expect(kiln(['init', '-template', 'static-site-image', '-force'], { cwd: dir }).code).toBe(0);
    expect(readFileSync(join(dir, 'site.pkr.hcl'), 'utf8')).toContain('source "oci" "site"');
    const unknown = kiln(['init', '-template', 'nope'], { cwd: dir });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('Error: there is no starter template "nope". The templates are: golden-debian, static-site-image.\n');
  });
});
