/**
 * The guest's serial console log: the last lines go into boot and SSH-timeout errors, so a
 * failed build shows what the machine was doing (a kernel panic, cloud-init waiting, a login
 * prompt without sshd) without opening the log.
 */
import { open } from 'node:fs/promises';

/** The last `count` non-empty lines of the log, control characters removed ("" when it is empty or missing). */
export async function consoleTail(path: string, count = 20): Promise<string> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = (await fh.stat()).size;
    const len = Math.min(size, 16 << 10);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    const lines = buf
      .toString('utf8')
      // Terminal escapes (colours, cursor moves) and stray control bytes.
      .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
      .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '')
      .split('\n')
      .map((l) => l.trimEnd())
      .filter((l) => l.trim() !== '');
    return lines.slice(-count).join('\n');
  } finally {
    await fh.close();
  }
}

/** `message`, then the console's last lines (or a note that it printed nothing) and where the log is. */
export async function withConsole(message: string, serialLog: string): Promise<string> {
  const tail = await consoleTail(serialLog);
  return tail
    ? `${message}\nLast lines of the serial console (${serialLog}):\n${tail.split('\n').map((l) => `  | ${l}`).join('\n')}`
    : `${message}\nThe serial console (${serialLog}) printed nothing: the guest may not use ttyS0 as its console.`;
}
