/**
 * Decodes parsed files into the template model: Packer's block structure checked (unknown
 * blocks and arguments, label counts, duplicates), meta-arguments split from plugin bodies.
 * Nothing is evaluated here except the few static arguments Packer also reads statically.
 */
import type { Diagnostic, SourceRange } from '../core/errors/diagnostic.js';
import { error } from '../core/errors/diagnostic.js';
import type { SourceTexts } from '../core/errors/render.js';
import { bodyContent, type BodySchema } from './schema.js';
import type { Attribute, Block, Body, Expr, File } from './syntax/ast.js';
import { parseExpression } from './syntax/index.js';
import { typeFromExpr } from './eval/typeexpr.js';
import { staticBool, staticString, staticStringList } from './eval/static.js';
import type { BuildDecl, BuildSourceRef, RequiredPlugin, StepDecl, TemplateModel, VariableDecl } from './model.js';
import { expandDynamic } from './eval/body.js';
import { convert } from './eval/convert.js';
import { evaluate } from './eval/evaluate.js';
import { withVariables, type EvalContext } from './eval/scope.js';
import { T } from './eval/types.js';
import type { Value } from './eval/value.js';

const TOP: BodySchema = {
  blocks: {
    packer: { labels: [] },
    variable: { labels: ['name'] },
    variables: { labels: [] },
    locals: { labels: [] },
    local: { labels: ['name'] },
    source: { labels: ['type', 'name'] },
    data: { labels: ['type', 'name'] },
    build: { labels: [] },
  },
};
const PACKER: BodySchema = { attributes: { required_version: {} }, blocks: { required_plugins: { labels: [] } } };
const VARIABLE: BodySchema = {
  attributes: { type: {}, default: {}, description: {}, sensitive: {}, nullable: {} },
  blocks: { validation: { labels: [] } },
};
const VALIDATION: BodySchema = { attributes: { condition: { required: true }, error_message: { required: true } } };
const LOCAL: BodySchema = { attributes: { expression: { required: true }, sensitive: {} } };
const BUILD: BodySchema = {
  attributes: { name: {}, description: {}, sources: {} },
  blocks: {
    source: { labels: ['reference'] },
    provisioner: { labels: ['type'] },
    'error-cleanup-provisioner': { labels: ['type'] },
    'post-processor': { labels: ['type'] },
    'post-processors': { labels: [] },
    dynamic: { labels: ['type'] },
  },
};
const POST_PROCESSORS: BodySchema = { blocks: { 'post-processor': { labels: ['type'] }, dynamic: { labels: ['type'] } } };
const PROVISIONER_META = ['name', 'only', 'except', 'override', 'pause_before', 'max_retries', 'timeout'];
const POST_PROCESSOR_META = ['name', 'only', 'except', 'keep_input_artifact'];

export function decodeTemplate(files: File[], sources: SourceTexts, root: string): { model: TemplateModel; diags: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const model: TemplateModel = {
    root,
    files,
    sources,
    variables: new Map(),
    locals: new Map(),
    sourceBlocks: new Map(),
    dataSources: new Map(),
    buildBlocks: [],
    builds: [],
  };
  for (const file of files) {
    const { blocks } = bodyContent(file.body, TOP, diags, 'at the top level of a template');
    for (const block of blocks) {
      switch (block.type) {
        case 'packer':
          decodePacker(block, model, diags);
          break;
        case 'variable':
          decodeVariable(block, model, diags);
          break;
        case 'variables':
          decodeVariablesBlock(block, model, diags);
          break;
        case 'locals':
          for (const attr of bodyContent(block.body, { anyAttributes: true }, diags, 'in a locals block').attributes.values()) {
            addLocal(model, diags, attr.name, attr.expr, false, attr.nameRange);
          }
          break;
        case 'local': {
          const c = bodyContent(block.body, LOCAL, diags, 'in a local block', block.defRange);
          const expr = c.attributes.get('expression')?.expr;
          const sensAttr = c.attributes.get('sensitive');
          const sensitive = sensAttr ? staticBool(sensAttr.expr, diags, 'sensitive') ?? false : false;
          if (expr) addLocal(model, diags, block.labels[0]!, expr, sensitive, block.defRange);
          break;
        }
        case 'source': {
          const key = `${block.labels[0]}.${block.labels[1]}`;
          const prev = model.sourceBlocks.get(key);
          if (prev) {
            diags.push(error('Duplicate source block', `A source block named "${key}" was already declared at ${at(prev.defRange)}. Source names must be unique per type.`, block.defRange));
            break;
          }
          model.sourceBlocks.set(key, { type: block.labels[0]!, name: block.labels[1]!, body: block.body, defRange: block.defRange });
          break;
        }
        case 'data': {
          const key = `${block.labels[0]}.${block.labels[1]}`;
          const prev = model.dataSources.get(key);
          if (prev) {
            diags.push(error('Duplicate data block', `A data block named "${key}" was already declared at ${at(prev.defRange)}. Data source names must be unique per type.`, block.defRange));
            break;
          }
          model.dataSources.set(key, { type: block.labels[0]!, name: block.labels[1]!, body: block.body, defRange: block.defRange });
          break;
        }
        case 'build':
          model.buildBlocks.push(block);
          model.builds.push(decodeBuild(block, diags, undefined));
          break;
      }
    }
  }
  return { model, diags };
}

function at(r: SourceRange): string {
  return `${r.filename}:${r.start.line},${r.start.column}`;
}

function decodePacker(block: Block, model: TemplateModel, diags: Diagnostic[]): void {
  const c = bodyContent(block.body, PACKER, diags, 'in a packer block');
  const settings = model.packer ?? { requiredPlugins: [], range: block.defRange };
  const rv = c.attributes.get('required_version');
  if (rv) settings.requiredVersion = rv.expr;
  for (const rp of c.blocks) {
    for (const attr of bodyContent(rp.body, { anyAttributes: true }, diags, 'in required_plugins').attributes.values()) {
      const plugin: RequiredPlugin = { name: attr.name, range: attr.nameRange };
      if (attr.expr.kind === 'object') {
        for (const item of attr.expr.items) {
          const key = item.key.kind === 'literal' ? String(item.key.value) : undefined;
          if (key === 'source') plugin.source = staticString(item.value, diags, 'a required plugin source');
          else if (key === 'version') plugin.version = staticString(item.value, diags, 'a required plugin version');
          else diags.push(error('Unsupported argument', `A required plugin takes "source" and "version"; "${key ?? '?'}" is not expected.`, item.key.range));
        }
      } else {
        diags.push(error('Invalid required_plugins entry', `The plugin "${attr.name}" must be given as an object: ${attr.name} = { source = "…", version = "…" }.`, attr.expr.range));
      }
      settings.requiredPlugins.push(plugin);
    }
  }
  model.packer = settings;
}

/** In JSON syntax a type is written as a string holding the type expression. */
function typeExprOf(expr: Expr, diags: Diagnostic[]): Expr | undefined {
  if (expr.kind === 'template' && expr.fromJson) {
    const lit = expr.parts[0];
    if (expr.parts.length !== 1 || !lit || lit.kind !== 'literal') {
      diags.push(error('Invalid type specification', 'A type must be written as a plain string in JSON syntax, like "list(string)".', expr.range));
      return undefined;
    }
    const r = parseExpression(lit.value, lit.range.filename, lit.range.start);
    diags.push(...r.diagnostics);
    return r.diagnostics.length > 0 ? undefined : r.expr;
  }
  return expr;
}

function decodeVariable(block: Block, model: TemplateModel, diags: Diagnostic[]): void {
  const name = block.labels[0]!;
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) {
    diags.push(error('Invalid variable name', 'A name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes.', block.labelRanges[0]));
    return;
  }
  const c = bodyContent(block.body, VARIABLE, diags, 'in a variable block');
  const decl: VariableDecl = { name, sensitive: false, nullable: true, validations: [], defRange: block.defRange };
  const typeAttr = c.attributes.get('type');
  if (typeAttr) {
    const te = typeExprOf(typeAttr.expr, diags);
    if (te) {
      const t = typeFromExpr(te);
      diags.push(...t.diags);
      if (t.diags.length === 0) decl.constraint = t.constraint;
    }
  }
  const def = c.attributes.get('default');
  if (def) decl.default = def.expr;
  const desc = c.attributes.get('description');
  if (desc) decl.description = staticString(desc.expr, diags, 'description');
  const sens = c.attributes.get('sensitive');
  if (sens) decl.sensitive = staticBool(sens.expr, diags, 'sensitive') ?? false;
  const nullable = c.attributes.get('nullable');
  if (nullable) decl.nullable = staticBool(nullable.expr, diags, 'nullable') ?? true;
  for (const v of c.blocks) {
    const vc = bodyContent(v.body, VALIDATION, diags, 'in a validation block', v.defRange);
    const condition = vc.attributes.get('condition');
    const message = vc.attributes.get('error_message');
    if (condition && message) decl.validations.push({ condition: condition.expr, errorMessage: message.expr, range: v.defRange });
  }
  addVariable(model, diags, decl, block.defRange);
}

function decodeVariablesBlock(block: Block, model: TemplateModel, diags: Diagnostic[]): void {
  // `variables { name = default }`: a shorthand declaration with only a default.
  for (const attr of bodyContent(block.body, { anyAttributes: true }, diags, 'in a variables block').attributes.values()) {
    addVariable(model, diags, { name: attr.name, default: attr.expr, sensitive: false, nullable: true, validations: [], defRange: attr.nameRange }, attr.nameRange);
  }
}

function addVariable(model: TemplateModel, diags: Diagnostic[], decl: VariableDecl, nameRange: SourceRange): void {
  const prev = model.variables.get(decl.name);
  if (prev) {
    diags.push(error('Duplicate variable', `Duplicate ${decl.name} variable definition found: it was already declared at ${at(prev.defRange)}.`, { ...nameRange, end: nameRange.end }));
    return;
  }
  model.variables.set(decl.name, decl);
}

function addLocal(model: TemplateModel, diags: Diagnostic[], name: string, expr: Expr, sensitive: boolean, range: SourceRange): void {
  const prev = model.locals.get(name);
  if (prev) {
    diags.push(error('Duplicate local', `Duplicate ${name} local definition found: it was already defined at ${at(prev.range)}.`, range));
    return;
  }
  model.locals.set(name, { name, expr, sensitive, range });
}

/**
 * Decodes the build blocks again with variables and locals known, so `dynamic` blocks inside
 * them (generating sources, provisioners, post-processors) can be expanded.
 */
export function decodeBuilds(model: TemplateModel, ctx: EvalContext): { builds: BuildDecl[]; diags: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const builds = model.buildBlocks.map((b) => decodeBuild(b, diags, ctx));
  return { builds, diags };
}

type Generated = { block: Block; vars?: ReadonlyMap<string, Value> };

/**
 * Blocks of a body with `dynamic` ones expanded. Without a context (a syntax-only read) dynamic
 * blocks are left out: what they generate depends on variables.
 */
function generated(blocks: readonly Block[], ctx: EvalContext | undefined, diags: Diagnostic[]): Generated[] {
  const out: Generated[] = [];
  for (const b of blocks) {
    if (b.type !== 'dynamic') out.push({ block: b });
    else if (ctx) {
      for (const x of expandDynamic(b, ctx, diags)) {
        if (x.block.labels.length !== 1) {
          diags.push(error('Invalid dynamic block labels', `A dynamic "${x.block.type}" block here needs labels = [one label]: the ${x.block.type === 'source' ? 'source reference' : 'plugin type'}.`, b.defRange));
          continue;
        }
        out.push({ block: { ...x.block, labelRanges: [b.defRange] }, vars: x.vars });
      }
    }
  }
  return out;
}

function decodeBuild(block: Block, diags: Diagnostic[], ctx: EvalContext | undefined): BuildDecl {
  const c = bodyContent(block.body, BUILD, diags, 'in a build block');
  const build: BuildDecl = { sources: [], provisioners: [], postProcessors: [], defRange: block.defRange };
  const name = c.attributes.get('name');
  if (name) build.name = name.expr;
  const desc = c.attributes.get('description');
  if (desc) build.description = desc.expr;
  const srcs = c.attributes.get('sources');
  if (srcs) build.sources.push(...decodeSourceList(srcs, diags));
  for (const { block: b, vars } of generated(c.blocks, ctx, diags)) {
    const withVars = <T extends object>(x: T): T => (vars ? { ...x, vars } : x);
    switch (b.type) {
      case 'source': {
        const ref = parseSourceReference(b.labels[0]!, b.labelRanges[0]!, diags);
        if (!ref) break;
        const body = withoutAttributes(b.body, ['name']);
        const nameAttr = b.body.items.find((i): i is Attribute => i.kind === 'attribute' && i.name === 'name');
        const localName = nameAttr ? sourceName(nameAttr.expr, ctx, vars, diags) : undefined;
        build.sources.push(withVars({ ...ref, ...(localName !== undefined && { localName }), body }));
        break;
      }
      case 'provisioner':
        build.provisioners.push(withVars(decodeStep(b, PROVISIONER_META, diags)));
        break;
      case 'error-cleanup-provisioner':
        if (build.errorCleanupProvisioner) {
          diags.push(error('Duplicate error-cleanup-provisioner', `A build may have only one error-cleanup-provisioner; one is already defined at ${at(build.errorCleanupProvisioner.defRange)}.`, b.defRange));
        } else {
          build.errorCleanupProvisioner = withVars(decodeStep(b, PROVISIONER_META, diags));
        }
        break;
      case 'post-processor':
        build.postProcessors.push([withVars(decodeStep(b, POST_PROCESSOR_META, diags))]);
        break;
      case 'post-processors': {
        const pc = bodyContent(b.body, POST_PROCESSORS, diags, 'in a post-processors block');
        const chain = generated(pc.blocks, ctx, diags).map((g) => {
          const step = decodeStep(g.block, POST_PROCESSOR_META, diags);
          const all = new Map([...(vars ?? []), ...(g.vars ?? [])]);
          return all.size > 0 ? { ...step, vars: all } : step;
        });
        if (chain.length > 0) build.postProcessors.push(chain);
        break;
      }
      default:
        diags.push(error('Unsupported block type', `A dynamic block cannot generate "${b.type}" blocks in a build.`, b.typeRange));
    }
  }
  const hasDynamicSources = c.blocks.some((b) => b.type === 'dynamic' && b.labels[0] === 'source');
  if (build.sources.length === 0 && !(hasDynamicSources && !ctx)) {
    diags.push(error('Missing sources', 'A build block must use at least one source: add sources = ["source.TYPE.NAME"] or a nested source block.', block.defRange));
  }
  return build;
}

/** A nested source's `name`: a literal, or (in a dynamic block) an expression of its iterator. */
function sourceName(expr: Expr, ctx: EvalContext | undefined, vars: ReadonlyMap<string, Value> | undefined, diags: Diagnostic[]): string | undefined {
  if (!ctx || !vars) return staticString(expr, diags, 'a source name');
  const r = evaluate(expr, withVariables(ctx, vars));
  diags.push(...r.diags);
  if (r.diags.length > 0 || !r.value.isKnown || r.value.isNull) return undefined;
  try {
    return convert(r.value, T.string).str();
  } catch {
    diags.push(error('Invalid source name', 'A source name must be a string.', expr.range));
    return undefined;
  }
}

/** `sources = [source.amazon-ebs.a, "source.null.b"]`: traversals, or strings in JSON syntax. */
function decodeSourceList(attr: Attribute, diags: Diagnostic[]): BuildSourceRef[] {
  const out: BuildSourceRef[] = [];
  const expr = attr.expr;
  if (expr.kind !== 'tuple') {
    diags.push(error('Invalid sources', 'The sources argument must be a list of source references, like [source.null.example].', expr.range));
    return out;
  }
  for (const e of expr.elems) {
    const text = traversalText(e);
    if (text === undefined) {
      diags.push(error('Invalid source reference', 'A source reference must be of the form source.TYPE.NAME.', e.range));
      continue;
    }
    const ref = parseSourceReference(text, e.range, diags);
    if (ref) out.push(ref);
  }
  return out;
}

/** The dotted text of a static traversal (`source.null.a`) or of a literal JSON string. */
function traversalText(e: Expr): string | undefined {
  switch (e.kind) {
    case 'variable':
      return e.name;
    case 'getAttr': {
      const base = traversalText(e.object);
      return base === undefined ? undefined : `${base}.${e.name}`;
    }
    case 'template':
      return e.parts.length === 1 && e.parts[0]!.kind === 'literal' ? e.parts[0]!.value : undefined;
    default:
      return undefined;
  }
}

function parseSourceReference(text: string, range: SourceRange, diags: Diagnostic[]): Omit<BuildSourceRef, 'body'> | undefined {
  const parts = text.split('.');
  if (parts[0] === 'source') parts.shift();
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    diags.push(error('Invalid source reference', `"${text}" is not a source reference: use source.TYPE.NAME, like source.amazon-ebs.ubuntu.`, range));
    return undefined;
  }
  return { type: parts[0], name: parts[1], range };
}

function withoutAttributes(body: Body, names: readonly string[]): Body {
  return { ...body, items: body.items.filter((i) => i.kind !== 'attribute' || !names.includes(i.name)) };
}

function decodeStep(b: Block, meta: readonly string[], diags: Diagnostic[]): StepDecl {
  const step: StepDecl = { type: b.labels[0]!, body: withoutAttributes(b.body, meta), defRange: b.defRange };
  for (const item of b.body.items) {
    if (item.kind !== 'attribute' || !meta.includes(item.name)) continue;
    switch (item.name) {
      case 'name':
        step.name = staticString(item.expr, diags, 'name');
        break;
      case 'only':
        step.only = staticStringList(item.expr, diags, 'only');
        break;
      case 'except':
        step.except = staticStringList(item.expr, diags, 'except');
        break;
      case 'override':
        step.override = item.expr;
        break;
      case 'pause_before':
        step.pauseBefore = item.expr;
        break;
      case 'max_retries':
        step.maxRetries = item.expr;
        break;
      case 'timeout':
        step.timeout = item.expr;
        break;
      case 'keep_input_artifact':
        step.keepInputArtifact = item.expr;
        break;
    }
  }
  return step;
}
