//! The table of source files a run reads, and byte spans into them.

use serde::Serialize;
use std::sync::{Arc, OnceLock};

/// Identifies one file in a [`Sources`] table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FileId(u32);

impl FileId {
    /// The position of the file in its table.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Span {
    /// The file.
    pub file: FileId,
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span of `start..end` in `file`.
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span { file, start: clamp(start), end: clamp(end.max(start)) }
    }

    /// A span of a byte range in `file`.
    pub fn from_range(file: FileId, range: std::ops::Range<usize>) -> Self {
        Self::new(file, range.start, range.end)
    }

    /// The smallest span covering both (they must be in one file; otherwise `self`).
    pub fn join(self, other: Span) -> Span {
        if self.file != other.file {
            return self;
        }
        Span { file: self.file, start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    /// The byte range.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct LineCol {
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
}

/// One source file: its display name, text and line index.
#[derive(Debug)]
pub struct SourceFile {
    name: String,
    text: Arc<str>,
    /// Where each line starts, made on the first lookup: only diagnostics need it, and a
    /// fleet's variable file runs to megabytes.
    line_starts: OnceLock<Vec<usize>>,
}

impl SourceFile {
    /// The name shown in diagnostics (a path relative to where berth was run, or `<stdlib>/..`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The full text.
    pub fn text(&self) -> &Arc<str> {
        &self.text
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts
            .get_or_init(|| std::iter::once(0).chain(self.text.match_indices('\n').map(|(i, _)| i + 1)).collect())
    }

    /// The line and column of a byte offset.
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = offset.min(self.text.len());
        let line_starts = self.line_starts();
        let line = line_starts.partition_point(|&s| s <= offset) - 1;
        let start = line_starts[line];
        let column = self.text.get(start..offset).map_or(offset - start, |s| s.chars().count()) + 1;
        LineCol { line: line + 1, column }
    }

    /// The byte offset of a 1-based line and column, clamped to the file.
    pub fn offset(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts().get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        rest.char_indices().nth(column.saturating_sub(1)).map_or(self.text.len(), |(i, _)| start + i)
    }
}

/// Every file a run has read, in the order it read them.
#[derive(Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<Arc<str>>) -> FileId {
        let text = text.into();
        let id = FileId(u32::try_from(self.files.len()).expect("fewer than 2^32 source files"));
        self.files.push(SourceFile { name: name.into(), text, line_starts: OnceLock::new() });
        id
    }

    /// Drops a file's text, which no message will point into any more: a fleet's variable
    /// file runs to megabytes, and is read once. Its name stays.
    pub fn release(&mut self, id: FileId) {
        let file = &mut self.files[id.index()];
        file.text = Arc::from("");
        file.line_starts = OnceLock::new();
    }

    /// The file with this id.
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.index()]
    }

    /// The text a span covers.
    pub fn slice(&self, span: Span) -> &str {
        self.get(span.file).text.get(span.range()).unwrap_or("")
    }

    /// The start of a span as file name, line and column.
    pub fn locate(&self, span: Span) -> (&str, LineCol) {
        let file = self.get(span.file);
        (file.name(), file.line_col(span.start as usize))
    }

    /// All files.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(i as u32), f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_from_one() {
        let mut s = Sources::new();
        let f = s.add("a.hcl", "ab\nçd = 1\n");
        assert_eq!(s.locate(Span::new(f, 0, 1)).1, LineCol { line: 1, column: 1 });
        let eq = "ab\nçd = 1".find('=').unwrap();
        assert_eq!(s.locate(Span::new(f, eq, eq + 1)).1, LineCol { line: 2, column: 4 });
        assert_eq!(s.get(f).offset(2, 4), eq);
    }
}
