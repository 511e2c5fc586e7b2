/** `--json`: every event as one JSON object per line, for machines. */
import type { Listener } from '../core/events.js';

export function jsonLinesRenderer(write: (text: string) => void): Listener {
  return (e) => write(JSON.stringify(e) + '\n');
}
