/**
 * The library as templates use it: HCL source parsed by the real parser and evaluated with
 * FUNCTIONS, so argument expansion, diagnostics and templatefile rendering are covered end to end.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../../src/core/errors/diagnostic.js';
import { evaluate } from '../../../src/template/eval/evaluate.js';
import { FunctionError, type FunctionContext } from '../../../src/template/eval/functions/define.js';
import { FUNCTIONS } from '../../../src/template/eval/functions/index.js';
import type { EvalContext } from '../../../src/template/eval/scope.js';
import type { Value } from '../../../src/template/eval/value.js';
import { parseExpression, parseTemplate } from '../../../src/template/syntax/index.js';
import { js, NOW } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-hcl-fn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// As the template environment does: a template file sees only its variables and the functions.
const fnContext: FunctionContext = {
  baseDir: dir,
  now: NOW,
  renderTemplate(text, filename, vars) {
    const parsed = parseTemplate(text, filename);
    if (parsed.diagnostics.length > 0) throw new FunctionError(parsed.diagnostics[0]!.summary, 0);
    const r = evaluate(parsed.expr, { ...base, variables: vars, sources: new Map([[filename, text]]) });
    if (r.diags.length > 0) throw new FunctionError(r.diags[0]!.detail ?? r.diags[0]!.summary, 0);
    return r.value;
  },
};
const base: EvalContext = { variables: new Map(), functions: FUNCTIONS, fnContext, sources: new Map() };

function evalHCL(src: string): { value: Value; diags: Diagnostic[] } {
  const p = parseExpression(src, 'e.hcl');
  expect(p.diagnostics).toEqual([]);
  return evaluate(p.expr, { ...base, sources: new Map([['e.hcl', src]]) });
}

function ok(src: string): unknown {
  const r = evalHCL(src);
  expect(r.diags.map((d) => d.detail)).toEqual([]);
  return js(r.value);
}

describe('functions in HCL expressions', () => {
  it('evaluate documented examples written in HCL', () => {
    expect(ok('formatlist("Hello, %s!", ["Valentina", "Ander"])')).toEqual(['Hello, Valentina!', 'Hello, Ander!']);
    expect(ok('[for i in range(2) : format("%s%02d", "bar", i)]')).toEqual(['bar00', 'bar01']);
    expect(ok('coalesce(["", "b"]...)')).toBe('b');
    expect(ok('max([12, 54, 3]...)')).toBe(54);
    expect(ok('ceil(log(17, 2))')).toBe(5);
    expect(ok('"  items: ${indent(2, "[\\n  foo,\\n  bar,\\n]\\n")}"')).toBe('  items: [\n    foo,\n    bar,\n  ]\n  ');
    expect(ok('jsonencode({"hello"="world"})')).toBe('{"hello":"world"}');
    expect(ok('length(regexall("[a-z]+", "123456789")) > 0')).toBe(false);
    expect(ok('formatdate("YYYY-MM-DD", timestamp())')).toBe('2024-03-05');
    expect(ok('[for cidr_block in cidrsubnets("10.0.0.0/8", 8, 8) : cidrsubnets(cidr_block, 4, 4)]')).toEqual([
      ['10.0.0.0/20', '10.0.16.0/20'],
      ['10.1.0.0/20', '10.1.16.0/20'],
    ]);
  });

  it('report argument errors as HCL does', () => {
    const bad = evalHCL('parseint("12", 2)').diags[0]!;
    expect(bad.summary).toBe('Invalid function argument');
    expect(bad.detail).toBe('Invalid value for "number" parameter: cannot parse "12" as a base 2 integer.');
    const failed = evalHCL('regex("[a-z]+", "53453453.34534523454")').diags[0]!;
    expect(failed.summary).toBe('Error in function call');
    expect(failed.detail).toBe('Call to function "regex" failed: pattern did not match any part of the given string.');
  });

  it('render template files (documented example)', () => {
    writeFileSync(join(dir, 'backends.tmpl'), '%{ for addr in ip_addrs ~}\nbackend ${addr}:${port}\n%{ endfor ~}\n');
    expect(ok('templatefile("backends.tmpl", { port = 8080, ip_addrs = ["10.0.0.1", "10.0.0.2"] })')).toBe(
      'backend 10.0.0.1:8080\nbackend 10.0.0.2:8080\n',
    );
    writeFileSync(join(dir, 'json.tmpl'), '${jsonencode({ "backends": [for addr in ip_addrs : "${addr}:${port}"] })}');
    expect(ok('templatefile("json.tmpl", { port = 8080, ip_addrs = ["10.0.0.1", "10.0.0.2"] })')).toBe('{"backends":["10.0.0.1:8080","10.0.0.2:8080"]}');
  });

  it('refuse templatefile inside a template file', () => {
    writeFileSync(join(dir, 'nested.tmpl'), '${templatefile("backends.tmpl", {})}');
    const r = evalHCL('templatefile("nested.tmpl", {})');
    expect(r.diags.map((d) => d.detail).join('\n')).toContain('cannot recursively call templatefile from inside templatefile call');
  });
});
