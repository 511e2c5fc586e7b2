import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../../src/core/errors/diagnostic.js';
import { formatValue } from '../../../src/template/display.js';
import { evaluate } from '../../../src/template/eval/evaluate.js';
import type { FuncDef } from '../../../src/template/eval/functions/define.js';
import { T } from '../../../src/template/eval/types.js';
import { Value } from '../../../src/template/eval/value.js';
import { parseExpression } from '../../../src/template/syntax/index.js';

const functions = new Map<string, FuncDef>([
  ['upper', { params: [{ name: 'str', type: T.string }], impl: (a) => Value.string(a[0]!.str().toUpperCase()) }],
]);

function run(src: string, vars: Record<string, Value> = {}): { value: Value; diags: Diagnostic[]; text: string } {
  const p = parseExpression(src, 'e.hcl');
  expect(p.diagnostics).toEqual([]);
  const r = evaluate(p.expr, {
    variables: new Map(Object.entries(vars)),
    functions,
    fnContext: { baseDir: '.', now: new Date(0), renderTemplate: () => Value.string('') },
    sources: new Map([['e.hcl', src]]),
  });
  return { ...r, text: formatValue(r.value) };
}

function ok(src: string, vars: Record<string, Value> = {}): string {
  const r = run(src, vars);
  expect(r.diags.map((d) => d.detail)).toEqual([]);
  return r.text;
}

const obj = Value.object({
  list: Value.tuple([Value.object({ name: Value.string('a'), size: Value.number(1) }), Value.object({ name: Value.string('b'), size: Value.number(2) })]),
  map: Value.object({ x: Value.number(1), y: Value.number(2) }),
});

describe('evaluation', () => {
  it('does arithmetic, comparison and logic with conversions', () => {
    expect(ok('1 + 2 * 3')).toBe('7');
    expect(ok('"2" * 3')).toBe('6');
    expect(ok('7 % 3 == 1 && !(2 < 1)')).toBe('true');
    expect(ok('-(1.5)')).toBe('-1.5');
  });

  it('compares values by type and content', () => {
    expect(ok('1 == "1"')).toBe('false');
    expect(ok('[1, 2] == [1, 2]')).toBe('true');
    expect(ok('{a = 1} != {a = 2}')).toBe('true');
    expect(ok('null == null')).toBe('true');
  });

  it('lets only the branch taken fail, as HCL does', () => {
    expect(ok('true ? 1 : [][0]')).toBe('1');
    expect(run('false ? 1 : [][0]').diags[0]!.summary).toBe('Invalid index');
  });

  it('evaluates conditionals with unified result types', () => {
    expect(ok('true ? 1 : "x"')).toBe('"1"');
    expect(run('true ? [1] : "x"').diags[0]!.summary).toBe('Inconsistent conditional result types');
    expect(run('"yes" ? 1 : 2').diags[0]!.summary).toBe('Incorrect condition type');
  });

  it('evaluates for expressions over lists and maps, with filters and grouping', () => {
    expect(ok('[for i, v in ["a", "b"] : "${i}${v}"]')).toBe('[\n  "0a",\n  "1b",\n]');
    expect(ok('{for k, v in var.map : v => k if v > 1}', { var: obj })).toBe('{\n  "2" = "y"\n}');
    expect(ok('{for s in ["a", "b", "a"] : s => s...}')).toBe('{\n  "a" = [\n    "a",\n    "a",\n  ]\n  "b" = [\n    "b",\n  ]\n}');
    expect(run('{for s in ["a", "a"] : s => s}').diags[0]!.summary).toBe('Duplicate object key');
  });

  it('evaluates splats and index/attribute traversal', () => {
    expect(ok('var.list[*].name', { var: obj })).toBe('[\n  "a",\n  "b",\n]');
    expect(ok('var.list.*.size', { var: obj })).toBe('[\n  1,\n  2,\n]');
    expect(ok('var.list[1]["name"]', { var: obj })).toBe('"b"');
    expect(ok('var.map.x', { var: obj })).toBe('1');
    expect(ok('null[*]')).toBe('[]');
  });

  it('renders templates with directives', () => {
    expect(ok('"%{ for k, v in var.map }${k}=${v};%{ endfor }"', { var: obj })).toBe('"x=1;y=2;"');
    expect(ok('"%{ if 1 > 2 }big%{ else }small%{ endif }"')).toBe('"small"');
  });

  it('explains wrong references with suggestions and positions', () => {
    const r = run('var.lst[0]', { var: obj });
    // As HCL, the subject is the traversal step `.lst`, dot included.
    expect(r.diags[0]).toMatchObject({ summary: 'Unsupported attribute', subject: { start: { column: 4 } } });
    expect(r.diags[0]!.detail).toContain('Did you mean "list"?');
    expect(run('uper("x")').diags[0]!.detail).toBe('There is no function named "uper". Did you mean "upper"?');
    expect(run('var.list[5]', { var: obj }).diags[0]!.summary).toBe('Invalid index');
    expect(run('upper([1])').diags[0]!.summary).toBe('Invalid function argument');
    expect(run('"x${null}"').diags[0]!.summary).toBe('Invalid template interpolation value');
    expect(run('"${null}"').value.isNull).toBe(true);
  });

  it('keeps unknown values unknown, and remembers what will give them', () => {
    const build = Value.object({ ID: Value.unknown(T.string, 'build.ID') });
    const r = run('"id=${build.ID}"', { build });
    expect(r.diags).toEqual([]);
    expect(r.value.isKnown).toBe(false);
    expect(r.value.deferred).toBe('id=${build.ID}');
    expect(run('upper(build.ID)', { build }).value.isKnown).toBe(false);
    expect(run('build.ID == "x" ? 1 : 2', { build }).value.isKnown).toBe(false);
  });

  it('spreads the sensitive mark to everything computed from a sensitive value', () => {
    const v = Value.object({ pw: Value.string('secret').markSensitive() });
    expect(run('"pw=${var.pw}"', { var: v }).value.sensitive).toBe(true);
    expect(run('upper(var.pw)', { var: v }).value.sensitive).toBe(true);
    expect(run('[var.pw]', { var: v }).value.containsSensitive).toBe(true);
    expect(formatValue(run('var.pw', { var: v }).value)).toBe('(<sensitive>)');
  });

  it('implements can, try and convert lazily', () => {
    expect(ok('can(var.nope)', { var: obj })).toBe('false');
    expect(ok('can(var.map.x)', { var: obj })).toBe('true');
    expect(ok('try(var.nope, var.map.y, 0)', { var: obj })).toBe('2');
    expect(ok('convert(["a"], set(string))')).toBe('toset([\n  "a",\n])');
    expect(run('try(var.nope)', { var: obj }).diags[0]!.summary).toBe('Error in function call');
  });
});
