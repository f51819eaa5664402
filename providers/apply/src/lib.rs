//! Direct apply: walks a plan through the apply engines in parallel, refreshes the state from
//! the real objects, and keeps the state in a backend (a local file locked with `fcntl`, or
//! PostgreSQL with advisory locks).

pub mod backend;
mod refresh;
mod walk;

pub use refresh::{Adopted, Drift, Unfinished, adopt, refresh};
pub use walk::{Engines, Event, Observer, Options, Outcome, Report, Step, apply};

/// A new random lineage: 32 hex digits.
pub fn new_lineage(now: jiff::Timestamp) -> String {
    random_id(now)
}

/// 32 random hex digits; without an OS random source, the time and the pid still make them
/// unique in practice.
pub(crate) fn random_id(now: jiff::Timestamp) -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        bytes[..8].copy_from_slice(&now.as_nanosecond().to_le_bytes()[..8]);
        bytes[8..12].copy_from_slice(&std::process::id().to_le_bytes());
    }
    hex::encode(bytes)
}
