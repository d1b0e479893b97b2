//! The harness: one interface ([`queue`]) over five bounded queues in Rust, C and OCaml
//! ([`impls`]), and the tools to drive them under deadlines ([`watchdog`]).

pub mod impls;
pub mod queue;
pub mod watchdog;

pub use impls::Builtin;
pub use queue::{Consumer, Impl, NewError, Producer, QueueError, Traits, Unsupported, MAX_CAPACITY, MAX_ITEM};
pub mod compare;
pub mod shutdown;
pub mod validate;
pub mod measure;
pub mod workloads;
pub mod native;
pub mod report;
