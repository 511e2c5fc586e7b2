/**
 * The expression evaluator: HCL's semantics over cty-like values. Errors never throw: each
 * becomes a diagnostic at the offending range and the failing subexpression yields an unknown
 * value, so evaluation goes on and every problem in a template is reported in one run.
 */
import type { Diagnostic, SourceRange } from '../../core/errors/diagnostic.js';
import { error } from '../../core/errors/diagnostic.js';
import { didYouMean } from '../../core/errors/suggest.js';
import type * as A from '../syntax/ast.js';
import { convert, ConversionError, unifyValues } from './convert.js';
import { callFunction, FunctionError } from './functions/define.js';
import { withVariables, type EvalContext } from './scope.js';
import { typeFromExpr } from './typeexpr.js';
import { T, friendlyName, isSequence, type Type } from './types.js';
import { Value, deepEqual, DYNAMIC_UNKNOWN } from './value.js';

export interface EvalResult {
  value: Value;
  diags: Diagnostic[];
}

export function evaluate(expr: A.Expr, ctx: EvalContext): EvalResult {
  const ev = new Evaluator(ctx);
  const value = ev.eval(expr);
  return { value, diags: ev.diags };
}

/** The source text of a range, for deferred values and messages. */
export function sourceText(ctx: EvalContext, r: SourceRange): string {
  const text = ctx.sources.get(r.filename);
  return text === undefined ? '' : text.slice(r.start.byte, r.end.byte);
}

const OPERATOR_NAMES: Record<A.BinaryOp, string> = {
  '||': 'or', '&&': 'and', '==': 'equality', '!=': 'inequality', '<': 'less than', '<=': 'less than or equal',
  '>': 'greater than', '>=': 'greater than or equal', '+': 'addition', '-': 'subtraction', '*': 'multiplication',
  '/': 'division', '%': 'modulo',
};

class Evaluator {
  readonly diags: Diagnostic[] = [];
  private splatItem: Value[] = [];

  constructor(private ctx: EvalContext) {}

  private fail(summary: string, detail: string, range: SourceRange): Value {
    this.diags.push(error(summary, detail, range));
    return DYNAMIC_UNKNOWN;
  }

  eval(e: A.Expr): Value {
    switch (e.kind) {
      case 'literal':
        if (e.value === null) return Value.null();
        if (typeof e.value === 'string') return Value.string(e.value);
        if (typeof e.value === 'number') return Value.number(e.value);
        return Value.bool(e.value);
      case 'template':
        return this.template(e);
      case 'templateWrap':
        return this.eval(e.wrapped);
      case 'parens':
        return this.eval(e.expr);
      case 'variable':
        return this.variable(e);
      case 'getAttr':
        return this.getAttr(this.eval(e.object), e.name, e.nameRange, e);
      case 'index':
        return this.index(this.eval(e.collection), this.eval(e.key), e);
      case 'splat':
        return this.splat(e);
      case 'splatItem': {
        const v = this.splatItem[this.splatItem.length - 1];
        return v ?? this.fail('Invalid splat', 'A splat element can only be used inside a splat expression.', e.range);
      }
      case 'call':
        return this.call(e);
      case 'conditional':
        return this.conditional(e);
      case 'binary':
        return this.binary(e);
      case 'unary':
        return this.unary(e);
      case 'tuple':
        return Value.tuple(e.elems.map((x) => this.eval(x)));
      case 'object':
        return this.object(e);
      case 'for':
        return this.forExpr(e);
    }
  }

  private variable(e: A.VariableExpr): Value {
    const v = this.ctx.variables.get(e.name);
    if (v !== undefined) return v;
    const why = this.ctx.unavailable?.get(e.name);
    if (why) return this.fail('Unsupported reference', why, e.range);
    return this.fail('Unknown variable', `There is no variable named "${e.name}".${didYouMean(e.name, this.ctx.variables.keys())}`, e.range);
  }

  private getAttr(obj: Value, name: string, nameRange: SourceRange, e: A.Expr): Value {
    if (!obj.isKnown) {
      if (obj.type.kind === 'object') {
        const at = obj.type.attrs.get(name);
        if (!at) return this.noAttr(obj, name, nameRange, e);
        return Value.unknown(at, obj.deferred ? `${obj.deferred}.${name}` : undefined).markSensitive(obj.sensitive);
      }
      if (obj.type.kind === 'map') return Value.unknown(obj.type.elem).markSensitive(obj.sensitive);
      return Value.unknown(T.dynamic, obj.deferred ? `${obj.deferred}.${name}` : undefined).markSensitive(obj.sensitive);
    }
    if (obj.isNull) return this.fail('Attempt to get attribute from null value', 'This value is null, so it does not have any attributes.', nameRange);
    if (obj.type.kind === 'object' || obj.type.kind === 'map') {
      const v = obj.entries().get(name);
      if (v === undefined) return this.noAttr(obj, name, nameRange, e);
      return v.markSensitive(obj.sensitive);
    }
    const hint = isSequence(obj.type) ? ' Did you mean to use [*] or an index?' : '';
    return this.fail('Unsupported attribute', `Can't access attributes on a value of type ${friendlyName(obj.type)}.${hint}`, nameRange);
  }

  private noAttr(obj: Value, name: string, nameRange: SourceRange, e: A.Expr): Value {
    const names = obj.type.kind === 'object' ? [...obj.type.attrs.keys()] : obj.isKnown ? [...obj.entries().keys()] : [];
    const root = e.kind === 'getAttr' && e.object.kind === 'variable' ? e.object.name : undefined;
    // As HCL does, the subject is the traversal step, dot included: `.name`.
    const step = e.kind === 'getAttr' ? { ...nameRange, start: e.object.range.end } : nameRange;
    if (obj.type.kind === 'map') {
      return this.fail('Missing map element', `This map does not have an element with the key "${name}".${didYouMean(name, names)}`, step);
    }
    const why =
      root === 'var' ? ` No input variable "${name}" is declared: add a variable "${name}" {} block.`
      : root === 'local' ? ` No local value "${name}" is defined.`
      : '';
    return this.fail('Unsupported attribute', `This object does not have an attribute named "${name}".${why}${didYouMean(name, names)}`, step);
  }

  private index(coll: Value, key: Value, e: A.IndexExpr): Value {
    const sens = coll.sensitive || key.sensitive;
    if (!coll.isKnown || !key.isKnown) {
      const et = coll.type.kind === 'list' || coll.type.kind === 'map' ? coll.type.elem : T.dynamic;
      return Value.unknown(et).markSensitive(sens);
    }
    if (coll.isNull) return this.fail('Invalid index', 'This value is null, so it cannot be indexed.', e.range);
    if (key.isNull) return this.fail('Invalid index', 'Can\'t use a null value as an indexing key.', e.key.range);
    const t = coll.type.kind;
    if (t === 'list' || t === 'tuple') {
      let n: number;
      try {
        n = convert(key, T.number).num();
      } catch {
        return this.fail('Invalid index', 'The given key does not identify an element in this collection value: a number is required.', e.key.range);
      }
      const elems = coll.elems();
      if (!Number.isInteger(n) || n < 0 || n >= elems.length) {
        return this.fail('Invalid index', `The given key does not identify an element in this collection value${elems.length === 0 ? ': the collection has no elements' : ''}.`, e.key.range);
      }
      return elems[n]!.markSensitive(sens);
    }
    if (t === 'map' || t === 'object') {
      let k: string;
      try {
        k = convert(key, T.string).str();
      } catch {
        return this.fail('Invalid index', 'The given key does not identify an element in this collection value: a string is required.', e.key.range);
      }
      const v = coll.entries().get(k);
      if (v === undefined) {
        return this.fail('Invalid index', `The given key does not identify an element in this collection value.${didYouMean(k, coll.entries().keys())}`, e.key.range);
      }
      return v.markSensitive(sens);
    }
    if (t === 'set') {
      return this.fail('Invalid index', 'Elements of a set are identified only by their value and don\'t have any separate index or key to select with, so it is only possible to perform operations across all elements of the set.', e.range);
    }
    return this.fail('Invalid index', `This value does not have any indices: a ${friendlyName(coll.type)} cannot be indexed.`, e.range);
  }

  private splat(e: A.SplatExpr): Value {
    const src = this.eval(e.source);
    if (!src.isKnown) return Value.unknown(T.dynamic).markSensitive(src.sensitive);
    if (src.isNull) return Value.tuple([]);
    // A non-sequence value is treated as a one-element tuple, as HCL does.
    const items = isSequence(src.type) ? src.elems() : [src];
    const out = items.map((item) => {
      this.splatItem.push(item);
      try {
        return this.eval(e.each);
      } finally {
        this.splatItem.pop();
      }
    });
    if (src.type.kind === 'list' || src.type.kind === 'set') {
      const u = unifyValues(out);
      if (u) return Value.list(u.values, u.type).markSensitive(src.sensitive);
    }
    return Value.tuple(out).markSensitive(src.sensitive);
  }

  private call(e: A.FunctionCallExpr): Value {
    switch (e.name) {
      case 'can':
        return this.can(e);
      case 'try':
        return this.tryFn(e);
      case 'convert':
        return this.convertFn(e);
    }
    const def = this.ctx.functions.get(e.name);
    if (!def) {
      const why = this.ctx.unavailable?.get(`${e.name}()`);
      if (why) return this.fail('Function not available here', why, e.nameRange);
      const all = [...this.ctx.functions.keys(), 'can', 'try', 'convert'];
      return this.fail('Call to unknown function', `There is no function named "${e.name}".${didYouMean(e.name, all)}`, e.nameRange);
    }
    let args = e.args.map((a) => this.eval(a));
    if (e.expandFinal && args.length > 0) {
      const last = args[args.length - 1]!;
      const lastExpr = e.args[e.args.length - 1]!;
      if (!last.isKnown) return Value.unknown(def.returnType ?? T.dynamic);
      if (last.isNull || !isSequence(last.type)) {
        return this.fail('Invalid expanding argument value', 'The expanding argument (indicated by ...) must be of a tuple, list, or set type.', lastExpr.range);
      }
      args = [...args.slice(0, -1), ...last.elems().map((x) => x.markSensitive(last.sensitive))];
    }
    try {
      return callFunction(e.name, def, args, this.ctx.fnContext);
    } catch (err) {
      if (err instanceof FunctionError) {
        const argExpr = err.argIndex !== undefined ? e.args[Math.min(err.argIndex, e.args.length - 1)] : undefined;
        const message = err.message.replace(/\.$/, '');
        if (err.message.startsWith('Invalid value for') || err.message.startsWith('Function "')) {
          return this.fail('Invalid function argument', `${message}.`, argExpr?.range ?? e.range);
        }
        return this.fail('Error in function call', `Call to function "${e.name}" failed: ${message}.`, argExpr?.range ?? e.range);
      }
      throw err;
    }
  }

  /** Evaluates a subexpression in isolation, returning its own diagnostics instead of recording them. */
  private isolated(x: A.Expr): EvalResult {
    const sub = new Evaluator(this.ctx);
    sub.splatItem = this.splatItem;
    const value = sub.eval(x);
    return { value, diags: sub.diags };
  }

  private can(e: A.FunctionCallExpr): Value {
    if (e.args.length !== 1) return this.fail('Invalid function argument', 'Function "can" requires exactly one argument.', e.range);
    const r = this.isolated(e.args[0]!);
    if (r.diags.some((d) => d.severity === 'error')) return Value.bool(false);
    if (!r.value.isWhollyKnown) return Value.unknown(T.bool);
    return Value.bool(true);
  }

  private tryFn(e: A.FunctionCallExpr): Value {
    if (e.args.length === 0) return this.fail('Invalid function argument', 'At least one argument is required.', e.range);
    const failures: Diagnostic[] = [];
    for (const a of e.args) {
      const r = this.isolated(a);
      if (r.diags.some((d) => d.severity === 'error')) {
        failures.push(...r.diags);
        continue;
      }
      if (!r.value.isWhollyKnown) return Value.unknown(r.value.type);
      return r.value;
    }
    const reasons = failures.filter((d) => d.severity === 'error').map((d) => `- ${d.detail ?? d.summary}`);
    return this.fail('Error in function call', `Call to function "try" failed: no expression succeeded:\n${reasons.join('\n')}\n\nAt least one expression must produce a successful result.`, e.range);
  }

  private convertFn(e: A.FunctionCallExpr): Value {
    if (e.args.length !== 2) return this.fail('Invalid function argument', 'Function "convert" requires a value and a type.', e.range);
    const v = this.eval(e.args[0]!);
    const { constraint, diags } = typeFromExpr(e.args[1]!);
    if (diags.length > 0) {
      this.diags.push(...diags);
      return DYNAMIC_UNKNOWN;
    }
    try {
      return convert(v, constraint.type);
    } catch (err) {
      if (err instanceof ConversionError) return this.fail('Invalid function argument', `Invalid value for "value" parameter: ${err.message}.`, e.args[0]!.range);
      throw err;
    }
  }

  private conditional(e: A.ConditionalExpr): Value {
    const cond = this.eval(e.cond);
    let decided: boolean | undefined;
    if (cond.isNull) return this.fail('Null condition', 'The condition value is null. Conditions must either be true or false.', e.cond.range);
    if (cond.isKnown) {
      try {
        decided = convert(cond, T.bool).bool();
      } catch {
        return this.fail('Incorrect condition type', `The condition expression must be of type bool, not ${friendlyName(cond.type)}.`, e.cond.range);
      }
    }
    // As in HCL, only the branch taken can fail; the other one still lends its type.
    const a = decided === false ? this.isolated(e.then).value : this.eval(e.then);
    const b = decided === true ? this.isolated(e.else).value : this.eval(e.else);
    const u = unifyValues([a, b]);
    if (!u) {
      return this.fail(
        'Inconsistent conditional result types',
        `The true and false result expressions must have consistent types. The 'true' value is ${friendlyName(a.type)}, but the 'false' value is ${friendlyName(b.type)}.`,
        e.range,
      );
    }
    const [ta, tb] = u.values as [Value, Value];
    if (decided === undefined) return Value.unknown(u.type).markSensitive(cond.sensitive);
    return (decided ? ta : tb).markSensitive(cond.sensitive);
  }

  private operand(v: Value, want: Type, side: string, range: SourceRange, op: A.BinaryOp | '!' | 'neg'): Value | undefined {
    if (!v.isKnown) return v;
    if (v.isNull) {
      this.fail('Invalid operand', `Unsuitable value for ${side} operand: argument must not be null.`, range);
      return undefined;
    }
    try {
      return convert(v, want);
    } catch (err) {
      if (err instanceof ConversionError) {
        const name = op === '!' ? 'logical negation' : op === 'neg' ? 'negation' : OPERATOR_NAMES[op];
        this.fail('Invalid operand', `Unsuitable value for ${side} operand of the ${name} operator: ${err.message}.`, range);
        return undefined;
      }
      throw err;
    }
  }

  private binary(e: A.BinaryExpr): Value {
    const l = this.eval(e.left);
    const r = this.eval(e.right);
    const sens = l.sensitive || r.sensitive;
    if (e.op === '==' || e.op === '!=') {
      if (!l.isWhollyKnown || !r.isWhollyKnown) return Value.unknown(T.bool).markSensitive(sens);
      const eq = valuesEqual(l, r);
      return Value.bool(e.op === '==' ? eq : !eq).markSensitive(sens);
    }
    const want = e.op === '&&' || e.op === '||' ? T.bool : T.number;
    const lv = this.operand(l, want, 'left', e.left.range, e.op);
    const rv = this.operand(r, want, 'right', e.right.range, e.op);
    if (!lv || !rv) return DYNAMIC_UNKNOWN;
    const resultType = ['+', '-', '*', '/', '%'].includes(e.op) ? T.number : T.bool;
    if (e.op === '&&' || e.op === '||') {
      // A known left side can decide the result even when the right side is unknown.
      if (lv.isKnown && lv.bool() === (e.op === '||')) return lv.markSensitive(l.sensitive);
      if (!lv.isKnown || !rv.isKnown) return Value.unknown(T.bool).markSensitive(sens);
      return Value.bool(e.op === '&&' ? lv.bool() && rv.bool() : lv.bool() || rv.bool()).markSensitive(sens);
    }
    if (!lv.isKnown || !rv.isKnown) return Value.unknown(resultType).markSensitive(sens);
    const a = lv.num();
    const b = rv.num();
    let out: number | boolean;
    switch (e.op) {
      case '+': out = a + b; break;
      case '-': out = a - b; break;
      case '*': out = a * b; break;
      case '/':
        if (b === 0) return this.fail('Operation failed', 'Error during operation: can\'t divide by zero.', e.range);
        out = a / b;
        break;
      case '%':
        if (b === 0) return this.fail('Operation failed', 'Error during operation: can\'t use modulo by zero.', e.range);
        out = a % b;
        break;
      case '<': out = a < b; break;
      case '<=': out = a <= b; break;
      case '>': out = a > b; break;
      case '>=': out = a >= b; break;
    }
    return (typeof out === 'number' ? Value.number(out) : Value.bool(out)).markSensitive(sens);
  }

  private unary(e: A.UnaryExpr): Value {
    const v = this.eval(e.operand);
    const want = e.op === '!' ? T.bool : T.number;
    const cv = this.operand(v, want, 'the', e.operand.range, e.op === '!' ? '!' : 'neg');
    if (!cv) return DYNAMIC_UNKNOWN;
    if (!cv.isKnown) return Value.unknown(want).markSensitive(v.sensitive);
    return (e.op === '!' ? Value.bool(!cv.bool()) : Value.number(-cv.num())).markSensitive(v.sensitive);
  }

  private object(e: A.ObjectExpr): Value {
    const entries = new Map<string, Value>();
    let unknownKey = false;
    let sensitiveKey = false;
    for (const item of e.items) {
      const k = this.eval(item.key);
      const v = this.eval(item.value);
      if (!k.isKnown) {
        unknownKey = true;
        continue;
      }
      if (k.isNull) {
        this.fail('Null value as key', 'Can\'t use a null value as a key.', item.key.range);
        continue;
      }
      let ks: string;
      try {
        ks = convert(k, T.string).str();
      } catch {
        this.fail('Incorrect key type', `Can't use this value as a key: string required, not ${friendlyName(k.type)}.`, item.key.range);
        continue;
      }
      sensitiveKey ||= k.sensitive;
      entries.set(ks, v);
    }
    if (unknownKey) return Value.unknown(T.dynamic);
    return Value.object(entries).markSensitive(sensitiveKey);
  }

  private forExpr(e: A.ForExpr): Value {
    const coll = this.eval(e.collection);
    if (!coll.isKnown) return Value.unknown(T.dynamic).markSensitive(coll.sensitive);
    if (coll.isNull) return this.fail('Iteration over null value', 'A null value cannot be used as the collection in a \'for\' expression.', e.collection.range);
    const t = coll.type.kind;
    let pairs: Array<[Value, Value]>;
    if (t === 'list' || t === 'tuple') pairs = coll.elems().map((v, i) => [Value.number(i), v]);
    else if (t === 'set') pairs = coll.elems().map((v) => [v, v]);
    else if (t === 'map' || t === 'object') pairs = [...coll.entries()].map(([k, v]) => [Value.string(k), v]);
    else {
      return this.fail('Iteration over non-iterable value', `A value of type ${friendlyName(coll.type)} cannot be used as the collection in a 'for' expression.`, e.collection.range);
    }
    const keys: Value[] = [];
    const vals: Value[] = [];
    for (const [k, v] of pairs) {
      const scope = new Map<string, Value>();
      if (e.keyVar) scope.set(e.keyVar, k.markSensitive(coll.sensitive));
      scope.set(e.valVar, v.markSensitive(coll.sensitive));
      const inner = new Evaluator(withVariables(this.ctx, scope));
      inner.splatItem = this.splatItem;
      if (e.cond) {
        const c = inner.eval(e.cond);
        this.diags.push(...inner.diags.splice(0));
        if (!c.isKnown) return Value.unknown(T.dynamic);
        if (c.isNull) return this.fail('Condition is null', 'The value of the \'if\' clause must not be null.', e.cond.range);
        let ok: boolean;
        try {
          ok = convert(c, T.bool).bool();
        } catch {
          return this.fail('Invalid \'for\' condition', `The 'if' clause value is invalid: bool required, not ${friendlyName(c.type)}.`, e.cond.range);
        }
        if (!ok) continue;
      }
      if (e.keyExpr) keys.push(inner.eval(e.keyExpr));
      vals.push(inner.eval(e.valExpr));
      this.diags.push(...inner.diags);
    }
    if (!e.keyExpr) return Value.tuple(vals);
    const out = new Map<string, Value>();
    const groups = new Map<string, Value[]>();
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (!k.isKnown) return Value.unknown(T.dynamic);
      if (k.isNull) return this.fail('Invalid object key', 'Key expression in \'for\' expression must not produce a null value.', e.keyExpr.range);
      let ks: string;
      try {
        ks = convert(k, T.string).str();
      } catch {
        return this.fail('Invalid object key', `The key expression produced an invalid result: string required, not ${friendlyName(k.type)}.`, e.keyExpr.range);
      }
      if (e.group) {
        const g = groups.get(ks) ?? [];
        g.push(vals[i]!);
        groups.set(ks, g);
      } else {
        if (out.has(ks)) {
          return this.fail(
            'Duplicate object key',
            `Two different items produced the key "${ks}" in this 'for' expression. If duplicate keys are expected, use the ellipsis (...) after the value expression to enable grouping by key.`,
            e.keyExpr.range,
          );
        }
        out.set(ks, vals[i]!);
      }
    }
    if (e.group) for (const [k, g] of groups) out.set(k, Value.tuple(g));
    return Value.object(out);
  }

  private template(e: A.TemplateExpr): Value {
    const r = this.parts(e.parts);
    if (r === undefined) return DYNAMIC_UNKNOWN;
    if (r.unknown) return Value.unknown(T.string, r.deferred).markSensitive(r.sensitive);
    return Value.string(r.text).markSensitive(r.sensitive);
  }

  /** Renders template parts; undefined after an error (already reported). */
  private parts(parts: readonly A.TemplatePart[]): { text: string; deferred: string; unknown: boolean; sensitive: boolean } | undefined {
    let text = '';
    // The same text with each unknown part kept as its `${…}` source: how a deferred value is shown.
    let deferred = '';
    let unknown = false;
    let sensitive = false;
    for (const p of parts) {
      switch (p.kind) {
        case 'literal':
          text += p.value;
          deferred += p.value;
          break;
        case 'interp': {
          const v = this.eval(p.expr);
          sensitive ||= v.containsSensitive;
          if (!v.isKnown) {
            unknown = true;
            deferred += `\${${sourceText(this.ctx, p.expr.range)}}`;
            break;
          }
          if (v.isNull) {
            this.fail('Invalid template interpolation value', 'The expression result is null. Cannot include a null value in a string template.', p.expr.range);
            return undefined;
          }
          try {
            const piece = convert(v.unmarked(), T.string).str();
            text += piece;
            deferred += piece;
          } catch {
            this.fail('Invalid template interpolation value', `Cannot include the given value in a string template: string required, not ${friendlyName(v.type)}.`, p.expr.range);
            return undefined;
          }
          break;
        }
        case 'if': {
          const c = this.eval(p.cond);
          sensitive ||= c.sensitive;
          if (!c.isKnown) {
            unknown = true;
            deferred += sourceText(this.ctx, p.range);
            break;
          }
          let ok: boolean;
          try {
            if (c.isNull) throw new ConversionError('null');
            ok = convert(c, T.bool).bool();
          } catch {
            this.fail('Invalid template if condition', `The condition must be a bool, not ${c.isNull ? 'null' : friendlyName(c.type)}.`, p.cond.range);
            return undefined;
          }
          const branch = ok ? p.then : p.else ?? [];
          const r = this.parts(branch);
          if (!r) return undefined;
          text += r.text;
          deferred += r.deferred;
          unknown ||= r.unknown;
          sensitive ||= r.sensitive;
          break;
        }
        case 'for': {
          const coll = this.eval(p.collection);
          sensitive ||= coll.sensitive;
          if (!coll.isKnown) {
            unknown = true;
            deferred += sourceText(this.ctx, p.range);
            break;
          }
          if (coll.isNull) {
            this.fail('Iteration over null value', 'A null value cannot be used as the collection in a template \'for\' directive.', p.collection.range);
            return undefined;
          }
          let pairs: Array<[Value, Value]>;
          if (isSequence(coll.type)) pairs = coll.elems().map((v, i) => [coll.type.kind === 'set' ? v : Value.number(i), v]);
          else if (coll.type.kind === 'map' || coll.type.kind === 'object') pairs = [...coll.entries()].map(([k, v]) => [Value.string(k), v]);
          else {
            this.fail('Iteration over non-iterable value', `A value of type ${friendlyName(coll.type)} cannot be used as the collection in a 'for' directive.`, p.collection.range);
            return undefined;
          }
          for (const [k, v] of pairs) {
            const scope = new Map<string, Value>();
            if (p.keyVar) scope.set(p.keyVar, k);
            scope.set(p.valVar, v);
            const inner = new Evaluator(withVariables(this.ctx, scope));
            const r = inner.parts(p.body);
            this.diags.push(...inner.diags);
            if (!r) return undefined;
            text += r.text;
            deferred += r.deferred;
            unknown ||= r.unknown;
            sensitive ||= r.sensitive;
          }
          break;
        }
      }
    }
    return { text, deferred, unknown, sensitive };
  }
}

/** HCL equality: same type family and same content; numbers by value. */
function valuesEqual(a: Value, b: Value): boolean {
  if (a.isNull || b.isNull) return a.isNull && b.isNull;
  const fam = (t: Type): string => (t.kind === 'tuple' || t.kind === 'list' ? 'seq' : t.kind === 'object' || t.kind === 'map' ? 'map' : t.kind);
  if (fam(a.type) !== fam(b.type)) return false;
  return deepEqual(a, b);
}
