//! Expressions lowered once and evaluated many times.
//!
//! A fleet's per-instance attributes are mostly an iterator's field (`each.value.image`) or a
//! short template of such fields (`"${each.value.memoryMiB}Mi"`), and its `for` expressions
//! mostly index a list by a field (`{ for p in var.products : p.name => p }`): each evaluated
//! tens of thousands of times. Lowered once, such an expression is evaluated without the
//! general evaluator's name resolution, spans and cycle guard. A lowered form gives up
//! (`None`) on anything it does not handle, an error included; the general evaluator then
//! evaluates the expression and reports what is wrong. Whenever a lowered form gives a value,
//! it is the value the general evaluator gives.

use crate::eval::Binding;
use berth_model::Value;
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::template::Element;
use std::borrow::Cow;

/// Longest string a lowered template builds; a longer one is left to the general evaluator,
/// which reports its limit.
const MAX_TEMPLATE: usize = 64 << 20;

/// An attribute expression, lowered when it has a shape evaluated per instance.
pub(crate) enum Lowered<'p> {
    /// Any other expression: the general evaluator evaluates it.
    General,
    /// An iterator's field.
    Field(Field<'p>),
    /// A template of literal text and iterators' fields, without directives.
    Template(Box<[Part<'p>]>),
}

/// `ITERATOR.ATTR.NAME...`: `each.value.image`, `count.index`, `volume.value.size`.
pub(crate) struct Field<'p> {
    iterator: &'p str,
    attr: &'p str,
    path: Box<[&'p str]>,
}

/// `NAME.NAME...` read from a value in scope: `p` or `p.name` in a `for` expression.
pub(crate) struct Path<'p> {
    /// The name of the value in scope.
    pub(crate) root: &'p str,
    names: Box<[&'p str]>,
}

/// A piece of a lowered template.
pub(crate) enum Part<'p> {
    Literal(&'p str),
    Field(Field<'p>),
}

impl<'p> Lowered<'p> {
    /// Lowers `e`, in whose scope `iterators` are the names of iterators (`each`, `count`, and
    /// the block types of enclosing nested blocks with `for_each` or `count`).
    pub(crate) fn new(e: &'p Expression, iterators: &[&str]) -> Self {
        match e {
            Expression::StringTemplate(t) => {
                let parts: Option<Box<[Part<'p>]>> = t
                    .iter()
                    .map(|element| match element {
                        Element::Literal(s) => Some(Part::Literal(s.value().as_str())),
                        Element::Interpolation(i) => Field::new(&i.expr, iterators).map(Part::Field),
                        Element::Directive(_) => None,
                    })
                    .collect();
                parts.map_or(Lowered::General, Lowered::Template)
            }
            other => Field::new(other, iterators).map_or(Lowered::General, Lowered::Field),
        }
    }

    /// The value, with `binding` giving the iterator of a name in scope; `None` for an
    /// expression not lowered and wherever the general evaluator would report an error.
    pub(crate) fn eval<'b>(&self, binding: impl Fn(&str) -> Option<&'b Binding>) -> Option<Value> {
        match self {
            Lowered::General => None,
            Lowered::Field(field) => field.value(&binding).map(Cow::into_owned),
            Lowered::Template(parts) => {
                let mut out = String::with_capacity(64);
                for part in parts.iter() {
                    match part {
                        Part::Literal(text) => out.push_str(text),
                        Part::Field(field) => {
                            if !push_scalar(&mut out, &*field.value(&binding)?) {
                                return None;
                            }
                        }
                    }
                }
                (out.len() <= MAX_TEMPLATE).then(|| Value::string(out))
            }
        }
    }
}

/// Appends a string, number or bool to a template's text as the template writes it; false
/// (and nothing written) for any other value.
pub(crate) fn push_scalar(out: &mut String, value: &Value) -> bool {
    match value {
        Value::String(s) => out.push_str(s),
        Value::Number(n) => {
            let _ = berth_model::write_number(out, *n);
        }
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        _ => return false,
    }
    true
}

/// Whether `binding` is the iterator `name` (`each` of a `for_each`, `count` of a `count`).
pub(crate) fn is_iterator(name: &str, binding: &Binding) -> bool {
    matches!((name, binding), ("each", Binding::Each { .. }) | ("count", Binding::Count(_)))
}

impl<'p> Path<'p> {
    /// Lowers `e` if it is one of `roots` or attributes of one.
    pub(crate) fn new(e: &'p Expression, roots: &[&str]) -> Option<Self> {
        let (root, operators) = match e {
            Expression::Variable(v) => (v.as_str(), &[][..]),
            Expression::Traversal(t) => match &t.expr {
                Expression::Variable(v) => (v.as_str(), &t.operators[..]),
                _ => return None,
            },
            _ => return None,
        };
        if !roots.contains(&root) {
            return None;
        }
        let names = operators
            .iter()
            .map(|op| match op.value() {
                TraversalOperator::GetAttr(name) => Some(name.as_str()),
                _ => None,
            })
            .collect::<Option<Box<[&str]>>>()?;
        Some(Path { root, names })
    }

    /// The value at the path from `value`, the root's value.
    pub(crate) fn get<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        follow(value, &self.names)
    }
}

/// The value at object attributes `names` from `value`.
fn follow<'v>(mut value: &'v Value, names: &[&str]) -> Option<&'v Value> {
    for name in names {
        value = match value {
            Value::Object(o) => o.get(name)?,
            _ => return None,
        };
    }
    Some(value)
}

impl<'p> Field<'p> {
    fn new(e: &'p Expression, iterators: &[&str]) -> Option<Self> {
        let Path { root, names } = Path::new(e, iterators)?;
        let (attr, path) = names.split_first()?;
        Some(Field { iterator: root, attr, path: path.into() })
    }

    fn value<'b>(&self, binding: &impl Fn(&str) -> Option<&'b Binding>) -> Option<Cow<'b, Value>> {
        let value = match (binding(self.iterator)?, self.attr) {
            (Binding::Each { key, .. }, "key") => key,
            (Binding::Each { value, .. }, "value") => value,
            (Binding::Count(i), "index") if self.path.is_empty() => return Some(Cow::Owned(Value::Number(*i as f64))),
            _ => return None,
        };
        follow(value, &self.path).map(Cow::Borrowed)
    }
}
