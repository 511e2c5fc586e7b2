/**
 * The classic scp protocol (`scp -t` / `scp -f` on the remote side), for
 * ssh_file_transfer_method = "scp" and servers without an SFTP subsystem. Data is streamed in
 * both directions; parents of a destination are created with `mkdir -p` first.
 */
import { createReadStream } from 'node:fs';
import { mkdir as mkdirLocal, open as openLocal, chmod as chmodLocal } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { shellQuote } from '../shell-quote.js';
import type { SshConnection } from './connect.js';
import type { TreeEntry } from './local-tree.js';
import { dirModeCommands } from './tar-tree.js';

/**
 * Unread bytes held from the remote scp before its channel is paused. Pausing stops ssh2 from
 * opening the SSH window, so the server stops sending until the local disk has caught up.
 */
const HIGH_WATER = 4 * 1024 * 1024;

/** Reads the remote scp's answers: status bytes, header lines and file data. */
class Incoming {
  /** The backlog, oldest first; bytes are sliced off the front, never copied into one buffer. */
  private chunks: Buffer[] = [];
  private length = 0;
  /** How much of the backlog is known to hold no newline, so line() scans each byte once. */
  private scanned = 0;
  private paused = false;
  private waiter: (() => void) | undefined;
  private ended: Error | undefined;

  constructor(
    private readonly channel: ClientChannel,
    stderr: string[],
  ) {
    channel.on('data', (c: Buffer) => {
      this.chunks.push(c);
      this.length += c.length;
      if (this.length >= HIGH_WATER && !this.paused) {
        this.paused = true;
        channel.pause();
      }
      this.wake();
    });
    channel.stderr.on('data', (c: Buffer) => stderr.push(c.toString()));
    channel.on('close', () => {
      this.ended = new Error(`the remote scp ended early${stderr.length ? `: ${stderr.join('').trim()}` : ''}`);
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.channel.resume();
  }

  private async need(n: number): Promise<void> {
    while (this.length < n) {
      if (this.ended) throw this.ended;
      // The reader wants more than the backlog holds: a paused channel must flow again.
      this.resume();
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  /** The first `n` bytes of the backlog (n <= length); copies only when they span chunks. */
  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let head: Buffer;
    if (first.length >= n) {
      head = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const parts: Buffer[] = [];
      let left = n;
      while (left > 0) {
        const c = this.chunks[0]!;
        if (c.length <= left) {
          parts.push(c);
          this.chunks.shift();
          left -= c.length;
        } else {
          parts.push(c.subarray(0, left));
          this.chunks[0] = c.subarray(left);
          left = 0;
        }
      }
      head = Buffer.concat(parts, n);
    }
    this.length -= n;
    this.scanned = Math.max(0, this.scanned - n);
    if (this.length < HIGH_WATER) this.resume();
    return head;
  }

  /** Offset of the first newline in the backlog, or -1; resumes where the last search stopped. */
  private newline(): number {
    let base = 0;
    for (const c of this.chunks) {
      if (base + c.length > this.scanned) {
        const i = c.indexOf(10, Math.max(0, this.scanned - base));
        if (i >= 0) return base + i;
      }
      base += c.length;
    }
    this.scanned = base;
    return -1;
  }

  async line(): Promise<string> {
    for (;;) {
      const nl = this.newline();
      if (nl >= 0) return this.take(nl + 1).toString('utf8').slice(0, -1);
      await this.need(this.length + 1);
    }
  }

  /** The status byte scp sends after each step: 0 is OK, 1 a warning and 2 an error, both with a message line. */
  async ack(what: string): Promise<void> {
    await this.need(1);
    const b = this.take(1)[0]!;
    if (b === 0) return;
    const msg = await this.line().catch(() => '');
    throw new Error(`scp refused ${what}: ${msg.trim() || `status ${b}`}`);
  }

  /** Streams exactly `n` bytes to `sink`, chunk by chunk. */
  async data(n: number, sink: (b: Buffer) => Promise<void>): Promise<void> {
    let left = n;
    while (left > 0) {
      await this.need(1);
      // One received chunk at a time: a slice of it, not a copy.
      const b = this.take(Math.min(left, this.chunks[0]!.length));
      left -= b.length;
      await sink(b);
    }
  }
}

function start(conn: SshConnection, command: string): Promise<{ channel: ClientChannel; incoming: Incoming; done: Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    conn.client.exec(command, (err, channel) => {
      if (err) return reject(new Error(`cannot start scp on ${conn.label}: ${err.message}`));
      const stderr: string[] = [];
      const incoming = new Incoming(channel, stderr);
      let code: number | null = null;
      channel.on('exit', (c: number | null) => (code = c));
      const done = new Promise<number | null>((r) => channel.on('close', () => r(code)));
      resolve({ channel, incoming, done });
    });
  });
}

function write(channel: ClientChannel, data: Buffer | string): Promise<void> {
  return new Promise((resolve) => (channel.write(data) ? resolve() : channel.once('drain', () => resolve())));
}

function parent(path: string): string {
  const i = path.replace(/\/+$/, '').lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : path.slice(0, i);
}

async function sendFile(channel: ClientChannel, incoming: Incoming, name: string, src: Readable, size: number, mode: number, onBytes: (n: number) => void): Promise<void> {
  if (/[\n/]/.test(name)) throw new Error(`scp cannot send a file named ${JSON.stringify(name)}`);
  await write(channel, `C${(mode & 0o7777).toString(8).padStart(4, '0')} ${size} ${name}\n`);
  await incoming.ack(`the file ${name}`);
  let sent = 0;
  for await (const chunk of src as AsyncIterable<Buffer>) {
    sent += chunk.length;
    if (sent > size) throw new Error(`${name} grew while it was being sent`);
    await write(channel, chunk);
    onBytes(chunk.length);
  }
  if (sent !== size) throw new Error(`${name} has ${sent} bytes, ${size} were announced`);
  await write(channel, Buffer.from([0]));
  await incoming.ack(`the data of ${name}`);
}

async function finish(channel: ClientChannel, done: Promise<number | null>, what: string): Promise<void> {
  channel.end();
  const code = await done;
  if (code !== 0) throw new Error(`scp ${what} ended with exit status ${code ?? 'unknown'}`);
}

/**
 * Uploads one file. With `name` (the source's file name), `scp -t dst` gets the same rule as
 * cp: an existing directory at dst receives the file as dst/name, anything else is written at
 * dst. A stream has no name of its own: it is sent to dst's parent as basename(dst).
 */
export async function scpUpload(conn: SshConnection, src: Readable, size: number, dst: string, mode: number, name: string | undefined, onBytes: (n: number) => void): Promise<void> {
  const dir = parent(dst);
  const target = name === undefined ? dir : dst;
  const { channel, incoming, done } = await start(conn, `mkdir -p -- ${shellQuote(dir)} && scp -t -- ${shellQuote(target)}`);
  try {
    await incoming.ack(`the destination ${target}`);
    await sendFile(channel, incoming, name ?? basename(dst), src, size, mode, onBytes);
    await finish(channel, done, `upload of ${dst}`);
  } finally {
    channel.close();
  }
}

/** Uploads `entries` (from walkLocal) so that the tree's root becomes `dstRoot`. */
export async function scpUploadTree(conn: SshConnection, entries: readonly TreeEntry[], dstRoot: string, applyRootMode: boolean, onBytes: (n: number) => void): Promise<void> {
  const children = new Map<string, TreeEntry[]>();
  for (const e of entries) {
    if (e.rel === '') continue;
    const p = e.rel.includes('/') ? e.rel.slice(0, e.rel.lastIndexOf('/')) : '';
    children.set(p, [...(children.get(p) ?? []), e]);
  }
  const { channel, incoming, done } = await start(conn, `mkdir -p -- ${shellQuote(dstRoot)} && scp -r -t -- ${shellQuote(dstRoot)}`);
  const send = async (rel: string): Promise<void> => {
    for (const e of children.get(rel) ?? []) {
      const name = basename(e.rel);
      if (e.kind === 'file') {
        await sendFile(channel, incoming, name, createReadStream(e.abs), e.size, e.mode, onBytes);
        continue;
      }
      // Directories go over writable by us and get their own mode from the D record.
      await write(channel, `D${(e.mode | 0o700).toString(8).padStart(4, '0')} 0 ${name}\n`);
      await incoming.ack(`the directory ${name}`);
      await send(e.rel);
      await write(channel, 'E\n');
      await incoming.ack(`the end of directory ${name}`);
    }
  };
  try {
    await incoming.ack(`the destination ${dstRoot}`);
    await send('');
    await finish(channel, done, `upload to ${dstRoot}`);
  } finally {
    channel.close();
  }
  const cmds = dirModeCommands(entries, dstRoot, applyRootMode);
  if (cmds.length > 0) {
    const r = await start(conn, cmds.join(' && '));
    await finish(r.channel, r.done, 'chmod of uploaded directories');
  }
}

/** Downloads a file or (recursively) a directory; a directory arrives as `dst`. */
export async function scpDownload(conn: SshConnection, src: string, dst: string, recursive: boolean, onTotal: (n: number) => void, onBytes: (n: number) => void): Promise<void> {
  const { channel, incoming, done } = await start(conn, `scp ${recursive ? '-r ' : ''}-f -- ${shellQuote(src)}`);
  // With -r the first record names the source directory itself: it becomes `dst`.
  const stack: string[] = [];
  const dirModes: [string, number][] = [];
  let total = 0;
  try {
    await write(channel, Buffer.from([0]));
    for (;;) {
      const header = await incoming.line();
      const kind = header[0];
      if (kind === '\x01' || kind === '\x02') throw new Error(`scp cannot read ${src}: ${header.slice(1).trim()}`);
      if (kind === 'E') {
        stack.pop();
        await write(channel, Buffer.from([0]));
        if (stack.length === 0) break;
        continue;
      }
      const m = /^([CD])([0-7]{4}) (\d+) (.+)$/.exec(header);
      if (!m) throw new Error(`unexpected answer from the remote scp: ${JSON.stringify(header)}`);
      const mode = parseInt(m[2]!, 8);
      const size = Number(m[3]);
      const here = stack.length === 0 ? dst : join(stack[stack.length - 1]!, m[4]!);
      if (m[1] === 'D') {
        await mkdirLocal(here, { recursive: true, mode: 0o700 });
        dirModes.push([here, mode]);
        stack.push(here);
        await write(channel, Buffer.from([0]));
        continue;
      }
      total += size;
      onTotal(total);
      await write(channel, Buffer.from([0]));
      const out = await openLocal(here, 'w', mode);
      try {
        let pos = 0;
        await incoming.data(size, async (b) => {
          await out.write(b, 0, b.length, pos);
          pos += b.length;
          onBytes(b.length);
        });
        await out.chmod(mode);
      } finally {
        await out.close();
      }
      await incoming.ack(`the data of ${here}`);
      await write(channel, Buffer.from([0]));
      if (stack.length === 0) break;
    }
    await finish(channel, done, `download of ${src}`);
  } finally {
    channel.close();
  }
  for (const [dir, mode] of dirModes.reverse()) await chmodLocal(dir, mode);
}
