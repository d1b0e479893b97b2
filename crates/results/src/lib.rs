//! The results layer: the folder format, with no study knowledge. A study's rows are written
//! here as files and its report is drawn from those files alone, so `bqh report` can redraw any
//! results folder (the crossbeam-channel benchmarks' split: measuring and drawing meet only in a
//! data file).
//!
//! - [`outdir`]: where bqh may write, and how it replaces its own output only when complete.
//! - [`env`]: `env.json`, the machine and the command a folder was made with.
//! - [`files`]: reading and writing the CSV and JSON files, with errors that name the file.
//! - [`stats`]: medians, their intervals, geometric means: the only statistics in the project.
//! - [`markdown`]: the parts every `summary.md` shares.
//! - [`plot`]: the SVG chart frames every report draws on.

pub mod env;
pub mod files;
pub mod markdown;
pub mod outdir;
pub mod plot;
pub mod stats;

pub use env::{Env, Toolchain};
pub use outdir::Claim;
