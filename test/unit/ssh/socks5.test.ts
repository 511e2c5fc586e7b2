/**
 * The SOCKS5 client's username/password exchange and its error replies, against a minimal
 * server written here (OpenSSH's `ssh -D`, used by the integration test, has no authentication).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { socks5Connect } from '../../../src/communicator/ssh/socks5.js';

let server: Server | undefined;
afterEach(() => server?.close());

/** A SOCKS5 server that wants user "u"/"p" and answers CONNECT with `reply`, then echoes. */
function listen(reply: number): Promise<number> {
  server = createServer((sock: Socket) => {
    let stage = 0;
    sock.on('data', (b: Buffer) => {
      if (stage === 0) {
        stage = 1;
        sock.write(Buffer.from([5, b.subarray(2).includes(2) ? 2 : 0xff]));
      } else if (stage === 1) {
        stage = 2;
        const ulen = b[1]!;
        const user = b.subarray(2, 2 + ulen).toString();
        const pass = b.subarray(3 + ulen, 3 + ulen + b[2 + ulen]!).toString();
        sock.write(Buffer.from([1, user === 'u' && pass === 'p' ? 0 : 1]));
      } else if (stage === 2) {
        stage = 3;
        // The destination was sent as a domain name: ATYP 3.
        expect(b[3]).toBe(3);
        sock.write(Buffer.from([5, reply, 0, 1, 127, 0, 0, 1, 0, 22]));
      } else sock.write(b);
    });
  });
  return new Promise((resolve) => server!.listen(0, '127.0.0.1', () => resolve((server!.address() as { port: number }).port)));
}

describe('SOCKS5 client', () => {
  it('authenticates with a username and password and carries data', async () => {
    const port = await listen(0);
    const sock = await socks5Connect({ proxyHost: '127.0.0.1', proxyPort: port, username: 'u', password: 'p', host: 'build-vm.internal', port: 22 });
    const echoed = new Promise<string>((resolve) => sock.once('data', (b: Buffer) => resolve(b.toString())));
    sock.write('SSH-2.0-test\r\n');
    expect(await echoed).toBe('SSH-2.0-test\r\n');
    sock.destroy();
  });

  it('says when the credentials are refused', async () => {
    const port = await listen(0);
    await expect(socks5Connect({ proxyHost: '127.0.0.1', proxyPort: port, username: 'u', password: 'wrong', host: 'h', port: 22 })).rejects.toThrow(/rejected ssh_proxy_username\/ssh_proxy_password/);
  });

  it("reports the proxy's reason when the destination cannot be reached", async () => {
    const port = await listen(5);
    await expect(socks5Connect({ proxyHost: '127.0.0.1', proxyPort: port, username: 'u', password: 'p', host: 'h', port: 22 })).rejects.toThrow(/could not connect to h:22: connection refused/);
  });
});
