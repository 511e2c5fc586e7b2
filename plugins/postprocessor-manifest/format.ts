/**
 * The manifest file as Packer 1.6.6 writes it: Go's `json.MarshalIndent(v, "", "  ")` of
 * `{builds, last_run_uuid}`, no trailing newline. Tools parse these files, and some diff them, so
 * field order, `null` for missing lists/maps, the omitted `build_time` and Go's string escaping
 * (`<`, `>`, `&` as \u003c…) are reproduced exactly.
 */

export interface ManifestFileEntry {
  name: string;
  size: number;
}

export interface ManifestBuild {
  /** The source name (Packer's PackerBuildName under HCL2). */
  name: string;
  builder_type: string;
  /** Unix seconds; 0 means "strip_time" and is left out, as Go's `omitempty` does. */
  build_time: number;
  files: ManifestFileEntry[] | null;
  artifact_id: string;
  packer_run_uuid: string;
  custom_data: Record<string, string> | null;
}

export interface Manifest {
  builds: ManifestBuild[] | null;
  last_run_uuid: string;
}

/** A JSON object whose keys keep the order given (JS objects move integer-like keys first). */
class Ordered {
  constructor(readonly entries: ReadonlyArray<readonly [string, GoJson]>) {}
}
type GoJson = null | number | string | GoJson[] | Ordered;

const HEX = '0123456789abcdef';

/** A string literal as Go's encoding/json writes it (HTML-safe escaping, as Marshal does by default). */
export function goQuote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26) out += `\\u00${HEX[c >> 4]}${HEX[c & 15]}`;
    else if (c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16)}`;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      out += s[i]! + s[i + 1]!;
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd'; // a lone surrogate is invalid UTF-8 to Go
    else out += s[i]!;
  }
  return `${out}"`;
}

function encode(v: GoJson, indent: string): string {
  if (v === null) return 'null';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return goQuote(v);
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[\n${v.map((e) => inner + encode(e, inner)).join(',\n')}\n${indent}]`;
  }
  if (v.entries.length === 0) return '{}';
  return `{\n${v.entries.map(([k, e]) => `${inner}${goQuote(k)}: ${encode(e, inner)}`).join(',\n')}\n${indent}}`;
}

/** Go sorts map keys by their UTF-8 bytes. */
function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function buildValue(b: ManifestBuild): Ordered {
  const fields: Array<[string, GoJson]> = [
    ['name', b.name],
    ['builder_type', b.builder_type],
  ];
  if (b.build_time !== 0) fields.push(['build_time', b.build_time]);
  fields.push(
    ['files', b.files === null ? null : b.files.map((f) => new Ordered([['name', f.name], ['size', f.size]]))],
    ['artifact_id', b.artifact_id],
    ['packer_run_uuid', b.packer_run_uuid],
    [
      'custom_data',
      b.custom_data === null
        ? null
        : new Ordered(
            Object.keys(b.custom_data)
              .sort(byUtf8)
              .map((k) => [k, b.custom_data![k]!] as const),
          ),
    ],
  );
  return new Ordered(fields);
}

/** The file's text, byte for byte what Packer 1.6.6 would write for the same manifest. */
export function formatManifest(m: Manifest): string {
  return encode(
    new Ordered([
      ['builds', m.builds === null ? null : m.builds.map(buildValue)],
      ['last_run_uuid', m.last_run_uuid],
    ]),
    '',
  );
}

/** The manifest file holds something kiln must not overwrite: not JSON, or not a manifest. */
export class ManifestParseError extends Error {
  override name = 'ManifestParseError';
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: Json | undefined): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads a field the way Go's decoder fills a struct field: absent or null leaves the zero value,
 * a value of the wrong type is an error (which Packer reports, refusing to write).
 */
function str(obj: { [k: string]: Json }, key: string, where: string): string {
  const v = obj[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new ManifestParseError(`${where}.${key} must be a string`);
  return v;
}

function int(obj: { [k: string]: Json }, key: string, where: string): number {
  const v = obj[key];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ManifestParseError(`${where}.${key} must be a whole number`);
  return v;
}

function parseFiles(v: Json | undefined, where: string): ManifestFileEntry[] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v)) throw new ManifestParseError(`${where}.files must be a list`);
  return v.map((f, i) => {
    const at = `${where}.files[${i}]`;
    if (f === null) return { name: '', size: 0 };
    if (!isObject(f)) throw new ManifestParseError(`${at} must be an object`);
    return { name: str(f, 'name', at), size: int(f, 'size', at) };
  });
}

function parseCustomData(v: Json | undefined, where: string): Record<string, string> | null {
  if (v === undefined || v === null) return null;
  if (!isObject(v)) throw new ManifestParseError(`${where}.custom_data must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, s] of Object.entries(v)) {
    if (s !== null && typeof s !== 'string') throw new ManifestParseError(`${where}.custom_data.${k} must be a string`);
    out[k] = s ?? '';
  }
  return out;
}

function parseBuild(b: Json, i: number): ManifestBuild {
  const at = `builds[${i}]`;
  if (b === null) return { name: '', builder_type: '', build_time: 0, files: null, artifact_id: '', packer_run_uuid: '', custom_data: null };
  if (!isObject(b)) throw new ManifestParseError(`${at} must be an object`);
  return {
    name: str(b, 'name', at),
    builder_type: str(b, 'builder_type', at),
    build_time: int(b, 'build_time', at),
    files: parseFiles(b.files, at),
    artifact_id: str(b, 'artifact_id', at),
    packer_run_uuid: str(b, 'packer_run_uuid', at),
    custom_data: parseCustomData(b.custom_data, at),
  };
}

/**
 * Parses an existing manifest (Packer's or kiln's). An empty file is an empty manifest, as in
 * Packer; fields Packer does not know are dropped, as its decoder drops them.
 */
export function parseManifest(text: string): Manifest {
  if (text.length === 0) return { builds: null, last_run_uuid: '' };
  let doc: Json;
  try {
    doc = JSON.parse(text) as Json;
  } catch (err) {
    throw new ManifestParseError(`it is not valid JSON (${(err as Error).message})`);
  }
  if (doc === null) return { builds: null, last_run_uuid: '' };
  if (!isObject(doc)) throw new ManifestParseError('it is not a JSON object with a "builds" list');
  const builds = doc.builds;
  if (builds !== undefined && builds !== null && !Array.isArray(builds)) throw new ManifestParseError('"builds" must be a list');
  return {
    builds: Array.isArray(builds) ? builds.map(parseBuild) : null,
    last_run_uuid: str(doc, 'last_run_uuid', 'manifest'),
  };
}
