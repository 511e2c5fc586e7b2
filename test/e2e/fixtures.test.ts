/**
 * The fixture corpus (test/fixtures/templates, described by its INDEX.md): every valid template
 * plans to exactly the builds listed and passes `kiln validate` when kiln has its builders, and
 * every invalid one is rejected by `kiln validate` with the listed error at the listed
 * file:line:col.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kiln } from '../helpers/cli.js';
import { fixtureRows, KILN_BUILDERS, printedDiagnostics as printed, TEMPLATES } from '../helpers/fixtures.js';

const rows = fixtureRows();
const ENV = { HOME: '/nonexistent', USER: 'ci' };

describe('fixture corpus', () => {
  it('has at least 40 templates', () => {
    expect(rows.length).toBeGreaterThanOrEqual(40);
  });

  for (const row of rows.filter((r) => r.builds)) {
    it(`${row.folder}: plans ${row.builds!.join(', ')} and validates as far as kiln has its builders`, () => {
      const cwd = join(TEMPLATES, row.folder);
      const r = kiln(['plan', '--json', ...row.args, '.'], { cwd, env: ENV });
      expect(r.stderr.split('\n').filter((l) => l.startsWith('Error'))).toEqual([]);
      expect(r.code).toBe(0);
      const plan = JSON.parse(r.stdout) as { builds: Array<{ name: string; type: string }> };
      expect(plan.builds.map((b) => b.name)).toEqual(row.builds);

      const v = kiln(['validate', ...row.args, '.'], { cwd, env: ENV });
      const errors = printed(v.stderr).filter((d) => d.severity === 'Error');
      const missing = [...new Set(plan.builds.map((b) => b.type).filter((t) => !KILN_BUILDERS.has(t)))];
      if (missing.length === 0) {
        expect(errors).toEqual([]);
        expect(v.stdout).toBe('The configuration is valid.\n');
        expect(v.code).toBe(0);
        return;
      }
      // Nothing but the missing builders is wrong: every error names one of them, or the
      // required plugin that would have provided it.
      expect(v.code).toBe(1);
      expect(errors.length).toBeGreaterThan(0);
      const allowed = new Set([...missing.map((t) => `Unknown source type "${t}"`), 'Plugin not available']);
      expect(errors.filter((d) => !allowed.has(d.summary))).toEqual([]);
      // A required HashiCorp plugin kiln lacks (amazon, azure) is reported at its entry, and the
      // sources that need it are not reported again.
      if (errors.some((d) => d.summary === 'Plugin not available')) expect(v.stderr).toMatch(/kiln does not implement HashiCorp's [a-z0-9-]+ plugin/);
      else expect(new Set(errors.map((d) => d.summary))).toEqual(new Set(missing.map((t) => `Unknown source type "${t}"`)));
      expect(v.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
    });
  }

  for (const row of rows.filter((r) => r.error)) {
    it(`${row.folder}: rejected with ${row.error!.summary}${row.error!.at ? ` at ${row.error!.at}` : ''}`, () => {
      const r = kiln(['validate', ...row.args, '.'], { cwd: join(TEMPLATES, row.folder) });
      expect(r.code).toBe(1);
      expect(r.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
      const errors = printed(r.stderr).filter((d) => d.severity === 'Error');
      const match = errors.find((d) => (row.error!.at === undefined || d.at === row.error!.at) && d.summary === row.error!.summary);
      expect(match, `expected ${JSON.stringify(row.error)} among ${JSON.stringify(errors)}`).toBeDefined();
    });
  }
});

/** What a valid template evaluates to, beyond its build names: the values a user would look at. */
describe('fixture corpus: evaluated values', () => {
  interface Step {
    type: string;
    config: Record<string, unknown>;
    pause_before: string | null;
    max_retries: number | null;
    timeout: string | null;
  }
  interface Build {
    name: string;
    config: Record<string, unknown>;
    provisioners: Step[];
  }
  const plan = (folder: string): { builds: Build[]; variables: Record<string, unknown>; stdout: string } => {
    const row = rows.find((r) => r.folder === folder)!;
    const r = kiln(['plan', '--json', ...row.args, '.'], { cwd: join(TEMPLATES, folder), env: ENV });
    expect(r.code, r.stderr).toBe(0);
    return { ...(JSON.parse(r.stdout) as { builds: Build[]; variables: Record<string, unknown> }), stdout: r.stdout };
  };

  it('pkrvars-files: -var-file values override the auto-loaded ones, in order', () => {
    const [b] = plan('pkrvars-files').builds;
    expect(b!.config).toMatchObject({ instance_type: 'm6i.large', region: 'eu-north-1', ami_name: 'app-prod-{{timestamp}}', tags: { Environment: 'prod' } });
    expect(b!.provisioners[0]!.config.inline).toEqual(['echo prod > /etc/environment-name']);
  });

  it('sensitive-variables: every sensitive value is redacted, in configs, provisioners and variables', () => {
    const p = plan('sensitive-variables');
    for (const secret of ['fake-registry-password-0000', 'fake~azure~secret~1111', 'tok_fake_2222']) expect(p.stdout).not.toContain(secret);
    expect(p.builds[0]!.config.client_secret).toBe('<sensitive>');
    expect(p.builds[0]!.provisioners[0]!.config.environment_vars).toEqual(['<sensitive>', '<sensitive>']);
    expect(p.variables).toEqual({ registry_password: '<sensitive>', azure_client_secret: '<sensitive>', api_token: '<sensitive>' });
  });

  it('nested-source-rename: each nested source fills the field the top-level source left unset', () => {
    const [small, large] = plan('nested-source-rename').builds;
    expect(small!.config).toMatchObject({ instance_type: 't3.small', source_ami: 'ami-0b0b0b0b0b0b0b0b0' });
    expect(large!.config).toMatchObject({ instance_type: 'm6i.xlarge', source_ami: 'ami-0b0b0b0b0b0b0b0b0' });
    expect(small!.provisioners[0]!.config.inline).toEqual(['echo size small']);
    expect(large!.provisioners[0]!.config.inline).toEqual(['echo size large']);
  });

  it('provisioner-override: the override for a source replaces its fields for that source only', () => {
    const [al, deb] = plan('provisioner-override').builds;
    expect(al!.provisioners[1]!.config).toEqual({ execute_command: "sudo -E sh '{{ .Path }}'", inline: ['git --version > /etc/git-version'] });
    expect(deb!.provisioners[1]!.config).toEqual({ execute_command: "sh '{{ .Path }}'", inline: ['git --version > /etc/git-version'] });
    expect(deb!.provisioners[0]!.config.inline).toEqual(['apt-get update', 'apt-get install -y git']);
  });

  it('dynamic-provisioners: one provisioner per element, provisioner.key the index', () => {
    const [b] = plan('dynamic-provisioners').builds;
    expect(b!.provisioners.map((s) => (s.config.inline as string[])[0])).toEqual(["echo '[0] sysctl'", "echo '[1] sshd'", "echo '[2] audit'"]);
  });

  it('variable-optional-attrs: optional() attributes take their defaults', () => {
    const [b] = plan('variable-optional-attrs').builds;
    expect(b!.config.launch_block_device_mappings).toEqual({ device_name: '/dev/sda1', volume_size: 20, volume_type: 'gp2' });
  });

  it('shell-provisioner-options: pause_before, max_retries and timeout are planned', () => {
    const steps = plan('shell-provisioner-options').builds[0]!.provisioners;
    expect(steps.map((s) => [s.type, s.pause_before, s.max_retries, s.timeout])).toEqual([
      ['shell', '10s', 3, '5m0s'],
      ['shell', null, null, null],
      ['shell', '30s', null, null],
      ['file', null, null, null],
    ]);
  });

  it('invalid-builder-config: every refusal of every builder is reported, each at its source block', () => {
    const r = kiln(['validate', '.'], { cwd: join(TEMPLATES, 'invalid-builder-config') });
    expect(r.code).toBe(1);
    const at = printed(r.stderr).filter((d) => d.severity === 'Error').map((d) => d.at);
    expect(at).toEqual(['main.pkr.hcl:5:1', 'main.pkr.hcl:5:1', 'main.pkr.hcl:10:1']);
    expect(r.stderr).toContain('ssh_host must be set');
    expect(r.stderr).toContain('one authentication method must be set');
    expect(r.stderr).toContain('set exactly one of source or content');
  });
});
