//! bqh: the studies that compare bounded queues, their reports, and port validation, on the
//! engine (`bq_engine`: the queues, the runners, the measurement) and the results format
//! (`bq_results`). Data flows one way: a study's run gets rows from the engine, writes them to
//! its results folder, and its report is drawn from those files alone.
//!
//! Every study is a folder with the same files: `mod.rs` (its `Args` and `run`), `rows.rs` (its
//! row types and file names), `report.rs` (`Results`, `read(dir)` and `write(dir, ...)`).
//!
//! - [`compare`]: `bqh compare`, the comparison run (with the shutdown probes and a short
//!   memory section).
//! - [`scale`]: `bqh scale`, the cost per item against the number of threads.
//! - [`memory`]: `bqh memory`, live bytes and RSS per capacity and allocator.
//! - [`strategies`]: `bqh strategies`, backpressure policies and a pipeline.
//! - [`r#async`]: `bqh async`, fan-in with tokio tasks against threads.
//! - [`shutdown`]: `bqh shutdown`, the shutdown matrices.
//! - [`validate`]: `bqh validate`, the checks that a candidate behaves like a reference.
//! - [`report`]: `bqh report DIR`, which redraws a folder through its study's `report.rs`.
//! - [`diff`]: `bqh diff OLD NEW`, two comparisons' ratios as a change with its interval.
//! - [`figures`]: which series the few-series figures keep, and their colours.
//! - [`runs`]: `runs.csv` as the compare, scale and async reports read it.
//! - [`ratios`]: paired rows as ratios to the reference (compare and scale).
//! - [`run_args`]: the flags every measuring study shares.
//! - [`study`]: what every study shares: its name, its `env.json`, how its command ends.

pub mod r#async;
pub mod compare;
pub mod diff;
pub mod figures;
pub mod memory;
pub mod ratios;
pub mod report;
pub mod run_args;
pub mod runs;
pub mod scale;
pub mod shutdown;
pub mod strategies;
pub mod study;
pub mod validate;
