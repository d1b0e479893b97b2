//! The scaling study's rows: the engine's [`Row`] per run (`runs.csv`), as in `bqh compare`.

pub use crate::runs::RUNS_CSV;
pub use bq_engine::row::Row;
