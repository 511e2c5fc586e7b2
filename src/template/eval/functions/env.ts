/**
 * `env`: an environment variable's value, or "" when it is not set. The evaluator offers it
 * only where Packer does (variable defaults).
 */
import { T } from '../types.js';
import { Value } from '../value.js';
import type { FuncDef } from './define.js';

export const ENV_FUNCTIONS: Record<string, FuncDef> = {
  env: {
    description: 'The value of an environment variable, or "" when it is not set (only in variable defaults).',
    params: [{ name: 'key', type: T.string }],
    returnType: T.string,
    impl: ([key]) => Value.string(process.env[key!.str()] ?? ''),
  },
};
