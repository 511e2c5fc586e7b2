/**
 * Plugin resolution. Built-in plugins live in `plugins/` and are imported only when a template
 * uses them, so a template without a cloud builder never loads a cloud SDK. Third-party plugins
 * are npm packages named `kiln-plugin-<name>` (or local paths) declared in the template's
 * `required_plugins`; they default-export the same PluginSet shape as built-ins. HashiCorp's own
 * plugins (`github.com/hashicorp/<name>`) that kiln implements resolve to the built-ins, so a
 * Packer template's `required_plugins` works unchanged.
 */
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BuilderPlugin, DataSourcePlugin, PluginSet, PostProcessorPlugin, ProvisionerPlugin, Reaper } from '../sdk/plugin.js';

export type ComponentKind = 'builder' | 'provisioner' | 'post-processor' | 'data';

interface ComponentOf {
  builder: BuilderPlugin<unknown>;
  provisioner: ProvisionerPlugin<unknown>;
  'post-processor': PostProcessorPlugin<unknown>;
  data: DataSourcePlugin<unknown>;
}

type Loader = () => Promise<{ default: PluginSet }>;

/** The built-in components: type name → the module that provides it. */
const BUILTIN: Record<ComponentKind, Record<string, Loader>> = {
  builder: {
    null: () => import('../../plugins/builder-null/index.js'),
    file: () => import('../../plugins/builder-file/index.js'),
    qemu: () => import('../../plugins/builder-qemu/index.js'),
    oci: () => import('../../plugins/builder-oci/index.js'),
    docker: () => import('../../plugins/builder-docker/index.js'),
    'amazon-ebs': () => import('../../plugins/builder-amazon-ebs/index.js'),
  },
  provisioner: {
    'shell-local': () => import('../../plugins/provisioner-shell-local/index.js'),
    breakpoint: () => import('../../plugins/provisioner-breakpoint/index.js'),
    shell: () => import('../../plugins/provisioner-shell/index.js'),
    file: () => import('../../plugins/provisioner-file/index.js'),
  },
  'post-processor': {
    manifest: () => import('../../plugins/postprocessor-manifest/index.js'),
    checksum: () => import('../../plugins/postprocessor-checksum/index.js'),
    compress: () => import('../../plugins/postprocessor-compress/index.js'),
    'oci-export': () => import('../../plugins/postprocessor-oci-export/index.js'),
    'docker-tag': () => import('../../plugins/postprocessor-docker-tag/index.js'),
    'docker-push': () => import('../../plugins/postprocessor-docker-push/index.js'),
    'oci-push': () => import('../../plugins/postprocessor-oci-push/index.js'),
    'oci-append': () => import('../../plugins/postprocessor-oci-append/index.js'),
    'shell-local': () => import('../../plugins/postprocessor-shell-local/index.js'),
    vhd: () => import('../../plugins/postprocessor-vhd/index.js'),
    vmdk: () => import('../../plugins/postprocessor-vmdk/index.js'),
    qcow2: () => import('../../plugins/postprocessor-qcow2/index.js'),
  },
  data: {},
};

/**
 * HashiCorp's plugins that kiln provides built in, with the components the Packer plugin has
 * that kiln does not implement yet (so an error can say so rather than "unknown type").
 * Packer's docker plugin has builder docker and post-processors docker-tag, docker-push (kiln has
 * these), docker-import and docker-save; its qemu plugin has builder qemu; its amazon plugin has
 * amazon-ebs (kiln has it) and the components listed.
 */
const OFFICIAL_BUILT_IN: Record<string, ReadonlyArray<{ kind: ComponentKind; type: string }>> = {
  qemu: [],
  docker: [
    { kind: 'post-processor', type: 'docker-import' },
    { kind: 'post-processor', type: 'docker-save' },
  ],
  // Packer's amazon plugin: kiln has its amazon-ebs builder.
  amazon: [
    { kind: 'builder', type: 'amazon-chroot' },
    { kind: 'builder', type: 'amazon-ebssurrogate' },
    { kind: 'builder', type: 'amazon-ebsvolume' },
    { kind: 'builder', type: 'amazon-instance' },
    { kind: 'post-processor', type: 'amazon-import' },
    { kind: 'data', type: 'amazon-ami' },
    { kind: 'data', type: 'amazon-secretsmanager' },
    { kind: 'data', type: 'amazon-parameterstore' },
  ],
};

export interface RequiredPluginRef {
  name: string;
  source?: string;
}

/** A required plugin kiln cannot provide, and why (a sentence for the user). */
export interface UnavailablePlugin {
  name: string;
  reason: string;
  /**
   * Whether a component type would have come from this plugin, by Packer's naming rule: a
   * plugin's components are called `<plugin>` or `<plugin>-<component>`.
   */
  provides(type: string): boolean;
}

export class PluginError extends Error {
  override name = 'PluginError';
}

/** A third-party plugin set and the module it was imported from. */
interface External {
  set: PluginSet;
  url: string;
}

export class PluginRegistry {
  private external: External[] = [];
  private missing: UnavailablePlugin[] = [];

  private constructor() {}

  /**
   * A registry with the template's required plugins loaded (they are needed to know their types).
   * A plugin that cannot be provided does not stop the others: each one is in `unavailable`.
   */
  static async create(required: readonly RequiredPluginRef[], templateRoot: string): Promise<PluginRegistry> {
    const r = new PluginRegistry();
    for (const p of required) {
      const official = officialPluginName(p.source);
      if (official !== undefined && Object.hasOwn(OFFICIAL_BUILT_IN, official)) continue; // the built-ins serve it
      let reason: string | undefined;
      if (official !== undefined) reason = notImplemented(p, official);
      else {
        try {
          r.external.push(await loadExternal(p, templateRoot));
        } catch (err) {
          if (!(err instanceof PluginError)) throw err;
          reason = err.message;
        }
      }
      if (reason === undefined) continue;
      const prefixes = [p.name, official ?? ''].filter((n) => n !== '');
      r.missing.push({ name: p.name, reason, provides: (type) => prefixes.some((n) => type === n || type.startsWith(`${n}-`)) });
    }
    return r;
  }

  /** The required plugins that could not be provided, in template order. */
  get unavailable(): readonly UnavailablePlugin[] {
    return this.missing;
  }

  /** The HashiCorp plugin a component belongs to when kiln implements that plugin but not this component. */
  static unimplementedOfficial(kind: ComponentKind, type: string): string | undefined {
    return Object.entries(OFFICIAL_BUILT_IN).find(([, gaps]) => gaps.some((c) => c.kind === kind && c.type === type))?.[0];
  }

  /**
   * For `kiln cleanup`, which has no template: a registry holding the third-party plugin module
   * the ledger names as the owner of a resource (a file: URL recorded by the run itself).
   */
  static async fromModule(url: string): Promise<PluginRegistry> {
    if (!url.startsWith('file:')) throw new PluginError(`refusing to load the plugin module ${url}: only local files are loaded`);
    const r = new PluginRegistry();
    r.external.push({ set: await importPluginSet(url, url), url });
    return r;
  }

  /** The module a third-party component came from (undefined for a built-in), for the ledger. */
  moduleOf(kind: ComponentKind, type: string): string | undefined {
    return this.external.find((e) => pick(e.set, kind, type))?.url;
  }

  /** The component of this kind and type, or undefined when no plugin provides it. */
  async get<K extends ComponentKind>(kind: K, type: string): Promise<ComponentOf[K] | undefined> {
    for (const { set } of this.external) {
      const c = pick(set, kind, type);
      if (c) return c;
    }
    const loader = BUILTIN[kind][type];
    if (!loader) return undefined;
    return pick((await loader()).default, kind, type);
  }

  /** Every type name of a kind, for "did you mean". */
  types(kind: ComponentKind): string[] {
    const names = new Set(Object.keys(BUILTIN[kind]));
    for (const { set } of this.external) for (const c of componentsOf(set, kind)) names.add(c.type);
    return [...names];
  }

  /** The reaper for a resource kind, from the component that recorded it. */
  async reaper(owner: { kind: ComponentKind; type: string }, resourceKind: string): Promise<Reaper | undefined> {
    for (const { set } of this.external) if (pick(set, owner.kind, owner.type)) return set.reapers?.[resourceKind];
    const loader = BUILTIN[owner.kind][owner.type];
    return loader ? (await loader()).default.reapers?.[resourceKind] : undefined;
  }
}

function componentsOf<K extends ComponentKind>(set: PluginSet, kind: K): ComponentOf[K][] {
  const list =
    kind === 'builder' ? set.builders
    : kind === 'provisioner' ? set.provisioners
    : kind === 'post-processor' ? set.postProcessors
    : set.dataSources;
  return (list ?? []) as ComponentOf[K][];
}

function pick<K extends ComponentKind>(set: PluginSet, kind: K, type: string): ComponentOf[K] | undefined {
  return componentsOf(set, kind).find((c) => c.type === type);
}

/**
 * The plugin name of an official HashiCorp source address (`github.com/hashicorp/<name>`, or
 * `hashicorp/<name>` as Packer 1.7 allowed), compared case-insensitively; undefined otherwise.
 */
function officialPluginName(source: string | undefined): string | undefined {
  const parts = (source ?? '').trim().toLowerCase().split('/');
  if (parts.length === 3 ? parts[0] !== 'github.com' : parts.length !== 2) return undefined;
  const [namespace, name] = parts.slice(-2);
  return namespace === 'hashicorp' && name ? name : undefined;
}

function notImplemented(p: RequiredPluginRef, official: string): string {
  const have = Object.keys(OFFICIAL_BUILT_IN).sort().join(', ');
  return (
    `kiln does not implement HashiCorp's ${official} plugin (${p.source ?? ''}) yet, so the components it provides (named ${official} or ${official}-*) cannot be used. ` +
    `The HashiCorp plugins kiln provides built in are: ${have}.`
  );
}

/**
 * `name = { source = "./plugins/mine" }` loads a local path (relative to the template);
 * any other source maps to the npm package `kiln-plugin-<name>`, resolved from the template's
 * directory, then from kiln's own.
 */
async function loadExternal(p: RequiredPluginRef, templateRoot: string): Promise<External> {
  const src = p.source ?? '';
  let url: string;
  if (src.startsWith('./') || src.startsWith('../') || isAbsolute(src)) {
    const path = isAbsolute(src) ? src : resolve(templateRoot, src);
    // A directory is a package: its package.json main (or index.js) is the entry point.
    let entry = path;
    try {
      entry = createRequire(join(path, 'noop.js')).resolve(path);
    } catch {
      throw new PluginError(`The plugin "${p.name}" was not found at ${path}: give the path of a plugin package (a folder with a package.json) or of its entry file.`);
    }
    url = pathToFileURL(entry).href;
  } else {
    const pkg = `kiln-plugin-${p.name}`;
    try {
      url = pathToFileURL(createRequire(join(resolve(templateRoot), 'noop.js')).resolve(pkg)).href;
    } catch {
      try {
        url = pathToFileURL(createRequire(import.meta.url).resolve(pkg)).href;
      } catch {
        throw new PluginError(`The plugin "${p.name}" (${src || 'no source'}) is not installed: run npm install ${pkg} in the template's directory, or give a local path as its source.`);
      }
    }
  }
  return { set: await importPluginSet(url, p.name), url };
}

async function importPluginSet(url: string, name: string): Promise<PluginSet> {
  let mod: { default?: PluginSet };
  try {
    mod = (await import(url)) as { default?: PluginSet };
  } catch (err) {
    throw new PluginError(`The plugin "${name}" could not be loaded from ${url}: ${(err as Error).message}`);
  }
  if (!mod.default || typeof mod.default !== 'object') {
    throw new PluginError(`The plugin "${name}" does not default-export a plugin set ({ builders, provisioners, postProcessors, dataSources }).`);
  }
  return mod.default;
}
