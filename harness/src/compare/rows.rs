//! The comparison's rows: the engine's [`Row`] per run (`runs.csv`), the shutdown probes'
//! observations (`shutdown/rows.rs`) and the memory section's rows (`memory/rows.rs`).

pub use crate::runs::RUNS_CSV;
pub use bq_engine::row::Row;
