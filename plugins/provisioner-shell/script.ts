/** The scripts the shell provisioner uploads: inline lines made into a script, files read as Packer reads them. */
import { readFile } from 'node:fs/promises';

/**
 * An inline script: inline_shebang (default `/bin/sh -e`) always comes first, as Packer 1.6.6
 * writes it; a `#!` line among the inline lines is then only a comment, so a template that
 * relies on it gets the same shell under kiln as under Packer.
 */
export function inlineScript(lines: readonly string[], shebang: string | undefined): Buffer {
  return Buffer.from(`#!${shebang ?? '/bin/sh -e'}\n${lines.map((l) => `${l}\n`).join('')}`);
}

/**
 * A script file's bytes as uploaded: unless `binary`, CRLF line ends become LF and the last
 * line gets its newline (Packer's UnixReader), so a script saved on Windows still runs.
 * Scripts are small, so they are read whole.
 */
export async function scriptBytes(path: string, binary: boolean): Promise<Buffer> {
  const data = await readFile(path);
  if (binary) return data;
  const text = data.toString('latin1').replace(/\r\n/g, '\n');
  return Buffer.from(text.length > 0 && !text.endsWith('\n') ? `${text}\n` : text, 'latin1');
}
