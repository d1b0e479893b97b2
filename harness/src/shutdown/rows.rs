//! The shutdown study's rows: the engine's observations, one file each.

pub use bq_engine::shutdown::{NativeObservation, Observation};

/// The probes through the harness interface ([`Observation`]).
pub const SHUTDOWN_CSV: &str = "shutdown.csv";
/// The probes of each queue's own API ([`NativeObservation`]), where a run made them.
pub const SHUTDOWN_NATIVE_CSV: &str = "shutdown-native.csv";
