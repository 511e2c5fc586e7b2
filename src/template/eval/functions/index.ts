/**
 * The function library templates can call, by name: Packer's HCL2 functions plus Terraform's
 * type conversions. `can`, `try` and `convert` are not here: the evaluator handles them,
 * because they need unevaluated expressions or type expressions as arguments.
 */
import { COLLECTION_FUNCTIONS } from './collection.js';
import { CONVERSION_FUNCTIONS } from './conversion.js';
import { CRYPTO_FUNCTIONS } from './crypto.js';
import { DATETIME_FUNCTIONS } from './datetime.js';
import type { FuncDef } from './define.js';
import { ENCODING_FUNCTIONS } from './encoding.js';
import { ENV_FUNCTIONS } from './env.js';
import { FILESYSTEM_FUNCTIONS } from './filesystem.js';
import { FORMAT_FUNCTIONS } from './format.js';
import { IPNET_FUNCTIONS } from './ipnet.js';
import { JSON_FUNCTIONS } from './json.js';
import { MAP_FUNCTIONS } from './maps.js';
import { NUMERIC_FUNCTIONS } from './numeric.js';
import { REGEX_FUNCTIONS } from './regex.js';
import { SET_FUNCTIONS } from './sets.js';
import { STRING_FUNCTIONS } from './string.js';
import { YAML_FUNCTIONS } from './yaml.js';

const GROUPS: readonly Record<string, FuncDef>[] = [
  STRING_FUNCTIONS,
  FORMAT_FUNCTIONS,
  REGEX_FUNCTIONS,
  COLLECTION_FUNCTIONS,
  MAP_FUNCTIONS,
  SET_FUNCTIONS,
  NUMERIC_FUNCTIONS,
  ENCODING_FUNCTIONS,
  JSON_FUNCTIONS,
  YAML_FUNCTIONS,
  FILESYSTEM_FUNCTIONS,
  DATETIME_FUNCTIONS,
  CRYPTO_FUNCTIONS,
  IPNET_FUNCTIONS,
  CONVERSION_FUNCTIONS,
  ENV_FUNCTIONS,
];

export const FUNCTIONS: ReadonlyMap<string, FuncDef> = new Map(
  GROUPS.flatMap((group) => Object.entries(group)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
);
