/**
 * Registry credentials: the template's values first, then the environment
 * (KILN_REGISTRY_USERNAME / KILN_REGISTRY_PASSWORD), then the Docker config file
 * (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`, `auths.<host>.auth` or
 * username/password, identitytoken), then podman's auth file (`$REGISTRY_AUTH_FILE`).
 * Credential helpers (`credsStore`, `credHelpers`) are not run — that would mean executing a
 * program the config file names — so kiln warns when one holds this registry's login instead.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Credentials {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (Docker's identitytoken). */
  identityToken?: string;
  /** Where they came from, for messages (never the values). */
  source: string;
}

interface DockerConfigAuth {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface DockerConfig {
  auths?: Record<string, DockerConfigAuth>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

function hostKeys(registry: string): string[] {
  if (registry === 'docker.io') return ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'];
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
}

export interface FindOptions {
  env?: Readonly<Record<string, string | undefined>>;
  /** Told when the login is probably in a credential helper kiln does not run. */
  warn?: (message: string) => void;
}

async function fromFile(path: string, registry: string, warn: (message: string) => void): Promise<Credentials | undefined> {
  let cfg: DockerConfig;
  try {
    cfg = JSON.parse(await readFile(path, 'utf8')) as DockerConfig;
  } catch {
    return undefined;
  }
  const found = usable(cfg, path, registry);
  if (found) return found;
  const helper = hostKeys(registry).map((k) => cfg.credHelpers?.[k]).find(Boolean) ?? cfg.credsStore;
  if (helper) {
    warn(`${path} keeps the login for ${registry} in the credential helper docker-credential-${helper}, which kiln does not run: set login_username/login_password in the template or KILN_REGISTRY_USERNAME/KILN_REGISTRY_PASSWORD`);
  }
  return undefined;
}

/** The first auths entry for `registry` that holds a login (credsStore leaves empty ones). */
function usable(cfg: DockerConfig, path: string, registry: string): Credentials | undefined {
  for (const key of hostKeys(registry)) {
    const a = cfg.auths?.[key];
    if (!a) continue;
    if (a.identitytoken) return { identityToken: a.identitytoken, source: path };
    if (a.auth) {
      const text = Buffer.from(a.auth, 'base64').toString('utf8');
      const colon = text.indexOf(':');
      if (colon > 0) return { username: text.slice(0, colon), password: text.slice(colon + 1), source: path };
    }
    if (a.username !== undefined) return { username: a.username, password: a.password ?? '', source: path };
  }
  return undefined;
}

/** Credentials for `registry`, or undefined for anonymous access. */
export async function findCredentials(
  registry: string,
  explicit: { username?: string; password?: string } = {},
  o: FindOptions = {},
): Promise<Credentials | undefined> {
  const env = o.env ?? process.env;
  if (explicit.username) return { username: explicit.username, password: explicit.password ?? '', source: 'the template' };
  if (env.KILN_REGISTRY_USERNAME) return { username: env.KILN_REGISTRY_USERNAME, password: env.KILN_REGISTRY_PASSWORD ?? '', source: 'KILN_REGISTRY_USERNAME/KILN_REGISTRY_PASSWORD' };
  const dockerConfig = join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
  const files = [dockerConfig, ...(env.REGISTRY_AUTH_FILE ? [env.REGISTRY_AUTH_FILE] : [])];
  for (const f of files) {
    const c = await fromFile(f, registry, o.warn ?? (() => undefined));
    if (c) return c;
  }
  return undefined;
}
