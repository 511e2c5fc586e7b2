/**
 * The SSH communicator against a real OpenSSH sshd: commands, environment values, a pty, file
 * and tree transfers (SFTP and scp) with Packer's trailing-slash rules, modes, symlinks and
 * unicode names, host-key pinning, temporary key pairs, a bastion and a SOCKS5 proxy.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, HostKeyGuard, SshCommunicator, waitForSsh } from '../../src/communicator/ssh/index.js';
import { STOP_GRACE_MS } from '../../src/communicator/ssh/exec.js';
import { clearTemporaryKey, sshSettings } from '../../src/sdk/ssh.js';
import type { SshConfigFields } from '../../src/sdk/ssh-config.js';
import { BUSYBOX, skipWithout, SSHD } from '../helpers/components.js';
import { freePort, PASSWORD_USER, SshAgent, Sshd } from '../helpers/sshd.js';

const skip = skipWithout(SSHD);
const quiet = { say: () => undefined, message: () => undefined };

let sshd: Sshd;
let local: string;
const open: SshCommunicator[] = [];

beforeAll(async () => {
  if (skip) return;
  sshd = await Sshd.start();
  local = mkdtempSync(join(tmpdir(), 'kiln-ssh-local-'));
});
afterAll(async () => {
  for (const c of open) await c.close();
  if (sshd) sshd.ssh(`rm -rf /tmp/kiln-ssh-it-${sshd.port}`);
  sshd?.dispose();
  if (local) rmSync(local, { recursive: true, force: true });
});

function config(extra: Partial<SshConfigFields> = {}, server = sshd): SshConfigFields {
  return { ssh_host: server.host, ssh_port: server.port, ssh_username: server.user, ssh_private_key_file: server.clientKey, ssh_timeout: 20_000, ...extra };
}

async function connect(extra: Partial<SshConfigFields> = {}, guard = new HostKeyGuard(), server = sshd): Promise<SshCommunicator> {
  const settings = sshSettings(config(extra, server));
  const conn = await waitForSsh(settings, guard, quiet, new AbortController().signal);
  const c = new SshCommunicator(settings, guard, conn);
  open.push(c);
  return c;
}

async function run(c: SshCommunicator, cmd: string, env?: Record<string, string>): Promise<{ out: string[]; err: string[]; code: number | null }> {
  const out: string[] = [];
  const err: string[] = [];
  const r = await c.exec(cmd, { env, onStdout: (l) => out.push(l), onStderr: (l) => err.push(l) });
  return { out, err, code: r.exitCode };
}

/** A fresh remote directory for one test, owned by the test user. */
function remoteDir(name: string): string {
  const d = `/tmp/kiln-ssh-it-${sshd.port}/${name}`;
  sshd.ssh(`rm -rf '${d}'`);
  return d;
}

function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const s = statSync(p);
      out[r] = `${(s.mode & 0o777).toString(8)}${s.isDirectory() ? ' dir' : ` ${readFileSync(p, 'utf8')}`}`;
      if (s.isDirectory()) walk(p, r);
    }
  };
  walk(root, '');
  return out;
}

function makeSourceTree(): string {
  const src = join(local, `src-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(src, 'sub dir', 'ünï'), { recursive: true });
  writeFileSync(join(src, 'a.txt'), 'alpha\n');
  writeFileSync(join(src, 'run.sh'), '#!/bin/sh\necho run\n', { mode: 0o750 });
  writeFileSync(join(src, 'sub dir', 'ünï', 'naïve file.txt'), 'unicode\n');
  writeFileSync(join(src, 'empty'), '');
  symlinkSync('a.txt', join(src, 'link-to-a'));
  symlinkSync('sub dir', join(src, 'link-to-dir'));
  return src;
}

/**
 * The tree of makeSourceTree uploaded both ways (Packer's trailing-slash rule), checked as `find`
 * sees it remotely. Returns the sessions `server` started during the two uploads (from its log).
 */
async function expectTreeUpload(c: SshCommunicator, name: string, server = sshd): Promise<string[]> {
  const src = makeSourceTree();
  const base = remoteDir(name);
  const seen: [number, number][] = [];
  const logStart = server.log().length;
  await c.uploadDir(src, `${base}/a/b`, { onProgress: (d, t) => seen.push([d, t]) });
  await c.uploadDir(`${src}/`, `${base}/contents`);
  // sshd (LogLevel VERBOSE) logs each session it starts: a command or a subsystem.
  const sessions = server.log().slice(logStart).match(/Starting session: \S+( '\w+')?/g) ?? [];
  const srcName = src.split('/').pop()!;
  const listing = (d: string): string => sshd.ssh(`cd '${d}' && find . -printf '%p %m %y\\n' | LC_ALL=C sort`);
  const expected = [
    '. 755 d',
    './a.txt 644 f',
    './empty 644 f',
    './link-to-a 644 f',
    './link-to-dir 755 d',
    './link-to-dir/ünï 755 d',
    './link-to-dir/ünï/naïve file.txt 644 f',
    './run.sh 750 f',
    './sub dir 755 d',
    './sub dir/ünï 755 d',
    './sub dir/ünï/naïve file.txt 644 f',
  ];
  expect(listing(`${base}/a/b/${srcName}`).trim().split('\n')).toEqual(expected);
  expect(listing(`${base}/contents`).trim().split('\n').slice(1)).toEqual(expected.slice(1));
  expect(sshd.ssh(`cat '${base}/a/b/${srcName}/link-to-a' '${base}/contents/sub dir/ünï/naïve file.txt'`)).toBe('alpha\nunicode\n');
  // a.txt, run.sh, link-to-a and naïve file.txt (in sub dir and through link-to-dir).
  const total = 6 + 19 + 6 + 8 + 8;
  expect(seen.at(-1)).toEqual([total, total]);
  return sessions;
}

describe.skipIf(skip)('ssh communicator: commands', () => {
  it('streams stdout and stderr line by line and reports the exit status', async () => {
    const c = await connect();
    const r = await run(c, 'echo one; echo two >&2; printf "no newline"; exit 7');
    expect(r.out).toEqual(['one', 'no newline']);
    expect(r.err).toEqual(['two']);
    expect(r.code).toBe(7);
  });

  it('delivers each line as it is printed, not when the command ends', async () => {
    const c = await connect();
    const at: [string, number][] = [];
    await c.exec('echo a; sleep 2; echo b', { onStdout: (l) => at.push([l, Date.now()]) });
    expect(at.map(([l]) => l)).toEqual(['a', 'b']);
    expect(at[1]![1] - at[0]![1]).toBeGreaterThanOrEqual(1500);
  });

  it('passes environment values byte for byte', async () => {
    const c = await connect();
    const value = `it's "quoted" $HOME \`id\` ;|& \\ back\nsecond line 'x' ünï`;
    const r = await run(c, 'printf "%s" "$WEIRD"', { WEIRD: value, EMPTY: '' });
    expect(r.out.join('\n')).toBe(value);
    expect((await run(c, 'echo "[${EMPTY-unset}]"', { EMPTY: '' })).out).toEqual(['[]']);
  });

  it('allocates a terminal with ssh_pty', async () => {
    expect((await run(await connect(), 'tty || true')).out).toEqual(['not a tty']);
    const r = await run(await connect({ ssh_pty: true }), 'tty');
    expect(r.out[0]).toMatch(/^\/dev\/pts\/\d+$/);
  });

  it('delivers 100,000 lines in order', async () => {
    const c = await connect();
    const r = await run(c, 'seq 1 100000');
    expect(r.out.length).toBe(100_000);
    expect(r.out.every((l, i) => l === String(i + 1))).toBe(true);
  });

  /** A `sleep` command line no other run on this machine has: the check below looks for it. */
  const uniqueSleep = (): string => `sleep ${600 + Math.floor(Math.random() * 10_000)}.${process.pid}`;

  /** Starts `cmd` (which prints "started"), cancels it once it has, and says how it ended. */
  async function cancelAfterStart(cmd: string): Promise<{ result: Awaited<ReturnType<SshCommunicator['exec']>>; ms: number }> {
    const c = await connect();
    const ac = new AbortController();
    let started: () => void = () => undefined;
    const isStarted = new Promise<void>((r) => (started = r));
    const running = c.exec(cmd, { signal: ac.signal, onStdout: (l) => l === 'started' && started() });
    await isStarted;
    const t = Date.now();
    ac.abort();
    const result = await running;
    return { result, ms: Date.now() - t };
  }

  it('a cancelled command is stopped on the remote machine, its children too (TERM to its process group)', async () => {
    const marker = uniqueSleep();
    const { result, ms } = await cancelAfterStart(`echo started; ${marker}; echo never`);
    expect(result).toEqual({ exitCode: null, signal: 'SIGTERM' });
    expect(ms).toBeLessThan(2000);
    // "[s]leep" matches the command but not this check's own command line.
    expect(sshd.ssh(`pgrep -f '[${marker[0]}]${marker.slice(1)}' || echo none`).trim()).toBe('none');
  });

  it('a cancelled command that ignores TERM is killed after the grace period, and nothing waits longer', async () => {
    const marker = uniqueSleep();
    const { result, ms } = await cancelAfterStart(`trap '' TERM; echo started; ${marker}`);
    expect(result).toEqual({ exitCode: null, signal: 'SIGKILL' });
    expect(ms).toBeGreaterThanOrEqual(STOP_GRACE_MS - 100);
    expect(ms).toBeLessThan(2 * STOP_GRACE_MS);
    // "[s]leep" matches the command but not this check's own command line.
    expect(sshd.ssh(`pgrep -f '[${marker[0]}]${marker.slice(1)}' || echo none`).trim()).toBe('none');
  }, 30_000);
});

describe.skipIf(skip)('ssh communicator: files', () => {
  for (const method of ['sftp', 'scp'] as const) {
    describe(method, () => {
      it('uploads a file with its mode, creating missing parents, and reports progress', async () => {
        const c = await connect({ ssh_file_transfer_method: method });
        const src = join(local, `script-${method}.sh`);
        writeFileSync(src, '#!/bin/sh\necho hi\n'.repeat(50_000), { mode: 0o751 });
        const dst = `${remoteDir(`file-${method}`)}/new parent/ünï/script.sh`;
        const seen: [number, number][] = [];
        await c.upload(src, dst, { onProgress: (d, t) => seen.push([d, t]) });
        expect(sshd.ssh(`stat -c '%a %s' '${dst}'`).trim()).toBe(`751 ${statSync(src).size}`);
        expect(sshd.ssh(`sha256sum < '${dst}'`)).toBe(execSha(src));
        expect(seen.at(-1)).toEqual([statSync(src).size, statSync(src).size]);
      });

      it('puts a file sent to an existing directory inside it, as cp does; a stream needs a file name', async () => {
        const c = await connect({ ssh_file_transfer_method: method });
        const dir = `${remoteDir(`into-dir-${method}`)}/existing dir`;
        sshd.ssh(`mkdir -p '${dir}'`);
        const src = join(local, `into ${method}.txt`);
        writeFileSync(src, `inside ${method}\n`);
        await c.upload(src, dir);
        expect(sshd.ssh(`cat '${dir}/into ${method}.txt'`)).toBe(`inside ${method}\n`);
        const err = await c.upload({ stream: Readable.from([Buffer.from('x')]), size: 1 }, dir).catch((e: Error) => e);
        expect(String(err)).toMatch(method === 'sftp' ? /existing dir is a directory on the remote machine: name the file to write inside it/ : /existing dir: Is a directory/);
        expect(sshd.ssh(`ls -A '${dir}'`)).toBe(`into ${method}.txt\n`);
      });

      it('uploads a stream of known size', async () => {
        const c = await connect({ ssh_file_transfer_method: method });
        const dst = `${remoteDir(`stream-${method}`)}/from-stream.txt`;
        await c.upload({ stream: Readable.from([Buffer.from('streamed\n')]), size: 9 }, dst, { mode: 0o600 });
        expect(sshd.ssh(`stat -c %a '${dst}'; cat '${dst}'`)).toBe('600\nstreamed\n');
      });

      it('uploads a tree as one tar stream: "src" becomes dst/src, "src/" fills dst; modes kept, symlinks followed', async () => {
        const c = await connect({ ssh_file_transfer_method: method });
        // Commands only, no SFTP: the tar probe (once per connection) and one extraction per tree.
        expect(await expectTreeUpload(c, `tree-${method}`)).toEqual(Array(3).fill('Starting session: command'));
      });

      it('downloads a file and a tree with the same trailing-slash rule, keeping modes', async () => {
        const c = await connect({ ssh_file_transfer_method: method });
        const base = remoteDir(`down-${method}`);
        sshd.ssh(`mkdir -p '${base}/tree/sub dir' && printf one > '${base}/tree/one' && printf 'two ü' > '${base}/tree/sub dir/twö' && chmod 700 '${base}/tree/one' && chmod 750 '${base}/tree/sub dir'`);
        const out = join(local, `down-${method}`);
        await c.download(`${base}/tree/one`, join(out, 'single', 'one.txt'));
        expect(readFileSync(join(out, 'single', 'one.txt'), 'utf8')).toBe('one');
        expect(statSync(join(out, 'single', 'one.txt')).mode & 0o777).toBe(0o700);
        await c.downloadDir(`${base}/tree`, join(out, 'named'));
        await c.downloadDir(`${base}/tree/`, join(out, 'contents'));
        const want = { one: '700 one', 'sub dir': '750 dir', 'sub dir/twö': '644 two ü' };
        expect(tree(join(out, 'named', 'tree'))).toEqual(want);
        expect(tree(join(out, 'contents'))).toEqual(want);
      });
    });
  }

  it('scp downloads a 128 MiB file intact, reading it as the disk takes it', async () => {
    const c = await connect({ ssh_file_transfer_method: 'scp' });
    const src = `${remoteDir('scp-big')}/big.bin`;
    sshd.ssh(`mkdir -p "$(dirname '${src}')" && head -c 134217728 /dev/urandom > '${src}'`);
    const dst = join(local, 'scp-big.bin');
    const seen: [number, number][] = [];
    await c.download(src, dst, { onProgress: (d, t) => seen.push([d, t]) });
    expect(statSync(dst).size).toBe(134_217_728);
    expect(execSha(dst)).toBe(sshd.ssh(`sha256sum < '${src}'`));
    expect(seen.at(-1)).toEqual([134_217_728, 134_217_728]);
    rmSync(dst);
  });

  it('says which file could not be written', async () => {
    const c = await connect();
    const src = join(local, 'small.txt');
    writeFileSync(src, 'x');
    await expect(c.upload(src, '/proc/kiln-cannot/x.txt')).rejects.toThrow(/\/proc\/kiln-cannot/);
  });
});

for (const flavour of ['GNU', 'BusyBox'] as const) {
  describe.skipIf(flavour === 'GNU' ? skip : skip || skipWithout(BUSYBOX))(`ssh communicator: trees as one tar stream (${flavour} tar)`, () => {
    let server: Sshd;
    let own: Sshd | undefined;
    beforeAll(async () => {
      server = flavour === 'GNU' ? sshd : (own = await Sshd.start('busybox-tar'));
    });
    afterAll(() => own?.dispose());
    const conn = (extra: Partial<SshConfigFields> = {}): Promise<SshCommunicator> => connect(extra, new HostKeyGuard(), server);

    it('uploads a tree with one command per tree and no SFTP, as the other transfers do', async () => {
      // The tar probe (once per connection) and one extraction per tree.
      expect(await expectTreeUpload(await conn(), `tree-${flavour}`, server)).toEqual(Array(3).fill('Starting session: command'));
    });

    it('gives the files to the SSH user, root as well as any other', async () => {
      const src = makeSourceTree();
      const user = remoteDir(`${flavour}-owner-user`);
      await (await conn()).uploadDir(`${src}/`, user);
      expect(sshd.ssh(`find '${user}' -printf '%u:%g\\n' | sort -u`)).toBe('kiln-ssh:kiln-ssh\n');
      const root = await conn({ ssh_username: 'root' });
      const dst = `/tmp/kiln-ssh-root-${server.port}`;
      try {
        await root.uploadDir(`${src}/`, dst);
        expect((await run(root, `find '${dst}' -printf '%u:%g\\n' | sort -u`)).out).toEqual(['root:root']);
      } finally {
        await run(root, `rm -rf '${dst}'`);
      }
    });

    it('fills read-only directories, then gives them their modes', async () => {
      const src = join(local, flavour, 'read-only');
      mkdirSync(join(src, 'ro', 'inner'), { recursive: true });
      writeFileSync(join(src, 'ro', 'inner', 'f'), 'kept\n', { mode: 0o444 });
      execFileSync('chmod', ['555', join(src, 'ro', 'inner'), join(src, 'ro')]);
      execFileSync('chmod', ['500', src]);
      const dst = remoteDir(`${flavour}-read-only`);
      try {
        await (await conn()).uploadDir(src, dst);
        expect(sshd.ssh(`cd '${dst}' && find . -printf '%p %m\\n' | LC_ALL=C sort && cat read-only/ro/inner/f`)).toBe('. 755\n./read-only 500\n./read-only/ro 555\n./read-only/ro/inner 555\n./read-only/ro/inner/f 444\nkept\n');
      } finally {
        sshd.ssh(`chmod -R u+w '${dst}'`);
        execFileSync('chmod', ['-R', 'u+w', src]);
      }
    });

    it('writes through a directory that is a symbolic link on the remote machine, keeping the link', async () => {
      const src = join(local, `through-link-${flavour}`);
      mkdirSync(join(src, 'lib'), { recursive: true });
      writeFileSync(join(src, 'lib', 'added.so'), 'so\n');
      const dst = remoteDir(`${flavour}-through-link`);
      sshd.ssh(`mkdir -p '${dst}/usr/lib' && ln -s usr/lib '${dst}/lib'`);
      await (await conn()).uploadDir(`${src}/`, dst);
      expect(sshd.ssh(`cd '${dst}' && find . -printf '%p %y\\n' | LC_ALL=C sort`)).toBe('. d\n./lib l\n./usr d\n./usr/lib d\n./usr/lib/added.so f\n');
    });

    it('keeps long unicode names and deep paths past ustar\'s 100 bytes (PAX records)', async () => {
      const src = join(local, `long-names-${flavour}`);
      const deep = join(src, ...Array.from({ length: 12 }, (_, i) => `dïrectory-${i}`));
      mkdirSync(deep, { recursive: true });
      const long = `${'ü'.repeat(100)}.txt`;
      writeFileSync(join(deep, long), 'deep\n');
      const dst = remoteDir(`${flavour}-long-names`);
      await (await conn()).uploadDir(`${src}/`, dst);
      const rel = [...Array.from({ length: 12 }, (_, i) => `dïrectory-${i}`), long].join('/');
      expect(sshd.ssh(`cat '${dst}/${rel}'`)).toBe('deep\n');
    });

    it('reports what the remote tar said, with its exit status', async () => {
      const src = makeSourceTree();
      const dst = remoteDir(`${flavour}-blocked`);
      sshd.ssh(`mkdir -p '${dst}/a.txt/in the way'`);
      const err = await (await conn()).uploadDir(`${src}/`, dst).catch((e: Error) => e);
      const said = flavour === 'GNU' ? '\\(exit status 2\\): tar: a.txt: Cannot open: File exists' : "\\(exit status 1\\): tar: can't remove old file a.txt: Is a directory";
      expect(String(err)).toMatch(new RegExp(`upload of .* failed: extracting into ${dst} on the remote machine failed ${said}`));
      const c = await conn();
      const denied = await c.uploadDir(`${src}/`, '/proc/kiln-cannot/x').catch((e: Error) => e);
      expect(String(denied)).toMatch(/extracting into \/proc\/kiln-cannot\/x on the remote machine failed \(exit status 1\): mkdir: cannot create directory/);
    });

    it('streams a large file of the tree with progress, and stops when cancelled', async () => {
      const src = join(local, `big-tree-${flavour}`);
      mkdirSync(src, { recursive: true });
      writeFileSync(join(src, 'big.bin'), Buffer.alloc(96 * 1024 * 1024, 7));
      const c = await conn();
      const dst = remoteDir(`${flavour}-big-tree`);
      const seen: [number, number][] = [];
      const ac = new AbortController();
      const started = Date.now();
      const err = await c
        .uploadDir(`${src}/`, dst, {
          signal: ac.signal,
          onProgress: (d, t) => {
            seen.push([d, t]);
            if (d > 0) ac.abort();
          },
        })
        .catch((e: Error) => e);
      expect(String(err)).toMatch(/cancelled/);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(seen[0]![0]).toBeLessThan(96 * 1024 * 1024);
      expect(seen[0]![1]).toBe(96 * 1024 * 1024);
      // The connection is still usable, and a whole upload reports every byte.
      const full: [number, number][] = [];
      await c.uploadDir(`${src}/`, dst, { onProgress: (d, t) => full.push([d, t]) });
      expect(full.length).toBeGreaterThan(1);
      expect(full.at(-1)).toEqual([96 * 1024 * 1024, 96 * 1024 * 1024]);
      expect(sshd.ssh(`stat -c %s '${dst}/big.bin'`)).toBe(`${96 * 1024 * 1024}\n`);
      rmSync(src, { recursive: true });
    });
  });
}

describe.skipIf(skip)('ssh communicator: trees on a remote without tar', () => {
  let notar: Sshd;
  beforeAll(async () => {
    notar = await Sshd.start('notar');
  });
  afterAll(() => notar?.dispose());

  for (const method of ['sftp', 'scp'] as const) {
    it(`uploads a tree file by file over ${method}, with the same result`, async () => {
      const c = await connect({ ssh_file_transfer_method: method }, new HostKeyGuard(), notar);
      const sessions = await expectTreeUpload(c, `notar-${method}`, notar);
      expect(sessions[0]).toBe('Starting session: command');
      // scp: the probe, each tree's scp -t, the chmod of a copied root; sftp: SFTP channels after the probe.
      if (method === 'scp') expect(sessions.every((l) => l === 'Starting session: command')).toBe(true);
      else expect(sessions.slice(1).every((l) => l === "Starting session: subsystem 'sftp'")).toBe(true);
    });
  }

  it('uploads a tree over several SFTP channels of one connection at the same time', async () => {
    const c = await connect({}, new HostKeyGuard(), notar);
    const src = join(local, 'many');
    mkdirSync(src);
    for (let i = 0; i < 64; i++) writeFileSync(join(src, `f${i}.txt`), `file ${i}\n`);
    const dst = remoteDir('many');
    const logStart = notar.log().length;
    await c.uploadDir(`${src}/`, dst);
    expect(sshd.ssh(`ls '${dst}' | wc -l`).trim()).toBe('64');
    // sshd (LogLevel VERBOSE) logs each SFTP channel it starts and closes, with the client's port.
    const lines = notar.log().slice(logStart).split('\n');
    const started = lines.map((l) => /Starting session: subsystem 'sftp' for kiln-ssh from 127\.0\.0\.1 port (\d+)/.exec(l)?.[1]);
    const ports = started.filter((p): p is string => p !== undefined);
    expect(new Set(ports).size).toBe(1);
    // The tar probe's session closes first; count the SFTP channels open before one of them closes.
    const firstSftp = started.findIndex(Boolean);
    const firstClose = lines.findIndex((l, i) => i > firstSftp && l.startsWith('Close session:'));
    const openAtOnce = started.slice(0, firstClose < 0 ? undefined : firstClose).filter(Boolean).length;
    expect(openAtOnce).toBeGreaterThanOrEqual(2);
  });
});

describe.skipIf(skip)('ssh communicator: host keys and authentication', () => {
  it('a reconnection is shared: one caller cancelling does not fail another, and close() stops it', async () => {
    const down = await Sshd.start();
    try {
      const c = await connect({ ssh_timeout: 20_000 }, new HostKeyGuard(), down);
      expect((await run(c, 'echo up')).out).toEqual(['up']);
      down.drop();
      down.stop();
      const cancelled = new AbortController();
      const first = c.exec('echo first', { signal: cancelled.signal }).then(
        () => 'ran',
        (e: Error) => e.message,
      );
      const out: string[] = [];
      const second = c.exec('echo second', { onStdout: (l) => out.push(l) });
      await new Promise((r) => setTimeout(r, 500));
      cancelled.abort(new Error('Build was cancelled.'));
      expect(await first).toBe('Build was cancelled.');
      down.start();
      expect((await second).exitCode).toBe(0);
      expect(out).toEqual(['second']);

      down.drop();
      down.stop();
      const t0 = Date.now();
      const waiting = c.exec('echo never').catch((e: Error) => e.message);
      await new Promise((r) => setTimeout(r, 500));
      await c.close();
      expect(await waiting).toMatch(/closed/);
      // Well within ssh_timeout (20 s): close() ended the wait for SSH.
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      down.dispose();
    }
  });

  it('runs a command on a new connection when the old one died unnoticed before the command started, and only once', async () => {
    const hung = await Sshd.start();
    try {
      const c = await connect({ ssh_read_write_timeout: 1500 }, new HostKeyGuard(), hung);
      const file = `/tmp/kiln-ssh-once-${hung.port}`;
      hung.ssh(`rm -f ${file}`);
      expect((await run(c, 'echo alive')).out).toEqual(['alive']);
      // The machine hangs between two steps: its session stops answering, the listener lives on.
      const frozen = hung.sessionPids();
      for (const p of frozen) process.kill(p, 'SIGSTOP');
      try {
        // The channel request goes unanswered until the idle timeout declares the connection dead;
        // the command itself was never sent, so it starts on a new connection.
        const r = await run(c, `echo once >> ${file}; echo ran`);
        expect(r).toEqual({ out: ['ran'], err: [], code: 0 });
      } finally {
        for (const p of frozen) process.kill(p, 'SIGCONT');
      }
      // The resumed old session finds the channel request but no command: it ran once.
      await new Promise((r) => setTimeout(r, 500));
      expect(hung.ssh(`cat ${file}`)).toBe('once\n');
    } finally {
      hung.dispose();
    }
  });

  it('accepts a pinned fingerprint and refuses another, naming both', async () => {
    const right = sshd.hostKeyFingerprint();
    await expect(connect({ ssh_host_key_fingerprint: right })).resolves.toBeInstanceOf(SshCommunicator);
    const wrong = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const err = await connect({ ssh_host_key_fingerprint: wrong }).catch((e: Error) => e);
    expect(String(err)).toContain(right);
    expect(String(err)).toContain(wrong);
    expect(String(err)).toMatch(/Refusing the SSH host key/);
  });

  it('gives up after ssh_handshake_attempts authentication failures and says so', async () => {
    const other = join(local, 'other-key');
    await generateKeyPair('ed25519', undefined, 'unauthorized', local).then((k) => writeFileSync(other, k.privateKey, { mode: 0o600 }));
    const err = await connect({ ssh_private_key_file: other, ssh_handshake_attempts: 2 }).catch((e: Error) => e);
    expect(String(err)).toMatch(/SSH authentication failed 2 time\(s\).*ssh_handshake_attempts = 2/);
  });

  it('times out on a port where nothing listens, saying the machine never answered', async () => {
    const err = await connect({ ssh_port: await freePort(), ssh_timeout: 2500 }).catch((e: Error) => e);
    expect(String(err)).toMatch(/Timeout waiting for SSH .*never answered SSH.*connection refused/);
  });

  it('keeps to ssh_timeout when a port accepts TCP but never speaks SSH', async () => {
    // A server that takes the connection and stays silent: without a deadline per attempt the
    // wait would last the TCP and handshake timeouts (90 s), not the 3 s asked for.
    const held: Socket[] = [];
    const mute = createServer((sock) => held.push(sock));
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    const port = (mute.address() as AddressInfo).port;
    try {
      const started = Date.now();
      const err = await connect({ ssh_port: port, ssh_timeout: 3000 }).catch((e: Error) => e);
      const took = Date.now() - started;
      expect(String(err)).toMatch(/Timeout waiting for SSH after 3s \(ssh_timeout\)/);
      expect(String(err)).toContain(`127.0.0.1:${port} accepts connections but did not complete the SSH handshake before ssh_timeout ran out`);
      expect(took).toBeGreaterThanOrEqual(2900);
      expect(took).toBeLessThan(5000);
    } finally {
      for (const sock of held) sock.destroy();
      mute.close();
    }
  });

  it('ssh_read_write_timeout: a connection whose server stops answering is declared dead within the timeout', async () => {
    const c = await connect({ ssh_read_write_timeout: 2000 });
    expect((await run(c, 'echo alive')).out).toEqual(['alive']);
    // Freeze every session of this server (as a hung machine would): this communicator's is among them.
    const frozen = sshd.sessionPids();
    expect(frozen.length).toBeGreaterThan(0);
    for (const p of frozen) process.kill(p, 'SIGSTOP');
    try {
      const started = Date.now();
      const err = await c.upload({ stream: Readable.from([Buffer.alloc(1 << 20)]), size: 1 << 20 }, `${remoteDir('rw-timeout')}/x.bin`).catch((e: Error) => e);
      expect(Date.now() - started).toBeLessThan(4500);
      expect(String(err)).toMatch(/was lost during the upload of a stream .* no data for 2s \(ssh_read_write_timeout\): the connection is considered dead/);
    } finally {
      for (const p of frozen) process.kill(p, 'SIGCONT');
    }
  });

  it('ssh_clear_authorized_keys: the temporary key line goes, other keys stay', async () => {
    const c = await connect();
    const pair = await generateKeyPair('ed25519', undefined, 'kiln_clear.test', mkdtempSync(join(local, 'key-')));
    const keep = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeepKeepKeepKeepKeepKeepKeepKeepKeepKeepKeep kiln_clearXtest';
    await run(c, `mkdir -p ~/.ssh && printf '%s\\n%s\\n' '${keep}' '${pair.publicKey}' > ~/.ssh/authorized_keys`);
    const said: string[] = [];
    try {
      await clearTemporaryKey({ signal: new AbortController().signal, ui: { say: (m) => said.push(m), message: (m) => said.push(m) } }, c, pair);
      expect((await run(c, 'cat ~/.ssh/authorized_keys; ls ~/.ssh')).out).toEqual([keep, 'authorized_keys']);
      expect(said[0]).toBe('Trying to remove ephemeral keys from authorized_keys files');
    } finally {
      await run(c, 'rm -rf ~/.ssh');
    }
  });

  it('logs in with a generated temporary key pair, written 0600', async () => {
    for (const type of ['ed25519', 'rsa'] as const) {
      const dir = mkdtempSync(join(local, 'key-'));
      const pair = await generateKeyPair(type, type === 'rsa' ? 2048 : undefined, `kiln_test_${type}`, dir);
      expect(statSync(pair.privateKeyFile).mode & 0o777).toBe(0o600);
      expect(pair.publicKey).toMatch(new RegExp(`^ssh-(ed25519|rsa) \\S+ kiln_test_${type}$`));
      appendFileSync(join(sshd.dir, 'authorized_keys'), `${pair.publicKey}\n`);
      const c = await connect({ ssh_private_key_file: pair.privateKeyFile });
      expect((await run(c, 'echo in')).out).toEqual(['in']);
    }
  });
});

describe.skipIf(skip)('ssh communicator: password, keyboard-interactive and agent logins', () => {
  let pw: Sshd;
  let kbd: Sshd;
  let agent: SshAgent;
  const savedSock = process.env.SSH_AUTH_SOCK;
  beforeAll(async () => {
    pw = await Sshd.start('password');
    kbd = await Sshd.start('kbdint');
    agent = SshAgent.start([sshd.clientKey]);
  });
  afterAll(() => {
    if (savedSock === undefined) delete process.env.SSH_AUTH_SOCK;
    else process.env.SSH_AUTH_SOCK = savedSock;
    agent?.dispose();
    pw?.dispose();
    kbd?.dispose();
  });

  const asPasswordUser = (server: Sshd, extra: Partial<SshConfigFields> = {}): Partial<SshConfigFields> => ({
    ssh_port: server.port,
    ssh_username: PASSWORD_USER,
    ssh_private_key_file: undefined,
    ssh_password: server.password,
    ...extra,
  });

  it('logs in with ssh_password; a wrong one fails as an authentication failure', async () => {
    const c = await connect(asPasswordUser(pw));
    expect((await run(c, 'id -un')).out).toEqual([PASSWORD_USER]);
    expect(pw.log()).toMatch(new RegExp(`Accepted password for ${PASSWORD_USER}`));
    const err = await connect(asPasswordUser(pw, { ssh_password: 'wrong', ssh_handshake_attempts: 1 })).catch((e: Error) => e);
    expect(String(err)).toContain(`authentication failed for ${PASSWORD_USER}@127.0.0.1:${pw.port} (tried: password)`);
  });

  it('answers keyboard-interactive prompts with the password, unless ssh_keyboard_interactive = false', async () => {
    const c = await connect(asPasswordUser(kbd));
    expect((await run(c, 'id -un')).out).toEqual([PASSWORD_USER]);
    expect(kbd.log()).toMatch(new RegExp(`Accepted keyboard-interactive/pam for ${PASSWORD_USER}`));
    const err = await connect(asPasswordUser(kbd, { ssh_keyboard_interactive: false, ssh_handshake_attempts: 1 })).catch((e: Error) => e);
    expect(String(err)).toMatch(/SSH authentication failed 1 time\(s\)/);
  });

  it('logs in with a key held by ssh-agent (ssh_agent_auth, SSH_AUTH_SOCK)', async () => {
    process.env.SSH_AUTH_SOCK = agent.socket;
    const c = await connect({ ssh_private_key_file: undefined, ssh_agent_auth: true });
    expect((await run(c, 'echo from agent')).out).toEqual(['from agent']);
    delete process.env.SSH_AUTH_SOCK;
    const err = await connect({ ssh_private_key_file: undefined, ssh_agent_auth: true, ssh_handshake_attempts: 1 }).catch((e: Error) => e);
    expect(String(err)).toContain('(tried: no method)');
  });

  it('logs in to a bastion with ssh_bastion_password, or with ssh_bastion_agent_auth', async () => {
    const viaPassword = await connect({ ssh_bastion_host: pw.host, ssh_bastion_port: pw.port, ssh_bastion_username: PASSWORD_USER, ssh_bastion_password: pw.password });
    expect((await run(viaPassword, 'echo past a password bastion')).out).toEqual(['past a password bastion']);
    expect(pw.log()).toMatch(new RegExp(`Accepted password for ${PASSWORD_USER}`));
    // A bastion that authorizes only the key in the agent: its own client key, also offered, is refused.
    const keyServer = await Sshd.start();
    try {
      writeFileSync(join(keyServer.dir, 'authorized_keys'), readFileSync(`${sshd.clientKey}.pub`));
      process.env.SSH_AUTH_SOCK = agent.socket;
      const viaAgent = await connect({ ssh_bastion_host: keyServer.host, ssh_bastion_port: keyServer.port, ssh_bastion_username: keyServer.user, ssh_bastion_agent_auth: true, ssh_bastion_private_key_file: keyServer.clientKey });
      expect((await run(viaAgent, 'echo past an agent bastion')).out).toEqual(['past an agent bastion']);
      expect(keyServer.log()).toMatch(/Accepted publickey for kiln-ssh/);
    } finally {
      delete process.env.SSH_AUTH_SOCK;
      keyServer.dispose();
    }
  });
});

describe.skipIf(skip)('ssh communicator: ways through', () => {
  let bastion: Sshd;
  let socks: ChildProcess | undefined;
  beforeAll(async () => {
    bastion = await Sshd.start();
  });
  afterAll(() => {
    socks?.kill();
    bastion?.dispose();
  });

  it('tunnels through a bastion, checking its host key too', async () => {
    const c = await connect({ ssh_bastion_host: bastion.host, ssh_bastion_port: bastion.port, ssh_bastion_username: bastion.user, ssh_bastion_private_key_file: bastion.clientKey });
    expect((await run(c, 'echo through')).out).toEqual(['through']);
    expect(bastion.log()).toMatch(/Accepted publickey for kiln-ssh/);
    const wrong = 'SHA256:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';
    const err = await connect({ ssh_bastion_host: bastion.host, ssh_bastion_port: bastion.port, ssh_bastion_username: bastion.user, ssh_bastion_private_key_file: bastion.clientKey, ssh_bastion_host_key_fingerprint: wrong }).catch((e: Error) => e);
    expect(String(err)).toMatch(/Refusing the bastion host key/);
    expect(String(err)).toContain(bastion.hostKeyFingerprint());
  });

  it('refuses a bastion whose host key changed during the build, though none was pinned', async () => {
    const moving = await Sshd.start();
    try {
      const before = moving.hostKeyFingerprint();
      const c = await connect({ ssh_bastion_host: moving.host, ssh_bastion_port: moving.port, ssh_bastion_username: moving.user, ssh_bastion_private_key_file: moving.clientKey, ssh_timeout: 5000 });
      expect((await run(c, 'echo first')).out).toEqual(['first']);
      moving.rekey();
      // The restart drops the tunnel: the next command must reconnect through the bastion.
      moving.restart();
      const err = await c.exec('echo second').catch((e: Error) => e);
      expect(String(err)).toContain(`Refusing the bastion host key of 127.0.0.1:${moving.port}: it offered ssh-ed25519 key ${moving.hostKeyFingerprint()}`);
      expect(String(err)).toContain(`which is ${before}`);
    } finally {
      moving.dispose();
    }
  });

  it('connects through a SOCKS5 proxy (OpenSSH ssh -D)', async () => {
    const port = await freePort();
    socks = spawn('ssh', ['-N', '-D', `127.0.0.1:${port}`, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-i', bastion.clientKey, '-p', String(bastion.port), `${bastion.user}@${bastion.host}`], { stdio: 'ignore' });
    // ssh_timeout covers the moment until the proxy listens.
    const c = await connect({ ssh_proxy_host: '127.0.0.1', ssh_proxy_port: port });
    expect((await run(c, 'echo proxied')).out).toEqual(['proxied']);
  });
});

/** What `sha256sum < file` prints for a local file. */
function execSha(path: string): string {
  return `${createHash('sha256').update(readFileSync(path)).digest('hex')}  -\n`;
}
