// kiln's side of the OCI benchmarks, as one process per measurement (like the peer commands):
//   layer ROOT LAYOUT TAG [gzip|zstd|none]   one layer of ROOT's whole tree + config + manifest, tagged
//   push LAYOUT TAG HOST REPO                 push LAYOUT:TAG to http://HOST/REPO:TAG; prints JSON
//   build-push ROOT LAYOUT HOST REPO          both, in one process (for peak RSS)
import { join } from 'node:path';
import { ROOT } from './harness.mjs';

const oci = await import(join(ROOT, 'dist', 'src', 'formats', 'oci', 'index.js'));

async function layer(root, layoutDir, tag, compression = 'gzip') {
  const layout = await oci.OciLayout.open(layoutDir, { create: true });
  const platform = oci.hostPlatform();
  const l = await oci.writeLayer(layout, oci.diffTree(root, undefined, { clampMtime: 1700000000 }), { compression });
  const cfg = oci.emptyConfig(platform);
  cfg.created = '2023-11-14T22:13:20Z';
  cfg.rootfs.diff_ids.push(l.diffId);
  const m = await oci.commitImage(layout, cfg, [l.descriptor], platform);
  await layout.addManifest(m, [tag]);
  return { manifest: m, layer: l.descriptor };
}

async function push(layoutDir, tag, host, repo) {
  const layout = await oci.OciLayout.open(layoutDir);
  const { descriptor } = await layout.resolve(tag, oci.hostPlatform());
  const client = new oci.RegistryClient(host, { insecure: true });
  const t0 = performance.now();
  const r = await oci.pushImage(client, layout, descriptor, repo, [tag]);
  return { ms: Math.round(performance.now() - t0), ...r };
}

const [cmd, ...a] = process.argv.slice(2);
if (cmd === 'layer') console.log(JSON.stringify(await layer(a[0], a[1], a[2], a[3])));
else if (cmd === 'push') console.log(JSON.stringify(await push(a[0], a[1], a[2], a[3])));
else if (cmd === 'build-push') {
  const built = await layer(a[0], a[1], 'big');
  console.log(JSON.stringify({ built, pushed: await push(a[1], 'big', a[2], a[3]) }));
} else {
  console.error('usage: oci-kiln.mjs layer|push|build-push …');
  process.exit(2);
}
