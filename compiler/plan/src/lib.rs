//! The plan stage: the objects a spec wants ([`Resource`], produced by each target from the
//! checked model), the state of what exists ([`State`]), the difference between them
//! ([`Plan`], from [`diff`]), and the interface every apply engine implements ([`Engine`]).
//! Pure: storing the state and walking the plan against real APIs is `berth-apply`'s work.

mod diff;
mod digest;
mod engine;
mod redact;
mod render;
mod resource;
mod state;

pub use diff::{Action, Change, PLAN_FORMAT, Plan, diff, is_unknown, spec_digest};
pub use digest::hex_sha256;
pub use engine::{Applied, BoxFuture, Engine, EngineError, Found, Request};
pub use redact::Redactor;
pub use render::render;
pub use resource::{Resource, as_reference, reference, resolve};
pub use state::{Recorded, STATE_FORMAT, State, StateError};
