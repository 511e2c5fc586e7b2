/**
 * `kiln validate`: every problem in a template — syntax, references, types, and each plugin's
 * config schema — or "The configuration is valid."
 */
import { hasErrors } from '../core/errors/diagnostic.js';
import { prepareJobs } from '../core/prepare.js';
import { readTemplate } from '../template/index.js';
import { ExitCode, printDiagnostics } from './output.js';
import { templateOptions, type TemplateFlags } from './template-flags.js';

export interface ValidateFlags extends TemplateFlags {
  syntaxOnly?: boolean;
}

export async function validateCommand(path: string, flags: ValidateFlags): Promise<void> {
  const opts = templateOptions(path, flags);
  const r = flags.syntaxOnly ? readTemplate(opts) : await prepareJobs(opts);
  printDiagnostics(r.diags, r.texts, r.secrets);
  if (hasErrors(r.diags)) throw new ExitCode(1);
  process.stdout.write(flags.syntaxOnly ? 'Syntax-only check passed. Everything looks okay.\n' : 'The configuration is valid.\n');
}
