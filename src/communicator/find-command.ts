/**
 * Where a program would be found: a path as given, a bare name through PATH, first match wins,
 * as spawn and a shell look it up. Preflight checks (qemu, zstd) ask before they start work.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The executable `command` resolves to, or undefined when there is none. */
export function findCommand(command: string, path = process.env.PATH ?? ''): string | undefined {
  if (command.includes('/')) return executable(command) ? command : undefined;
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    if (executable(candidate)) return candidate;
  }
  return undefined;
}
