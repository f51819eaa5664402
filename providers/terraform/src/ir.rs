//! A small model of Terraform configuration: blocks, attributes and the few expression forms
//! berth writes. Both renderers read it, so the `.tf` and `.tf.json` files describe the same
//! configuration by construction.

/// An expression on the right of `=`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    /// A literal string (escaped as a template when rendered).
    Str(String),
    /// A whole number.
    Int(u64),
    /// `true` or `false`.
    Bool(bool),
    /// A reference to another object, `aws_instance.dh000.id`: bare in HCL, `"${...}"` in JSON.
    Ref(String),
    /// A keyword or traversal that JSON spells as a plain string: a variable's `type`, a
    /// resource's `provider`, the entries of `depends_on`.
    Bare(String),
    /// A list.
    List(Vec<Expr>),
    /// An object with literal keys, in the given order.
    Map(Vec<(String, Expr)>),
    /// `base64encode(<<-EOT ... EOT)`: a multi-line text, base64-encoded by Terraform.
    Base64Heredoc(String),
}

impl Expr {
    /// A literal string.
    pub(crate) fn str(s: impl Into<String>) -> Self {
        Expr::Str(s.into())
    }

    /// A list of literal strings.
    pub(crate) fn strs<S: AsRef<str>>(items: &[S]) -> Self {
        Expr::List(items.iter().map(|s| Expr::Str(s.as_ref().to_string())).collect())
    }
}

/// One entry of a body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    /// `name = expr`.
    Attr(&'static str, Expr),
    /// A nested block.
    Block(Block),
}

/// The entries of a block, in writing order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Body(pub(crate) Vec<Item>);

impl Body {
    /// An empty body.
    pub(crate) fn new() -> Self {
        Body(Vec::with_capacity(8))
    }

    /// Appends an attribute.
    pub(crate) fn attr(&mut self, name: &'static str, value: Expr) -> &mut Self {
        self.0.push(Item::Attr(name, value));
        self
    }

    /// Appends an unlabelled nested block.
    pub(crate) fn block(&mut self, kind: &'static str, body: Body) -> &mut Self {
        self.0.push(Item::Block(Block { kind, labels: Vec::new(), body }));
        self
    }
}

/// A block: `kind "label" "label" { body }`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Block {
    /// Block type: `resource`, `variable`, `scaling_config`, ...
    pub(crate) kind: &'static str,
    /// Its labels.
    pub(crate) labels: Vec<String>,
    /// Its body.
    pub(crate) body: Body,
}

impl Block {
    /// A top-level block with labels.
    pub(crate) fn new(kind: &'static str, labels: Vec<String>, body: Body) -> Self {
        Block { kind, labels, body }
    }

    /// `resource "TYPE" "NAME" { body }`.
    pub(crate) fn resource(ty: &str, name: &str, body: Body) -> Self {
        Block::new("resource", vec![ty.to_string(), name.to_string()], body)
    }
}
