/**
 * A private OpenSSH sshd per test file, through test/setup/sshd.sh: on 127.0.0.1, a free port,
 * keys in a temp dir, stopped by PID. Tests log in as the `kiln-ssh` user (plain /bin/sh).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './cli.js';

const SCRIPT = join(ROOT, 'test', 'setup', 'sshd.sh');


export const TEST_USER = 'kiln-ssh';
/** The user of the password and kbdint servers, whose password sshd.sh sets. */
export const PASSWORD_USER = 'kiln-ssh-pw';

/**
 * key: public keys only; password: passwords too; kbdint: keyboard-interactive (through PAM)
 * too; notar: public keys, and sessions whose PATH has every usual command but tar; busybox-tar:
 * the same with BusyBox as tar.
 */
export type SshdMode = 'key' | 'password' | 'kbdint' | 'notar' | 'busybox-tar';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

function run(...args: string[]): string {
  const r = spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sshd.sh ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

export class Sshd {
  readonly host = '127.0.0.1';
  readonly user = TEST_USER;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly mode: SshdMode,
  ) {}

  /** A server with its directory and port chosen, not started yet. */
  static async create(mode: SshdMode = 'key'): Promise<Sshd> {
    return new Sshd(mkdtempSync(join(tmpdir(), 'kiln-sshd-')), await freePort(), mode);
  }

  static async start(mode: SshdMode = 'key'): Promise<Sshd> {
    const s = await Sshd.create(mode);
    s.start();
    return s;
  }

  /** PASSWORD_USER's password (password and kbdint servers only). */
  get password(): string {
    return readFileSync(join(this.dir, 'password'), 'utf8');
  }

  /** The client key, made on first start; a server never started has none. */
  get clientKey(): string {
    return join(this.dir, 'clientkey');
  }

  /** The host key's fingerprint as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint(): string {
    return execFileSync('ssh-keygen', ['-lf', join(this.dir, 'hostkey.pub')], { encoding: 'utf8' }).split(' ')[1]!;
  }

  start(): void {
    run('start', this.dir, String(this.port), this.mode);
  }

  /**
   * The PIDs of this server's unprivileged session processes (`sshd: USER@notty`), one per open
   * connection: they hold the sockets and speak the protocol, so stopping one freezes that connection.
   */
  sessionPids(): number[] {
    const root = Number(readFileSync(join(this.dir, 'sshd.pid'), 'utf8'));
    const procs = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
      .split('\n')
      .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3]! }));
    const mine = new Set([root]);
    // Parents come before children in ps order only by chance: repeat until nothing is added.
    for (let grew = true; grew; ) {
      grew = false;
      for (const p of procs) if (mine.has(p.ppid) && !mine.has(p.pid)) grew = Boolean(mine.add(p.pid));
    }
    return procs.filter((p) => mine.has(p.pid) && /^sshd: [^ ]+@/.test(p.args)).map((p) => p.pid);
  }
  stop(): void {
    run('stop', this.dir);
  }
  /** Ends every open connection, as a crash or a reboot would; keeps listening. */
  drop(): void {
    run('drop', this.dir);
  }
  /** A new host key, in effect from the next start. */
  rekey(): void {
    run('rekey', this.dir);
  }
  /** A reboot: connections dropped, sshd stopped and started again. */
  restart(): void {
    this.drop();
    this.stop();
    this.start();
  }

  /** Runs a command on the server as the test user with OpenSSH's client. */
  ssh(command: string): string {
    return execFileSync('ssh', ['-q', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-i', this.clientKey, '-p', String(this.port), `${this.user}@${this.host}`, command], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
  }

  log(): string {
    return existsSync(join(this.dir, 'sshd.log')) ? readFileSync(join(this.dir, 'sshd.log'), 'utf8') : '';
  }

  /** HCL lines for a null source that reaches this server. */
  sourceHcl(extra = ''): string {
    return `ssh_host = "${this.host}"\n  ssh_port = ${this.port}\n  ssh_username = "${this.user}"\n  ssh_private_key_file = "${this.clientKey}"\n  ${extra}`;
  }

  dispose(): void {
    try {
      this.drop();
      this.stop();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** A private ssh-agent on a socket in its own directory, holding the given keys; stopped by its PID. */
export class SshAgent {
  private constructor(
    readonly dir: string,
    readonly socket: string,
    private readonly pid: number,
  ) {}

  static start(keys: readonly string[]): SshAgent {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-agent-'));
    const socket = join(dir, 'agent.sock');
    const out = execFileSync('ssh-agent', ['-s', '-a', socket], { encoding: 'utf8' });
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(out)?.[1]);
    if (!pid) throw new Error(`ssh-agent did not say its PID: ${out}`);
    const agent = new SshAgent(dir, socket, pid);
    for (const k of keys) execFileSync('ssh-add', ['-q', k], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'pipe' });
    return agent;
  }

  dispose(): void {
    try {
      process.kill(this.pid);
    } catch {
      // already gone
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
