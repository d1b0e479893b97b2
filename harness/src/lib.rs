//! bqh: the studies that compare bounded queues, their reports, and port validation, on the
//! engine (`bq_engine`: the queues, the runners, the measurement) and the results format
//! (`bq_results`). Data flows one way: a study's run gets rows from the engine, writes them to
//! its results folder, and its report is drawn from those files alone.
//!
//! A study is a folder, `harness/src/<name>/`, and one line in [`STUDIES`]. Its `mod.rs` holds
//! its `Args`, its `run` and its type implementing [`study::Study`], declared by
//! `study::declare!` from its name (which is also its command and the `study` of its
//! `env.json`) and its line for `bqh --help`; its `report.rs` holds its `DATA_FILES`, its
//! `Results` (a [`study::Report`]), `read(dir)` and `write(dir, ..)`; a `rows.rs`, where it has rows of its own, their types and file names.
//! Adding a study is that folder and its line: `bqh`'s subcommand, `bqh report`'s dispatch and
//! the tests that every study has its files and its command all come from [`STUDIES`].
//!
//! The other modules:
//! - [`validate`]: `bqh validate`, the checks that a candidate behaves like a reference.
//! - [`report`]: `bqh report DIR`, which redraws a folder through the study its `env.json` names.
//! - [`diff`]: `bqh diff OLD NEW`, two comparisons' ratios as a change with its interval.
//! - [`figures`]: which series the few-series figures keep, and their colours.
//! - [`runs_csv`]: `runs.csv` as the compare, scale and async reports read it.
//! - [`ratios`]: paired rows as ratios to the reference (compare and scale).
//! - [`shared_flags`]: the flags every measuring study shares.
//! - [`study`]: what every study is and shares: [`study::Study`], its `env.json`, how its
//!   command ends.

pub mod diff;
pub mod figures;
pub mod ratios;
pub mod report;
pub mod runs_csv;
pub mod shared_flags;
pub mod study;
pub mod validate;

/// Declares each study's module and lists its type in [`STUDIES`], so that a study's one line
/// here is all that names it outside its folder.
macro_rules! studies {
    ($($folder:ident::$study:ident),+ $(,)?) => {
        $(pub mod $folder;)+

        /// Every study, in the order `bqh --help` lists them, one line each: its folder (its
        /// module) and its type implementing [`study::Study`].
        pub const STUDIES: &[&dyn study::Entry] = &[$(&$folder::$study),+];
    };
}

studies! {
    compare::Compare,
    scale::Scale,
    strategies::Strategies,
    memory::Memory,
    r#async::Async,
    shutdown::Shutdown,
}
