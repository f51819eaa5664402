//! The hub of berth's data types. Every stage reads these; none reaches into another stage:
//!
//! - [`Value`]: what the resolver computes from expressions;
//! - [`Address`]: the typed name of every object;
//! - [`schema`]: the resource kinds, their attributes and nested blocks;
//! - [`Model`]: the checked spec with placement decided;
//! - [`ResourceGraph`]: the dependency graph every emitter and the apply engine walk;
//! - [`Emitter`]: the interface of a build target;
//! - [`par`]: items mapped on a few threads, results in order.

mod address;
mod emit;
mod graph;
mod model;
pub mod par;
pub mod schema;
mod value;
pub mod yaml;

pub use address::{Address, Key, ModuleStep, NestedStep, tag_address};
pub use arcstr::ArcStr;
pub use emit::{EmitInput, Emitter, OutputFile, OutputTree};
pub use graph::{Edge, Item, Node, ResourceGraph};
pub use model::*;
pub use value::{Object, Reference, Value, format_number, write_number};
