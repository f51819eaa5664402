//! Why a build or push failed.

use std::fmt;
use std::path::PathBuf;

/// A failed daemonless build or push.
#[derive(Debug)]
pub enum Error {
    /// A file or directory could not be read or written.
    Io {
        /// The path.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The image cannot be built without a daemon as declared: a base that is not available
    /// locally, `run` commands, paths that leave the image or the spec.
    Unbuildable(String),
    /// A base layout or a built layout is not a usable OCI image layout.
    Layout(String),
    /// The registry could not be reached or refused a request.
    Registry(String),
}

impl Error {
    /// An I/O error at a path.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Unbuildable(why) => write!(f, "cannot build without a daemon: {why}"),
            Error::Layout(why) => write!(f, "OCI layout: {why}"),
            Error::Registry(why) => write!(f, "registry: {why}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
