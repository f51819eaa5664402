//! Typed reads of evaluated block bodies against the schema. A [`Reader`] first reports
//! unknown attributes and blocks and missing required attributes, then hands out typed values;
//! a wrong type or format becomes a diagnostic at the value's span and the read gives `None`.

use crate::formats;
use berth_diag::{Diagnostic, Diagnostics, Span, codes, did_you_mean};
use berth_model::schema::{AttrSchema, BlockSchema, Default, Ty};
use berth_model::{Address, ArcStr, Value};
use berth_resolve::{Attr, Body, NestedBlock};
use rustc_hash::FxHashSet;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Reads one body against its block schema.
pub struct Reader<'a> {
    body: &'a Body,
    schema: &'static BlockSchema,
    span: Span,
}

impl<'a> Reader<'a> {
    /// Checks names and presence of the body's attributes and nested blocks.
    pub fn new(body: &'a Body, schema: &'static BlockSchema, span: Span, diags: &mut Diagnostics) -> Self {
        for attr in &body.attrs {
            // The resolver found each attribute's schema entry, in this same block schema.
            if attr.schema().is_none() {
                let mut d = Diagnostic::error(
                    &codes::SCHEMA_UNKNOWN_ATTRIBUTE,
                    attr.name_span(),
                    format!("`{}` has no attribute `{}`", schema.name, attr.name()),
                )
                .with_label("unknown attribute");
                let is_block = schema.block(attr.name()).is_some();
                d = match (is_block, did_you_mean(attr.name(), schema.attr_names())) {
                    (true, _) => {
                        d.with_help(format!("`{}` is a block: write `{} {{ ... }}`", attr.name(), attr.name()))
                    }
                    (false, Some(s)) => d.with_help(format!("did you mean `{s}`?")),
                    (false, None) => {
                        d.with_help(format!("`{}` takes: {}", schema.name, schema.attr_names().join(", ")))
                    }
                };
                diags.push(d);
            }
        }
        let mut seen_single: BTreeMap<&str, Span> = BTreeMap::new();
        for block in &body.blocks {
            match schema.block(&block.kind) {
                None => {
                    let mut d = Diagnostic::error(
                        &codes::SCHEMA_UNKNOWN_BLOCK,
                        block.span,
                        format!("`{}` has no nested block `{}`", schema.name, block.kind),
                    )
                    .with_label("unknown block");
                    let names = schema.blocks.iter().map(|b| b.name);
                    d = match (schema.attr(&block.kind).is_some(), did_you_mean(&block.kind, names)) {
                        (true, _) => {
                            d.with_help(format!("`{}` is an attribute: write `{} = ...`", block.kind, block.kind))
                        }
                        (false, Some(s)) => d.with_help(format!("did you mean `{s}`?")),
                        (false, None) if schema.blocks.is_empty() => {
                            d.with_help(format!("`{}` takes no nested blocks", schema.name))
                        }
                        (false, None) => d.with_help(format!(
                            "its blocks are: {}",
                            schema.blocks.iter().map(|b| b.name).collect::<Vec<_>>().join(", ")
                        )),
                    };
                    diags.push(d);
                }
                Some(s) if !s.labelled => {
                    if let Some(first) = seen_single.insert(s.name, block.span) {
                        diags.push(
                            Diagnostic::error(
                                &codes::SCHEMA_DUPLICATE_NAME,
                                block.span,
                                format!("`{}` may appear once in `{}`", s.name, schema.name),
                            )
                            .with_note(first, "first here")
                            .with_help("merge the two blocks"),
                        );
                    }
                }
                Some(_) => {}
            }
        }
        for a in schema.attrs {
            if a.default == Default::Required && body.attr_of(a).is_none() && !body.failed.iter().any(|f| f == a.name) {
                diags.push(
                    Diagnostic::error(
                        &codes::SCHEMA_MISSING_ATTRIBUTE,
                        span,
                        format!("`{}` needs `{}`", schema.name, a.name),
                    )
                    .with_label(format!("missing `{}` ({})", a.name, a.ty.describe()))
                    .with_help(format!("add `{} = ...`: {}", a.name, a.doc)),
                );
            }
        }
        Reader { body, schema, span }
    }

    /// A reader of an optional nested block: checked like [`Reader::new`] when present; when
    /// absent, an empty body that only yields defaults (its required attributes are not
    /// reported, the caller decides whether the block itself is required).
    pub fn optional(
        block: Option<(&'a Body, Span)>,
        empty: &'a Body,
        schema: &'static BlockSchema,
        parent: Span,
        diags: &mut Diagnostics,
    ) -> Self {
        match block {
            Some((body, span)) => Reader::new(body, schema, span, diags),
            None => Reader { body: empty, schema, span: parent },
        }
    }

    /// The block's span.
    pub fn span(&self) -> Span {
        self.span
    }

    /// The attribute as written, if present.
    pub fn attr(&self, name: &str) -> Option<&'a Attr> {
        self.body.attr(name)
    }

    /// The span of an attribute's value, or of the block if absent.
    pub fn span_of(&self, name: &str) -> Span {
        self.attr(name).map_or(self.span, |a| a.span())
    }

    /// Nested blocks of a type.
    pub fn blocks(&self, kind: &'static str) -> impl Iterator<Item = &'a NestedBlock> {
        self.body.blocks.iter().filter(move |b| b.kind == kind)
    }

    fn schema_attr(&self, name: &str) -> &'static AttrSchema {
        self.schema.attr(name).unwrap_or_else(|| panic!("schema of {} has no attribute {name}", self.schema.name))
    }

    /// The attribute `name` as written, if set, and its schema entry: a set attribute carries
    /// its entry, so only an unset one is looked up in the schema.
    fn entry(&self, name: &str) -> (Option<&'a Attr>, &'static AttrSchema) {
        match self.attr(name) {
            Some(a) => (Some(a), a.schema().unwrap_or_else(|| self.schema_attr(name))),
            None => (None, self.schema_attr(name)),
        }
    }

    /// The value: given, else the schema default, else None. A given value is borrowed.
    fn value(&self, name: &str) -> Option<(Cow<'a, Value>, Span)> {
        let (given, schema) = self.entry(name);
        self.given_or_default(given, schema)
    }

    /// [`Reader::value`] of an attribute already looked up.
    fn given_or_default(&self, given: Option<&'a Attr>, schema: &'static AttrSchema) -> Option<(Cow<'a, Value>, Span)> {
        match given {
            Some(a) if !a.value.is_null() => Some((Cow::Borrowed(&a.value), a.span())),
            Some(_) | None => match schema.default {
                Default::Str(s) => Some((Cow::Owned(Value::string(s)), self.span)),
                Default::Num(n) => Some((Cow::Owned(Value::Number(n)), self.span)),
                Default::Bool(b) => Some((Cow::Owned(Value::Bool(b)), self.span)),
                Default::None | Default::Required => None,
            },
        }
    }

    fn wrong(&self, diags: &mut Diagnostics, name: &str, span: Span, found: &Value, ty: Ty) {
        let unknown = if found.is_unknown() { " (its value is known only after apply)" } else { "" };
        diags.push(
            Diagnostic::error(
                &codes::SCHEMA_WRONG_TYPE,
                span,
                format!("`{name}` must be a {}, not {}{unknown}", ty.describe(), found.type_name()),
            )
            .with_label(format!("expected {}", ty.describe()))
            .with_help(self.schema_attr(name).doc),
        );
    }

    /// A string attribute (enums are checked against their words).
    pub fn string(&self, name: &str, diags: &mut Diagnostics) -> Option<String> {
        self.shared_string(name, diags).map(|s| s.to_string())
    }

    /// An enum attribute: the schema's word for it, so nothing is copied.
    pub fn word(&self, name: &str, diags: &mut Diagnostics) -> Option<&'static str> {
        let (given, schema) = self.entry(name);
        let Ty::Enum(words) = schema.ty else { unreachable!("{name} of {} is not an enum", self.schema.name) };
        match (given.filter(|a| !a.value.is_null()), schema.default) {
            (None, Default::Str(d)) => Some(d),
            _ => self.shared_string(name, diags).and_then(|s| words.iter().copied().find(|w| *w == s.as_str())),
        }
    }

    /// [`Reader::string`] as the value's own string when it is one, so nothing is copied.
    pub fn shared_string(&self, name: &str, diags: &mut Diagnostics) -> Option<ArcStr> {
        let (given, schema) = self.entry(name);
        let ty = schema.ty;
        let (s, span) = match (given.filter(|a| !a.value.is_null()), schema.default) {
            // The common default needs no intermediate value.
            (None, Default::Str(d)) => (ArcStr::from(d), self.span),
            _ => {
                let (v, span) = self.given_or_default(given, schema)?;
                let s = match &*v {
                    Value::String(s) => s.clone(),
                    Value::Number(_) | Value::Bool(_) if matches!(ty, Ty::String) => ArcStr::from(v.to_string()),
                    _ => {
                        self.wrong(diags, name, span, &v, ty);
                        return None;
                    }
                };
                (s, span)
            }
        };
        if let Ty::Enum(words) = ty
            && !words.contains(&s.as_str())
        {
            let mut d = Diagnostic::error(&codes::SCHEMA_INVALID_VALUE, span, format!("`{name}` cannot be {s:?}"))
                .with_label(format!("expected {}", ty.describe()));
            d = match did_you_mean(&s, words.iter().copied()) {
                Some(w) => d.with_help(format!("did you mean \"{w}\"?")),
                None => d.with_help(format!("use {}", ty.describe())),
            };
            diags.push(d);
            return None;
        }
        let checked = match ty {
            Ty::Image => formats::image_reference(&s).map_err(|e| (&codes::FORMAT_IMAGE, e)),
            Ty::Cidr => formats::cidr(&s).map(|_| ()).map_err(|e| (&codes::FORMAT_CIDR, e)),
            Ty::Timestamp => formats::timestamp_unix(&s).map(|_| ()).map_err(|e| (&codes::FORMAT_TIMESTAMP, e)),
            Ty::Duration => formats::duration_secs(&s).map(|_| ()).map_err(|e| (&codes::FORMAT_DURATION, e)),
            _ => Ok(()),
        };
        if let Err((code, message)) = checked {
            diags.push(
                Diagnostic::error(code, span, message)
                    .with_label(format!("expected {}", ty.describe()))
                    .with_help(code.fix),
            );
            return None;
        }
        Some(s)
    }

    /// An image reference attribute, checked once per distinct reference (a fleet's thousands
    /// of containers share a handful of images): `valid` holds those found valid so far.
    pub fn image(&self, name: &str, valid: &mut FxHashSet<ArcStr>, diags: &mut Diagnostics) -> Option<ArcStr> {
        if let Some(Value::String(s)) = self.attr(name).map(|a| &a.value)
            && valid.contains(s)
        {
            return Some(s.clone());
        }
        let s = self.shared_string(name, diags)?;
        valid.insert(s.clone());
        Some(s)
    }

    /// A whole number attribute, at least 0.
    pub fn integer(&self, name: &str, diags: &mut Diagnostics) -> Option<u64> {
        let (v, span) = self.value(name)?;
        match numeric(&v).as_integer() {
            Some(i) if i >= 0 => Some(i as u64),
            _ => {
                diags.push(
                    Diagnostic::error(
                        &codes::SCHEMA_WRONG_TYPE,
                        span,
                        format!("`{name}` must be a whole number from 0, not {v}"),
                    )
                    .with_label("expected a whole number")
                    .with_help(self.schema_attr(name).doc),
                );
                None
            }
        }
    }

    /// A number attribute.
    pub fn number(&self, name: &str, diags: &mut Diagnostics) -> Option<f64> {
        let (v, span) = self.value(name)?;
        match numeric(&v).as_number() {
            Some(n) if n.is_finite() && n >= 0.0 => Some(n),
            _ => {
                self.wrong(diags, name, span, &v, Ty::Number);
                None
            }
        }
    }

    /// A bool attribute.
    pub fn bool(&self, name: &str, diags: &mut Diagnostics) -> Option<bool> {
        let (v, span) = self.value(name)?;
        match v.as_bool() {
            Some(b) => Some(b),
            None => {
                self.wrong(diags, name, span, &v, Ty::Bool);
                None
            }
        }
    }

    /// A port attribute.
    pub fn port(&self, name: &str, diags: &mut Diagnostics) -> Option<u16> {
        let (v, span) = self.value(name)?;
        port_of(&v, span, name, diags)
    }

    /// True if the body does not set the list or map attribute `name`. Such attributes have no
    /// default (the schema's tests hold it), so an absent one is empty, found without looking
    /// up its schema entry: most of a fleet's containers set none of their lists.
    fn unset_collection(&self, name: &str) -> bool {
        debug_assert!(
            self.schema.attr(name).is_some_and(|a| matches!(a.default, Default::None | Default::Required)),
            "{name} of {} is not a collection without default",
            self.schema.name
        );
        self.attr(name).is_none()
    }

    /// A list of strings (numbers are converted).
    pub fn strings(&self, name: &str, diags: &mut Diagnostics) -> Vec<String> {
        if self.unset_collection(name) {
            return Vec::new();
        }
        let Some((v, span)) = self.value(name) else { return Vec::new() };
        let Some(items) = v.as_list() else {
            self.wrong(diags, name, span, &v, Ty::Strings);
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::Null => {}
                Value::String(s) => out.push(String::from(&**s)),
                Value::Number(_) | Value::Bool(_) => out.push(item.to_string()),
                other => {
                    let at = self.attr(name).map_or(span, |a| a.element_span(i));
                    self.wrong(diags, name, at, other, Ty::String);
                }
            }
        }
        out
    }

    /// A map of strings (numbers and bools converted).
    pub fn string_map(&self, name: &str, diags: &mut Diagnostics) -> BTreeMap<String, String> {
        if self.unset_collection(name) {
            return BTreeMap::new();
        }
        let Some((v, span)) = self.value(name) else { return BTreeMap::new() };
        let Some(entries) = v.as_object() else {
            self.wrong(diags, name, span, &v, Ty::StringMap);
            return BTreeMap::new();
        };
        let mut out = BTreeMap::new();
        for (k, item) in entries {
            match item {
                Value::String(s) => {
                    out.insert(k.to_string(), String::from(&**s));
                }
                Value::Number(_) | Value::Bool(_) => {
                    out.insert(k.to_string(), item.to_string());
                }
                Value::Null => {}
                other => diags.push(
                    Diagnostic::error(
                        &codes::SCHEMA_WRONG_TYPE,
                        span,
                        format!("`{name}`: the value of {k:?} must be a string, not {}", other.type_name()),
                    )
                    .with_label("expected a map of strings")
                    .with_help(self.schema_attr(name).doc),
                ),
            }
        }
        out
    }

    /// A size in bytes; plain numbers are bytes, or GiB where `numbers_are_gib`.
    pub fn size(&self, name: &str, numbers_are_gib: bool, diags: &mut Diagnostics) -> Option<u64> {
        let (v, span) = self.value(name)?;
        let parsed = match &*v {
            Value::Number(_) => v
                .as_integer()
                .filter(|i| *i >= 0)
                .map(|i| if numbers_are_gib { (i as u64) << 30 } else { i as u64 })
                .ok_or_else(|| format!("{v} is not a whole size")),
            Value::String(s) => formats::size_bytes(s),
            other => Err(format!("a size is required, not {}", other.type_name())),
        };
        parsed
            .map_err(|message| {
                diags.push(
                    Diagnostic::error(&codes::FORMAT_SIZE, span, message)
                        .with_label("expected a size like \"512Mi\"")
                        .with_help(codes::FORMAT_SIZE.fix),
                );
            })
            .ok()
    }

    /// A duration in seconds.
    pub fn duration(&self, name: &str, diags: &mut Diagnostics) -> Option<u64> {
        let s = self.string(name, diags)?;
        formats::duration_secs(&s).ok()
    }

    /// A reference to one object of the schema's kinds (its address borrowed from the body).
    pub fn reference(&self, name: &str, diags: &mut Diagnostics) -> Option<(&'a Address, Span)> {
        let (given, schema) = self.entry(name);
        let (v, span) = self.given_or_default(given, schema)?;
        let Ty::Ref(kinds) = schema.ty else { return None };
        match v {
            Cow::Borrowed(v) => ref_of(v, span, name, kinds, diags),
            // A default is never a reference: this only reports it.
            Cow::Owned(v) => ref_of(&v, span, name, kinds, diags).and(None),
        }
    }

    /// A list of references to objects of the schema's kinds (their addresses borrowed from
    /// the body).
    pub fn references(&self, name: &str, diags: &mut Diagnostics) -> Vec<(&'a Address, Span)> {
        if self.unset_collection(name) {
            return Vec::new();
        }
        let (given, schema) = self.entry(name);
        let Some((v, span)) = self.given_or_default(given, schema) else { return Vec::new() };
        let Ty::Refs(kinds) = schema.ty else { return Vec::new() };
        match v {
            Cow::Borrowed(v) => self.refs_in(v, span, name, kinds, diags),
            // A default is never a list of references: this only reports it.
            Cow::Owned(v) => {
                self.refs_in(&v, span, name, kinds, diags);
                Vec::new()
            }
        }
    }

    fn refs_in<'v>(
        &self,
        v: &'v Value,
        span: Span,
        name: &str,
        kinds: &[&str],
        diags: &mut Diagnostics,
    ) -> Vec<(&'v Address, Span)> {
        let items: Vec<&Value> = match v {
            Value::List(l) => l.iter().collect(),
            Value::Object(o) => o.values().collect(),
            other => vec![other],
        };
        let attr = self.attr(name);
        items
            .into_iter()
            .enumerate()
            .filter_map(|(i, item)| ref_of(item, attr.map_or(span, |a| a.element_span(i)), name, kinds, diags))
            .collect()
    }

    /// A raw value (for `any`-typed attributes).
    pub fn any(&self, name: &str) -> Value {
        self.value(name).map_or(Value::Null, |(v, _)| v.into_owned())
    }
}

/// "a host", "an issuer", "a service or container".
fn a_kind(kinds: &[&str]) -> String {
    let words = kinds.join(" or ");
    let article = if words.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {words}")
}

/// Converts a numeric string to a number, as Terraform does for number arguments.
fn numeric(v: &Value) -> Value {
    match v {
        Value::String(s) => s.trim().parse::<f64>().map_or_else(|_| v.clone(), Value::Number),
        _ => v.clone(),
    }
}

/// Reads a port from a value.
pub fn port_of(v: &Value, span: Span, name: &str, diags: &mut Diagnostics) -> Option<u16> {
    match numeric(v).as_integer() {
        Some(p) if (1..=65535).contains(&p) => Some(p as u16),
        _ => {
            diags.push(
                Diagnostic::error(&codes::FORMAT_PORT, span, format!("`{name}`: {v} is not a port"))
                    .with_label("expected 1-65535")
                    .with_help(codes::FORMAT_PORT.fix),
            );
            None
        }
    }
}

fn ref_of<'v>(
    v: &'v Value,
    span: Span,
    name: &str,
    kinds: &[&str],
    diags: &mut Diagnostics,
) -> Option<(&'v Address, Span)> {
    match v.as_ref() {
        Some(r)
            if r.attribute.is_empty() && r.address.nested.is_empty() && kinds.contains(&r.address.kind.as_str()) =>
        {
            Some((&r.address, span))
        }
        Some(r) if r.attribute.is_empty() => {
            diags.push(
                Diagnostic::error(
                    &codes::REF_KIND,
                    span,
                    format!("`{name}` refers to {}, which is not {}", r.address, a_kind(kinds)),
                )
                .with_label(format!("expected {}", a_kind(kinds)))
                .with_help(format!("refer to {} like `{}.NAME`", a_kind(kinds), kinds[0])),
            );
            None
        }
        _ => {
            diags.push(
                Diagnostic::error(
                    &codes::SCHEMA_WRONG_TYPE,
                    span,
                    format!("`{name}` must be a reference to {}, not {}", a_kind(kinds), v.type_name()),
                )
                .with_label(format!("expected `{}.NAME`", kinds[0]))
                .with_help(format!("write the address unquoted: {}.NAME", kinds[0])),
            );
            None
        }
    }
}
