//! The emitter interface: a target turns the checked model and its graph into files. Emitters
//! are pure; the CLI writes their output, atomically.

use crate::{Model, ResourceGraph};
use berth_diag::Diagnostics;
use std::collections::BTreeMap;

/// What every emitter reads.
#[derive(Debug, Clone, Copy)]
pub struct EmitInput<'a> {
    /// The checked model.
    pub model: &'a Model,
    /// Its resource graph.
    pub graph: &'a ResourceGraph,
}

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// Contents.
    pub contents: Vec<u8>,
    /// Secret material (private keys): written with mode 0600 outside the reviewed output.
    pub secret: bool,
}

/// Generated files by relative path (`/`-separated), in path order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputTree {
    files: BTreeMap<String, OutputFile>,
}

impl OutputTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a reviewable file.
    pub fn add(&mut self, path: impl Into<String>, contents: impl Into<Vec<u8>>) {
        self.files.insert(path.into(), OutputFile { contents: contents.into(), secret: false });
    }

    /// Adds a secret file.
    pub fn add_secret(&mut self, path: impl Into<String>, contents: impl Into<Vec<u8>>) {
        self.files.insert(path.into(), OutputFile { contents: contents.into(), secret: true });
    }

    /// Moves every file of `other` under `prefix/`.
    pub fn merge_under(&mut self, prefix: &str, other: OutputTree) {
        for (path, file) in other.files {
            self.files.insert(format!("{prefix}/{path}"), file);
        }
    }

    /// Files in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &OutputFile)> {
        self.files.iter().map(|(p, f)| (p.as_str(), f))
    }

    /// The file at a path.
    pub fn get(&self, path: &str) -> Option<&OutputFile> {
        self.files.get(path)
    }

    /// The number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True if there are no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// A build target: Terraform, Helm, Docker hosts, nftables, images.
pub trait Emitter: Sync {
    /// The target's name, also its directory in the output (`terraform`, `helm`, ...).
    fn target(&self) -> &'static str;

    /// Generates the target's files. Errors are diagnostics; warnings may come with files.
    fn emit(&self, input: EmitInput<'_>) -> (OutputTree, Diagnostics);
}
