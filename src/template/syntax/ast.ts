/**
 * The syntax tree both HCL syntaxes (native and JSON) produce. Blocks and attributes keep source
 * order; every node has a range. Strip markers (`~`) and heredoc indentation are already applied
 * by the parser, so template parts are final text and expressions.
 */
import type { SourceRange } from '../../core/errors/diagnostic.js';

export interface File {
  filename: string;
  body: Body;
  /** `hcl` for native syntax, `json` for HCL JSON syntax. */
  syntax: 'hcl' | 'json';
}

export interface Body {
  kind: 'body';
  /** Attributes and blocks in source order. */
  items: BodyItem[];
  range: SourceRange;
}

export type BodyItem = Attribute | Block;

export interface Attribute {
  kind: 'attribute';
  name: string;
  nameRange: SourceRange;
  expr: Expr;
  /** From the name to the end of the expression. */
  range: SourceRange;
}

export interface Block {
  kind: 'block';
  type: string;
  typeRange: SourceRange;
  labels: string[];
  labelRanges: SourceRange[];
  body: Body;
  /** The whole block, from its type name to its closing brace. */
  range: SourceRange;
  /** Type name and labels: the part a diagnostic about the block as a whole points at. */
  defRange: SourceRange;
}

export type Expr =
  | LiteralExpr
  | TemplateExpr
  | TemplateWrapExpr
  | VariableExpr
  | GetAttrExpr
  | IndexExpr
  | SplatExpr
  | SplatItemExpr
  | FunctionCallExpr
  | ConditionalExpr
  | BinaryExpr
  | UnaryExpr
  | TupleExpr
  | ObjectExpr
  | ForExpr
  | ParensExpr;

interface Node {
  range: SourceRange;
}

/** Numbers, bools and null, plus strings that contain no interpolation (e.g. object keys written as bare names). */
export interface LiteralExpr extends Node {
  kind: 'literal';
  value: string | number | boolean | null;
}

/** A quoted string or heredoc with interpolations/directives. Its value is always a string. */
export interface TemplateExpr extends Node {
  kind: 'template';
  parts: TemplatePart[];
  /** True for `<<EOT` / `<<-EOT` heredocs. */
  heredoc?: boolean;
  /** True when this template came from a JSON string (where some attributes expect an expression in a string). */
  fromJson?: boolean;
}

/** `"${expr}"` with nothing else around it: HCL returns the inner value with its own type. */
export interface TemplateWrapExpr extends Node {
  kind: 'templateWrap';
  wrapped: Expr;
  fromJson?: boolean;
}

export type TemplatePart = TemplateLiteral | TemplateInterp | TemplateIf | TemplateFor;

export interface TemplateLiteral extends Node {
  kind: 'literal';
  /** Text with escapes (`$${`, `%%{`, `\n` in quoted strings) already decoded. */
  value: string;
}
export interface TemplateInterp extends Node {
  kind: 'interp';
  expr: Expr;
}
export interface TemplateIf extends Node {
  kind: 'if';
  cond: Expr;
  then: TemplatePart[];
  else?: TemplatePart[];
}
export interface TemplateFor extends Node {
  kind: 'for';
  keyVar?: string;
  valVar: string;
  collection: Expr;
  body: TemplatePart[];
}

/** A root name: `var`, `local`, `source`, `path`, a `for` iterator, … */
export interface VariableExpr extends Node {
  kind: 'variable';
  name: string;
}

/** `object.name` */
export interface GetAttrExpr extends Node {
  kind: 'getAttr';
  object: Expr;
  name: string;
  nameRange: SourceRange;
}

/** `collection[key]`, and the legacy `list.0` form (key is a number literal). */
export interface IndexExpr extends Node {
  kind: 'index';
  collection: Expr;
  key: Expr;
}

/**
 * `source[*].a.b` (full splat) or `source.*.a` (attribute-only splat). `each` is evaluated once
 * per element with the element bound to the SplatItemExpr inside it.
 */
export interface SplatExpr extends Node {
  kind: 'splat';
  source: Expr;
  each: Expr;
}
/** The element placeholder inside a SplatExpr's `each`. */
export interface SplatItemExpr extends Node {
  kind: 'splatItem';
}

export interface FunctionCallExpr extends Node {
  kind: 'call';
  name: string;
  nameRange: SourceRange;
  args: Expr[];
  /** `f(a, b...)`: the last argument is a sequence expanded into arguments. */
  expandFinal: boolean;
}

export interface ConditionalExpr extends Node {
  kind: 'conditional';
  cond: Expr;
  then: Expr;
  else: Expr;
}

export type BinaryOp = '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%';

export interface BinaryExpr extends Node {
  kind: 'binary';
  op: BinaryOp;
  left: Expr;
  right: Expr;
}

export interface UnaryExpr extends Node {
  kind: 'unary';
  op: '!' | '-';
  operand: Expr;
}

export interface TupleExpr extends Node {
  kind: 'tuple';
  elems: Expr[];
}

export interface ObjectItem {
  /** A bare identifier key is a LiteralExpr string; `(expr)` and quoted keys are evaluated. */
  key: Expr;
  value: Expr;
}
export interface ObjectExpr extends Node {
  kind: 'object';
  items: ObjectItem[];
}

export interface ForExpr extends Node {
  kind: 'for';
  keyVar?: string;
  valVar: string;
  collection: Expr;
  /** Present for the object form `{for k, v in c : keyExpr => valExpr}`. */
  keyExpr?: Expr;
  valExpr: Expr;
  cond?: Expr;
  /** `...` after the value in the object form: values with the same key are grouped into a tuple. */
  group: boolean;
}

export interface ParensExpr extends Node {
  kind: 'parens';
  expr: Expr;
}
