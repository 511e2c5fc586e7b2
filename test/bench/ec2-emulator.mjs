// The EC2 emulator (TypeScript, test/emulators/ec2) for benchmarks, which are plain Node: bundled
// with rolldown into .bench/ (two levels below the repository, where the emulator expects to
// find test/setup) and run as a child process, so the benchmark's blocking spawnSync calls never
// stall it. Stopped (every container and image it made removed) when the benchmark exits.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './harness.mjs';

const DIR = join(ROOT, '.bench', 'ec2');

const RUNNER = `import { startEc2Emulator } from './index.js';
const emu = await startEc2Emulator();
const ami = await emu.registerImage({ name: 'debian-12-amd64-base', ownerId: '136693071363' });
process.stdout.write(JSON.stringify({ endpoint: emu.endpoint, ami }) + '\\n');
const stop = async () => { await emu.stop(); process.exit(0); };
process.on('SIGTERM', stop);
process.stdin.on('end', stop).resume();
`;

export async function startEmulator() {
  mkdirSync(DIR, { recursive: true });
  execFileSync('npx', ['rolldown', join(ROOT, 'test', 'emulators', 'ec2', 'index.ts'), '--format', 'esm', '--platform', 'node', '-d', DIR, '--logLevel', 'warn'], { cwd: ROOT, stdio: 'pipe' });
  writeFileSync(join(DIR, 'run.mjs'), RUNNER);
  // Its stdin is a pipe from this process: when the benchmark dies, the emulator cleans up too.
  const child = spawn(process.execPath, [join(DIR, 'run.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const info = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      if (out.includes('\n')) resolve(JSON.parse(out));
    });
    child.on('exit', (code) => reject(new Error(`the EC2 emulator exited (${code}) before it was ready: is test/setup/ami-image.sh done?`)));
  });
  return {
    ...info,
    stop: () => new Promise((resolve) => {
      child.on('exit', resolve);
      child.stdin.end();
    }),
  };
}
