//! The async study's rows: the engine's [`Row`] per run (`runs.csv`) and what starting idle
//! tasks and threads cost ([`SpawnCost`], `spawn.csv`).

use serde::{Deserialize, Serialize};

pub use crate::runs_csv::RUNS_CSV;
pub use bq_engine::row::Row;

/// What starting idle tasks and threads cost.
pub const SPAWN_CSV: &str = "spawn.csv";

/// What starting many idle tasks or threads costs (`bqh async`), a row of `spawn.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpawnCost {
    /// `threads` (std threads, default stack) or `tasks` (tokio tasks on a multi-thread runtime).
    pub kind: String,
    /// How many were asked for.
    pub wanted: u64,
    /// How many were started (fewer when the system refused one: see `error`).
    pub started: u64,
    /// From the first spawn until every one was running, in milliseconds.
    pub start_ms: f64,
    /// From releasing them until every one was joined, in milliseconds.
    pub join_ms: f64,
    /// Growth of the process's address space (`VmSize`) while all were alive, in MiB.
    pub address_space_mib: f64,
    /// Growth of its resident memory (`VmRSS`) while all were alive, in MiB.
    pub resident_mib: f64,
    /// Why a spawn failed, if one did.
    pub error: String,
}
