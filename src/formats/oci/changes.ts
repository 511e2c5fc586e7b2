/**
 * Dockerfile-style config changes (`docker commit --change`, Packer's `changes`): CMD,
 * ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL. JSON (exec) and shell forms
 * are read as Docker reads them.
 */
import type { RuntimeConfig } from './media.js';

export const SUPPORTED_CHANGES = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'USER', 'WORKDIR', 'VOLUME', 'STOPSIGNAL'] as const;

/** Docker's word splitting for ENV/LABEL: quotes group, backslash escapes. */
function words(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && quote !== "'" && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (quote) {
      if (c === quote) quote = undefined;
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated quote in "${s}"`);
  if (inWord) out.push(cur);
  return out;
}

function jsonList(arg: string): string[] | undefined {
  if (!arg.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(arg);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // not JSON: Docker then treats it as the shell form
  }
  return undefined;
}

function keyValues(instr: string, arg: string): Array<[string, string]> {
  const ws = words(arg);
  if (ws.length === 0) throw new Error(`${instr} needs at least one name=value`);
  if (!ws[0]!.includes('=')) {
    // The old form: ENV NAME value with spaces.
    const m = /^\s*(\S+)\s+(.*)$/s.exec(arg);
    if (!m) throw new Error(`${instr} ${arg}: write it as ${instr} name=value`);
    return [[m[1]!, words(m[2]!).join(' ')]];
  }
  return ws.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new Error(`${instr} ${arg}: "${w}" is not name=value`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/**
 * What one change list has done so far. Docker drops the CMD at ENTRYPOINT only when the CMD was
 * inherited, so a CMD given earlier in the same list must survive a later ENTRYPOINT.
 */
interface ChangeState {
  cmdSet: boolean;
}

/** Applies a list of change lines to `cfg` in order (a copy is not made); throws a message naming the problem. */
export function applyChanges(cfg: RuntimeConfig, lines: readonly string[]): void {
  const state: ChangeState = { cmdSet: false };
  for (const l of lines) applyChange(cfg, l, state);
}

function applyChange(cfg: RuntimeConfig, line: string, state: ChangeState): void {
  const m = /^\s*([A-Za-z]+)\s*(.*?)\s*$/s.exec(line);
  if (!m) throw new Error(`"${line}" is not a change: write it like Dockerfile instructions, e.g. CMD ["/app"]`);
  const instr = m[1]!.toUpperCase();
  const arg = m[2]!;
  switch (instr) {
    case 'CMD':
    case 'ENTRYPOINT': {
      const argv = jsonList(arg) ?? ['/bin/sh', '-c', arg];
      if (instr === 'CMD') {
        cfg.Cmd = argv;
        state.cmdSet = true;
      } else {
        cfg.Entrypoint = argv;
        // Docker: a new ENTRYPOINT drops the inherited CMD (the base's arguments would not fit it).
        if (!state.cmdSet) cfg.Cmd = null;
      }
      return;
    }
    case 'ENV': {
      const env = [...(cfg.Env ?? [])];
      for (const [k, v] of keyValues(instr, arg)) {
        const i = env.findIndex((e) => e.startsWith(`${k}=`));
        if (i >= 0) env[i] = `${k}=${v}`;
        else env.push(`${k}=${v}`);
      }
      cfg.Env = env;
      return;
    }
    case 'LABEL':
      cfg.Labels = { ...(cfg.Labels ?? {}), ...Object.fromEntries(keyValues(instr, arg)) };
      return;
    case 'EXPOSE': {
      const ports = { ...(cfg.ExposedPorts ?? {}) };
      for (const p of words(arg)) {
        const pm = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
        if (!pm) throw new Error(`EXPOSE ${p}: write a port as 80, 80/tcp or 53/udp`);
        const lo = Number(pm[1]);
        const hi = pm[2] ? Number(pm[2]) : lo;
        for (let port = lo; port <= hi; port++) ports[`${port}/${(pm[3] ?? 'tcp').toLowerCase()}`] = {};
      }
      cfg.ExposedPorts = ports;
      return;
    }
    case 'USER':
    case 'WORKDIR':
    case 'STOPSIGNAL':
      if (arg === '') throw new Error(`${instr} needs a value`);
      if (instr === 'USER') cfg.User = arg;
      else if (instr === 'STOPSIGNAL') cfg.StopSignal = arg;
      else cfg.WorkingDir = arg.startsWith('/') ? arg : `${cfg.WorkingDir ?? '/'}${(cfg.WorkingDir ?? '/').endsWith('/') ? '' : '/'}${arg}`;
      return;
    case 'VOLUME': {
      const vols = { ...(cfg.Volumes ?? {}) };
      for (const v of jsonList(arg) ?? words(arg)) vols[v] = {};
      cfg.Volumes = vols;
      return;
    }
    default:
      throw new Error(`"${instr}" is not a change kiln can apply: use one of ${SUPPORTED_CHANGES.join(', ')}`);
  }
}

/** Checks change lines without applying them, for config validation: one message per bad line. */
export function checkChanges(lines: readonly string[]): string[] {
  const problems: string[] = [];
  const scratch: RuntimeConfig = {};
  const state: ChangeState = { cmdSet: false };
  for (const l of lines) {
    try {
      applyChange(scratch, l, state);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  return problems;
}
