//! What the strategies study (`bqh strategies`) varies: the backpressure policy of a run
//! ([`Policy`]) and the pipeline's variants ([`Variant`]). Configuration only, like
//! `workloads.rs`: the runners are `strategies.rs` and `pipeline.rs`, the report
//! `report/strategies.rs`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What a producer does when the queue is full, or how the consumer takes items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum, Serialize, Deserialize)]
pub enum Policy {
    /// `push`: wait while the queue is full (the comparison's behaviour)
    #[value(name = "block")]
    #[serde(rename = "block")]
    Block,
    /// `try_push`: a full queue drops the item, and the drop is counted
    #[value(name = "drop")]
    #[serde(rename = "drop")]
    Drop,
    /// `push_timeout(100 µs)`, then drop
    #[value(name = "timeout-drop-100us")]
    #[serde(rename = "timeout-drop-100us")]
    TimeoutDrop100us,
    /// `push_timeout(1 ms)`, then drop
    #[value(name = "timeout-drop-1ms")]
    #[serde(rename = "timeout-drop-1ms")]
    TimeoutDrop1ms,
    /// Producers `push`; the consumer takes `pop_many(k)`: one blocking pop, then what is buffered up to k
    #[value(name = "natural-batch")]
    #[serde(rename = "natural-batch")]
    NaturalBatch,
    /// Producers acquire a counting semaphore before `push`; the consumer releases it once it processed the item
    #[value(name = "semaphore")]
    #[serde(rename = "semaphore")]
    Semaphore,
}

impl Policy {
    pub const ALL: [Policy; 6] = [
        Policy::Block,
        Policy::Drop,
        Policy::TimeoutDrop100us,
        Policy::TimeoutDrop1ms,
        Policy::NaturalBatch,
        Policy::Semaphore,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Policy::Block => "block",
            Policy::Drop => "drop",
            Policy::TimeoutDrop100us => "timeout-drop-100us",
            Policy::TimeoutDrop1ms => "timeout-drop-1ms",
            Policy::NaturalBatch => "natural-batch",
            Policy::Semaphore => "semaphore",
        }
    }

    /// The wait before a drop, for the timeout policies.
    pub fn timeout(self) -> Option<Duration> {
        match self {
            Policy::TimeoutDrop100us => Some(Duration::from_micros(100)),
            Policy::TimeoutDrop1ms => Some(Duration::from_millis(1)),
            _ => None,
        }
    }

    /// Whether a full queue can make this policy drop items.
    pub fn drops(self) -> bool {
        matches!(self, Policy::Drop | Policy::TimeoutDrop100us | Policy::TimeoutDrop1ms)
    }
}

impl std::fmt::Display for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The pipeline's variants: the same three stages, the last one slowed, then the middle queue
/// unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// Both queues bounded; write takes [`WRITE_NS`] per item.
    Balanced,
    /// Both queues bounded; write takes [`SLOW_WRITE_NS`] per item.
    SlowWrite,
    /// Write slowed as in `SlowWrite`, and the middle queue's capacity is at least the run's
    /// items: it never fills, so nothing slows the source but the transform stage.
    UnboundedMiddle,
}

/// Per-item work of the pipeline's stages (calibrated spins on the monotonic clock,
/// `measure::spin_work`): parse < transform < write, so that the last stage is the bottleneck.
pub const PARSE_NS: u64 = 250;
pub const TRANSFORM_NS: u64 = 1_000;
pub const WRITE_NS: u64 = 2_000;
pub const SLOW_WRITE_NS: u64 = 8_000;

impl Variant {
    pub const ALL: [Variant; 3] = [Variant::Balanced, Variant::SlowWrite, Variant::UnboundedMiddle];

    pub fn name(self) -> &'static str {
        match self {
            Variant::Balanced => "balanced",
            Variant::SlowWrite => "slow-write",
            Variant::UnboundedMiddle => "unbounded-middle",
        }
    }

    pub fn write_ns(self) -> u64 {
        if self == Variant::Balanced {
            WRITE_NS
        } else {
            SLOW_WRITE_NS
        }
    }
}

impl std::fmt::Display for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
