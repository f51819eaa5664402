//! The evaluator: lazy, memoised evaluation of every value of a loaded program.
//!
//! Each value (a local, an attribute of a resource instance, a module output) is computed at
//! most once, on first use, and remembered with the resource instances it referred to; so
//! references work in any declaration order, and a value that needs itself is reported as a
//! cycle with its path.

use crate::load::Program;
use crate::lower::{Lowered, Path, is_iterator, push_scalar};
use crate::{
    Attr, AttrSite, Body, Inputs, NestedBlock, Resolved, ResolvedOutput, Resolving, Resource, functions, types::Type,
};
use berth_diag::{Diagnostic, Diagnostics, FileId, Sources, Span, codes, did_you_mean};
use berth_model::schema::{self, BlockSchema, Default as SchemaDefault};
use berth_model::{Address, ArcStr, Key, ModuleStep, Reference, Value};
use berth_syntax::span_of;
use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::structure::{Attribute, Block, Body as HclBody};
use hcl_edit::template::{Directive, Element, Template};
use hcl_edit::visit::Visit;
use rustc_hash::FxHashMap as HashMap;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

/// Marks an evaluation that failed; its diagnostic has already been reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Reported;

type R = Result<Value, Reported>;

/// The instances of a resource declaration, shared by every reference to it.
type Instances = Result<Rc<[usize]>, Reported>;

/// Longest collection or string the evaluator builds.
const MAX_ELEMENTS: usize = 10_000_000;
const MAX_COUNT: u64 = 1_000_000;
/// Deepest chain of values computed from one another (`local.a` needs `local.b` needs ...).
const MAX_DEPTH: usize = 200;

/// Declarations of one module, borrowed from its parsed files.
struct Decls<'p> {
    variables: Vec<VarDecl<'p>>,
    locals: BTreeMap<&'p str, (&'p Attribute, FileId)>,
    outputs: Vec<(&'p Block, FileId)>,
    calls: Vec<CallDecl<'p>>,
    resources: Vec<ResDecl<'p>>,
    /// Declaration order of resources and module calls, for the output walk.
    order: Vec<DeclRef>,
}

#[derive(Clone, Copy)]
enum DeclRef {
    Resource(usize),
    Call(usize),
}

struct VarDecl<'p> {
    name: &'p str,
    block: &'p Block,
    file: FileId,
}

struct CallDecl<'p> {
    label: &'p str,
    block: &'p Block,
    file: FileId,
    target: usize,
}

struct ResDecl<'p> {
    schema: &'static BlockSchema,
    label: &'p str,
    block: &'p Block,
    file: FileId,
    /// Its address without module steps and key, whose strings every instance shares.
    address: Address,
}

/// A `for_each` or `count` binding.
#[derive(Debug, Clone)]
pub(crate) enum Binding {
    Each { key: Value, value: Value },
    Count(u64),
}

/// The instances of a resource declaration by key, looked up without building a [`Key`].
#[derive(Default)]
struct KeyIndex {
    strings: HashMap<ArcStr, usize>,
    integers: HashMap<u64, usize>,
}

impl KeyIndex {
    /// The instance whose key is this value: a string, or a whole number for `count`.
    fn by_value(&self, key: &Value) -> Option<usize> {
        match key {
            Value::String(s) => self.strings.get(&**s).copied(),
            Value::Number(_) => self.integers.get(&u64::try_from(key.as_integer()?).ok()?).copied(),
            _ => None,
        }
    }

    /// The instance with this key.
    fn by_key(&self, key: &Key) -> Option<usize> {
        match key {
            Key::Str(s) => self.strings.get(s.as_str()).copied(),
            Key::Int(i) => self.integers.get(i).copied(),
        }
    }
}

/// An instance of a module.
struct ModInst {
    module: usize,
    steps: Vec<ModuleStep>,
    vars: HashMap<String, Value>,
    /// The `for_each`/`count` binding of the module call that made this instance.
    binding: Option<Binding>,
}

/// Where a variable's value was given.
#[derive(Clone, Copy)]
enum Given {
    /// At this span.
    At(Span),
    /// Under the top-level key of a JSON variable file that is the variable's name: found only
    /// when a message needs it, since that means a pass over a file of megabytes.
    JsonKey(FileId),
}

/// A resource instance.
struct Inst {
    modinst: usize,
    decl: usize,
    binding: Option<Binding>,
    root: usize,
}

/// An object context: a resource instance or a nested block instance in one.
struct Obj<'p> {
    inst: usize,
    parent: Option<usize>,
    body: &'p HclBody,
    schema: Option<&'static BlockSchema>,
    file: FileId,
    /// A nested block's address (boxed: most objects are resource instances, whose address
    /// [`Evaluator::address`] makes from their declaration and key when asked).
    nested_address: Option<Box<Address>>,
    /// The iterator of a nested block with for_each or count: (block type, binding), boxed
    /// because most objects have none.
    binding: Option<Box<(String, Binding)>>,
    /// The reference to this object, made on first use and shared by every later one.
    reference: Option<Arc<Reference>>,
}

/// What is known of an attribute before evaluating it.
struct AttrForm<'p> {
    /// Where it is written, shared by every instance of its block; `None` for a meta
    /// attribute (`for_each`, `count`, `depends_on`, `name`), which is not part of the body.
    site: Option<Arc<AttrSite>>,
    /// The expression has the same value in every instance of its block.
    invariant: bool,
    /// Its lowered form, tried before the general evaluator.
    lowered: Lowered<'p>,
}

/// Where an expression is evaluated.
#[derive(Clone, Copy)]
struct Scope {
    modinst: usize,
    file: FileId,
    /// The object whose attribute is being evaluated.
    obj: Option<usize>,
    /// Whose `each`/`count` is visible: a resource instance, or a module instance being called.
    binding: BindingSource,
}

#[derive(Clone, Copy)]
enum BindingSource {
    None,
    Inst(usize),
    Call(usize),
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum MemoKey<'p> {
    Local(usize, &'p str),
    Attr(usize, usize),
    Output(usize, &'p str),
    Expand(usize, usize),
    Calls(usize, usize),
}

/// What a value being computed is, for cycle and depth messages; rendered only for those, so
/// evaluating an attribute formats nothing.
#[derive(Clone, Copy)]
enum Desc<'p> {
    /// `PREFIX.NAME`: `local.x`, `output.x`, `module.x`, `service.api`.
    Named(&'p str, &'p str),
    /// An attribute of an object: `service.api.image`.
    Attr(usize, &'p str),
}

struct Evaluator<'p> {
    program: &'p Program,
    /// The text of each JSON variable file, to find a variable's key in it for a message;
    /// dropped once the root module's variables are bound.
    var_texts: HashMap<FileId, Arc<str>>,
    decls: Vec<Decls<'p>>,
    modinsts: Vec<ModInst>,
    insts: Vec<Inst>,
    objs: Vec<Obj<'p>>,
    /// Expanded instances per (module instance, resource decl).
    expanded: HashMap<(usize, usize), Instances>,
    /// Instance by key per (module instance, resource decl), built on the first `kind.label[key]`.
    by_key: HashMap<(usize, usize), KeyIndex>,
    /// Expanded nested blocks per (object, block pointer): child objects.
    nested: HashMap<(usize, usize), Result<Vec<usize>, Reported>>,
    /// Module instances per (module instance, call index).
    called: HashMap<(usize, usize), Result<Vec<usize>, Reported>>,
    /// Values of attributes that are the same in every instance of their block, with the
    /// instances they refer to, by (attribute pointer, module instance): a fleet's placement
    /// list names every cluster and is computed once, not once per service.
    invariant: HashMap<(usize, usize), (R, Vec<usize>)>,
    /// What is known of each attribute in the source before evaluating it, by attribute
    /// pointer: found once, shared by every instance of its block.
    forms: HashMap<usize, AttrForm<'p>>,
    /// Values computed once and possibly needed again, with the instances they refer to.
    /// Attributes leave it when they are moved into the output (see [`Evaluator::eval_body`]).
    memo: HashMap<MemoKey<'p>, (R, Vec<usize>)>,
    in_progress: Vec<(MemoKey<'p>, Desc<'p>, Span)>,
    refs: Vec<Vec<usize>>,
    bindings: Vec<(&'p str, Value)>,
    diags: Diagnostics,
    sensitive: Vec<String>,
    /// Where each variable's value was given (module instance, name), for validation errors.
    var_spans: HashMap<(usize, String), Given>,
}

pub(crate) fn evaluate(
    program: &Program,
    sources: &mut Sources,
    inputs: &Inputs,
    diags: &mut Diagnostics,
    sink: &mut dyn FnMut(Resolving),
) -> Resolved {
    let mut ev = Evaluator {
        program,
        var_texts: HashMap::default(),
        decls: Vec::new(),
        modinsts: Vec::new(),
        insts: Vec::new(),
        objs: Vec::new(),
        expanded: HashMap::default(),
        by_key: HashMap::default(),
        nested: HashMap::default(),
        called: HashMap::default(),
        invariant: HashMap::default(),
        forms: HashMap::default(),
        memo: HashMap::default(),
        in_progress: Vec::new(),
        refs: vec![Vec::new()],
        bindings: Vec::new(),
        diags: Diagnostics::new(),
        sensitive: Vec::new(),
        var_spans: HashMap::default(),
    };
    for m in 0..program.modules.len() {
        let d = ev.collect_decls(m);
        ev.decls.push(d);
    }
    let root_vars = ev.root_variables(inputs, sources);
    ev.modinsts.push(ModInst { module: 0, steps: Vec::new(), vars: root_vars, binding: None });
    ev.validate_variables(0);
    // Only the root module's variables point into variable files, and they are bound now: a
    // file's text (megabytes for a fleet) goes unless a message points into it.
    ev.var_texts.clear();
    for &file in &inputs.var_files {
        if !ev.diags.iter().any(|d| d.points_into(file)) {
            sources.release(file);
        }
    }
    let mut resolved = Resolved::default();
    ev.walk_module(0, sink);
    for (block, file) in ev.decls[0].outputs.clone() {
        if let Some(out) = ev.root_output(block, file) {
            resolved.outputs.push(out);
        }
    }
    resolved.sensitive_values = std::mem::take(&mut ev.sensitive);
    diags.extend(ev.diags);
    resolved
}

impl<'p> Evaluator<'p> {
    // ----- declarations -------------------------------------------------------------------

    fn collect_decls(&mut self, module: usize) -> Decls<'p> {
        let program: &'p Program = self.program;
        let m = &program.modules[module];
        let mut d = Decls {
            variables: Vec::new(),
            locals: BTreeMap::new(),
            outputs: Vec::new(),
            calls: Vec::new(),
            resources: Vec::new(),
            order: Vec::new(),
        };
        let mut seen: HashMap<(String, String), Span> = HashMap::default();
        for (file, body) in &m.files {
            let file = *file;
            for structure in body.iter() {
                if let Some(attr) = structure.as_attribute() {
                    self.diags.push(
                        Diagnostic::error(
                            &codes::SCHEMA_UNKNOWN_ATTRIBUTE,
                            span_of(file, &attr.key),
                            format!("attribute `{}` outside any block", attr.key.as_str()),
                        )
                        .with_label("expected a block here")
                        .with_help("top-level attributes belong in a `locals { }` block"),
                    );
                    continue;
                }
                let Some(block) = structure.as_block() else { continue };
                let kind = block.ident.as_str();
                let header = block_header_span(file, block);
                let wanted_labels = if kind == "locals" { 0 } else { 1 };
                let resource_schema = schema::resource(kind);
                if resource_schema.is_none() && !schema::LANGUAGE_BLOCKS.contains(&kind) {
                    let known = schema::LANGUAGE_BLOCKS.iter().copied().chain(schema::RESOURCES.iter().map(|r| r.name));
                    let mut diag = Diagnostic::error(
                        &codes::SCHEMA_UNKNOWN_BLOCK,
                        span_of(file, &block.ident),
                        format!("unknown block type `{kind}`"),
                    )
                    .with_label("not a berth block type");
                    diag = diag.with_suggestion(did_you_mean(kind, known), "see docs/spec.md for the block types");
                    self.diags.push(diag);
                    continue;
                }
                if block.labels.len() != wanted_labels {
                    let shape = if wanted_labels == 0 {
                        format!("{kind} {{ ... }}")
                    } else {
                        format!("{kind} \"NAME\" {{ ... }}")
                    };
                    self.diags.push(
                        Diagnostic::error(
                            &codes::SCHEMA_LABELS,
                            header,
                            format!("`{kind}` takes {wanted_labels} label(s), found {}", block.labels.len()),
                        )
                        .with_label(format!("expected `{shape}`"))
                        .with_help(format!("write it as `{shape}`")),
                    );
                    continue;
                }
                let label = block.labels.first().map(|l| l.as_str());
                if let Some(label) = label
                    && let Some(first) = seen.insert((kind.to_string(), label.to_string()), header)
                {
                    self.diags.push(
                        Diagnostic::error(
                            &codes::SCHEMA_DUPLICATE_NAME,
                            header,
                            format!("{kind} {label:?} is declared twice"),
                        )
                        .with_label("second declaration")
                        .with_note(first, "first declared here")
                        .with_help("names are unique per block type in a module; rename one"),
                    );
                    seen.insert((kind.to_string(), label.to_string()), first);
                    continue;
                }
                match (kind, label) {
                    ("variable", Some(name)) => d.variables.push(VarDecl { name, block, file }),
                    ("locals", _) => {
                        for attr in block.body.attributes() {
                            let name = attr.key.as_str();
                            if let Some((prev, pf)) = d.locals.get(name) {
                                self.diags.push(
                                    Diagnostic::error(
                                        &codes::SCHEMA_DUPLICATE_NAME,
                                        span_of(file, &attr.key),
                                        format!("local {name:?} is declared twice"),
                                    )
                                    .with_note(span_of(*pf, &prev.key), "first declared here")
                                    .with_help("rename one of the locals"),
                                );
                                continue;
                            }
                            d.locals.insert(name, (attr, file));
                        }
                        for nested in block.body.blocks() {
                            self.diags.push(
                                Diagnostic::error(
                                    &codes::SCHEMA_UNKNOWN_BLOCK,
                                    span_of(file, &nested.ident),
                                    "blocks are not allowed in `locals`",
                                )
                                .with_help("locals are attributes: `name = value`"),
                            );
                        }
                    }
                    ("output", Some(_)) => d.outputs.push((block, file)),
                    ("module", Some(name)) => {
                        if let Some(&target) = m.calls.get(name) {
                            d.order.push(DeclRef::Call(d.calls.len()));
                            d.calls.push(CallDecl { label: name, block, file, target });
                        }
                    }
                    (_, Some(name)) => {
                        let schema = resource_schema.expect("checked above");
                        d.order.push(DeclRef::Resource(d.resources.len()));
                        let address = Address::new(schema.name, name);
                        d.resources.push(ResDecl { schema, label: name, block, file, address });
                    }
                    _ => {}
                }
            }
        }
        d
    }

    // ----- variables ----------------------------------------------------------------------

    fn root_variables(&mut self, inputs: &Inputs, sources: &Sources) -> HashMap<String, Value> {
        let mut given: HashMap<String, (Value, Option<Given>)> = HashMap::default();
        for &file in &inputs.var_files {
            self.read_var_file(sources, file, &mut given);
        }
        let declared: Vec<&str> = self.decls[0].variables.iter().map(|v| v.name).collect();
        for (name, raw) in &inputs.vars {
            if !declared.contains(&name.as_str()) {
                let mut d = Diagnostic::error(
                    &codes::VAR_UNDECLARED,
                    None,
                    format!("--var {name}: the spec declares no variable {name:?}"),
                );
                if let Some(s) = did_you_mean(name, declared.iter().copied()) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                } else {
                    d = d.with_help("declare it with a `variable` block");
                }
                self.diags.push(d);
                continue;
            }
            let is_string = self.decls[0]
                .variables
                .iter()
                .find(|v| v.name == name)
                .and_then(|v| attr_expr(v.block, "type"))
                .is_none_or(|t| matches!(t, Expression::Variable(v) if v.as_str() == "string"));
            let value = if is_string {
                Value::string(raw.as_str())
            } else {
                match hcl_edit::parser::parse_expr(raw) {
                    Ok(expr) => match constant(&expr) {
                        Some(v) => v,
                        None => Value::string(raw.as_str()),
                    },
                    Err(_) => Value::string(raw.as_str()),
                }
            };
            given.insert(name.clone(), (value, None));
        }
        for (name, (_, at)) in &given {
            if let Some(at) = at
                && !declared.contains(&name.as_str())
            {
                let span = self.locate(name, *at);
                let mut d =
                    Diagnostic::error(&codes::VAR_UNDECLARED, span, format!("the spec declares no variable {name:?}"))
                        .with_label("set here");
                d = d.with_suggestion(
                    did_you_mean(name, declared.iter().copied()),
                    "declare it with a `variable` block, or remove it from the file",
                );
                self.diags.push(d);
            }
        }
        let mut vars = HashMap::default();
        let var_decls: Vec<(&'p str, &'p Block, FileId)> =
            self.decls[0].variables.iter().map(|v| (v.name, v.block, v.file)).collect();
        for (name, block, file) in var_decls {
            let given_value =
                given.remove(name).map(|(v, at)| (v, at.unwrap_or_else(|| Given::At(block_header_span(file, block)))));
            let value = self.bind_variable(0, name, block, file, given_value);
            vars.insert(name.to_string(), value);
        }
        vars
    }

    /// The span where variable `name`'s value was given.
    fn locate(&self, name: &str, at: Given) -> Span {
        match at {
            Given::At(span) => span,
            Given::JsonKey(file) => match self.var_texts.get(&file).and_then(|text| json_key_span(text, name)) {
                Some((start, end)) => Span::new(file, start, end),
                None => Span::new(file, 0, 0),
            },
        }
    }

    fn read_var_file(&mut self, sources: &Sources, file: FileId, given: &mut HashMap<String, (Value, Option<Given>)>) {
        let source = sources.get(file);
        let whole = Span::new(file, 0, 0);
        if source.name().ends_with(".json") {
            self.var_texts.insert(file, Arc::clone(source.text()));
            match serde_json::from_str::<Value>(source.text()) {
                Ok(Value::Object(map)) => {
                    for (k, v) in map.iter() {
                        given.insert(k.to_string(), (v.clone(), Some(Given::JsonKey(file))));
                    }
                }
                Ok(_) => self.diags.push(
                    Diagnostic::error(&codes::SYNTAX_PARSE, whole, "a JSON variable file must hold one object")
                        .with_help("write {\"name\": value, ...}"),
                ),
                Err(e) => {
                    let offset = source.offset(e.line(), e.column());
                    self.diags.push(
                        Diagnostic::error(
                            &codes::SYNTAX_PARSE,
                            Span::new(file, offset, offset + 1),
                            format!("invalid JSON: {e}"),
                        )
                        .with_help("variable files ending in .json must be JSON"),
                    );
                }
            }
            return;
        }
        match berth_syntax::parse(sources, file) {
            Ok(body) => {
                for attr in body.attributes() {
                    match constant(&attr.value) {
                        Some(v) => {
                            given.insert(attr.key.as_str().to_string(), (v, Some(Given::At(span_of(file, &attr.key)))));
                        }
                        None => self.diags.push(
                            Diagnostic::error(
                                &codes::SCHEMA_WRONG_TYPE,
                                span_of(file, &attr.value),
                                "variable files hold constant values only",
                            )
                            .with_help("write literal values: strings, numbers, bools, lists and objects"),
                        ),
                    }
                }
            }
            Err(d) => self.diags.push(*d),
        }
    }

    /// Types, defaults and validates one variable of a module instance.
    fn bind_variable(
        &mut self,
        modinst: usize,
        name: &str,
        block: &'p Block,
        file: FileId,
        given: Option<(Value, Given)>,
    ) -> Value {
        let header = block_header_span(file, block);
        let ty = match attr_expr(block, "type") {
            Some(expr) => match Type::parse(expr) {
                Ok(t) => t,
                Err(msg) => {
                    self.diags.push(
                        Diagnostic::error(&codes::VAR_TYPE, span_of(file, expr), format!("variable {name:?}: {msg}"))
                            .with_label("invalid type")
                            .with_help(
                                "use string, number, bool, any, list(T), set(T), map(T), object({...}) or tuple([...])",
                            ),
                    );
                    Type::Any
                }
            },
            None => Type::Any,
        };
        for attr in block.body.attributes() {
            let key = attr.key.as_str();
            if !["type", "default", "description", "sensitive", "nullable"].contains(&key) {
                self.unknown_attr(file, attr, &["type", "default", "description", "sensitive", "nullable"], "variable");
            }
        }
        let (value, at) = match given {
            Some((v, at)) => (v, at),
            None => match attr_expr(block, "default") {
                Some(expr) => match constant(expr) {
                    Some(v) => (v, Given::At(span_of(file, expr))),
                    None => {
                        self.diags.push(
                            Diagnostic::error(
                                &codes::SCHEMA_WRONG_TYPE,
                                span_of(file, expr),
                                format!("the default of variable {name:?} must be a constant"),
                            )
                            .with_help("defaults cannot refer to other values; use a local for computed values"),
                        );
                        return Value::Null;
                    }
                },
                None => {
                    let hint = if modinst == 0 {
                        format!("pass it with `--var {name}=VALUE` or in a --var-file, or give it a default")
                    } else {
                        format!("set `{name} = ...` in the module block, or give the variable a default")
                    };
                    self.diags.push(
                        Diagnostic::error(&codes::VAR_MISSING, header, format!("variable {name:?} has no value"))
                            .with_label("declared without a default")
                            .with_help(hint),
                    );
                    return Value::Null;
                }
            },
        };
        self.var_spans.insert((modinst, name.to_string()), at);
        let sensitive =
            block.body.attributes().any(|a| a.key.as_str() == "sensitive" && a.value.as_bool() == Some(true));
        if sensitive {
            collect_strings(&value, &mut self.sensitive);
        }
        match ty.convert(&value) {
            Ok(v) => {
                if sensitive {
                    collect_strings(&v, &mut self.sensitive);
                }
                v
            }
            Err(msg) => {
                let detail = if sensitive { format!("a {} is required", ty.describe()) } else { msg };
                let span = self.locate(name, at);
                self.diags.push(
                    Diagnostic::error(&codes::SCHEMA_WRONG_TYPE, span, format!("variable {name:?}: {detail}"))
                        .with_label(format!("expected {}", ty.describe()))
                        .with_help(format!("give a value of type {}", ty.describe())),
                );
                Value::Null
            }
        }
    }

    /// Runs the `validation` blocks of every variable of a module instance, once all its
    /// variables are bound (a condition may read the others).
    fn validate_variables(&mut self, modinst: usize) {
        let module = self.modinsts[modinst].module;
        let vars: Vec<(&'p str, &'p Block, FileId)> =
            self.decls[module].variables.iter().map(|v| (v.name, v.block, v.file)).collect();
        for (name, block, file) in vars {
            if self.modinsts[modinst].vars.get(name).is_none_or(Value::is_null) {
                continue;
            }
            let at = self
                .var_spans
                .get(&(modinst, name.to_string()))
                .copied()
                .unwrap_or_else(|| Given::At(block_header_span(file, block)));
            for validation in block.body.blocks().filter(|b| b.ident.as_str() == "validation") {
                let Some(cond) = attr_expr(validation, "condition") else { continue };
                let message =
                    attr_expr(validation, "error_message").and_then(|e| e.as_str()).unwrap_or("the value is not valid");
                let scope = Scope { modinst, file, obj: None, binding: BindingSource::None };
                match self.expr(cond, &scope) {
                    Ok(Value::Bool(true)) | Err(_) => {}
                    Ok(Value::Bool(false)) => self.diags.push(
                        Diagnostic::error(
                            &codes::VAR_VALIDATION,
                            self.locate(name, at),
                            format!("variable {name:?}: {message}"),
                        )
                        .with_label("its value fails the validation")
                        .with_note(span_of(file, cond), "the condition that failed")
                        .with_help(message.to_string()),
                    ),
                    Ok(other) => self.diags.push(
                        Diagnostic::error(
                            &codes::EVAL_TYPE,
                            span_of(file, cond),
                            format!("a validation condition must be a bool, not {}", other.type_name()),
                        )
                        .with_help("write a condition such as `length(var.x) > 0`"),
                    ),
                }
            }
        }
    }

    // ----- the output walk ----------------------------------------------------------------

    fn walk_module(&mut self, modinst: usize, sink: &mut dyn FnMut(Resolving)) {
        let module = self.modinsts[modinst].module;
        let order = self.decls[module].order.clone();
        for item in order {
            match item {
                DeclRef::Resource(decl) => {
                    let Ok(insts) = self.expand(modinst, decl) else { continue };
                    let schema = self.decls[module].resources[decl].schema;
                    sink(Resolving::Declaration { schema, instances: insts.len() });
                    for &inst in insts.iter() {
                        if let Some(resource) = self.build_resource(inst) {
                            sink(Resolving::Resource(resource));
                        }
                    }
                }
                DeclRef::Call(call) => {
                    let Ok(children) = self.module_instances(modinst, call) else { continue };
                    for child in children {
                        self.walk_module(child, sink);
                    }
                }
            }
        }
    }

    fn build_resource(&mut self, inst: usize) -> Option<Resource> {
        let root = self.insts[inst].root;
        let decl = &self.decls[self.modinsts[self.insts[inst].modinst].module].resources[self.insts[inst].decl];
        let (schema, block, file, label) = (decl.schema, decl.block, decl.file, decl.label);
        self.refs.push(Vec::new());
        let body = self.eval_body(root);
        let name = match self.lookup_attr(root, "name") {
            Some(attr) => match self.attr_value(root, attr) {
                Ok(Value::String(s)) => s,
                Ok(other) => {
                    self.diags.push(
                        Diagnostic::error(
                            &codes::SCHEMA_WRONG_TYPE,
                            span_of(file, &attr.value),
                            format!("`name` must be a string, not {}", other.type_name()),
                        )
                        .with_label("expected a string"),
                    );
                    ArcStr::from(label)
                }
                Err(_) => ArcStr::from(label),
            },
            None => default_name(label, self.insts[inst].binding.as_ref()),
        };
        let mut depends_on = Vec::new();
        if let Some(attr) = self.lookup_attr(root, "depends_on") {
            let scope = self.obj_scope(root);
            if let Ok(value) = self.expr(&attr.value, &scope) {
                let elements = element_spans(file, &attr.value);
                let items = value.as_list().map(<[Value]>::to_vec).unwrap_or_else(|| vec![value.clone()]);
                for (i, item) in items.iter().enumerate() {
                    let span = elements.get(i).copied().unwrap_or_else(|| span_of(file, &attr.value));
                    match item.as_ref() {
                        Some(r) if r.attribute.is_empty() => depends_on.push((r.address.clone(), span)),
                        _ => self.diags.push(
                            Diagnostic::error(
                                &codes::REF_KIND,
                                span,
                                format!("depends_on takes objects, not {}", item.type_name()),
                            )
                            .with_label("expected a reference like service.db")
                            .with_help("list whole objects: depends_on = [cluster.c000, service.db]"),
                        ),
                    }
                }
            }
        }
        let mut refs = self.refs.pop().unwrap_or_default();
        refs.sort_unstable();
        refs.dedup();
        let references =
            refs.into_iter().filter(|&r| r != inst).map(|r| self.object_reference(self.insts[r].root)).collect();
        Some(Resource {
            schema,
            address: self.address(root).into_owned(),
            name,
            span: block_header_span(file, block),
            body,
            references,
            depends_on,
        })
    }

    fn eval_body(&mut self, obj: usize) -> Body {
        let body = self.objs[obj].body;
        let file = self.objs[obj].file;
        let meta: &[&str] = if self.objs[obj].parent.is_none() {
            &["for_each", "count", "depends_on", "name"]
        } else {
            &["for_each", "count"]
        };
        // Meta attributes are few, and the body goes straight on to the check stage: room for
        // every attribute is near enough.
        let mut out = Body { attrs: Vec::with_capacity(body.attributes().count()), ..Body::default() };
        for structure in body.iter() {
            if let Some(attr) = structure.as_attribute() {
                if !self.forms.contains_key(&key_of(attr)) {
                    self.add_attr_form(obj, attr, meta.contains(&attr.key.as_str()));
                }
                let Some(site) = self.forms[&key_of(attr)].site.clone() else { continue };
                let Ok(value) = self.take_attr_value(obj, attr) else {
                    out.failed.push(attr.key.as_str().to_string());
                    continue;
                };
                out.attrs.push(Attr { site, value });
            } else if let Some(block) = structure.as_block() {
                let Ok(children) = self.nested_objects(obj, block) else { continue };
                for child in children {
                    let body = self.eval_body(child);
                    let name = block.labels.first().map(|l| {
                        let binding = self.objs[child].binding.as_deref().map(|(_, b)| b);
                        default_name(l.as_str(), binding).to_string()
                    });
                    out.blocks.push(NestedBlock {
                        kind: block.ident.as_str().to_string(),
                        name,
                        address: self.address(child).into_owned(),
                        span: block_header_span(file, block),
                        body,
                    });
                }
            }
        }
        out
    }

    fn root_output(&mut self, block: &'p Block, file: FileId) -> Option<ResolvedOutput> {
        let name = block.labels.first()?.as_str().to_string();
        let sensitive = attr_expr(block, "sensitive").and_then(Expression::as_bool).unwrap_or(false);
        for attr in block.body.attributes() {
            if !["value", "description", "sensitive"].contains(&attr.key.as_str()) {
                self.unknown_attr(file, attr, &["value", "description", "sensitive"], "output");
            }
        }
        let value = self.output_value(0, block, file).ok()?;
        Some(ResolvedOutput { name, value, sensitive, span: block_header_span(file, block) })
    }

    fn output_value(&mut self, modinst: usize, block: &'p Block, file: FileId) -> R {
        let name = block.labels.first().map_or("", |l| l.as_str());
        let Some(expr) = attr_expr(block, "value") else {
            self.diags.push(
                Diagnostic::error(
                    &codes::SCHEMA_MISSING_ATTRIBUTE,
                    block_header_span(file, block),
                    format!("output {name:?} has no `value`"),
                )
                .with_label("expected `value = ...`")
                .with_help("give the output a value"),
            );
            return Err(Reported);
        };
        let scope = Scope { modinst, file, obj: None, binding: BindingSource::None };
        let span = span_of(file, expr);
        self.memoized(MemoKey::Output(modinst, name), Desc::Named("output", name), span, |ev| ev.expr(expr, &scope))
    }

    // ----- instances ----------------------------------------------------------------------

    /// The instances of a resource declaration in a module instance.
    fn expand(&mut self, modinst: usize, decl: usize) -> Instances {
        if let Some(r) = self.expanded.get(&(modinst, decl)) {
            return r.clone();
        }
        let module = self.modinsts[modinst].module;
        let d = &self.decls[module].resources[decl];
        let (schema, block, file, label) = (d.schema, d.block, d.file, d.label);
        let scope = Scope { modinst, file, obj: None, binding: BindingSource::None };
        let key = MemoKey::Expand(modinst, decl);
        let desc = Desc::Named(schema.name, label);
        let span = block_header_span(file, block);
        let bindings = self.with_cycle_guard(key, desc, span, |ev| ev.bindings_of(&block.body, file, &scope));
        let result = bindings.map(|bindings| {
            let mut out = Vec::with_capacity(bindings.len());
            // Fleets expand to tens of thousands of instances: grow the tables once.
            self.objs.reserve(bindings.len());
            self.insts.reserve(bindings.len());
            for binding in bindings {
                let inst = self.insts.len();
                let obj = self.objs.len();
                self.objs.push(Obj {
                    inst,
                    parent: None,
                    body: &block.body,
                    schema: Some(schema),
                    file,
                    nested_address: None,
                    binding: None,
                    reference: None,
                });
                self.insts.push(Inst { modinst, decl, binding, root: obj });
                out.push(inst);
            }
            Rc::from(out)
        });
        self.expanded.insert((modinst, decl), result.clone());
        result
    }

    /// The for_each/count bindings of a block: `[None]` for a plain block.
    fn bindings_of(
        &mut self,
        body: &'p HclBody,
        file: FileId,
        scope: &Scope,
    ) -> Result<Vec<Option<Binding>>, Reported> {
        let for_each = body.attributes().find(|a| a.key.as_str() == "for_each");
        let count = body.attributes().find(|a| a.key.as_str() == "count");
        match (for_each, count) {
            (Some(fe), Some(c)) => {
                self.diags.push(
                    Diagnostic::error(
                        &codes::META_FOR_EACH,
                        span_of(file, &c.key),
                        "a block cannot have both `for_each` and `count`",
                    )
                    .with_note(span_of(file, &fe.key), "for_each is here")
                    .with_help("keep one of them"),
                );
                Err(Reported)
            }
            (Some(fe), None) => {
                let span = span_of(file, &fe.value);
                let value = self.expr(&fe.value, scope)?;
                let pairs: Vec<(Value, Value)> = match &value {
                    Value::Object(o) => o.iter().map(|(k, v)| (Value::String(k.clone()), v.clone())).collect(),
                    Value::List(items) => {
                        let mut keys = Vec::new();
                        for item in items.iter() {
                            match item {
                                Value::String(_) => keys.push((item.clone(), item.clone())),
                                other => {
                                    self.diags.push(
                                        Diagnostic::error(
                                            &codes::META_FOR_EACH,
                                            span,
                                            format!("for_each over a list needs strings, found {}", other.type_name()),
                                        )
                                        .with_label("expected a map or a set of strings")
                                        .with_help(
                                            "key the collection by name: for_each = { for x in LIST : x.name => x }",
                                        ),
                                    );
                                    return Err(Reported);
                                }
                            }
                        }
                        keys.sort_by(|a, b| a.0.as_str().cmp(&b.0.as_str()));
                        keys.dedup();
                        keys
                    }
                    other => {
                        let unknown = if other.is_unknown() { " known only after apply" } else { "" };
                        self.diags.push(
                            Diagnostic::error(
                                &codes::META_FOR_EACH,
                                span,
                                format!(
                                    "for_each needs a map or a set of strings, not a{unknown} {}",
                                    other.type_name()
                                ),
                            )
                            .with_label("expected a map or a set of strings")
                            .with_help("key the collection by name: for_each = { for x in LIST : x.name => x }"),
                        );
                        return Err(Reported);
                    }
                };
                if pairs.len() as u64 > MAX_COUNT {
                    return Err(self.limit(span, "for_each"));
                }
                Ok(pairs.into_iter().map(|(key, value)| Some(Binding::Each { key, value })).collect())
            }
            (None, Some(c)) => {
                let span = span_of(file, &c.value);
                let value = self.expr(&c.value, scope)?;
                match value.as_integer() {
                    Some(n) if n >= 0 => {
                        if n as u64 > MAX_COUNT {
                            return Err(self.limit(span, "count"));
                        }
                        Ok((0..n as u64).map(|i| Some(Binding::Count(i))).collect())
                    }
                    _ => {
                        self.diags.push(
                            Diagnostic::error(
                                &codes::META_FOR_EACH,
                                span,
                                format!("count needs a whole number from 0, not {value}"),
                            )
                            .with_label("expected a whole number")
                            .with_help("count = 3, or count = length(var.list)"),
                        );
                        Err(Reported)
                    }
                }
            }
            (None, None) => Ok(vec![None]),
        }
    }

    fn limit(&mut self, span: Span, what: &str) -> Reported {
        self.diags.push(
            Diagnostic::error(&codes::EVAL_LIMIT, span, format!("{what} makes more than {MAX_COUNT} instances"))
                .with_help("split the spec, or use fewer instances"),
        );
        Reported
    }

    /// Instances of a nested block type in an object.
    fn nested_objects(&mut self, obj: usize, block: &'p Block) -> Result<Vec<usize>, Reported> {
        let ptr = block as *const Block as usize;
        if let Some(r) = self.nested.get(&(obj, ptr)) {
            return r.clone();
        }
        let file = self.objs[obj].file;
        let kind = block.ident.as_str();
        let parent_schema = self.objs[obj].schema;
        let schema = parent_schema.and_then(|s| s.block(kind));
        let scope = self.obj_scope(obj);
        let result = match (block.labels.len(), schema) {
            (n, Some(s)) if (n == 1) != s.labelled => {
                let shape = if s.labelled { format!("{kind} \"NAME\" {{ ... }}") } else { format!("{kind} {{ ... }}") };
                self.diags.push(
                    Diagnostic::error(
                        &codes::SCHEMA_LABELS,
                        block_header_span(file, block),
                        format!("`{kind}` takes {} label(s), found {n}", usize::from(s.labelled)),
                    )
                    .with_label(format!("expected `{shape}`"))
                    .with_help(format!("write it as `{shape}`")),
                );
                Err(Reported)
            }
            _ => self.bindings_of(&block.body, file, &scope).map(|bindings| {
                let mut out = Vec::new();
                for binding in bindings {
                    let label = block.labels.first().map(|l| l.as_str()).unwrap_or(kind);
                    let address = self.address(obj).nested(kind, label, binding.as_ref().map(binding_key));
                    let child = self.objs.len();
                    let inst = self.objs[obj].inst;
                    self.objs.push(Obj {
                        inst,
                        parent: Some(obj),
                        body: &block.body,
                        schema,
                        file,
                        nested_address: Some(Box::new(address)),
                        binding: binding.map(|b| Box::new((kind.to_string(), b))),
                        reference: None,
                    });
                    out.push(child);
                }
                out
            }),
        };
        self.nested.insert((obj, ptr), result.clone());
        result
    }

    /// Instances of a module call in a module instance, with their variables bound.
    fn module_instances(&mut self, modinst: usize, call: usize) -> Result<Vec<usize>, Reported> {
        if let Some(r) = self.called.get(&(modinst, call)) {
            return r.clone();
        }
        let module = self.modinsts[modinst].module;
        let c = &self.decls[module].calls[call];
        let (label, block, file, target) = (c.label, c.block, c.file, c.target);
        let scope = Scope { modinst, file, obj: None, binding: BindingSource::None };
        let span = block_header_span(file, block);
        let result = self.with_cycle_guard(MemoKey::Calls(modinst, call), Desc::Named("module", label), span, |ev| {
            let bindings = ev.bindings_of(&block.body, file, &scope)?;
            let var_names: Vec<&'p str> = ev.decls[target].variables.iter().map(|v| v.name).collect();
            for attr in block.body.attributes() {
                let key = attr.key.as_str();
                if !["source", "for_each", "count", "depends_on"].contains(&key) && !var_names.contains(&key) {
                    let mut d = Diagnostic::error(
                        &codes::SCHEMA_UNKNOWN_ATTRIBUTE,
                        span_of(file, &attr.key),
                        format!("module {label:?} has no variable `{key}`"),
                    )
                    .with_label("not an input of this module");
                    d = d.with_suggestion(
                        did_you_mean(key, var_names.iter().copied()),
                        format!("its variables are: {}", var_names.join(", ")),
                    );
                    ev.diags.push(d);
                }
            }
            let mut out = Vec::new();
            for binding in bindings {
                let child = ev.modinsts.len();
                let mut steps = ev.modinsts[modinst].steps.clone();
                steps.push(ModuleStep { name: label.to_string(), key: binding.as_ref().map(binding_key) });
                // The call's `each`/`count` are visible while its inputs are evaluated.
                ev.modinsts.push(ModInst { module: target, steps, vars: HashMap::default(), binding });
                let vars: Vec<(&'p str, &'p Block, FileId)> =
                    ev.decls[target].variables.iter().map(|v| (v.name, v.block, v.file)).collect();
                for (name, vblock, vfile) in vars {
                    let given = match block.body.attributes().find(|a| a.key.as_str() == name) {
                        Some(attr) => {
                            let sc = Scope { modinst, file, obj: None, binding: BindingSource::Call(child) };
                            match ev.expr(&attr.value, &sc) {
                                Ok(v) => Some((v, Given::At(span_of(file, &attr.value)))),
                                Err(_) => continue,
                            }
                        }
                        None => None,
                    };
                    let value = ev.bind_variable(child, name, vblock, vfile, given);
                    ev.modinsts[child].vars.insert(name.to_string(), value);
                }
                ev.validate_variables(child);
                out.push(child);
            }
            Ok(out)
        });
        self.called.insert((modinst, call), result.clone());
        result
    }
}

impl<'p> Evaluator<'p> {
    // ----- memoisation and cycles ---------------------------------------------------------

    /// Runs `compute` unless `key` is already being computed, in which case the cycle is
    /// reported with its path.
    fn with_cycle_guard<T>(
        &mut self,
        key: MemoKey<'p>,
        desc: Desc<'p>,
        span: Span,
        compute: impl FnOnce(&mut Self) -> Result<T, Reported>,
    ) -> Result<T, Reported> {
        if let Some(pos) = self.in_progress.iter().position(|(k, _, _)| *k == key) {
            let mut path: Vec<String> = self.in_progress[pos..].iter().map(|(_, d, _)| self.describe(*d)).collect();
            path.push(self.describe(desc));
            let mut diag =
                Diagnostic::error(&codes::REF_CYCLE, self.in_progress[pos].2, format!("cycle: {}", path.join(" -> ")))
                    .with_label("this value depends on itself")
                    .with_help("compute one of the values on the path from something else");
            for (_, d, s) in &self.in_progress[pos + 1..] {
                diag = diag.with_note(*s, format!("{} is on the cycle", self.describe(*d)));
            }
            self.diags.push(diag);
            return Err(Reported);
        }
        if self.in_progress.len() >= MAX_DEPTH {
            self.diags.push(
                Diagnostic::error(
                    &codes::EVAL_LIMIT,
                    span,
                    format!("{} is computed from a chain of more than {MAX_DEPTH} values", self.describe(desc)),
                )
                .with_label("chain too deep")
                .with_help("compute the value more directly, with fewer values in between"),
            );
            return Err(Reported);
        }
        self.in_progress.push((key, desc, span));
        // A named value sees its own scope only, not the `for` variables of whatever uses it.
        let outer = std::mem::take(&mut self.bindings);
        let result = compute(self);
        self.bindings = outer;
        self.in_progress.pop();
        result
    }

    /// The text of a description, for messages.
    fn describe(&self, desc: Desc<'p>) -> String {
        match desc {
            Desc::Named(prefix, name) => format!("{prefix}.{name}"),
            Desc::Attr(obj, name) => format!("{}.{name}", self.address(obj)),
        }
    }

    /// Computes a value once; later uses get the same value and its references.
    fn memoized(&mut self, key: MemoKey<'p>, desc: Desc<'p>, span: Span, compute: impl FnOnce(&mut Self) -> R) -> R {
        if let Some((value, refs)) = self.memo.get(&key) {
            let value = value.clone();
            if let Some(top) = self.refs.last_mut() {
                top.extend_from_slice(refs);
            }
            return value;
        }
        self.refs.push(Vec::new());
        let value = self.with_cycle_guard(key, desc, span, compute);
        let mut refs = self.refs.pop().unwrap_or_default();
        if value.is_err() {
            refs.clear();
        }
        refs.sort_unstable();
        refs.dedup();
        self.note_refs(&refs);
        self.memo.insert(key, (value.clone(), refs));
        value
    }

    fn note_refs(&mut self, refs: &[usize]) {
        if let Some(top) = self.refs.last_mut() {
            top.extend_from_slice(refs);
        }
    }

    // ----- attributes of objects ----------------------------------------------------------

    fn lookup_attr(&self, obj: usize, name: &str) -> Option<&'p Attribute> {
        self.objs[obj].body.attributes().find(|a| a.key.as_str() == name)
    }

    fn obj_scope(&self, obj: usize) -> Scope {
        let inst = self.objs[obj].inst;
        Scope {
            modinst: self.insts[inst].modinst,
            file: self.objs[obj].file,
            obj: Some(obj),
            binding: BindingSource::Inst(inst),
        }
    }

    fn attr_value(&mut self, obj: usize, attr: &'p Attribute) -> R {
        let scope = self.obj_scope(obj);
        let desc = Desc::Attr(obj, attr.key.as_str());
        let span = span_of(scope.file, &attr.value);
        let key = MemoKey::Attr(obj, key_of(attr));
        self.memoized(key, desc, span, |ev| ev.expr(&attr.value, &scope))
    }

    /// The value of an attribute for the output, which takes it: a value already computed
    /// (because something referred to it) leaves the memo, and one not yet computed is not
    /// stored. Failures stay, so they are reported once. Anything that refers to the attribute
    /// later computes it again, to the same value: evaluation is pure.
    fn take_attr_value(&mut self, obj: usize, attr: &'p Attribute) -> R {
        let key = MemoKey::Attr(obj, key_of(attr));
        match self.memo.get(&key) {
            Some((Err(_), _)) => return Err(Reported),
            Some(_) => {
                let (value, refs) = self.memo.remove(&key).expect("present");
                self.note_refs(&refs);
                return value;
            }
            None => {}
        }
        let form = &self.forms[&key_of(attr)];
        if !form.invariant
            && let Some(value) = form.lowered.eval(|name| self.iterator_binding(obj, name))
        {
            return Ok(value);
        }
        let shared = form.invariant.then(|| (key_of(attr), self.insts[self.objs[obj].inst].modinst));
        if let Some((value, refs)) = shared.and_then(|k| self.invariant.get(&k)) {
            let value = value.clone();
            if let Some(top) = self.refs.last_mut() {
                top.extend_from_slice(refs);
            }
            return value;
        }
        let scope = self.obj_scope(obj);
        let span = span_of(scope.file, &attr.value);
        self.refs.push(Vec::new());
        let value =
            self.with_cycle_guard(key, Desc::Attr(obj, attr.key.as_str()), span, |ev| ev.expr(&attr.value, &scope));
        let refs = self.refs.pop().unwrap_or_default();
        if let Some(k) = shared {
            self.invariant.insert(k, (value.clone(), refs.clone()));
        }
        match value {
            Ok(value) => {
                self.note_refs(&refs);
                Ok(value)
            }
            Err(Reported) => {
                self.memo.insert(key, (Err(Reported), Vec::new()));
                Err(Reported)
            }
        }
    }

    /// Finds what is known of an attribute, on its first evaluation: where it is written,
    /// unless it is a meta attribute (`for_each`, `count`, ...); whether it has the same value
    /// in every instance of its block (it names no `each`, `count`, `self` or iterator of an
    /// enclosing nested block, anywhere, even as an attribute name: a conservative test); and
    /// its lowered form.
    fn add_attr_form(&mut self, obj: usize, attr: &'p Attribute, meta: bool) {
        let form = if meta {
            AttrForm { site: None, invariant: false, lowered: Lowered::General }
        } else {
            let file = self.objs[obj].file;
            let key = attr.key.as_str();
            // Known attributes share their schema's name; unknown ones (reported by the check
            // stage) own theirs.
            let schema = self.objs[obj].schema.and_then(|s| s.attr(key));
            let name = match schema {
                Some(a) => Cow::Borrowed(a.name),
                None => Cow::Owned(key.to_string()),
            };
            let site = Arc::new(AttrSite {
                name,
                schema,
                name_span: span_of(file, &attr.key),
                span: span_of(file, &attr.value),
                elements: element_spans(file, &attr.value),
            });
            let mut variant = vec!["each", "count", "self"];
            let mut o = Some(obj);
            while let Some(i) = o {
                variant.extend(self.objs[i].binding.as_deref().map(|(kind, _)| kind.as_str()));
                o = self.objs[i].parent;
            }
            let mut finder = NameFinder { names: &variant, found: false };
            finder.visit_expr(&attr.value);
            let invariant = !finder.found;
            let iterators: Vec<&str> = variant.into_iter().filter(|&name| name != "self").collect();
            AttrForm { site: Some(site), invariant, lowered: Lowered::new(&attr.value, &iterators) }
        };
        self.forms.insert(key_of(attr), form);
    }

    /// The binding of the iterator `name` (`each`, `count` or a nested block's type) seen from
    /// an object's attributes, as [`Evaluator::traversal_root`] finds it.
    fn iterator_binding(&self, obj: usize, name: &str) -> Option<&Binding> {
        if let Some(binding) = self.nested_binding(obj, name) {
            return Some(binding);
        }
        self.insts[self.objs[obj].inst].binding.as_ref().filter(|b| is_iterator(name, b))
    }

    /// Resolves `ops` against an object: nested blocks, then an attribute. Returns the value
    /// and how many operators were used.
    fn object_path(
        &mut self,
        mut obj: usize,
        ops: &'p [hcl_edit::Decorated<TraversalOperator>],
        span: Span,
    ) -> Result<(Value, usize), Reported> {
        let mut used = 0;
        loop {
            let Some(op) = ops.get(used) else {
                return Ok((Value::Ref(self.object_reference(obj)), used));
            };
            let TraversalOperator::GetAttr(name) = op.value() else {
                self.diags.push(
                    Diagnostic::error(
                        &codes::EVAL_INDEX,
                        span,
                        format!("{} is an object, not a collection", self.address(obj)),
                    )
                    .with_help("name an attribute: .NAME"),
                );
                return Err(Reported);
            };
            let name = name.as_str();
            let body = self.objs[obj].body;
            let schema = self.objs[obj].schema;
            let nested_blocks: Vec<&'p Block> = body.blocks().filter(|b| b.ident.as_str() == name).collect();
            let is_block_type = !nested_blocks.is_empty() || schema.is_some_and(|s| s.block(name).is_some());
            if is_block_type {
                used += 1;
                let labelled = schema
                    .and_then(|s| s.block(name))
                    .map_or_else(|| nested_blocks.first().is_some_and(|b| !b.labels.is_empty()), |s| s.labelled);
                let candidates: Vec<&'p Block> = if labelled {
                    let Some(TraversalOperator::GetAttr(label)) = ops.get(used).map(|o| o.value()) else {
                        let mut all = BTreeMap::new();
                        for b in &nested_blocks {
                            for child in self.nested_objects(obj, b)? {
                                let key = self.address(child).nested.last().map(|n| n.label.clone());
                                all.insert(key.unwrap_or_default(), Value::Ref(self.object_reference(child)));
                            }
                        }
                        return Ok((Value::object(all.into()), used));
                    };
                    used += 1;
                    let found: Vec<&'p Block> = nested_blocks
                        .iter()
                        .copied()
                        .filter(|b| b.labels.first().is_some_and(|l| l.as_str() == label.as_str()))
                        .collect();
                    if found.is_empty() {
                        let labels: Vec<&str> =
                            nested_blocks.iter().filter_map(|b| b.labels.first().map(|l| l.as_str())).collect();
                        let mut d = Diagnostic::error(
                            &codes::REF_UNKNOWN,
                            span,
                            format!("{} has no {name} {:?}", self.address(obj), label.as_str()),
                        )
                        .with_label("no such nested block");
                        d = match did_you_mean(label.as_str(), labels.iter().copied()) {
                            Some(s) => d.with_help(format!("did you mean `{name}.{s}`?")),
                            None => d.with_help(format!(
                                "its {name} blocks are: {}",
                                if labels.is_empty() { "none".to_string() } else { labels.join(", ") }
                            )),
                        };
                        self.diags.push(d);
                        return Err(Reported);
                    }
                    found
                } else {
                    nested_blocks
                };
                let Some(block) = candidates.first() else {
                    return Ok((Value::Null, used));
                };
                let children = self.nested_objects(obj, block)?;
                obj = match (children.as_slice(), ops.get(used).map(|o| o.value())) {
                    ([only], _) if self.objs[*only].binding.is_none() => *only,
                    (_, Some(TraversalOperator::Index(index))) => {
                        used += 1;
                        let scope = self.obj_scope(obj);
                        let key = self.expr(index, &scope)?;
                        let wanted = value_key(&key);
                        match children
                            .iter()
                            .find(|&&c| self.address(c).nested.last().and_then(|n| n.key.clone()) == wanted)
                        {
                            Some(&c) => c,
                            None => {
                                self.diags.push(
                                    Diagnostic::error(&codes::EVAL_INDEX, span, format!("no instance {key} of {name}"))
                                        .with_help("check the for_each keys"),
                                );
                                return Err(Reported);
                            }
                        }
                    }
                    _ => {
                        let items = children.iter().map(|&c| Value::Ref(self.object_reference(c))).collect();
                        return Ok((Value::list(items), used));
                    }
                };
                continue;
            }
            used += 1;
            if let Some(attr) = self.lookup_attr(obj, name) {
                return self.attr_value(obj, attr).map(|v| (v, used));
            }
            let address = self.address(obj).into_owned();
            if let Some(s) = schema {
                if let Some(a) = s.attr(name) {
                    if name == "name" && self.objs[obj].parent.is_none() {
                        let inst = self.objs[obj].inst;
                        let label = address.label.clone();
                        return Ok((Value::string(default_name(&label, self.insts[inst].binding.as_ref())), used));
                    }
                    return Ok((schema_default(a.default), used));
                }
                if s.computed.contains(&name) {
                    return Ok((Value::reference(address, vec![name.to_string()]), used));
                }
                let names =
                    s.attr_names().into_iter().chain(s.blocks.iter().map(|b| b.name)).chain(s.computed.iter().copied());
                let mut d =
                    Diagnostic::error(&codes::REF_UNKNOWN, span, format!("{address} has no attribute `{name}`"))
                        .with_label("unknown attribute");
                d = d.with_suggestion(did_you_mean(name, names), "see docs/spec.md for its attributes");
                self.diags.push(d);
                return Err(Reported);
            }
            return Ok((Value::Null, used));
        }
    }

    // ----- expressions --------------------------------------------------------------------

    fn expr(&mut self, e: &'p Expression, sc: &Scope) -> R {
        let span = span_of(sc.file, e);
        match e {
            Expression::Null(_) => Ok(Value::Null),
            Expression::Bool(b) => Ok(Value::Bool(*b.value())),
            Expression::Number(n) => Ok(Value::Number(n.value().as_f64().unwrap_or(f64::NAN))),
            Expression::String(s) => Ok(Value::string(s.as_str())),
            Expression::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items.iter() {
                    out.push(self.expr(item, sc)?);
                }
                Ok(Value::list(out))
            }
            Expression::Object(obj) => {
                let mut out = BTreeMap::new();
                for (key, value) in obj.iter() {
                    let k = match key {
                        ObjectKey::Ident(i) => ArcStr::from(i.as_str()),
                        ObjectKey::Expression(k) => self.key_string(k, sc)?,
                    };
                    let v = self.expr(value.expr(), sc)?;
                    out.insert(k, v);
                }
                Ok(Value::object(out.into()))
            }
            Expression::StringTemplate(t) => self.template(t, sc, span).map(Value::string),
            Expression::HeredocTemplate(h) => {
                let text = self.template(&h.template, sc, span)?;
                Ok(Value::string(match h.indent() {
                    Some(n) => {
                        text.lines()
                            .map(|l| l.get(n.min(l.len() - l.trim_start().len())..).unwrap_or(""))
                            .collect::<Vec<_>>()
                            .join("\n")
                            + if text.ends_with('\n') { "\n" } else { "" }
                    }
                    None => text,
                }))
            }
            Expression::Parenthesis(p) => self.expr(p.inner(), sc),
            Expression::Variable(v) => self.traversal_root(v.as_str(), &[], sc, span).map(|(v, _)| v),
            Expression::Traversal(t) => {
                let (value, used) = match &t.expr {
                    Expression::Variable(v) => self.traversal_root(v.as_str(), &t.operators, sc, span)?,
                    other => (self.expr(other, sc)?, 0),
                };
                self.apply_ops(value, &t.operators[used..], sc, span)
            }
            Expression::Conditional(c) => match self.expr(&c.cond_expr, sc)? {
                Value::Bool(true) => self.expr(&c.true_expr, sc),
                Value::Bool(false) => self.expr(&c.false_expr, sc),
                other => Err(self.type_error(
                    span_of(sc.file, &c.cond_expr),
                    format!("a condition must be a bool, not {}", other.type_name()),
                )),
            },
            Expression::FuncCall(call) => {
                let name = call.name.name.as_str();
                if !call.name.namespace.is_empty() || !functions::names().contains(&name) {
                    let mut d =
                        Diagnostic::error(&codes::EVAL_FUNCTION, span, format!("there is no function `{name}`"))
                            .with_label("unknown function");
                    d = d.with_suggestion(
                        did_you_mean(name, functions::names().iter().copied()),
                        "see docs/spec.md for the functions",
                    );
                    self.diags.push(d);
                    return Err(Reported);
                }
                let exprs: Vec<&'p Expression> = call.args.iter().collect();
                let mut args = Vec::with_capacity(exprs.len());
                for a in &exprs {
                    args.push(self.expr(a, sc)?);
                }
                if call.args.expand_final() {
                    match args.pop() {
                        Some(Value::List(items)) => args.extend(items.iter().cloned()),
                        other => {
                            let found = other.map_or("nothing", |v| v.type_name());
                            return Err(self.type_error(span, format!("`...` expands a list, not {found}")));
                        }
                    }
                }
                functions::call(name, &args).map_err(|err| {
                    let at = err.arg.and_then(|i| exprs.get(i)).map_or(span, |a| span_of(sc.file, *a));
                    self.diags.push(
                        Diagnostic::error(&codes::EVAL_FUNCTION, at, format!("{name}: {}", err.message))
                            .with_label(if err.arg.is_some() { "this argument" } else { "this call" })
                            .with_help(format!("see `{name}` in docs/spec.md")),
                    );
                    Reported
                })
            }
            Expression::UnaryOp(op) => {
                let v = self.expr(&op.expr, sc)?;
                match (op.operator.value(), &v) {
                    (UnaryOperator::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
                    (UnaryOperator::Neg, Value::Number(n)) => Ok(Value::Number(-n)),
                    (UnaryOperator::Not, _) => {
                        Err(self.type_error(span, format!("`!` needs a bool, not {}", v.type_name())))
                    }
                    (UnaryOperator::Neg, _) => {
                        Err(self.type_error(span, format!("`-` needs a number, not {}", v.type_name())))
                    }
                }
            }
            Expression::BinaryOp(op) => {
                let l = self.expr(&op.lhs_expr, sc)?;
                let r = self.expr(&op.rhs_expr, sc)?;
                self.binary(*op.operator.value(), l, r, span)
            }
            Expression::ForExpr(f) => self.for_expr(f, sc, span),
        }
    }

    fn key_string(&mut self, e: &'p Expression, sc: &Scope) -> Result<ArcStr, Reported> {
        let e = match e {
            Expression::Parenthesis(p) => p.inner(),
            other => other,
        };
        match self.expr(e, sc)? {
            Value::String(s) => Ok(s),
            v @ (Value::Number(_) | Value::Bool(_)) => Ok(ArcStr::from(v.to_string().trim_matches('"'))),
            other => {
                Err(self
                    .type_error(span_of(sc.file, e), format!("object keys must be strings, not {}", other.type_name())))
            }
        }
    }

    fn type_error(&mut self, span: Span, message: String) -> Reported {
        self.diags.push(
            Diagnostic::error(&codes::EVAL_TYPE, span, message)
                .with_help("convert the value first, e.g. with tostring() or tonumber()"),
        );
        Reported
    }

    fn binary(&mut self, op: BinaryOperator, l: Value, r: Value, span: Span) -> R {
        use BinaryOperator as B;
        match op {
            B::Eq => return Ok(Value::Bool(l == r)),
            B::NotEq => return Ok(Value::Bool(l != r)),
            B::And | B::Or => {
                return match (l.as_bool(), r.as_bool()) {
                    (Some(a), Some(b)) => Ok(Value::Bool(if op == B::And { a && b } else { a || b })),
                    _ => Err(self.type_error(
                        span,
                        format!("`&&` and `||` need bools, not {} and {}", l.type_name(), r.type_name()),
                    )),
                };
            }
            _ => {}
        }
        let num = |v: &Value| match v {
            Value::Number(n) => Some(*n),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        let (Some(a), Some(b)) = (num(&l), num(&r)) else {
            return Err(self.type_error(
                span,
                format!("arithmetic and comparison need numbers, not {} and {}", l.type_name(), r.type_name()),
            ));
        };
        Ok(match op {
            B::Plus => Value::Number(a + b),
            B::Minus => Value::Number(a - b),
            B::Mul => Value::Number(a * b),
            B::Div | B::Mod if b == 0.0 => return Err(self.type_error(span, "division by zero".to_string())),
            B::Div => Value::Number(a / b),
            B::Mod => Value::Number(a % b),
            B::Less => Value::Bool(a < b),
            B::LessEq => Value::Bool(a <= b),
            B::Greater => Value::Bool(a > b),
            B::GreaterEq => Value::Bool(a >= b),
            B::Eq | B::NotEq | B::And | B::Or => unreachable!("handled above"),
        })
    }

    fn for_expr(&mut self, f: &'p hcl_edit::expr::ForExpr, sc: &Scope, span: Span) -> R {
        let coll = self.expr(&f.intro.collection_expr, sc)?;
        let pairs: Vec<(Value, Value)> = match &coll {
            Value::List(items) => items.iter().enumerate().map(|(i, v)| (Value::Number(i as f64), v.clone())).collect(),
            Value::Object(o) => o.iter().map(|(k, v)| (Value::String(k.clone()), v.clone())).collect(),
            other => {
                return Err(self.type_error(
                    span_of(sc.file, &f.intro.collection_expr),
                    format!("`for` needs a list or map, not {}", other.type_name()),
                ));
            }
        };
        let key_var = f.intro.key_var.as_ref().map(|k| k.as_str());
        let value_var = f.intro.value_var.as_str();
        let mut list = Vec::new();
        let mut entries: Vec<(ArcStr, Value)> = Vec::new();
        let mut groups: BTreeMap<ArcStr, Vec<Value>> = BTreeMap::new();
        // `{ for k, v in c : KEY => VALUE }`, without condition or grouping, whose key and value
        // are read from `k` or `v`: each entry is made without binding the names.
        let roots: Vec<&str> = key_var.into_iter().chain([value_var]).collect();
        let lowered = match (&f.key_expr, &f.cond, f.grouping) {
            (Some(key), None, false) => Path::new(key, &roots).zip(Path::new(&f.value_expr, &roots)),
            _ => None,
        };
        for (k, v) in pairs {
            if let Some((key_path, value_path)) = &lowered
                && entries.len() < MAX_ELEMENTS
            {
                // The value variable is bound last, so it wins when both have one name.
                let root = |path: &Path| if path.root == value_var { &v } else { &k };
                if let (Some(Value::String(key)), Some(value)) =
                    (key_path.get(root(key_path)), value_path.get(root(value_path)))
                {
                    entries.push((key.clone(), value.clone()));
                    continue;
                }
            }
            let depth = self.bindings.len();
            if let Some(kv) = key_var {
                self.bindings.push((kv, k));
            }
            self.bindings.push((value_var, v));
            let result = self.for_item(f, sc, span, &mut list, &mut entries, &mut groups);
            self.bindings.truncate(depth);
            result?;
        }
        if f.key_expr.is_some() {
            if f.grouping {
                return Ok(Value::object(groups.into_iter().map(|(k, v)| (k, Value::list(v))).collect()));
            }
            return self.keyed_object(entries, span);
        }
        Ok(Value::list(list))
    }

    /// The object a keyed `for` expression makes from its entries in iteration order; a key
    /// made twice is an error naming the first repeated one.
    fn keyed_object(&mut self, mut entries: Vec<(ArcStr, Value)>, span: Span) -> R {
        let mut seen = rustc_hash::FxHashSet::with_capacity_and_hasher(entries.len(), Default::default());
        if let Some(key) = entries.iter().map(|(k, _)| k.as_str()).find(|k| !seen.insert(*k)) {
            self.diags.push(
                Diagnostic::error(
                    &codes::SCHEMA_DUPLICATE_NAME,
                    span,
                    format!("the `for` expression makes key {key:?} twice"),
                )
                .with_help("make keys unique, or group values with `...` after the value"),
            );
            return Err(Reported);
        }
        // Keys often come in order already, which the stable sort finds in one pass.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Value::object(entries.into()))
    }

    fn for_item(
        &mut self,
        f: &'p hcl_edit::expr::ForExpr,
        sc: &Scope,
        span: Span,
        list: &mut Vec<Value>,
        entries: &mut Vec<(ArcStr, Value)>,
        groups: &mut BTreeMap<ArcStr, Vec<Value>>,
    ) -> Result<(), Reported> {
        if let Some(cond) = &f.cond {
            match self.expr(&cond.expr, sc)? {
                Value::Bool(true) => {}
                Value::Bool(false) => return Ok(()),
                other => {
                    return Err(self.type_error(
                        span_of(sc.file, &cond.expr),
                        format!("a `for` condition must be a bool, not {}", other.type_name()),
                    ));
                }
            }
        }
        let value = self.expr(&f.value_expr, sc)?;
        match &f.key_expr {
            Some(ke) => {
                let key = self.key_string(ke, sc)?;
                if f.grouping {
                    groups.entry(key).or_default().push(value);
                } else {
                    if entries.len() >= MAX_ELEMENTS {
                        return Err(self.limit(span, "a `for` expression"));
                    }
                    entries.push((key, value));
                }
            }
            None => {
                if list.len() >= MAX_ELEMENTS {
                    return Err(self.limit(span, "a `for` expression"));
                }
                list.push(value);
            }
        }
        Ok(())
    }

    fn template(&mut self, t: &'p Template, sc: &Scope, span: Span) -> Result<String, Reported> {
        // Most templates are short (`"${each.value.mib}Mi"`), and the text is copied into the
        // value: room for them at once instead of growing.
        let mut out = String::with_capacity(64);
        for element in t.iter() {
            match element {
                Element::Literal(s) => out.push_str(s.value()),
                Element::Interpolation(i) => {
                    let v = self.expr(&i.expr, sc)?;
                    self.push_template_value(&mut out, &v, span_of(sc.file, &i.expr))?;
                }
                Element::Directive(d) => match &**d {
                    Directive::If(ifd) => match self.expr(&ifd.if_expr.cond_expr, sc)? {
                        Value::Bool(true) => out.push_str(&self.template(&ifd.if_expr.template, sc, span)?),
                        Value::Bool(false) => {
                            if let Some(e) = &ifd.else_expr {
                                out.push_str(&self.template(&e.template, sc, span)?);
                            }
                        }
                        other => {
                            return Err(self
                                .type_error(span, format!("a template `if` needs a bool, not {}", other.type_name())));
                        }
                    },
                    Directive::For(ford) => {
                        let coll = self.expr(&ford.for_expr.collection_expr, sc)?;
                        let pairs: Vec<(Value, Value)> = match &coll {
                            Value::List(items) => {
                                items.iter().enumerate().map(|(i, v)| (Value::Number(i as f64), v.clone())).collect()
                            }
                            Value::Object(o) => o.iter().map(|(k, v)| (Value::String(k.clone()), v.clone())).collect(),
                            other => {
                                return Err(self.type_error(
                                    span,
                                    format!("a template `for` needs a list or map, not {}", other.type_name()),
                                ));
                            }
                        };
                        for (k, v) in pairs {
                            let depth = self.bindings.len();
                            if let Some(kv) = &ford.for_expr.key_var {
                                self.bindings.push((kv.as_str(), k));
                            }
                            self.bindings.push((ford.for_expr.value_var.as_str(), v));
                            let part = self.template(&ford.for_expr.template, sc, span);
                            self.bindings.truncate(depth);
                            out.push_str(&part?);
                        }
                    }
                },
            }
            if out.len() > 64 << 20 {
                return Err(self.limit(span, "a template"));
            }
        }
        Ok(out)
    }

    fn push_template_value(&mut self, out: &mut String, v: &Value, span: Span) -> Result<(), Reported> {
        if push_scalar(out, v) {
            return Ok(());
        }
        match v {
            Value::Ref(r) if r.attribute.is_empty() => out.push_str(&r.address.to_string()),
            Value::Ref(r) => {
                self.diags.push(
                    Diagnostic::error(
                        &codes::EVAL_TYPE,
                        span,
                        format!("{r} is known only after apply and cannot be built into a string"),
                    )
                    .with_label("known only after apply")
                    .with_help("pass the reference on its own as the attribute's whole value"),
                );
                return Err(Reported);
            }
            other => {
                return Err(self.type_error(
                    span,
                    format!("a template can hold strings, numbers and bools, not {}", other.type_name()),
                ));
            }
        }
        Ok(())
    }

    /// Applies index, attribute and splat operators to a value.
    fn apply_ops(
        &mut self,
        mut value: Value,
        ops: &'p [hcl_edit::Decorated<TraversalOperator>],
        sc: &Scope,
        span: Span,
    ) -> R {
        let mut i = 0;
        while i < ops.len() {
            match ops[i].value() {
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    let items: Vec<Value> = match &value {
                        Value::Null => Vec::new(),
                        Value::List(l) => l.to_vec(),
                        other => vec![other.clone()],
                    };
                    let rest = &ops[i + 1..];
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        out.push(self.apply_ops(item, rest, sc, span)?);
                    }
                    return Ok(Value::list(out));
                }
                TraversalOperator::GetAttr(name) => {
                    value = match &value {
                        Value::Object(o) => match o.get(name.as_str()) {
                            Some(v) => v.clone(),
                            None => {
                                let mut d = Diagnostic::error(
                                    &codes::EVAL_INDEX,
                                    span,
                                    format!("the object has no attribute `{}`", name.as_str()),
                                )
                                .with_label("no such attribute");
                                d = match did_you_mean(name.as_str(), o.keys().map(ArcStr::as_str)) {
                                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                                    None => d.with_help(format!(
                                        "its attributes are: {}",
                                        o.keys().take(12).cloned().collect::<Vec<_>>().join(", ")
                                    )),
                                };
                                self.diags.push(d);
                                return Err(Reported);
                            }
                        },
                        Value::Ref(r) if r.attribute.is_empty() => {
                            let Some(obj) = self.obj_of_address(&r.address) else {
                                return Err(self.type_error(span, format!("cannot read attributes of {}", r.address)));
                            };
                            let (v, used) = self.object_path(obj, &ops[i..], span)?;
                            i += used;
                            value = v;
                            continue;
                        }
                        Value::Ref(r) => {
                            let mut r = (**r).clone();
                            r.attribute.push(name.as_str().to_string());
                            Value::Ref(std::sync::Arc::new(r))
                        }
                        other => {
                            return Err(self.type_error(
                                span,
                                format!("cannot read attribute `{}` of a {}", name.as_str(), other.type_name()),
                            ));
                        }
                    };
                }
                TraversalOperator::Index(index) => {
                    let key = self.expr(index, sc)?;
                    value = self.index(&value, &key, span)?;
                }
                TraversalOperator::LegacyIndex(n) => {
                    value = self.index(&value, &Value::Number(*n.value() as f64), span)?;
                }
            }
            i += 1;
        }
        Ok(value)
    }

    fn index(&mut self, value: &Value, key: &Value, span: Span) -> R {
        match (value, key) {
            (Value::List(items), _) => match key.as_integer() {
                Some(i) if i >= 0 && (i as usize) < items.len() => Ok(items[i as usize].clone()),
                Some(i) => {
                    self.diags.push(
                        Diagnostic::error(
                            &codes::EVAL_INDEX,
                            span,
                            format!("index {i} is out of range for a list of {}", items.len()),
                        )
                        .with_help("indices start at 0; check length() first"),
                    );
                    Err(Reported)
                }
                None => Err(self.type_error(span, format!("a list index must be a whole number, not {key}"))),
            },
            (Value::Object(o), Value::String(k)) => match o.get(k) {
                Some(v) => Ok(v.clone()),
                None => {
                    let mut d = Diagnostic::error(&codes::EVAL_INDEX, span, format!("the map has no key {k:?}"))
                        .with_label("no such key");
                    d = match did_you_mean(k, o.keys().map(ArcStr::as_str)) {
                        Some(s) => d.with_help(format!("did you mean {s:?}?")),
                        None => d.with_help("use lookup(map, key, default) for a default"),
                    };
                    self.diags.push(d);
                    Err(Reported)
                }
            },
            (Value::Ref(r), _) if !r.attribute.is_empty() => Ok(value.clone()),
            _ => Err(self.type_error(span, format!("cannot index a {} with a {}", value.type_name(), key.type_name()))),
        }
    }

    fn obj_of_address(&mut self, address: &Address) -> Option<usize> {
        let modinst = self.modinsts.iter().position(|m| m.steps == address.module)?;
        let module = self.modinsts[modinst].module;
        let decl = self.decls[module]
            .resources
            .iter()
            .position(|d| d.schema.name == address.kind && d.label == address.label)?;
        let insts = self.expand(modinst, decl).ok()?;
        let inst = match &address.key {
            Some(key) => self.key_index(modinst, decl, &insts).by_key(key)?,
            None => *insts.first()?,
        };
        let mut obj = self.insts[inst].root;
        for step in &address.nested {
            let body = self.objs[obj].body;
            let block = body.blocks().find(|b| {
                b.ident.as_str() == step.block
                    && b.labels.first().map_or(step.block == step.label, |l| l.as_str() == step.label)
            })?;
            let children = self.nested_objects(obj, block).ok()?;
            obj = *children.iter().find(|&&c| self.address(c).nested.last() == Some(step))?;
        }
        Some(obj)
    }

    // ----- names --------------------------------------------------------------------------

    /// Resolves the root of a traversal: a binding, `var`, `local`, `each`, `count`, `self`,
    /// `path`, `module` or a resource kind. Returns the value and how many operators it used.
    fn traversal_root(
        &mut self,
        root: &str,
        ops: &'p [hcl_edit::Decorated<TraversalOperator>],
        sc: &Scope,
        span: Span,
    ) -> Result<(Value, usize), Reported> {
        if let Some((_, v)) = self.bindings.iter().rev().find(|(n, _)| *n == root) {
            return Ok((v.clone(), 0));
        }
        let first = match ops.first().map(|o| o.value()) {
            Some(TraversalOperator::GetAttr(a)) => Some(a.as_str()),
            _ => None,
        };
        if let Some(obj) = sc.obj
            && let Some(binding) = self.nested_binding(obj, root)
        {
            let found = binding_attr(binding, first);
            return found.or_else(|each| self.no_such_binding_attr(root, each, span)).map(|v| (v, 1));
        }
        let need = |ev: &mut Self, what: &str| -> Reported {
            ev.diags.push(
                Diagnostic::error(&codes::REF_UNKNOWN, span, format!("`{root}` needs an attribute: {what}"))
                    .with_label("incomplete reference")
                    .with_help(format!("write `{root}.{what}`")),
            );
            Reported
        };
        match root {
            "var" => {
                let Some(name) = first else { return Err(need(self, "NAME")) };
                let mi = &self.modinsts[sc.modinst];
                match mi.vars.get(name) {
                    Some(v) => Ok((v.clone(), 1)),
                    None => {
                        let names: Vec<&str> = self.decls[mi.module].variables.iter().map(|v| v.name).collect();
                        Err(self.unknown_name(span, "variable", name, &names))
                    }
                }
            }
            "local" => {
                let Some(name) = first else { return Err(need(self, "NAME")) };
                let module = self.modinsts[sc.modinst].module;
                let Some(&(attr, file)) = self.decls[module].locals.get(name) else {
                    let names: Vec<&str> = self.decls[module].locals.keys().copied().collect();
                    return Err(self.unknown_name(span, "local", name, &names));
                };
                let scope = Scope { modinst: sc.modinst, file, obj: None, binding: BindingSource::None };
                let vspan = span_of(file, &attr.value);
                self.memoized(MemoKey::Local(sc.modinst, name), Desc::Named("local", name), vspan, |ev| {
                    ev.expr(&attr.value, &scope)
                })
                .map(|v| (v, 1))
            }
            "each" | "count" => {
                let binding = match sc.binding {
                    BindingSource::Inst(i) => self.insts[i].binding.as_ref(),
                    BindingSource::Call(m) => self.modinsts[m].binding.as_ref(),
                    BindingSource::None => None,
                };
                let Some(binding) = binding.filter(|b| is_iterator(root, b)) else {
                    let which = if root == "each" { "for_each" } else { "count" };
                    self.diags.push(
                        Diagnostic::error(
                            &codes::REF_UNKNOWN,
                            span,
                            format!("`{root}` is only defined in a block with `{which}`"),
                        )
                        .with_label(format!("no {which} here"))
                        .with_help(match sc.obj.and_then(|o| self.nearest_iterator(o)) {
                            Some(kind) => format!("in a nested `{kind}` block with for_each or count, its iterator is `{kind}.key`, `{kind}.value` or `{kind}.index`"),
                            None => format!("add `{which}` to the block, or remove `{root}`"),
                        }),
                    );
                    return Err(Reported);
                };
                let found = binding_attr(binding, first);
                found.or_else(|each| self.no_such_binding_attr(root, each, span)).map(|v| (v, 1))
            }
            "path" => match first {
                Some("module") => {
                    let dir = &self.program.modules[self.modinsts[sc.modinst].module].dir;
                    Ok((Value::string(dir.as_str()), 1))
                }
                Some("root") => Ok((Value::string(self.program.modules[0].dir.as_str()), 1)),
                _ => Err(need(self, "module or root")),
            },
            "self" => {
                let Some(obj) = sc.obj else {
                    self.diags.push(
                        Diagnostic::error(&codes::REF_UNKNOWN, span, "`self` is only defined inside a resource block")
                            .with_help("refer to the object by its address instead"),
                    );
                    return Err(Reported);
                };
                let root_obj = self.insts[self.objs[obj].inst].root;
                self.object_path(root_obj, ops, span)
            }
            "module" => self.module_reference(ops, sc, span),
            kind if schema::resource(kind).is_some() => self.resource_reference(kind, ops, sc, span),
            other => {
                let mut names: Vec<&str> = vec!["var", "local", "each", "count", "self", "path", "module"];
                names.extend(schema::RESOURCES.iter().map(|r| r.name));
                let names: Vec<String> = names
                    .into_iter()
                    .map(String::from)
                    .chain(self.bindings.iter().map(|(n, _)| (*n).to_string()))
                    .collect();
                let mut d = Diagnostic::error(&codes::REF_UNKNOWN, span, format!("unknown name `{other}`"))
                    .with_label("not declared");
                d = match did_you_mean(other, names.iter().map(String::as_str)) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => {
                        d.with_help("references start with var., local., module., each., count., self. or a block type")
                    }
                };
                self.diags.push(d);
                Err(Reported)
            }
        }
    }

    /// The block type of the innermost nested block with an iterator around an object.
    fn nearest_iterator(&self, mut obj: usize) -> Option<String> {
        loop {
            if let Some((kind, _)) = self.objs[obj].binding.as_deref() {
                return Some(kind.clone());
            }
            obj = self.objs[obj].parent?;
        }
    }

    fn nested_binding(&self, mut obj: usize, name: &str) -> Option<&Binding> {
        loop {
            if let Some((kind, b)) = self.objs[obj].binding.as_deref()
                && kind == name
            {
                return Some(b);
            }
            obj = self.objs[obj].parent?;
        }
    }

    /// Reports an attribute an iterator does not have (`each` has `key` and `value`, `count`
    /// has `index`).
    fn no_such_binding_attr(&mut self, root: &str, each: bool, span: Span) -> R {
        let (has, write) = if each {
            ("`key` and `value`", format!("`{root}.key` or `{root}.value`"))
        } else {
            ("`index`", format!("`{root}.index`"))
        };
        self.diags.push(
            Diagnostic::error(&codes::REF_UNKNOWN, span, format!("`{root}` has only {has}"))
                .with_help(format!("write {write}")),
        );
        Err(Reported)
    }

    fn unknown_name(&mut self, span: Span, what: &str, name: &str, known: &[&str]) -> Reported {
        let mut d = Diagnostic::error(&codes::REF_UNKNOWN, span, format!("there is no {what} {name:?}"))
            .with_label(format!("unknown {what}"));
        d = match did_you_mean(name, known.iter().copied()) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None => d.with_help(format!(
                "declare it, or use one of: {}",
                if known.is_empty() { "(none declared)".to_string() } else { known.join(", ") }
            )),
        };
        self.diags.push(d);
        Reported
    }

    fn resource_reference(
        &mut self,
        kind: &str,
        ops: &'p [hcl_edit::Decorated<TraversalOperator>],
        sc: &Scope,
        span: Span,
    ) -> Result<(Value, usize), Reported> {
        let Some(TraversalOperator::GetAttr(label)) = ops.first().map(|o| o.value()) else {
            self.diags.push(
                Diagnostic::error(&codes::REF_UNKNOWN, span, format!("`{kind}` needs a name: {kind}.NAME"))
                    .with_label("incomplete reference")
                    .with_help(format!("write `{kind}.NAME`")),
            );
            return Err(Reported);
        };
        let label = label.as_str();
        let module = self.modinsts[sc.modinst].module;
        let Some(decl) = self.decls[module].resources.iter().position(|r| r.schema.name == kind && r.label == label)
        else {
            let names: Vec<&str> =
                self.decls[module].resources.iter().filter(|r| r.schema.name == kind).map(|r| r.label).collect();
            return Err(self.unknown_name(span, kind, label, &names));
        };
        let insts = self.expand(sc.modinst, decl)?;
        let keyed = insts.first().is_some_and(|&i| self.insts[i].binding.is_some())
            || insts.is_empty() && self.decl_is_expanded(module, decl);
        let (inst, used) = if !keyed {
            (insts[0], 1)
        } else {
            match ops.get(1).map(|o| o.value()) {
                Some(TraversalOperator::Index(index)) => {
                    let key = self.expr(index, sc)?;
                    let found = self.key_index(sc.modinst, decl, &insts).by_value(&key);
                    match found {
                        Some(i) => (i, 2),
                        None => {
                            let keys: Vec<String> =
                                insts.iter().filter_map(|&i| self.inst_key(i).map(|k| k.to_string())).take(8).collect();
                            self.diags.push(
                                Diagnostic::error(
                                    &codes::REF_UNKNOWN,
                                    span,
                                    format!("{kind}.{label} has no instance {key}"),
                                )
                                .with_label("no such instance")
                                .with_help(format!(
                                    "its instances are {}",
                                    if keys.is_empty() { "none".into() } else { keys.join(", ") }
                                )),
                            );
                            return Err(Reported);
                        }
                    }
                }
                _ => {
                    let mut map = BTreeMap::new();
                    let mut list = Vec::new();
                    for &i in insts.iter() {
                        self.note_ref_inst(i);
                        let v = Value::Ref(self.object_reference(self.insts[i].root));
                        match self.inst_key(i) {
                            Some(Key::Str(k)) => {
                                map.insert(k, v);
                            }
                            _ => list.push(v),
                        }
                    }
                    let value = if map.is_empty() { Value::list(list) } else { Value::object(map.into()) };
                    return Ok((value, 1));
                }
            }
        };
        self.note_ref_inst(inst);
        let root = self.insts[inst].root;
        let (value, more) = self.object_path(root, &ops[used..], span)?;
        Ok((value, used + more))
    }

    /// The instances of a resource declaration by key, indexed on first use.
    fn key_index(&mut self, modinst: usize, decl: usize, insts: &[usize]) -> &KeyIndex {
        if !self.by_key.contains_key(&(modinst, decl)) {
            let mut index = KeyIndex::default();
            for &i in insts {
                match self.inst_key(i) {
                    Some(Key::Str(s)) => {
                        index.strings.entry(s).or_insert(i);
                    }
                    Some(Key::Int(n)) => {
                        index.integers.entry(n).or_insert(i);
                    }
                    None => {}
                }
            }
            self.by_key.insert((modinst, decl), index);
        }
        &self.by_key[&(modinst, decl)]
    }

    /// The reference to an object: one per object, shared by all that refer to it.
    fn object_reference(&mut self, obj: usize) -> Arc<Reference> {
        if let Some(reference) = &self.objs[obj].reference {
            return Arc::clone(reference);
        }
        let reference = Arc::new(Reference { address: self.address(obj).into_owned(), attribute: Vec::new() });
        self.objs[obj].reference = Some(Arc::clone(&reference));
        reference
    }

    /// The address of an object: a nested block's as recorded, a resource instance's made
    /// from its declaration and key.
    fn address(&self, obj: usize) -> Cow<'_, Address> {
        if let Some(address) = &self.objs[obj].nested_address {
            return Cow::Borrowed(address);
        }
        let inst = &self.insts[self.objs[obj].inst];
        let modinst = &self.modinsts[inst.modinst];
        let decl = &self.decls[modinst.module].resources[inst.decl];
        let address = Address { module: modinst.steps.clone(), ..decl.address.clone() };
        Cow::Owned(address.with_key(self.inst_key(self.objs[obj].inst)))
    }

    /// The key of a resource instance, when its block has for_each or count.
    fn inst_key(&self, inst: usize) -> Option<Key> {
        self.insts[inst].binding.as_ref().map(binding_key)
    }

    fn decl_is_expanded(&self, module: usize, decl: usize) -> bool {
        let body = &self.decls[module].resources[decl].block.body;
        body.attributes().any(|a| matches!(a.key.as_str(), "for_each" | "count"))
    }

    /// Records that the value being computed refers to `inst` (a resource refers to itself
    /// through `self` or its own address; [`Evaluator::build_resource`] drops those).
    fn note_ref_inst(&mut self, inst: usize) {
        if let Some(top) = self.refs.last_mut() {
            top.push(inst);
        }
    }

    fn module_reference(
        &mut self,
        ops: &'p [hcl_edit::Decorated<TraversalOperator>],
        sc: &Scope,
        span: Span,
    ) -> Result<(Value, usize), Reported> {
        let Some(TraversalOperator::GetAttr(label)) = ops.first().map(|o| o.value()) else {
            self.diags.push(
                Diagnostic::error(&codes::REF_UNKNOWN, span, "`module` needs a name: module.NAME.OUTPUT")
                    .with_help("write `module.NAME.OUTPUT`"),
            );
            return Err(Reported);
        };
        let module = self.modinsts[sc.modinst].module;
        let Some(call) = self.decls[module].calls.iter().position(|c| c.label == label.as_str()) else {
            let names: Vec<&str> = self.decls[module].calls.iter().map(|c| c.label).collect();
            return Err(self.unknown_name(span, "module", label.as_str(), &names));
        };
        let children = self.module_instances(sc.modinst, call)?;
        let keyed = children.first().is_some_and(|&c| self.modinsts[c].binding.is_some());
        let (child, used) = match (keyed, ops.get(1).map(|o| o.value())) {
            (false, _) => (children.first().copied(), 1),
            (true, Some(TraversalOperator::Index(index))) => {
                let key = self.expr(index, sc)?;
                let wanted = value_key(&key);
                (
                    children
                        .iter()
                        .copied()
                        .find(|&c| self.modinsts[c].steps.last().and_then(|s| s.key.clone()) == wanted),
                    2,
                )
            }
            (true, _) => {
                let mut all = BTreeMap::new();
                for &c in &children {
                    let key =
                        self.modinsts[c].steps.last().and_then(|s| s.key.as_ref()).map(key_text).unwrap_or_default();
                    all.insert(key, self.all_outputs(c)?);
                }
                return Ok((Value::object(all.into()), 1));
            }
        };
        let Some(child) = child else {
            self.diags.push(
                Diagnostic::error(
                    &codes::REF_UNKNOWN,
                    span,
                    format!("module {:?} has no such instance", label.as_str()),
                )
                .with_help("check the module's for_each keys"),
            );
            return Err(Reported);
        };
        match ops.get(used).map(|o| o.value()) {
            Some(TraversalOperator::GetAttr(out)) => {
                let target = self.modinsts[child].module;
                let Some(&(block, file)) = self.decls[target]
                    .outputs
                    .iter()
                    .find(|(b, _)| b.labels.first().is_some_and(|l| l.as_str() == out.as_str()))
                else {
                    let names: Vec<&str> = self.decls[target]
                        .outputs
                        .iter()
                        .filter_map(|(b, _)| b.labels.first().map(|l| l.as_str()))
                        .collect();
                    return Err(self.unknown_name(span, "output", out.as_str(), &names));
                };
                self.output_value(child, block, file).map(|v| (v, used + 1))
            }
            _ => self.all_outputs(child).map(|v| (v, used)),
        }
    }

    fn all_outputs(&mut self, modinst: usize) -> R {
        let module = self.modinsts[modinst].module;
        let outputs = self.decls[module].outputs.clone();
        let mut all = BTreeMap::new();
        for (block, file) in outputs {
            let name = block.labels.first().map(|l| l.as_str().to_string()).unwrap_or_default();
            all.insert(name, self.output_value(modinst, block, file)?);
        }
        Ok(Value::object(all.into()))
    }

    fn unknown_attr(&mut self, file: FileId, attr: &Attribute, known: &[&str], what: &str) {
        let key = attr.key.as_str();
        let mut d = Diagnostic::error(
            &codes::SCHEMA_UNKNOWN_ATTRIBUTE,
            span_of(file, &attr.key),
            format!("`{what}` has no attribute `{key}`"),
        )
        .with_label("unknown attribute");
        d = d.with_suggestion(
            did_you_mean(key, known.iter().copied()),
            format!("its attributes are: {}", known.join(", ")),
        );
        self.diags.push(d);
    }
}

// ----- helpers ------------------------------------------------------------------------------

/// The span of `key`, quotes included, among the top-level keys of a valid JSON object text.
fn json_key_span(text: &str, key: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let (mut depth, mut i) = (0usize, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                let end = (i + 1).min(bytes.len());
                let is_key = depth == 1 && text[end..].trim_start().starts_with(':');
                if is_key && serde_json::from_str::<String>(&text[start..end]).is_ok_and(|k| k == key) {
                    return Some((start, end));
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// An attribute's identity in the parsed source, for maps keyed by attribute.
fn key_of(attr: &Attribute) -> usize {
    attr as *const Attribute as usize
}

/// Finds whether an expression mentions any of `names` as an identifier.
struct NameFinder<'n> {
    names: &'n [&'n str],
    found: bool,
}

impl Visit for NameFinder<'_> {
    fn visit_ident(&mut self, ident: &hcl_edit::Decorated<hcl_edit::Ident>) {
        self.found |= self.names.contains(&ident.as_str());
    }
}

fn attr_expr<'a>(block: &'a Block, name: &str) -> Option<&'a Expression> {
    block.body.attributes().find(|a| a.key.as_str() == name).map(|a| &a.value)
}

/// The span of a block's type and labels.
fn block_header_span(file: FileId, block: &Block) -> Span {
    let start = span_of(file, &block.ident);
    block.labels.last().map_or(start, |l| start.join(span_of(file, l)))
}

/// Spans of the elements of a literal list or object.
fn element_spans(file: FileId, e: &Expression) -> Vec<Span> {
    match e {
        Expression::Array(a) => a.iter().map(|x| span_of(file, x)).collect(),
        Expression::Object(o) => o.iter().map(|(_, v)| span_of(file, v.expr())).collect(),
        _ => Vec::new(),
    }
}

fn binding_key(b: &Binding) -> Key {
    match b {
        Binding::Each { key, .. } => Key::Str(match key {
            Value::String(s) => s.clone(),
            _ => ArcStr::new(),
        }),
        Binding::Count(i) => Key::Int(*i),
    }
}

fn value_key(v: &Value) -> Option<Key> {
    match v {
        Value::String(s) => Some(Key::Str(s.clone())),
        Value::Number(_) => v.as_integer().map(|i| Key::Int(i as u64)),
        _ => None,
    }
}

fn key_text(k: &Key) -> String {
    match k {
        Key::Str(s) => s.to_string(),
        Key::Int(i) => i.to_string(),
    }
}

/// `ITERATOR.attr` (`each.value`, `count.index`, `volume.key`); for an attribute it does not
/// have, whether it is a `for_each` iterator.
fn binding_attr(binding: &Binding, attr: Option<&str>) -> Result<Value, bool> {
    match (binding, attr) {
        (Binding::Each { key, .. }, Some("key")) => Ok(key.clone()),
        (Binding::Each { value, .. }, Some("value")) => Ok(value.clone()),
        (Binding::Count(i), Some("index")) => Ok(Value::Number(*i as f64)),
        (Binding::Each { .. }, _) => Err(true),
        (Binding::Count(_), _) => Err(false),
    }
}

/// The default name of an instance: label, for_each key, or label-index.
fn default_name(label: &str, binding: Option<&Binding>) -> ArcStr {
    match binding {
        Some(Binding::Each { key: Value::String(key), .. }) => key.clone(),
        Some(Binding::Count(i)) => ArcStr::from(format!("{label}-{i}")),
        Some(Binding::Each { .. }) | None => ArcStr::from(label),
    }
}

fn schema_default(d: SchemaDefault) -> Value {
    match d {
        SchemaDefault::Required | SchemaDefault::None => Value::Null,
        SchemaDefault::Str(s) => Value::string(s),
        SchemaDefault::Num(n) => Value::Number(n),
        SchemaDefault::Bool(b) => Value::Bool(b),
    }
}

/// Collects the text forms of a sensitive value (strings, and numbers and bools as written).
fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if !s.is_empty() => out.push(s.to_string()),
        Value::Number(_) | Value::Bool(_) => out.push(v.to_string()),
        Value::List(l) => l.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// Evaluates a constant expression (literals only), as in variable files and defaults.
fn constant(e: &Expression) -> Option<Value> {
    Some(match e {
        Expression::Null(_) => Value::Null,
        Expression::Bool(b) => Value::Bool(*b.value()),
        Expression::Number(n) => Value::Number(n.value().as_f64()?),
        Expression::String(s) => Value::string(s.as_str()),
        Expression::Array(a) => Value::list(a.iter().map(constant).collect::<Option<_>>()?),
        Expression::Object(o) => Value::object(
            o.iter()
                .map(|(k, v)| {
                    let key = match k {
                        ObjectKey::Ident(i) => i.as_str().to_string(),
                        ObjectKey::Expression(Expression::String(s)) => s.as_str().to_string(),
                        _ => return None,
                    };
                    Some((key, constant(v.expr())?))
                })
                .collect::<Option<_>>()?,
        ),
        Expression::Parenthesis(p) => constant(p.inner())?,
        Expression::UnaryOp(op) if *op.operator.value() == UnaryOperator::Neg => {
            Value::Number(-constant(&op.expr)?.as_number()?)
        }
        _ => return None,
    })
}
