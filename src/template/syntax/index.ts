/** The syntax layer's entry points: both HCL syntaxes, standalone expressions and templates. */
import type { Diagnostic } from '../../core/errors/diagnostic.js';
import type { File } from './ast.js';
import { parseJSON, type JsonBodySchema } from './json.js';
import { parseHCL } from './parser.js';

export { parseHCL, parseExpression, parseTemplate } from './parser.js';
export { parseJSON, type JsonBodySchema } from './json.js';

/** Parses a file in the syntax its name says: `.json` is HCL JSON syntax, anything else native. */
export function parseFile(text: string, filename: string, schema: JsonBodySchema): { file: File; diagnostics: Diagnostic[] } {
  return filename.endsWith('.json') ? parseJSON(text, filename, schema) : parseHCL(text, filename);
}
