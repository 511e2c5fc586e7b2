/**
 * The build's HTTP server (http_directory or http_content) for preseed, kickstart and autoinstall
 * files. It listens on 127.0.0.1 (kiln: Packer listens on all interfaces); the guest reaches it
 * through QEMU's user network as 10.0.2.2. Files are streamed; paths never leave the directory.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join, normalize, resolve, sep } from 'node:path';
import type { BuildContext } from '../../src/sdk/index.js';
import { freePort } from './ports.js';

/** The address the guest sees the host at on QEMU's user network. */
export const USER_NET_HOST_IP = '10.0.2.2';

export interface HttpSource {
  directory?: string;
  content?: Readonly<Record<string, string>>;
}

/** The decoded path of a request, or undefined when it is malformed (a stray `%`). */
function requestPath(url: string | undefined): string | undefined {
  try {
    return decodeURIComponent(new URL(url ?? '/', 'http://x').pathname);
  } catch {
    return undefined;
  }
}

export async function startHttpServer(ctx: BuildContext<unknown>, source: HttpSource, portMin: number, portMax: number, bind = '127.0.0.1'): Promise<{ port: number }> {
  const root = source.directory !== undefined ? resolve(source.directory) : undefined;
  const content = new Map(Object.entries(source.content ?? {}).map(([k, v]) => [`/${k.replace(/^\/+/, '')}`, v]));
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = requestPath(req.url);
      ctx.ui.message(`HTTP ${req.method ?? 'GET'} ${path ?? req.url ?? ''}`);
      if (path === undefined) {
        res.writeHead(400).end('bad request path\n');
        return;
      }
      const text = content.get(path);
      if (text !== undefined) {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
        res.end(req.method === 'HEAD' ? undefined : text);
        return;
      }
      if (root !== undefined) {
        const file = normalize(join(root, path));
        const st = (file === root || file.startsWith(root + sep)) ? await stat(file).catch(() => undefined) : undefined;
        if (st?.isFile()) {
          res.writeHead(200, { 'content-length': st.size });
          if (req.method === 'HEAD') res.end();
          else createReadStream(file).on('error', () => res.destroy()).pipe(res);
          return;
        }
      }
      res.writeHead(404).end('not found\n');
    })().catch(() => {
      // Whatever a request does (a read error mid-stream), it must not bring the build down.
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  for (let attempt = 0; ; attempt++) {
    const port = await freePort(portMin, portMax, 'the HTTP server');
    const ok = await new Promise<boolean>((done) => {
      server.once('error', () => done(false));
      server.listen({ host: bind, port, exclusive: true }, () => done(true));
    });
    if (ok) {
      ctx.cleanup.push('stop the HTTP server', () => new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }));
      ctx.ui.say(`Starting HTTP server on port ${port} (${bind}; the guest reaches it at http://${USER_NET_HOST_IP}:${port}/)`);
      return { port };
    }
    if (attempt >= 5) throw new Error(`the HTTP server could not listen on ${bind}:${port}`);
  }
}
