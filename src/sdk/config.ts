/**
 * Schema helpers for plugin configs, so every plugin reads Packer's conventions the same way:
 * Go durations ("5m"), nested blocks written once or many times, string-or-list arguments.
 */
import { z } from 'zod';
import { parseDuration } from '../template/duration.js';

export { z };

/** A Go duration string ("30s", "1h30m"), parsed to milliseconds. */
export function duration() {
  return z.union([z.string(), z.number()]).transform((v, ctx) => {
    if (typeof v === 'number') return v * 1000;
    const ms = parseDuration(v);
    if (ms === undefined || ms < 0) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration: write it like "30s", "5m" or "1h30m"` });
      return z.NEVER;
    }
    return ms;
  });
}

/** A nested block that may appear once (an object) or several times (a list), as a list. */
export function blocks<T extends z.ZodType>(schema: T) {
  return z.union([z.array(schema), schema]).transform((v): z.output<T>[] => (Array.isArray(v) ? v : [v]) as z.output<T>[]);
}

/** Packer fields like valid_exit_codes that take a list of whole numbers. */
export function intList() {
  return z.array(z.number().int());
}

/** Environment variables written as `["K=V", …]` (Packer's environment_vars). */
export function envVarList() {
  return z.array(z.string().regex(/^[^=]+=/, 'each entry must look like NAME=value'));
}
