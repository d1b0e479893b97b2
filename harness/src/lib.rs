//! The harness: one interface over bounded queues in Rust, C and OCaml, the runners that drive
//! them, and the tools that compare and validate them. Data flows one way: runners produce
//! tallies, tallies become rows of the results schema, reports are rendered from those rows.
//!
//! - [`queue`]: the one interface (`Impl`, `Producer`, `Consumer`).
//! - [`impls`]: the implementations behind it, one file per language boundary (Rust's
//!   view of C in `impls/c_abi.rs`, of OCaml in `impls/ocaml.rs`), and plugins.
//! - [`workloads`]: the workload shapes and the configuration of one run (`RunSpec`).
//! - [`driven`]: the Rust runner that drives any implementation through the interface.
//! - [`native`]: the C and OCaml native runners, picked and timed.
//! - [`isolated`]: a plugin's runs and probes in a child process, so a crash is a finding.
//! - [`memory`]: counted payloads and the memory sampler; `bqh memory`, the memory study.
//! - [`measure`]: the per-item bookkeeping every runner shares: delivery check, latency, CPU.
//! - [`schema`]: the results' types: `Tally`, `Row` (`runs.csv`), `Observation`
//!   (`shutdown.csv`), `Env` (`env.json`).
//! - [`shutdown`]: the shutdown probes.
//! - [`shutdown_native`]: the shutdown probes of each implementation's own API, without the adapter.
//! - [`plan`]: how a comparison is sized to a time budget; median intervals.
//! - [`progress`]: time-weighted progress, as a bar or as log lines.
//! - [`compare`]: `bqh compare`, the comparison run.
//! - [`scale`]: `bqh scale`, the cost per item against the number of threads.
//! - [`async_study`]: `bqh async`, fan-in with tokio tasks against threads.
//! - [`strategies`]: `bqh strategies`, backpressure policies ([`policy`]) and the [`pipeline`].
//! - [`report`]: `summary.md` and the plots from the schema's types; `bqh report`.
//! - [`validate`]: `bqh validate`, the checks that a candidate behaves like a reference.
//! - [`outdir`]: where bqh may write, and how it replaces its own output.
//! - [`watchdog`]: work under a deadline, so that a hang becomes an error.

pub mod async_study;
pub mod compare;
pub mod driven;
pub mod impls;
pub mod isolated;
pub mod measure;
pub mod memory;
pub mod native;
pub mod outdir;
pub mod pipeline;
pub mod plan;
pub mod policy;
pub mod progress;
pub mod queue;
pub mod report;
pub mod scale;
pub mod schema;
pub mod shutdown;
pub mod shutdown_native;
pub mod strategies;
pub mod validate;
pub mod watchdog;
pub mod workloads;

pub use impls::Builtin;
pub use queue::{Consumer, Impl, NewError, Producer, QueueError, Traits, Unsupported, MAX_CAPACITY, MAX_ITEM};
