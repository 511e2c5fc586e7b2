/**
 * A minimal QMP (QEMU Machine Protocol) client over the VM's unix socket: the greeting, capability
 * negotiation, then one command at a time (send-key for boot_command, system_powerdown, quit).
 * Asynchronous events (SHUTDOWN, POWERDOWN…) are passed to a listener.
 */
import { connect, type Socket } from 'node:net';

export interface QmpEvent {
  event: string;
  data?: unknown;
}

interface Reply {
  return?: unknown;
  error?: { class: string; desc: string };
  event?: string;
  data?: unknown;
  QMP?: unknown;
}

export class QmpError extends Error {
  override name = 'QmpError';
}

export class Qmp {
  private buffer = '';
  private waiting: Array<{ resolve: (r: Reply) => void; reject: (e: Error) => void }> = [];
  /** Replies that arrived before anyone asked for them (the greeting can). */
  private early: Reply[] = [];
  private closedError: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly onEvent: (e: QmpEvent) => void,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.receive(chunk));
    const fail = (err: Error): void => {
      this.closedError ??= err;
      for (const w of this.waiting.splice(0)) w.reject(this.closedError);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new QmpError('the QMP connection closed (QEMU exited)')));
  }

  /** Connects, reads the greeting and enters command mode. */
  static async connect(path: string, onEvent: (e: QmpEvent) => void = () => undefined): Promise<Qmp> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
    const qmp = new Qmp(socket, onEvent);
    await qmp.next();
    await qmp.execute('qmp_capabilities');
    return qmp;
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (!line) continue;
      let msg: Reply;
      try {
        msg = JSON.parse(line) as Reply;
      } catch {
        continue;
      }
      if (msg.event !== undefined) this.onEvent({ event: msg.event, data: msg.data });
      else {
        const w = this.waiting.shift();
        if (w) w.resolve(msg);
        else this.early.push(msg);
      }
    }
  }

  private next(): Promise<Reply> {
    const ready = this.early.shift();
    if (ready) return Promise.resolve(ready);
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Runs one command; rejects with QEMU's error description. */
  async execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    const reply = this.next();
    this.socket.write(`${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`);
    const r = await reply;
    if (r.error) throw new QmpError(`QMP ${command}: ${r.error.desc}`);
    return r.return;
  }

  close(): void {
    this.socket.destroy();
  }
}
