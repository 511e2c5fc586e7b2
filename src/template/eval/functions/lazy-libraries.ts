/**
 * Libraries only a few template functions need, loaded on first use: `yaml` alone costs more
 * start-up time than the rest of the template engine, and most templates never call
 * yamlencode, bcrypt or fileset.
 */
import { createRequire } from 'node:module';
import type * as YamlLib from 'yaml';
import type * as BcryptLib from 'bcryptjs';
import type PicomatchLib from 'picomatch';

const require = createRequire(import.meta.url);

let yaml: typeof YamlLib | undefined;
let bcrypt: typeof BcryptLib | undefined;
let picomatch: typeof PicomatchLib | undefined;

export function yamlLib(): typeof YamlLib {
  return (yaml ??= require('yaml') as typeof YamlLib);
}

export function bcryptLib(): typeof BcryptLib {
  return (bcrypt ??= require('bcryptjs') as typeof BcryptLib);
}

export function picomatchLib(): typeof PicomatchLib {
  return (picomatch ??= require('picomatch') as typeof PicomatchLib);
}
