/**
 * Splits a byte stream into text lines as they arrive: multi-byte characters split across
 * chunks are kept whole, `\r\n` and `\n` both end a line, and the last partial line is
 * delivered at the end.
 */
import { StringDecoder } from 'node:string_decoder';

export class LineSplitter {
  private decoder = new StringDecoder('utf8');
  private partial = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const text = this.partial + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      this.onLine(text.slice(start, end));
      start = nl + 1;
    }
    this.partial = text.slice(start);
  }

  end(): void {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    if (rest.length > 0) this.onLine(rest);
  }
}
