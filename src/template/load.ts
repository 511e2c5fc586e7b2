/**
 * Finds and parses a template's files: one file, or every `*.pkr.hcl` / `*.pkr.json` in a
 * directory (not recursive, in name order, as Packer does), plus the directory's
 * `*.auto.pkrvars.hcl|json` files and any `-var-file`s.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Diagnostic } from '../core/errors/diagnostic.js';
import { error } from '../core/errors/diagnostic.js';
import type { File } from './syntax/ast.js';
import { parseFile } from './syntax/index.js';
import { PACKER_JSON_SCHEMA } from './syntax/packer-schema.js';

export interface LoadedFiles {
  /** Directory of the template: `path.root`. */
  root: string;
  templates: File[];
  /** auto.pkrvars files first, then -var-files in the order given. */
  varFiles: File[];
  texts: Map<string, string>;
  diags: Diagnostic[];
}

const TEMPLATE_RE = /\.pkr\.(hcl|json)$/;
const AUTO_VARS_RE = /\.auto\.pkrvars\.(hcl|json)$/;

export function loadTemplate(path: string, varFilePaths: readonly string[] = []): LoadedFiles {
  const out: LoadedFiles = { root: '.', templates: [], varFiles: [], texts: new Map(), diags: [] };
  let st;
  try {
    st = statSync(path);
  } catch {
    out.diags.push(error('Template not found', `There is no file or directory at "${path}". Give the path of a *.pkr.hcl file or of a directory holding them.`));
    return out;
  }
  let templatePaths: string[];
  let autoVarPaths: string[] = [];
  if (st.isDirectory()) {
    out.root = path;
    const names = readdirSync(path).sort();
    templatePaths = names.filter((n) => TEMPLATE_RE.test(n)).map((n) => join(path, n));
    autoVarPaths = names.filter((n) => AUTO_VARS_RE.test(n)).map((n) => join(path, n));
    if (templatePaths.length === 0) {
      out.diags.push(error('No template files', `The directory "${path}" holds no *.pkr.hcl or *.pkr.json files.`));
    }
  } else {
    out.root = dirname(path);
    templatePaths = [path];
    if (!TEMPLATE_RE.test(path) && !/\.(hcl|json)$/.test(path)) {
      out.diags.push(error('Unrecognized template file', `"${path}" is not a template: template files end in .pkr.hcl or .pkr.json.`));
      return out;
    }
  }
  for (const p of templatePaths) {
    const f = readAndParse(p, out, true);
    if (f) out.templates.push(f);
  }
  for (const p of [...autoVarPaths, ...varFilePaths]) {
    const f = readAndParse(p, out, false);
    if (f) out.varFiles.push(f);
  }
  return out;
}

function readAndParse(path: string, out: LoadedFiles, isTemplate: boolean): File | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    out.diags.push(error(isTemplate ? 'Failed to read template file' : 'Failed to read variables file', `Could not read "${path}": ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message}.`));
    return undefined;
  }
  out.texts.set(path, text);
  const { file, diagnostics } = parseFile(text, path, isTemplate ? PACKER_JSON_SCHEMA : {});
  out.diags.push(...diagnostics);
  return file;
}
