// A private OpenSSH sshd for the SSH benchmarks (test/setup/sshd.sh), shared by kiln and its
// peers in the same run; stopped when the process exits. Both log in as the kiln-ssh test user.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './harness.mjs';

const SCRIPT = join(ROOT, 'test', 'setup', 'sshd.sh');

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function startSshd() {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-sshd-'));
  const port = await freePort();
  const r = spawnSync('bash', [SCRIPT, 'start', dir, String(port)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot start sshd: ${r.stderr}`);
  const server = {
    dir,
    port,
    host: '127.0.0.1',
    user: 'kiln-ssh',
    key: join(dir, 'clientkey'),
    sshArgs: ['-q', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-i', join(dir, 'clientkey')],
    /** Runs a shell command on the server as the test user. */
    ssh(command) {
      return execFileSync('ssh', [...server.sshArgs, '-p', String(port), `kiln-ssh@127.0.0.1`, command], { encoding: 'utf8' });
    },
    /** The HCL of a null source reaching this server. */
    sourceHcl(name = 't') {
      return `source "null" "${name}" {\n  ssh_host = "127.0.0.1"\n  ssh_port = ${port}\n  ssh_username = "kiln-ssh"\n  ssh_private_key_file = "${join(dir, 'clientkey')}"\n}\n`;
    },
  };
  process.on('exit', () => {
    spawnSync('bash', [SCRIPT, 'stop', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return server;
}
