// Module resolution hook (test only): appends every module URL Node resolves to the file named
// by KILN_IMPORT_LOG, so tests can check what a command loads.
import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (process.env.KILN_IMPORT_LOG) appendFileSync(process.env.KILN_IMPORT_LOG, `${result.url}\n`);
  return result;
}
