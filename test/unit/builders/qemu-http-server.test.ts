/**
 * The qemu builder's HTTP server, over real HTTP: a malformed request path is answered 400 and
 * the server goes on serving (it once threw out of the handler and took the build down).
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer } from '../../../plugins/builder-qemu/http-server.js';
import type { BuildContext } from '../../../src/sdk/index.js';

const stops: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** A raw GET: fetch() would normalise or refuse the malformed paths this test sends. */
function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('qemu builder HTTP server', () => {
  it('answers a malformed path with 400 and keeps serving', async () => {
    const ctx = {
      ui: { message: () => undefined, say: () => undefined },
      cleanup: { push: (_d: string, fn: () => Promise<void> | void) => stops.push(fn) },
    } as unknown as BuildContext<unknown>;
    const { port } = await startHttpServer(ctx, { content: { 'ks.cfg': 'text\n' } }, 18000, 18999);
    expect((await get(port, '/%zz')).status).toBe(400);
    expect(await get(port, '/ks.cfg')).toEqual({ status: 200, body: 'text\n' });
    expect((await get(port, '/missing')).status).toBe(404);
  });
});
