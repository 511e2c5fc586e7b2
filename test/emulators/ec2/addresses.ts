/**
 * Loopback addresses for instances. Every 127.0.0.0/8 address is local on Linux, so each
 * instance's sshd listens on its own address, port 22, with no NAT. Each emulator draws a random
 * 127.A.B.0/24 (A ≥ 1, so never 127.0.0.x where host services live), and an address is handed
 * out only after binding its port 22 succeeded, so emulators of parallel test files never meet.
 */
import { createServer } from 'node:net';

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EACCES'));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

export class LoopbackAllocator {
  private a = 1 + Math.floor(Math.random() * 254);
  private b = Math.floor(Math.random() * 256);
  private next = 2;

  async allocate(): Promise<string> {
    for (let tries = 0; tries < 1000; tries++) {
      if (this.next > 254) {
        this.next = 2;
        this.b = (this.b + 1) % 256;
      }
      const addr = `127.${this.a}.${this.b}.${this.next++}`;
      if (await portFree(addr, 22)) return addr;
    }
    throw new Error('no free loopback address for an instance');
  }
}
