/**
 * The template model: Packer's blocks decoded from the syntax tree, still unevaluated. Plugin
 * bodies (sources, provisioners, post-processors, data sources) stay as syntax so they can be
 * evaluated per build, and again at run time when `build.*` values exist.
 */
import type { SourceRange } from '../core/errors/diagnostic.js';
import type { SourceTexts } from '../core/errors/render.js';
import type { Block, Body, Expr, File } from './syntax/ast.js';
import type { Value } from './eval/value.js';
import type { TypeConstraint } from './eval/typeexpr.js';

export interface TemplateModel {
  /** The directory (or the file's directory) the template was read from: `path.root`. */
  root: string;
  files: File[];
  sources: SourceTexts;
  packer?: PackerSettings;
  variables: Map<string, VariableDecl>;
  locals: Map<string, LocalDecl>;
  sourceBlocks: Map<string, SourceDecl>;
  dataSources: Map<string, DataDecl>;
  /** The `build` blocks as written; `builds` is what they decode to (dynamic blocks expanded once variables exist). */
  buildBlocks: Block[];
  builds: BuildDecl[];
}

export interface PackerSettings {
  requiredVersion?: Expr;
  requiredPlugins: RequiredPlugin[];
  range: SourceRange;
}

export interface RequiredPlugin {
  /** The local name (`amazon` in `amazon = { source = …, version = … }`). */
  name: string;
  source?: string;
  version?: string;
  range: SourceRange;
}

export interface Validation {
  condition: Expr;
  errorMessage: Expr;
  range: SourceRange;
}

export interface VariableDecl {
  name: string;
  /** Declared with `type = …`; absent means the default's type, or any. */
  constraint?: TypeConstraint;
  default?: Expr;
  description?: string;
  sensitive: boolean;
  nullable: boolean;
  validations: Validation[];
  /** The `variable "name"` header. */
  defRange: SourceRange;
}

export interface LocalDecl {
  name: string;
  expr: Expr;
  sensitive: boolean;
  range: SourceRange;
}

export interface SourceDecl {
  type: string;
  name: string;
  body: Body;
  defRange: SourceRange;
}

export interface DataDecl {
  type: string;
  name: string;
  body: Body;
  defRange: SourceRange;
}

/** One source a build uses: a `sources` entry or a nested `source "source.T.N"` block. */
export interface BuildSourceRef {
  type: string;
  /** The top-level source's name. */
  name: string;
  /** The build's own name for it (`name = …` in a nested block); defaults to `name`. */
  localName?: string;
  /** Extra fields from a nested source block that fill what the top-level source left unset. */
  body?: Body;
  /** Iterator variables of the dynamic block that generated it. */
  vars?: ReadonlyMap<string, Value>;
  range: SourceRange;
}

/** A provisioner or post-processor: its type, Packer's meta-arguments, and the plugin's own body. */
export interface StepDecl {
  type: string;
  name?: string;
  only?: string[];
  except?: string[];
  /** provisioner `override = { "type.name" = { … } }`. */
  override?: Expr;
  pauseBefore?: Expr;
  maxRetries?: Expr;
  timeout?: Expr;
  /** post-processor `keep_input_artifact`. */
  keepInputArtifact?: Expr;
  /** The body with the meta-arguments removed: what the plugin gets. */
  body: Body;
  /** Iterator variables of the dynamic block that generated it. */
  vars?: ReadonlyMap<string, Value>;
  defRange: SourceRange;
}

export interface BuildDecl {
  /** `name = …`: may use variables and locals, so it is evaluated with them. */
  name?: Expr;
  description?: Expr;
  sources: BuildSourceRef[];
  provisioners: StepDecl[];
  errorCleanupProvisioner?: StepDecl;
  /** Each inner list is one chain; a lone `post-processor` block is a chain of one. */
  postProcessors: StepDecl[][];
  defRange: SourceRange;
}
