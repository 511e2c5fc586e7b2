/** The variable and filter flags validate, inspect, plan, console and build share. */
import type { Command } from 'commander';
import type { TemplateOptions } from '../template/index.js';
import { parseVarFlag, splitList } from './argv.js';
import { ExitCode } from './output.js';

export interface TemplateFlags {
  var?: string[];
  varFile?: string[];
  only?: string[];
  except?: string[];
}

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

export function addVarFlags(cmd: Command): Command {
  return cmd
    .option('--var <name=value>', 'set a template variable (repeatable; last wins)', collect)
    .option('--var-file <path>', 'read variable values from a .pkrvars.hcl or .pkrvars.json file (repeatable)', collect);
}

export function addFilterFlags(cmd: Command): Command {
  return cmd
    .option('--only <globs>', 'run only the builds whose names match (comma-separated globs)', collect)
    .option('--except <globs>', 'skip the builds whose names match (comma-separated globs)', collect);
}

export function templateOptions(path: string, flags: TemplateFlags): TemplateOptions {
  const vars: Array<readonly [string, string]> = [];
  for (const v of flags.var ?? []) {
    const kv = parseVarFlag(v);
    if (!kv) {
      process.stderr.write(`Error: invalid -var value "${v}": write it as -var name=value.\n`);
      throw new ExitCode(1);
    }
    vars.push(kv);
  }
  return { path, vars, varFiles: flags.varFile ?? [], only: splitList(flags.only), except: splitList(flags.except) };
}
