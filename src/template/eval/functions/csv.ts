/**
 * RFC 4180 CSV as Go's encoding/csv reads it with default settings: "\r\n" counts as "\n",
 * blank lines are skipped, quotes may only surround whole fields (a doubled quote inside is a
 * quote), and no lazy quoting.
 */

export class CsvError extends Error {
  constructor(line: number, reason: string) {
    super(`CSV parse error on line ${line}: ${reason}`);
  }
}

export function parseCsv(text: string): { line: number; fields: string[] }[] {
  const records: { line: number; fields: string[] }[] = [];
  let i = 0;
  let line = 1;
  /** Length of the line break at j (0 when there is none). */
  const br = (j: number): number => (text[j] === '\n' ? 1 : text.startsWith('\r\n', j) ? 2 : 0);
  while (i < text.length) {
    if (br(i)) {
      i += br(i);
      line++;
      continue;
    }
    const fields: string[] = [];
    const start = line;
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= text.length) throw new CsvError(line, 'extraneous or missing " in quoted-field');
          if (text[i] === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            if (text[i] !== ',' && i < text.length && !br(i)) throw new CsvError(line, 'extraneous or missing " in quoted-field');
            break;
          }
          const b = br(i);
          if (b) {
            field += '\n';
            i += b;
            line++;
          } else field += text[i++];
        }
      } else {
        let j = i;
        while (j < text.length && text[j] !== ',' && text[j] !== '\n') j++;
        field = text.slice(i, j);
        // A "\r" ends the field when it is part of "\r\n", or the last character of the input.
        if (field.endsWith('\r') && (text[j] === '\n' || j === text.length)) field = field.slice(0, -1);
        if (field.includes('"')) throw new CsvError(line, 'bare " in non-quoted-field');
        i = j;
      }
      fields.push(field);
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (i < text.length) {
        i += br(i);
        line++;
      }
      break;
    }
    records.push({ line: start, fields });
  }
  return records;
}
