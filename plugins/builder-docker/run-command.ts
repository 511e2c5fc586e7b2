/**
 * Packer's `run_command` is a list of `docker run` arguments (default
 * `-d -i -t --entrypoint=/bin/sh -- {{.Image}}`). kiln talks to the engine API, so the flags are
 * read into a container spec; a flag kiln does not know is an error naming it, never ignored.
 */

export interface RunSpec {
  image: string;
  cmd: string[];
  entrypoint?: string[];
  tty: boolean;
  openStdin: boolean;
  env: string[];
  binds: string[];
  user?: string;
  workdir?: string;
  privileged: boolean;
  capAdd: string[];
  capDrop: string[];
  tmpfs: Record<string, string>;
  devices: string[];
  network?: string;
  hostname?: string;
  platform?: string;
}

export const DEFAULT_RUN_COMMAND = ['-d', '-i', '-t', '--entrypoint=/bin/sh', '--', '{{.Image}}'];

const WITH_VALUE = new Set(['--entrypoint', '-e', '--env', '-v', '--volume', '-u', '--user', '-w', '--workdir', '--name', '--network', '--net', '--platform', '--cap-add', '--cap-drop', '--tmpfs', '--device', '-h', '--hostname']);
const IGNORED = new Set(['-d', '--detach', '--rm']);

export function parseRunCommand(args: readonly string[], image: string): RunSpec {
  const spec: RunSpec = { image: '', cmd: [], tty: false, openStdin: false, env: [], binds: [], privileged: false, capAdd: [], capDrop: [], tmpfs: {}, devices: [] };
  const rendered = args.map((a) => a.replace(/\{\{\s*\.Image\s*\}\}/g, image));
  let i = 0;
  for (; i < rendered.length; i++) {
    const a = rendered[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-')) break;
    let flag = a;
    let value: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      flag = a.slice(0, eq);
      value = a.slice(eq + 1);
    } else if (/^-[a-zA-Z]{2,}$/.test(a)) {
      // Bundled short flags: -dit.
      for (const ch of a.slice(1)) {
        if (ch === 'i') spec.openStdin = true;
        else if (ch === 't') spec.tty = true;
        else if (ch !== 'd') throw new Error(`run_command: "-${ch}" in "${a}" is not a docker run flag kiln supports`);
      }
      continue;
    }
    if (WITH_VALUE.has(flag) && value === undefined) {
      value = rendered[++i];
      if (value === undefined) throw new Error(`run_command: ${flag} needs a value`);
    }
    switch (flag) {
      case '-i':
      case '--interactive':
        spec.openStdin = true;
        break;
      case '-t':
      case '--tty':
        spec.tty = true;
        break;
      case '--privileged':
        spec.privileged = true;
        break;
      case '--entrypoint':
        spec.entrypoint = value === '' ? [] : [value!];
        break;
      case '-e':
      case '--env':
        spec.env.push(value!);
        break;
      case '-v':
      case '--volume':
        spec.binds.push(value!);
        break;
      case '-u':
      case '--user':
        spec.user = value!;
        break;
      case '-w':
      case '--workdir':
        spec.workdir = value!;
        break;
      case '--network':
      case '--net':
        spec.network = value!;
        break;
      case '--platform':
        spec.platform = value!;
        break;
      case '--cap-add':
        spec.capAdd.push(value!);
        break;
      case '--cap-drop':
        spec.capDrop.push(value!);
        break;
      case '--tmpfs': {
        const [path, opts] = value!.split(':', 2);
        spec.tmpfs[path!] = opts ?? '';
        break;
      }
      case '--device':
        spec.devices.push(value!);
        break;
      case '-h':
      case '--hostname':
        spec.hostname = value!;
        break;
      case '--name':
        // kiln names the container itself, so that `kiln cleanup` can find it.
        break;
      default:
        if (!IGNORED.has(flag)) throw new Error(`run_command: "${a}" is not a docker run flag kiln supports (it understands -d -i -t --entrypoint -e -v -u -w --privileged --network --platform --cap-add --cap-drop --tmpfs --device -h)`);
    }
  }
  const rest = rendered.slice(i);
  if (rest.length === 0) throw new Error('run_command names no image: end it with "{{.Image}}" (and optionally a command)');
  spec.image = rest[0]!;
  spec.cmd = rest.slice(1);
  return spec;
}
