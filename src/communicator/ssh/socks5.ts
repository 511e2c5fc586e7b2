/**
 * A SOCKS5 client (RFC 1928, with RFC 1929 username/password): just CONNECT, which is all an
 * SSH connection through ssh_proxy_host needs. The destination name is resolved by the proxy.
 */
import { connect, isIP, type Socket } from 'node:net';

export interface Socks5Options {
  proxyHost: string;
  proxyPort: number;
  username?: string;
  password?: string;
  host: string;
  port: number;
  signal?: AbortSignal;
}

const REPLIES: Record<number, string> = {
  1: 'general SOCKS server failure',
  2: 'connection not allowed by ruleset',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

export class Socks5Error extends Error {
  override name = 'Socks5Error';
  /** True when the proxy answered but the destination did not (the target may not be up yet). */
  constructor(
    message: string,
    readonly destinationUnreachable: boolean,
  ) {
    super(message);
  }
}

/** A socket connected through the proxy to host:port, ready for the SSH handshake. */
export function socks5Connect(o: Socks5Options): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: o.proxyHost, port: o.proxyPort });
    let buf = Buffer.alloc(0);
    let stage: 'greeting' | 'auth' | 'connect' = 'greeting';
    const proxy = `SOCKS5 proxy ${o.proxyHost}:${o.proxyPort}`;
    const fail = (err: Error): void => {
      cleanup();
      sock.destroy();
      reject(err);
    };
    const onAbort = (): void => fail(new Error('cancelled'));
    const onError = (err: Error): void => fail(new Error(`cannot reach the ${proxy}: ${err.message}`));
    const onClose = (): void => fail(new Error(`the ${proxy} closed the connection during the ${stage} stage`));
    const cleanup = (): void => {
      sock.off('data', onData);
      sock.off('error', onError);
      sock.off('close', onClose);
      o.signal?.removeEventListener('abort', onAbort);
    };
    const need = (n: number): Buffer | undefined => {
      if (buf.length < n) return undefined;
      const head = buf.subarray(0, n);
      buf = buf.subarray(n);
      return head;
    };
    const sendConnect = (): void => {
      stage = 'connect';
      let addr: Buffer;
      if (isIP(o.host) === 4) addr = Buffer.from([1, ...o.host.split('.').map(Number)]);
      else if (isIP(o.host) === 6) addr = Buffer.concat([Buffer.from([4]), ipv6Bytes(o.host)]);
      else {
        const name = Buffer.from(o.host);
        addr = Buffer.concat([Buffer.from([3, name.length]), name]);
      }
      const portBuf = Buffer.alloc(2);
      portBuf.writeUInt16BE(o.port);
      sock.write(Buffer.concat([Buffer.from([5, 1, 0]), addr, portBuf]));
    };
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      if (stage === 'greeting') {
        const r = need(2);
        if (!r) return;
        if (r[0] !== 5) return fail(new Error(`${proxy} is not a SOCKS5 proxy`));
        if (r[1] === 0) return sendConnect();
        if (r[1] === 2) {
          if (o.username === undefined) return fail(new Error(`the ${proxy} asks for a username and password: set ssh_proxy_username and ssh_proxy_password`));
          stage = 'auth';
          const u = Buffer.from(o.username);
          const p = Buffer.from(o.password ?? '');
          sock.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
          return;
        }
        return fail(new Error(`the ${proxy} accepts none of the offered authentication methods`));
      }
      if (stage === 'auth') {
        const r = need(2);
        if (!r) return;
        if (r[1] !== 0) return fail(new Error(`the ${proxy} rejected ssh_proxy_username/ssh_proxy_password`));
        return sendConnect();
      }
      // CONNECT reply: VER REP RSV ATYP BND.ADDR BND.PORT
      if (buf.length < 5) return;
      const atyp = buf[3];
      const addrLen = atyp === 1 ? 4 : atyp === 4 ? 16 : 1 + buf[4]!;
      const r = need(4 + addrLen + 2);
      if (!r) return;
      if (r[1] !== 0) {
        const why = REPLIES[r[1]!] ?? `error ${r[1]}`;
        return fail(new Socks5Error(`the ${proxy} could not connect to ${o.host}:${o.port}: ${why}`, r[1] !== 2 && r[1] !== 7 && r[1] !== 8));
      }
      cleanup();
      if (buf.length > 0) sock.unshift(buf);
      resolve(sock);
    };
    sock.on('connect', () => {
      const methods = o.username !== undefined ? [0, 2] : [0];
      sock.write(Buffer.from([5, methods.length, ...methods]));
    });
    sock.on('data', onData);
    sock.on('error', onError);
    sock.on('close', onClose);
    if (o.signal?.aborted) return onAbort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function ipv6Bytes(addr: string): Buffer {
  const [head = '', tail] = addr.split('::');
  const parse = (s: string): number[] => (s ? s.split(':').map((h) => parseInt(h, 16)) : []);
  const a = parse(head);
  const b = tail === undefined ? [] : parse(tail);
  const groups = [...a, ...new Array<number>(8 - a.length - b.length).fill(0), ...b];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}
