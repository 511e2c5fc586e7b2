/**
 * The README's demo, `kiln build examples/quickstart`, as a user sees it, and its two OCI images
 * checked by tools kiln did not write: skopeo inspects and copies every output, umoci unpacks
 * each to the example's files, podman loads them and runs a container on them. Then the README's
 * first command itself, `npx kiln build examples/quickstart`, on a fresh clone: it works from the
 * repository root and gives the same image digests.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kiln, ROOT } from '../helpers/cli.js';
import { skipWithout } from '../helpers/components.js';
import { BUSYBOX, PODMAN, SKOPEO, UMOCI, startPodman, type RunningPodman } from '../helpers/oci-components.js';

const missing = [SKOPEO, UMOCI, PODMAN, BUSYBOX].some((c) => skipWithout(c));

const EXAMPLE = join(ROOT, 'examples', 'quickstart');
/** The template's source_date_epoch: every time in both images. */
const CREATED = new Date(1704067200 * 1000).toISOString().replace('.000Z', 'Z');

// Lower case: `podman pull oci:DIR:TAG` names the image after DIR, and a name can't have capitals.
const dir = join(tmpdir(), `kiln-quickstart-${randomBytes(6).toString('hex')}`);
mkdirSync(dir);
const out = join(dir, 'quickstart-output');
const layout = join(out, 'oci');
const archive = join(out, 'app.tar');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: readonly string[], opts: { cwd?: string } = {}): string {
  return execFileSync(cmd, args, { cwd: opts.cwd, encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Every regular file under `root`, by its path relative to it (under `prefix`), with its text. */
function filesUnder(root: string, prefix = ''): Record<string, string> {
  const files: Record<string, string> = {};
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const abs = join(e.parentPath, e.name);
    files[`${prefix}${relative(root, abs)}`] = readFileSync(abs, 'utf8');
  }
  return files;
}

/** What the images must hold: ./site at the oci provisioner's /srv/www, ./app at oci-append's /app. */
const SITE = filesUnder(join(EXAMPLE, 'site'), 'srv/www/');
const APP = { ...SITE, ...filesUnder(join(EXAMPLE, 'app'), 'app/') };

interface Inspected {
  Digest: string;
  Labels: Record<string, string> | null;
  Layers: string[];
}
interface Config {
  created: string;
  config: { WorkingDir?: string; Env?: string[]; Labels?: Record<string, string> };
  rootfs: { diff_ids: string[] };
}
const inspect = (ref: string): Inspected => JSON.parse(run('skopeo', ['inspect', ref]));
const inspectConfig = (ref: string): Config => JSON.parse(run('skopeo', ['inspect', '--config', ref]));

/** The manifest digest index.json gives a tag of kiln's layout. */
function tagged(layoutDir: string, tag: string): string {
  const index = JSON.parse(readFileSync(join(layoutDir, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const m = index.manifests.find((d) => d.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!m) throw new Error(`no manifest tagged ${tag} in ${layoutDir}/index.json`);
  return m.digest;
}

describe("the README's demo: kiln build examples/quickstart", () => {
  it('builds every target in parallel and writes checksums, an archive and a manifest', () => {
    const r = kiln(['build', EXAMPLE], { cwd: dir, env: { KILN_STATE_DIR: join(dir, '.state') } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, 'motd.txt'), 'utf8')).toBe('Welcome to HELLO-KILN\ndev: Hello from dev (1 replica)\nprod: Hello from prod (3 replicas)\n');
    expect(JSON.parse(readFileSync(join(out, 'hello-kiln.json'), 'utf8'))).toEqual({ app: 'hello-kiln', release: '1.0.0', targets: { dev: 1, prod: 3 } });
    const sum = createHash('sha256').update(readFileSync(join(out, 'motd.txt'))).digest('hex');
    expect(readFileSync(join(out, 'motd.sha256'), 'utf8')).toBe(`${sum}\tmotd.txt\n`);
    expect(execFileSync('tar', ['-tzf', join(out, 'motd.tar.gz')], { encoding: 'utf8' })).toBe('motd.txt\n');
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.builds.map((b: { name: string }) => b.name).sort()).toEqual(['config', 'motd', 'site', 'smoke']);
    // Two images in one OCI layout: the site from scratch, and the app image on top of it.
    const layers = (digest: string) => JSON.parse(readFileSync(join(layout, 'blobs', 'sha256', digest.slice(7)), 'utf8')).layers.map((l: { digest: string }) => l.digest);
    expect(layers(tagged(layout, 'site'))).toHaveLength(1);
    expect(layers(tagged(layout, 'app'))).toEqual([...layers(tagged(layout, 'site')), expect.stringMatching(/^sha256:/)]);
    const siteLayer = join(layout, 'blobs', 'sha256', layers(tagged(layout, 'site'))[0].slice(7));
    expect(execFileSync('tar', ['-tzf', siteLayer], { encoding: 'utf8' })).toBe('srv/\nsrv/www/\nsrv/www/index.html\nsrv/www/style.css\n');
    expect(execFileSync('tar', ['-tf', archive], { encoding: 'utf8' })).toContain('manifest.json');
    expect(manifest.builds[0].custom_data).toEqual({ release: '1.0.0' });
    // The sensitive token never reaches the output.
    expect(r.stdout).toContain('(token: <sensitive>)');
    expect(r.stdout).not.toContain('quickstart-demo-token');
  });
});

describe.skipIf(missing)("the quickstart's images, read by skopeo, umoci and podman", () => {
  let podman: RunningPodman | undefined;
  afterAll(() => podman?.stop());

  // Every OCI output of the quickstart: both tags of the layout, and the docker-archive of the
  // app image that oci-export writes for `podman load`.
  const outputs = [
    { what: 'the site image in the layout', ref: () => `oci:${layout}:site`, layers: 1, title: 'hello-kiln-site', env: undefined, files: SITE },
    { what: 'the app image in the layout', ref: () => `oci:${layout}:app`, layers: 2, title: 'hello-kiln-app', env: ['APP=hello-kiln'], files: APP },
    { what: 'the app image in app.tar', ref: () => `docker-archive:${archive}`, layers: 2, title: 'hello-kiln-app', env: ['APP=hello-kiln'], files: APP },
  ];

  it.each(outputs)('skopeo inspects $what, copies it to a fresh layout, and umoci unpacks the copy to the example\'s files', ({ ref, layers, title, env, files }) => {
    const image = inspect(ref());
    expect(image.Layers).toHaveLength(layers);
    expect(image.Labels).toEqual({ 'org.opencontainers.image.title': title });
    const cfg = inspectConfig(ref());
    expect(cfg.created).toBe(CREATED);
    expect(cfg.config.WorkingDir).toBe('/srv/www');
    expect(cfg.config.Env).toEqual(env);
    expect(cfg.rootfs.diff_ids).toHaveLength(layers);
    const copy = mkdtempSync(join(dir, 'copy-'));
    run('skopeo', ['copy', '--quiet', ref(), `oci:${join(copy, 'layout')}:copy`]);
    expect(inspectConfig(`oci:${join(copy, 'layout')}:copy`).rootfs.diff_ids).toEqual(cfg.rootfs.diff_ids);
    run('umoci', ['unpack', '--image', `${join(copy, 'layout')}:copy`, join(copy, 'bundle')]);
    expect(filesUnder(join(copy, 'bundle', 'rootfs'))).toEqual(files);
  });

  it.each(outputs.slice(0, 2))('umoci unpacks $what straight from kiln\'s layout', ({ ref, files }) => {
    const tag = ref().slice(ref().lastIndexOf(':') + 1);
    const bundle = join(mkdtempSync(join(dir, 'unpack-')), 'bundle');
    run('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle]);
    expect(filesUnder(join(bundle, 'rootfs'))).toEqual(files);
    expect(inspect(ref()).Digest).toBe(tagged(layout, tag));
  });

  it('the docker-archive is the layout\'s app image: same layers, same config', () => {
    expect(inspectConfig(`docker-archive:${archive}`)).toEqual(inspectConfig(`oci:${layout}:app`));
  });

  it('podman loads app.tar and pulls both layout images, and runs a container on each', () => {
    podman = startPodman();
    const p = podman;
    expect(p.podman(['load', '-i', archive])).toContain('Loaded image: localhost/hello-kiln/app:1.0.0');
    // `podman pull` prints the image id last.
    const pulled = (tag: string) => p.podman(['pull', '--quiet', `oci:${layout}:${tag}`]).trim().split('\n').at(-1)!;
    const images = { site: pulled('site'), app: pulled('app'), loaded: 'localhost/hello-kiln/app:1.0.0' };
    const inspected = (image: string) => JSON.parse(p.podman(['image', 'inspect', image]))[0] as { Config: Config['config']; RootFS: { Layers: string[] } };
    expect(inspected(images.site).Config).toEqual({ WorkingDir: '/srv/www', Labels: { 'org.opencontainers.image.title': 'hello-kiln-site' } });
    expect(inspected(images.site).RootFS.Layers).toEqual(inspectConfig(`oci:${layout}:site`).rootfs.diff_ids);
    for (const image of [images.app, images.loaded]) {
      expect(inspected(image).Config).toEqual({ Env: ['APP=hello-kiln'], WorkingDir: '/srv/www', Labels: { 'org.opencontainers.image.title': 'hello-kiln-app' } });
      expect(inspected(image).RootFS.Layers).toEqual(inspectConfig(`oci:${layout}:app`).rootfs.diff_ids);
    }
    // The images hold only the site's files, no program: the container gets a static busybox
    // through a read-only bind mount, so runc still starts it on the image's own filesystem,
    // working directory and environment.
    const busybox = run('sh', ['-c', 'command -v busybox']).trim();
    const inContainer = (image: string, script: string) =>
      p.podman(['run', '--rm', '--network', 'none', '-v', `${busybox}:/busybox:ro`, image, '/busybox', 'sh', '-c', script]);
    const show = 'echo "$PWD $APP"; /busybox cat index.html style.css; if [ -e /app ]; then /busybox cat /app/README.txt; fi';
    expect(inContainer(images.site, show)).toBe(`/srv/www \n${SITE['srv/www/index.html']}${SITE['srv/www/style.css']}`);
    for (const image of [images.app, images.loaded]) {
      expect(inContainer(image, show)).toBe(`/srv/www hello-kiln\n${APP['srv/www/index.html']}${APP['srv/www/style.css']}${APP['app/README.txt']}`);
    }
  });

  it("runs the README's first command on a fresh clone, from its root: the outputs it promises, the same image digests", () => {
    // A clone of the committed tree; node_modules is linked rather than installed by `npm ci`
    // (no network in tests), and `npm run build` is what `npm ci` runs as the prepare script.
    const clone = join(dir, 'clone');
    run('git', ['clone', '--quiet', ROOT, clone]);
    symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
    run('npm', ['run', 'build'], { cwd: clone });
    // npx links the bin once and reuses the link, so after a rebuild it must still be executable.
    expect(statSync(join(clone, 'dist', 'bin', 'main.js')).mode & 0o111).toBe(0o111);
    const r = spawnSync('npx', ['kiln', 'build', 'examples/quickstart'], {
      cwd: clone,
      // A private npm cache: npx's link to the clone stays out of the user's ~/.npm.
      env: { ...process.env, NO_COLOR: '1', KILN_STATE_DIR: join(dir, 'clone-state'), npm_config_cache: join(dir, 'npm-cache'), npm_config_offline: 'true' },
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // The README: checksums, a compressed archive, a manifest and two OCI images (one exported
    // for `podman load`) in ./quickstart-output.
    const cloneOut = join(clone, 'quickstart-output');
    expect(readdirSync(cloneOut).sort()).toEqual(['app.tar', 'config.sha256', 'hello-kiln.json', 'manifest.json', 'motd.sha256', 'motd.tar.gz', 'motd.txt', 'oci']);
    expect(JSON.parse(readFileSync(join(cloneOut, 'manifest.json'), 'utf8')).builds).toHaveLength(4);
    // The same source_date_epoch, another checkout, another working directory, a later time:
    // the same images, byte for byte.
    for (const tag of ['site', 'app']) {
      expect(inspect(`oci:${join(cloneOut, 'oci')}:${tag}`).Digest).toBe(inspect(`oci:${layout}:${tag}`).Digest);
    }
    const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    expect(sha(join(cloneOut, 'app.tar'))).toBe(sha(archive));
  });
});
