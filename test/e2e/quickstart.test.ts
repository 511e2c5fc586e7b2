import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kiln, ROOT } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-quickstart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the README's demo: kiln build examples/quickstart", () => {
  it('builds every target in parallel and writes checksums, an archive and a manifest', () => {
    const r = kiln(['build', join(ROOT, 'examples', 'quickstart')], { cwd: dir, env: { KILN_STATE_DIR: join(dir, '.state') } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = join(dir, 'quickstart-output');
    expect(readFileSync(join(out, 'motd.txt'), 'utf8')).toBe('Welcome to HELLO-KILN\ndev: Hello from dev (1 replica)\nprod: Hello from prod (3 replicas)\n');
    expect(JSON.parse(readFileSync(join(out, 'hello-kiln.json'), 'utf8'))).toEqual({ app: 'hello-kiln', release: '1.0.0', targets: { dev: 1, prod: 3 } });
    const sum = createHash('sha256').update(readFileSync(join(out, 'motd.txt'))).digest('hex');
    expect(readFileSync(join(out, 'motd.sha256'), 'utf8')).toBe(`${sum}\tmotd.txt\n`);
    expect(execFileSync('tar', ['-tzf', join(out, 'motd.tar.gz')], { encoding: 'utf8' })).toBe('motd.txt\n');
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.builds.map((b: { name: string }) => b.name).sort()).toEqual(['config', 'motd', 'site', 'smoke']);
    // Two images in one OCI layout: the site from scratch, and the app image on top of it.
    const layout = join(out, 'oci');
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    const byTag = Object.fromEntries(index.manifests.map((m: { digest: string; annotations: Record<string, string> }) => [m.annotations['org.opencontainers.image.ref.name'], m.digest]));
    const layers = (digest: string) => JSON.parse(readFileSync(join(layout, 'blobs', 'sha256', digest.slice(7)), 'utf8')).layers.map((l: { digest: string }) => l.digest);
    expect(layers(byTag.site)).toHaveLength(1);
    expect(layers(byTag.app)).toEqual([...layers(byTag.site), expect.stringMatching(/^sha256:/)]);
    const siteLayer = join(layout, 'blobs', 'sha256', layers(byTag.site)[0].slice(7));
    expect(execFileSync('tar', ['-tzf', siteLayer], { encoding: 'utf8' })).toBe('srv/\nsrv/www/\nsrv/www/index.html\nsrv/www/style.css\n');
    expect(execFileSync('tar', ['-tf', join(out, 'app.tar')], { encoding: 'utf8' })).toContain('manifest.json');
    expect(manifest.builds[0].custom_data).toEqual({ release: '1.0.0' });
    // The sensitive token never reaches the output.
    expect(r.stdout).toContain('(token: <sensitive>)');
    expect(r.stdout).not.toContain('quickstart-demo-token');
  });
});
