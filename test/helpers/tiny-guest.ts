/**
 * A tiny VM guest for the qemu builder's failure tests: the test VM's Debian kernel with an
 * initramfs holding only busybox and an /init script. It boots to its script in a few seconds
 * under TCG, prints a marker on the serial console, echoes every line typed on the virtual
 * console (where boot_command keys arrive) to the serial console, and then ignores everything
 * else: it has no network, no sshd, and nothing that answers an ACPI power-down.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const TINY_READY = 'kiln tiny guest: ready';
export const TINY_GOT = 'kiln tiny guest got: ';

const INIT = `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox mount -t proc proc /proc
exec >/dev/ttyS0 2>&1
echo "${TINY_READY}"
while true; do
  if read -r line </dev/tty1; then echo "${TINY_GOT}$line"; fi
done
`;

interface CpioEntry {
  name: string;
  mode: number;
  data?: Buffer;
  rdev?: [number, number];
}

/** An uncompressed "newc" cpio archive, the format the kernel unpacks as initramfs. */
function cpio(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  const pad = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  let ino = 1;
  for (const e of [...entries, { name: 'TRAILER!!!', mode: 0 }]) {
    const data = e.data ?? Buffer.alloc(0);
    const name = Buffer.from(`${e.name}\0`);
    const [rmaj, rmin] = e.rdev ?? [0, 0];
    const header = `070701${[ino++, e.mode, 0, 0, 1, 0, data.length, 0, 0, rmaj, rmin, name.length, 0].map(hex).join('')}`;
    parts.push(Buffer.from(header, 'ascii'), name, pad(110 + name.length), data, pad(data.length));
  }
  return Buffer.concat(parts);
}

/** Writes the initramfs to `dir` and returns its path. */
export function tinyInitramfs(dir: string, busybox = '/bin/busybox'): string {
  const path = join(dir, 'tiny-initrd.cpio');
  writeFileSync(
    path,
    cpio([
      { name: 'bin', mode: 0o040755 },
      { name: 'dev', mode: 0o040755 },
      { name: 'dev/console', mode: 0o020600, rdev: [5, 1] },
      { name: 'proc', mode: 0o040755 },
      { name: 'sys', mode: 0o040755 },
      { name: 'bin/busybox', mode: 0o100755, data: readFileSync(busybox) },
      { name: 'init', mode: 0o100755, data: Buffer.from(INIT) },
    ]),
  );
  return path;
}
