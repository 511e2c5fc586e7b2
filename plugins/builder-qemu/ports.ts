/**
 * Free TCP ports on 127.0.0.1 within a range (ssh_host_port_min/max, http_port_min/max), tried in
 * a random order so parallel builds rarely collide; the caller retries when QEMU loses a race
 * for the port it was given.
 */
import { createServer } from 'node:net';

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** A port in [min, max] nobody listens on now, skipping `avoid`; throws when the range is full. */
export async function freePort(min: number, max: number, what: string, avoid: ReadonlySet<number> = new Set()): Promise<number> {
  const ports: number[] = [];
  for (let p = min; p <= max; p++) if (!avoid.has(p)) ports.push(p);
  for (let i = ports.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [ports[i], ports[j]] = [ports[j]!, ports[i]!];
  }
  for (const p of ports) if (await canListen(p)) return p;
  throw new Error(`no free port for ${what} between ${min} and ${max} on 127.0.0.1`);
}
