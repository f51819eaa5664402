//! Source files, spans and diagnostics: the vocabulary every berth stage reports in.
//!
//! A [`Span`] is a byte range in one file of a [`Sources`] table. Stages never print: they
//! return [`Diagnostic`]s, and the CLI renders them (miette for people, JSON for CI).

mod registry;
mod source;

pub use registry::{ALL_CODES, Code, codes};
pub use source::{FileId, LineCol, SourceFile, Sources, Span};

use serde::Serialize;
use std::fmt;

/// How bad a diagnostic is. Any error makes the run fail; warnings are reported only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The spec is wrong: nothing is built.
    Error,
    /// The spec is accepted, but something looks wrong.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// A secondary location that explains a diagnostic (the other duplicate, the cycle's next step).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Where.
    pub span: Span,
    /// What is there.
    pub message: String,
}

/// One problem found in a spec: a fixed summary, a specific detail, one primary span and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stable code, documented in the registry ([`ALL_CODES`]).
    pub code: &'static Code,
    /// Error or warning.
    pub severity: Severity,
    /// The specific detail: what is wrong here.
    pub message: String,
    /// Where it is wrong, if it has a place in a file.
    pub span: Option<Span>,
    /// What was expected at the span (shown as the label under the source line).
    pub label: Option<String>,
    /// Further places that explain the problem.
    pub notes: Vec<Note>,
    /// How to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error with the code's default wording extended by `message`.
    pub fn error(code: &'static Code, span: impl Into<Option<Span>>, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Error, span, message)
    }

    /// A warning.
    pub fn warning(code: &'static Code, span: impl Into<Option<Span>>, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Warning, span, message)
    }

    fn new(code: &'static Code, severity: Severity, span: impl Into<Option<Span>>, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity,
            message: message.into(),
            span: span.into(),
            label: None,
            notes: Vec::new(),
            help: None,
        }
    }

    /// Adds the label shown under the primary span (what was expected there).
    #[must_use]
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Adds a hint on how to fix the problem.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds "did you mean `NAME`?" as the hint when there is a close name, else `otherwise`.
    #[must_use]
    pub fn with_suggestion(self, close: Option<&str>, otherwise: impl Into<String>) -> Self {
        match close {
            Some(name) => self.with_help(format!("did you mean `{name}`?")),
            None => self.with_help(otherwise),
        }
    }

    /// Adds a secondary location.
    #[must_use]
    pub fn with_note(mut self, span: Span, message: impl Into<String>) -> Self {
        self.notes.push(Note { span, message: message.into() });
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// True if its span or one of its notes is in `file`.
    pub fn points_into(&self, file: FileId) -> bool {
        self.span.is_some_and(|s| s.file == file) || self.notes.iter().any(|n| n.span.file == file)
    }
}

/// The diagnostics of a run, in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one diagnostic.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    /// Adds all of another list.
    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    /// True if any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// The number of errors.
    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    /// The number of warnings.
    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The diagnostics in report order: by file, position, then code, so output is stable
    /// whatever order the stages found them in. Exact duplicates are dropped.
    pub fn sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by(|a, b| {
            let key = |d: &Diagnostic| d.span.map(|s| (s.file, s.start, s.end));
            key(a)
                .is_none()
                .cmp(&key(b).is_none())
                .then_with(|| key(a).cmp(&key(b)))
                .then_with(|| a.code.name.cmp(b.code.name))
                .then_with(|| a.message.cmp(&b.message))
        });
        self.items.dedup();
        self.items
    }

    /// Iterates in the order found.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.items.iter()
    }
}

impl Extend<Diagnostic> for Diagnostics {
    fn extend<T: IntoIterator<Item = Diagnostic>>(&mut self, iter: T) {
        self.items.extend(iter);
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// Suggests the closest of `candidates` to a misspelt `name`, for "did you mean" hints.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(name, c), c))
        .filter(|(d, c)| *d <= (name.len().max(c.len()) / 3).max(1))
        .min()
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_finds_close_names_only() {
        assert_eq!(did_you_mean("replcas", ["replicas", "image"]), Some("replicas"));
        assert_eq!(did_you_mean("zzz", ["replicas", "image"]), None);
    }

    #[test]
    fn sorted_orders_by_position_and_drops_duplicates() {
        let mut files = Sources::new();
        let f = files.add("a.hcl", "x = 1\ny = 2\n");
        let mut d = Diagnostics::new();
        let late = Diagnostic::error(&codes::SCHEMA_UNKNOWN_ATTRIBUTE, Span::new(f, 6, 7), "y");
        let early = Diagnostic::error(&codes::SCHEMA_UNKNOWN_ATTRIBUTE, Span::new(f, 0, 1), "x");
        d.push(late.clone());
        d.push(early.clone());
        d.push(late.clone());
        assert_eq!(d.sorted(), vec![early, late]);
    }
}
