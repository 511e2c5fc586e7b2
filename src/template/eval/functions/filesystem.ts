/**
 * Filesystem functions. Relative paths resolve against the template's directory
 * (ctx.baseDir, Packer's path.root) and a leading "~" is the user's home, as in Packer; path
 * manipulation follows Go's path/filepath rules (basename("") is ".", results are cleaned).
 */
import { readdirSync, readFileSync, statSync, type Dirent, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, posix, resolve } from 'node:path';
import { picomatchLib } from './lazy-libraries.js';
import { T } from '../types.js';
import { Value } from '../value.js';
import { FunctionError, type FuncDef, type FunctionContext } from './define.js';
import { invalidArg } from './support.js';

const str = (name: string) => ({ name, type: T.string });

/** Expands a leading "~" or "~/" to the home directory; "~user" is not supported (as in Packer). */
function expandHome(p: string, index: number): string {
  if (!p.startsWith('~')) return p;
  if (p.length > 1 && p[1] !== '/') throw new FunctionError('failed to expand ~: cannot expand user-specific home dir', index);
  return join(homedir(), p.slice(1));
}

/** The absolute, cleaned path a file function reads. */
function resolvePath(ctx: FunctionContext, p: string, index: number): string {
  const expanded = expandHome(p, index);
  return isAbsolute(expanded) ? resolve(expanded) : resolve(ctx.baseDir, expanded);
}

function readBytes(ctx: FunctionContext, p: string): Buffer {
  const full = resolvePath(ctx, p, 0);
  try {
    return readFileSync(full);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new FunctionError(`no file exists at ${full}`, 0);
    throw new FunctionError(`failed to read ${full}`, 0);
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function readText(ctx: FunctionContext, p: string): string {
  try {
    return UTF8.decode(readBytes(ctx, p));
  } catch (err) {
    if (err instanceof FunctionError) throw err;
    throw new FunctionError(`contents of ${p} are not valid UTF-8; use the filebase64 function to obtain the Base64 encoded contents instead`, 0);
  }
}

/** Go's filepath.Clean for slash-separated paths ("" becomes "."). */
const clean = (p: string): string => (p === '' ? '.' : posix.normalize(p).replace(/(.)\/$/, '$1'));

/** Go's filepath.Base: the last element, "." for an empty path, "/" for only slashes. */
function base(p: string): string {
  if (p === '') return '.';
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** Go's filepath.Dir: everything before the last element, cleaned. */
function dir(p: string): string {
  const i = p.lastIndexOf('/');
  return clean(p.slice(0, i + 1));
}

/** A Go-style mode string ("drwxr-xr-x") for the error about a path that is not a regular file. */
function modeString(st: Stats): string {
  const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'L' : st.isFIFO() ? 'p' : st.isSocket() ? 'S' : st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'D' : '-';
  const perms = [...'rwxrwxrwx'].map((c, i) => (st.mode & (1 << (8 - i)) ? c : '-')).join('');
  return type + perms;
}

/** Files under `root` (relative, slash-separated) whose path matches the glob; symlinked directories are not entered. */
function glob(root: string, pattern: string): string[] {
  const isMatch = picomatchLib()(pattern, { dot: true });
  // Only the directories the pattern's literal leading segments name need walking.
  const literal: string[] = [];
  for (const seg of pattern.split('/').slice(0, -1)) {
    if (picomatchLib().scan(seg).isGlob) break;
    literal.push(seg);
  }
  const maxDepth = pattern.includes('**') ? Infinity : pattern.split('/').length;
  const out: string[] = [];
  const walk = (rel: string, depth: number): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (depth < maxDepth) walk(path, depth + 1);
      } else if (isMatch(path)) {
        let st: Stats;
        try {
          st = statSync(join(root, path));
        } catch (err) {
          throw new FunctionError(`failed to stat (${join(root, path)}): ${(err as Error).message}`, 1);
        }
        if (st.isFile()) out.push(path);
      }
    }
  };
  walk(literal.join('/'), literal.length + 1);
  return out;
}

/** Template files may not call templatefile themselves: the contexts currently rendering one. */
const rendering = new WeakSet<FunctionContext>();

const IDENTIFIER = /^\p{ID_Start}[\p{ID_Continue}-]*$/u;

export const FILESYSTEM_FUNCTIONS: Record<string, FuncDef> = {
  file: {
    description: 'The contents of a file, which must be UTF-8 text.',
    params: [str('path')],
    returnType: T.string,
    impl: ([p], ctx) => Value.string(readText(ctx, p!.str())),
  },

  filebase64: {
    description: 'The contents of a file, encoded in Base64.',
    params: [str('path')],
    returnType: T.string,
    impl: ([p], ctx) => Value.string(readBytes(ctx, p!.str()).toString('base64')),
  },

  fileexists: {
    description: 'Whether a regular file exists at a path.',
    params: [str('path')],
    returnType: T.bool,
    impl([p], ctx) {
      const full = resolvePath(ctx, p!.str(), 0);
      let st: Stats;
      try {
        st = statSync(full);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Value.bool(false);
        throw new FunctionError(`failed to stat ${full}`, 0);
      }
      if (!st.isFile()) throw new FunctionError(`${full} is not a regular file, but ${JSON.stringify(modeString(st))}`, 0);
      return Value.bool(true);
    },
  },

  fileset: {
    description: 'The regular files under a directory whose paths match a glob (*, **, ?, {a,b}, [abc]).',
    params: [str('path'), str('pattern')],
    returnType: T.set(T.string),
    impl([p, pat], ctx) {
      const root = isAbsolute(p!.str()) ? p!.str() : join(ctx.baseDir, p!.str());
      // Packer joins the directory and the pattern and cleans the result, so "./x/*" is "x/*"
      // and "/x/*" is "x/*" too.
      const pattern = clean(pat!.str()).replace(/^\/+/, '');
      if (pattern === '..' || pattern.startsWith('../')) throw invalidArg('pattern', 1, 'the pattern must not lead outside the directory');
      return Value.set(glob(root, pattern).map(Value.string), T.string);
    },
  },

  templatefile: {
    description: 'Renders a template file with the given variables.',
    params: [str('path'), { name: 'vars', type: T.dynamic }],
    impl([p, vars], ctx) {
      if (rendering.has(ctx)) throw new FunctionError('cannot recursively call templatefile from inside templatefile call', 0);
      if (vars!.type.kind !== 'map' && vars!.type.kind !== 'object') throw invalidArg('vars', 1, 'invalid vars value: must be a map');
      for (const name of vars!.entries().keys()) {
        if (!IDENTIFIER.test(name)) {
          throw invalidArg('vars', 1, `invalid template variable name ${JSON.stringify(name)}: must start with a letter, followed by zero or more letters, digits, and underscores`);
        }
      }
      const text = readText(ctx, p!.str());
      rendering.add(ctx);
      try {
        return ctx.renderTemplate(text, p!.str(), vars!.entries());
      } finally {
        rendering.delete(ctx);
      }
    },
  },

  abspath: {
    // As in Packer, a relative path is taken from the current working directory.
    description: 'An absolute, cleaned form of a path (relative paths start at the working directory).',
    params: [str('path')],
    returnType: T.string,
    impl: ([p]) => Value.string(resolve(p!.str())),
  },

  basename: {
    description: 'The last element of a path.',
    params: [str('path')],
    returnType: T.string,
    impl: ([p]) => Value.string(base(p!.str())),
  },

  dirname: {
    description: 'A path without its last element.',
    params: [str('path')],
    returnType: T.string,
    impl: ([p]) => Value.string(dir(p!.str())),
  },

  pathexpand: {
    description: 'A path with a leading "~" replaced by the home directory.',
    params: [str('path')],
    returnType: T.string,
    impl: ([p]) => Value.string(expandHome(p!.str(), 0)),
  },
};
