/**
 * `kiln console [PATH]`: evaluates expressions against a template's variables and locals.
 * `--eval EXPR` evaluates one and exits; on a terminal it is a REPL; otherwise each line of
 * standard input is one expression.
 */
import { createInterface } from 'node:readline';
import { hasErrors } from '../core/errors/diagnostic.js';
import { formatValue } from '../template/display.js';
import { evaluate } from '../template/eval/evaluate.js';
import type { EvalContext } from '../template/eval/scope.js';
import { planTemplate } from '../template/index.js';
import { parseExpression } from '../template/syntax/index.js';
import { ExitCode, printDiagnostics } from './output.js';
import { templateOptions, type TemplateFlags } from './template-flags.js';

export interface ConsoleFlags extends TemplateFlags {
  eval?: string[];
}

const INPUT = '<console-input>';

export async function consoleCommand(path: string | undefined, flags: ConsoleFlags): Promise<void> {
  const r = planTemplate(templateOptions(path ?? '.', flags));
  if (!r.env) {
    printDiagnostics(r.diags, r.texts, r.secrets);
    throw new ExitCode(1);
  }
  printDiagnostics(r.diags.filter((d) => d.severity === 'warning'), r.texts, r.secrets);
  const ctx = r.env.baseContext;
  if (flags.eval && flags.eval.length > 0) {
    let ok = true;
    for (const e of flags.eval) ok = evalLine(e, ctx, r.secrets) && ok;
    if (!ok) throw new ExitCode(1);
    return;
  }
  const interactive = process.stdin.isTTY === true;
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: interactive, prompt: '> ' });
  if (interactive) rl.prompt();
  let ok = true;
  for await (const line of rl) {
    const text = line.trim();
    if (text === 'exit' || text === 'quit') break;
    if (text !== '') ok = evalLine(text, ctx, r.secrets) && ok;
    if (interactive) rl.prompt();
  }
  rl.close();
  if (!interactive && !ok) throw new ExitCode(1);
}

function evalLine(text: string, ctx: EvalContext, secrets: ReadonlySet<string>): boolean {
  const sources = new Map([[INPUT, text]]);
  const parsed = parseExpression(text, INPUT);
  if (hasErrors(parsed.diagnostics)) {
    printDiagnostics(parsed.diagnostics, sources, secrets);
    return false;
  }
  const r = evaluate(parsed.expr, { ...ctx, sources: new Map([...ctx.sources, ...sources]) });
  if (hasErrors(r.diags)) {
    printDiagnostics(r.diags, new Map([...ctx.sources, ...sources]), secrets);
    return false;
  }
  process.stdout.write(formatValue(r.value) + '\n');
  return true;
}
