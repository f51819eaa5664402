//! The resolve stage: from parsed files to expanded, evaluated resource instances.
//!
//! It loads the root module and every module it calls (local directories or stdlib modules),
//! binds variables (`--var`, `--var-file`, defaults, validation), and evaluates locals,
//! `for_each`/`count`, references, templates and function calls lazily, each value once.
//! Every evaluated attribute keeps the span of its expression. File reading goes through
//! [`Loader`], so this stage is pure.

mod eval;
pub mod functions;
mod load;
mod lower;
mod types;

use berth_diag::{Diagnostics, FileId, Sources, Span};
use berth_model::schema::{AttrSchema, BlockSchema};
use berth_model::{Address, ArcStr, Reference, Value};
use std::borrow::Cow;
use std::sync::Arc;

pub use types::Type;

/// Reads module directories for the resolver (the CLI reads the file system; tests use memory).
pub trait Loader {
    /// The spec files of a module: for a directory, its `*.hcl` files sorted by name; for a
    /// file, the file itself. Each as (display path, text).
    fn module_files(&self, path: &str) -> Result<Vec<(String, String)>, String>;
}

/// Values given on the command line.
#[derive(Debug, Default)]
pub struct Inputs {
    /// `--var NAME=VALUE`, in order; later ones win.
    pub vars: Vec<(String, String)>,
    /// `--var-file` files, already added to the sources; `.json` files are JSON, others HCL.
    pub var_files: Vec<FileId>,
}

/// The resolved spec: every resource instance with its evaluated body.
#[derive(Debug, Default)]
pub struct Resolved {
    /// Resource instances, in declaration order (module calls expanded in place).
    pub resources: Vec<Resource>,
    /// Root module outputs.
    pub outputs: Vec<ResolvedOutput>,
    /// Values of variables marked `sensitive`, to redact wherever they would be shown.
    pub sensitive_values: Vec<String>,
}

/// One resource instance.
#[derive(Debug)]
pub struct Resource {
    /// Its kind's schema.
    pub schema: &'static BlockSchema,
    /// Its address.
    pub address: Address,
    /// Its name: the `name` attribute, else label, for_each key, or label-index.
    pub name: ArcStr,
    /// The block's header (type and labels).
    pub span: Span,
    /// Evaluated attributes and nested blocks (meta-arguments removed).
    pub body: Body,
    /// Resource instances this one's values refer to (not itself), as references to whole
    /// objects shared with the values that hold them.
    pub references: Vec<Arc<Reference>>,
    /// `depends_on` entries with their spans.
    pub depends_on: Vec<(Address, Span)>,
}

/// An evaluated block body.
#[derive(Debug, Default)]
pub struct Body {
    /// Attributes in source order.
    pub attrs: Vec<Attr>,
    /// Nested blocks in source order, for_each and count expanded.
    pub blocks: Vec<NestedBlock>,
    /// Attributes whose evaluation failed (already reported), so later stages do not call
    /// them missing.
    pub failed: Vec<String>,
}

impl Body {
    /// The attribute of this name.
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| berth_model::schema::same_name(a.name(), name))
    }

    /// The attribute that `schema`, an entry of the body's block schema, describes: found
    /// without comparing names.
    pub fn attr_of(&self, schema: &'static AttrSchema) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.site.schema.is_some_and(|s| std::ptr::eq(s, schema)))
    }
}

/// An evaluated attribute: its value, and where it is written.
#[derive(Debug)]
pub struct Attr {
    /// Where it is written, shared by every instance of its block (a fleet expands one
    /// block into tens of thousands of instances).
    pub(crate) site: Arc<AttrSite>,
    /// Its value.
    pub value: Value,
}

/// Where an attribute is written.
#[derive(Debug)]
pub(crate) struct AttrSite {
    /// The schema's name for known attributes, so that every block shares it.
    pub(crate) name: Cow<'static, str>,
    /// Its entry in the schema of the block it is evaluated in; `None` if that has no such
    /// attribute.
    pub(crate) schema: Option<&'static AttrSchema>,
    /// Where the name is.
    pub(crate) name_span: Span,
    /// Where the value expression is.
    pub(crate) span: Span,
    /// Spans of the elements when the expression is a literal list or object (in element
    /// order; for objects, key order as written), else empty.
    pub(crate) elements: Vec<Span>,
}

impl Attr {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.site.name
    }

    /// Its entry in the schema of its block; `None` if that has no such attribute.
    pub fn schema(&self) -> Option<&'static AttrSchema> {
        self.site.schema
    }

    /// Where its name is.
    pub fn name_span(&self) -> Span {
        self.site.name_span
    }

    /// Where its value expression is.
    pub fn span(&self) -> Span {
        self.site.span
    }

    /// The span of element `i` if known, else the whole value.
    pub fn element_span(&self, i: usize) -> Span {
        self.site.elements.get(i).copied().unwrap_or(self.site.span)
    }
}

/// An evaluated nested block instance.
#[derive(Debug)]
pub struct NestedBlock {
    /// The block type.
    pub kind: String,
    /// Its name: label, for_each key, or label-index; None for unlabelled blocks.
    pub name: Option<String>,
    /// Its address.
    pub address: Address,
    /// The block's header.
    pub span: Span,
    /// Its body.
    pub body: Body,
}

/// A root module output.
#[derive(Debug)]
pub struct ResolvedOutput {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: Value,
    /// Marked sensitive.
    pub sensitive: bool,
    /// Where declared.
    pub span: Span,
}

/// Resolves the spec at `root` (a file or a directory). Returns what could be resolved and
/// every problem found; `None` only when nothing could be loaded.
pub fn resolve(
    loader: &dyn Loader,
    sources: &mut Sources,
    root: &str,
    inputs: &Inputs,
) -> (Option<Resolved>, Diagnostics) {
    let mut resources = Vec::new();
    let (resolved, diags) = resolve_into(loader, sources, root, inputs, &mut |r| match r {
        Resolving::Declaration { instances, .. } => resources.reserve(instances),
        Resolving::Resource(r) => resources.push(r),
    });
    (resolved.map(|r| Resolved { resources, ..r }), diags)
}

/// What [`resolve_into`] hands on as it goes, in the order of [`Resolved::resources`].
#[derive(Debug)]
#[allow(clippy::large_enum_variant, reason = "boxing would cost an allocation per instance; declarations are few")]
pub enum Resolving {
    /// The instances of one declaration follow: this many, of this kind.
    Declaration {
        /// The kind.
        schema: &'static BlockSchema,
        /// How many instances follow.
        instances: usize,
    },
    /// One resource instance.
    Resource(Resource),
}

/// [`resolve`], handing each resource instance to `sink` as soon as it is evaluated, so that
/// checking can start before resolving ends. The result holds no resources.
pub fn resolve_into(
    loader: &dyn Loader,
    sources: &mut Sources,
    root: &str,
    inputs: &Inputs,
    sink: &mut dyn FnMut(Resolving),
) -> (Option<Resolved>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let Some(program) = load::load(loader, sources, root, &mut diags) else {
        return (None, diags);
    };
    let resolved = eval::evaluate(&program, sources, inputs, &mut diags, sink);
    (Some(resolved), diags)
}

/// A loader over in-memory files, for tests and the fuzzer: paths map to texts; a directory
/// is every file whose path starts with it and a `/`.
#[derive(Debug, Default)]
pub struct MemoryLoader {
    /// (path, text) pairs.
    pub files: Vec<(String, String)>,
}

impl Loader for MemoryLoader {
    fn module_files(&self, path: &str) -> Result<Vec<(String, String)>, String> {
        let path = path.trim_end_matches('/');
        if let Some((p, t)) = self.files.iter().find(|(p, _)| p == path) {
            return Ok(vec![(p.clone(), t.clone())]);
        }
        let prefix = format!("{path}/");
        let mut found: Vec<(String, String)> = self
            .files
            .iter()
            .filter(|(p, _)| p.strip_prefix(&prefix).is_some_and(|rest| !rest.contains('/') && rest.ends_with(".hcl")))
            .cloned()
            .collect();
        found.sort();
        if found.is_empty() { Err(format!("no spec files in {path}")) } else { Ok(found) }
    }
}

#[cfg(test)]
mod tests;
