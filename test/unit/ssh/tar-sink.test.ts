/**
 * The tar stream's sink on its own, with a stand-in for the ssh2 channel: the archive it sends
 * (extracted by the real GNU tar), its reuse of batch buffers, and its pacing by the remote tar's
 * progress dots. The whole path against OpenSSH is in test/integration/ssh-communicator.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DOT_TIMEOUT_MS, IN_FLIGHT, Sink, type SinkChannel } from '../../../src/communicator/ssh/tar-tree.js';
import { encodeHeader, END_OF_ARCHIVE } from '../../../src/formats/tar/header.js';

/** Takes writes like ssh2: it may keep a buffer until `release`, and copies it only then. */
class FakeChannel extends EventEmitter {
  readonly stderr = new EventEmitter();
  readonly received: Buffer[] = [];
  private held: { b: Buffer; cb?: () => void }[] = [];
  constructor(private readonly holdWrites: boolean) {
    super();
  }
  write(b: Buffer, cb?: () => void): boolean {
    this.held.push({ b, cb });
    if (!this.holdWrites) this.release();
    return true;
  }
  release(): void {
    for (const { b, cb } of this.held.splice(0)) {
      this.received.push(Buffer.from(b));
      cb?.();
    }
  }
  get bytes(): number {
    return this.received.reduce((n, b) => n + b.length, 0);
  }
}

function sinkOn(channel: FakeChannel, paced: boolean): Sink {
  return new Sink(channel as unknown as SinkChannel, '/remote/dst', () => undefined, paced);
}

const header = (name: string) => (size: number) => encodeHeader({ name, type: 'file', mode: 0o640, uid: 0, gid: 0, size, mtime: 1_700_000_000 });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-tar-sink-'));
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

/** `count` files of distinct sizes and contents under dir/src. */
function makeFiles(count: number): string[] {
  mkdirSync(join(dir, 'src'));
  return Array.from({ length: count }, (_, i) => {
    const name = `f${i}.txt`;
    writeFileSync(join(dir, 'src', name), `${i}:`.repeat(1 + ((i * 37) % 900)));
    return name;
  });
}

async function sendAll(sink: Sink, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const path = join(dir, 'src', name);
    await sink.pushSmallFile(path, readFileSync(path).length, header(name));
  }
  await sink.push(END_OF_ARCHIVE);
  await sink.flush();
}

describe('tar sink', () => {
  it('sends an archive GNU tar extracts to the same files, though the channel keeps buffers a while', async () => {
    const names = makeFiles(1500);
    const channel = new FakeChannel(true);
    const sink = sinkOn(channel, false);
    const sending = sendAll(sink, names);
    // The channel lets buffers go a few turns late, as ssh2 does when the window is short.
    const timer = setInterval(() => channel.release(), 1);
    await sending;
    clearInterval(timer);
    channel.release();
    writeFileSync(join(dir, 'out.tar'), Buffer.concat(channel.received));
    mkdirSync(join(dir, 'x'));
    execFileSync('tar', ['-x', '-f', join(dir, 'out.tar'), '-C', join(dir, 'x')]);
    expect(readdirSync(join(dir, 'x')).sort()).toEqual([...names].sort());
    for (const name of names) expect(readFileSync(join(dir, 'x', name), 'utf8')).toBe(readFileSync(join(dir, 'src', name), 'utf8'));
  });

  it('keeps what the remote tar has not reported read below IN_FLIGHT, and goes on as its dots come', async () => {
    const names = makeFiles(1000);
    const channel = new FakeChannel(false);
    const sink = sinkOn(channel, true);
    let finished = false;
    const sending = sendAll(sink, names).then(() => (finished = true));
    await new Promise((r) => setTimeout(r, 50));
    const total = names.length * 512 + names.reduce((n, name) => n + Math.ceil(readFileSync(join(dir, 'src', name)).length / 512) * 512, 0);
    expect(total).toBeGreaterThan(2 * IN_FLIGHT);
    expect(finished).toBe(false);
    // One batch may go out past the mark: the check is before each write.
    expect(channel.bytes).toBeGreaterThan(IN_FLIGHT);
    expect(channel.bytes).toBeLessThanOrEqual(IN_FLIGHT + 256 * 1024);
    const before = channel.bytes;
    // A dot per 50 KiB read: report all that was sent as read, a few times over.
    for (let i = 0; !finished && i < 50; i++) {
      channel.emit('data', Buffer.from('.'.repeat(Math.ceil(channel.bytes / (50 * 1024)))));
      await new Promise((r) => setTimeout(r, 5));
    }
    await sending;
    expect(channel.bytes).toBeGreaterThan(before);
    expect(channel.bytes).toBe(total + END_OF_ARCHIVE.length);
  });

  it(`sends unpaced once no dot has come for ${DOT_TIMEOUT_MS} ms, rather than waiting for ever`, async () => {
    const names = makeFiles(1000);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const channel = new FakeChannel(false);
    const sink = sinkOn(channel, true);
    let finished = false;
    const sending = sendAll(sink, names).then(() => (finished = true));
    await vi.advanceTimersByTimeAsync(DOT_TIMEOUT_MS - 100);
    expect(finished).toBe(false);
    await vi.advanceTimersByTimeAsync(200);
    await sending;
    expect(finished).toBe(true);
  });

  it('stops waiting for dots when the remote command ends, and says so', async () => {
    const names = makeFiles(1000);
    const channel = new FakeChannel(false);
    const sink = sinkOn(channel, true);
    const sending = sendAll(sink, names);
    await new Promise((r) => setTimeout(r, 20));
    channel.stderr.emit('data', Buffer.from('tar: /remote/dst: Cannot open: Permission denied\n'));
    channel.emit('exit', 2);
    channel.emit('close');
    const started = Date.now();
    await expect(sending).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(DOT_TIMEOUT_MS / 2);
    expect(sink.failure().message).toBe('extracting into /remote/dst on the remote machine failed (exit status 2): tar: /remote/dst: Cannot open: Permission denied');
  });
});
