//! The engine: bounded queues in Rust, C and OCaml behind one interface, and the machinery that
//! drives, measures and probes them. It knows no study: the studies, the command line and the
//! reports (the `harness` crate) build on it, and it depends on none of them.
//!
//! - [`queue`]: the one interface (`Impl`, `Producer`, `Consumer`).
//! - [`impls`]: the implementations behind it, one file per language boundary (Rust's view of C
//!   in `impls/c_abi.rs`, of OCaml in `impls/ocaml.rs`), plugins, and the table of built-ins.
//! - [`workloads`]: the workload shapes and the configuration of one run (`RunSpec`).
//! - [`runner`]: what every threaded runner shares: the start gate and clock, counted push and
//!   pop, and each side's counts.
//! - [`driven`]: the Rust runner that drives any implementation through the interface.
//! - [`native_runners`]: the C, OCaml and tokio native runners, picked and timed.
//! - [`isolated`]: a plugin's runs and probes in a child process, so a crash is a finding.
//! - [`measure`]: what a run counts (`Tally`) and the per-item bookkeeping behind it.
//! - [`row`]: one run as a row of `runs.csv` (`Row`), made from a `Tally`.
//! - [`target`]: what one run measures (`Target`) in one configuration, and the run itself.
//! - [`sizing`]: how runs are sized to a time budget (arithmetic only).
//! - [`schedule`]: the one scheduler: pilots, warm-ups, repetitions, every study's progress.
//! - [`paired`]: the paired schedule of compare and scale on it: slices beside a reference,
//!   the A/A control, more pairs where the intervals are widest.
//! - [`placement`]: which CPUs a run's threads may use.
//! - [`memory`]: counted payloads and the memory sampler.
//! - [`shutdown`]: the shutdown probes, through the interface and through each queue's own API.
//! - [`progress`]: time-weighted progress, as a bar or as log lines.
//! - [`watchdog`]: work under a deadline, so that a hang becomes an error.

// First: the macros its table of built-ins declares are used by the modules after it.
#[macro_use]
pub mod impls;

pub mod driven;
pub mod isolated;
pub mod measure;
pub mod memory;
pub mod native_runners;
pub mod paired;
pub mod placement;
pub mod progress;
pub mod queue;
pub mod row;
pub mod runner;
pub mod schedule;
pub mod shutdown;
pub mod sizing;
pub mod target;
pub mod watchdog;
pub mod workloads;

pub use impls::{Builtin, Choice};
pub use queue::{Consumer, Impl, NewError, Producer, QueueError, Traits, Unsupported, MAX_CAPACITY, MAX_ITEM};

/// The compilers this build used, for the results' `env.json` (recorded by `build.rs`).
pub mod toolchain {
    pub const RUSTC: &str = env!("BQ_RUSTC_VERSION");
    pub const CC: &str = env!("BQ_CC_VERSION");
    pub const OCAMLOPT: &str = env!("BQ_OCAML_VERSION");
}
