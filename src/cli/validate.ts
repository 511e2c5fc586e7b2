/** `kiln validate`: every problem in a template, or "The configuration is valid." */
import { hasErrors } from '../core/errors/diagnostic.js';
import { planTemplate, readTemplate } from '../template/index.js';
import { ExitCode, printDiagnostics } from './output.js';
import { templateOptions, type TemplateFlags } from './template-flags.js';

export interface ValidateFlags extends TemplateFlags {
  syntaxOnly?: boolean;
}

export function validateCommand(path: string, flags: ValidateFlags): void {
  const opts = templateOptions(path, flags);
  const r = flags.syntaxOnly ? readTemplate(opts) : planTemplate(opts);
  printDiagnostics(r.diags, r.texts);
  if (hasErrors(r.diags)) throw new ExitCode(1);
  process.stdout.write(flags.syntaxOnly ? 'Syntax-only check passed. Everything looks okay.\n' : 'The configuration is valid.\n');
}
