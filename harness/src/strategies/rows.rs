//! The strategies study's rows: `strategies.csv` ([`StrategyRow`], from a [`StrategyTally`])
//! and `pipeline.csv` ([`PipelineRow`], from a [`PipelineTally`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use bq_engine::measure::{self, SideStats};
use bq_engine::row::Status;
use bq_engine::workloads::{RunSpec, Workload};

/// One row per policy run, one per pipeline run.
pub const STRATEGIES_CSV: &str = "strategies.csv";
pub const PIPELINE_CSV: &str = "pipeline.csv";

/// What one run of the strategies study counts (`strategies.rs`). Every item is accounted for:
/// `accepted + dropped = produced`, and `delivery` says whether each accepted item arrived
/// exactly once (and no dropped one did).
#[derive(Debug, Clone)]
pub struct StrategyTally {
    pub seconds: f64,
    pub cpu: (Duration, Duration),
    pub produced: u64,
    pub accepted: u64,
    pub dropped: u64,
    pub delivered: u64,
    /// The producers' offers: waits are offers that found the queue full (or the semaphore
    /// taken), blocked the time they then waited (in `push`, `push_timeout`, the semaphore).
    pub push: SideStats,
    /// Calls to `pop` or `pop_many` that delivered.
    pub pop_calls: u64,
    pub max_occupancy: Option<usize>,
    /// Semaphore runs: the most items between an acquire and its release, counted apart from
    /// the semaphore itself.
    pub max_in_flight: Option<u64>,
    pub latencies_ns: Vec<u64>,
    /// The process's peak resident set during the run (VmHWM, reset before it), where Linux tells.
    pub peak_rss_bytes: Option<u64>,
    /// The peak of payload bytes made and not yet freed during the run (`memory::payload`).
    pub peak_live_bytes: Option<u64>,
    pub delivery: Result<(), String>,
}

/// One repetition of the strategies study, as a row of `strategies.csv`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StrategyRow {
    pub implementation: String,
    pub workload: Workload,
    pub policy: super::policy::Policy,
    pub producers: u64,
    pub consumers: u64,
    pub capacity: usize,
    /// `natural-batch`: the most items one `pop_many` takes.
    pub batch: Option<usize>,
    /// `semaphore`: the permits, the most items between a producer's acquire and the consumer's release.
    pub permits: Option<usize>,
    pub repetition: u32,
    pub status: Status,
    pub seconds: f64,
    pub produced: u64,
    pub accepted: u64,
    pub dropped: u64,
    pub delivered: u64,
    pub drop_share: f64,
    pub delivered_per_second: f64,
    pub produced_per_second: f64,
    pub cpu_per_wall: f64,
    pub push_waits: u64,
    pub producer_blocked_s: f64,
    /// Items per `pop`/`pop_many` call that delivered (1 unless batching).
    pub mean_batch: f64,
    pub max_occupancy: Option<usize>,
    pub max_in_flight: Option<u64>,
    pub latency_samples: Option<u64>,
    pub latency_p50_ns: Option<u64>,
    pub latency_p99_ns: Option<u64>,
    pub latency_p999_ns: Option<u64>,
    pub latency_max_ns: Option<u64>,
    pub peak_rss_bytes: Option<u64>,
    /// Bytes of each item's payload.
    pub payload_bytes: usize,
    pub peak_live_bytes: Option<u64>,
    pub error: String,
}

impl StrategyRow {
    /// Fails the row when the payloads alive at once passed what the queue and the threads can
    /// hold: `capacity` items in the queue, one in each producer's hand, `take` in each
    /// consumer's (a batch). The memory study's bound check, applied to every policy.
    pub fn check_live_bytes(&mut self, payload: usize, take: usize) {
        self.payload_bytes = payload;
        let bound = (self.capacity as u64 + self.producers + self.consumers * take as u64) * payload as u64;
        if let (Some(peak), true) = (self.peak_live_bytes, self.ok()) {
            if peak > bound {
                self.status = Status::Failed;
                self.error = format!(
                    "{peak} payload bytes alive at once, above the {bound} that capacity {}, {} producers and {} consumers taking {take} can hold",
                    self.capacity, self.producers, self.consumers
                );
            }
        }
    }

    pub fn ok(&self) -> bool {
        self.status == Status::Ok
    }

    /// The row of one repetition: its figures, or what stopped it. Besides the delivery
    /// verdict, the accounting, the capacity and the semaphore's limit are checked here.
    pub fn new(
        implementation: &str,
        spec: &RunSpec,
        policy: super::policy::Policy,
        batch: Option<usize>,
        permits: Option<usize>,
        repetition: u32,
        run: anyhow::Result<StrategyTally>,
    ) -> StrategyRow {
        let mut row = StrategyRow {
            implementation: implementation.into(),
            workload: spec.workload,
            policy,
            producers: spec.producers,
            consumers: spec.consumers,
            capacity: spec.capacity,
            batch,
            permits,
            repetition,
            status: Status::Failed,
            seconds: f64::NAN,
            produced: spec.total_items(),
            accepted: 0,
            dropped: 0,
            delivered: 0,
            drop_share: f64::NAN,
            delivered_per_second: f64::NAN,
            produced_per_second: f64::NAN,
            cpu_per_wall: f64::NAN,
            push_waits: 0,
            producer_blocked_s: f64::NAN,
            mean_batch: f64::NAN,
            max_occupancy: None,
            max_in_flight: None,
            latency_samples: None,
            latency_p50_ns: None,
            latency_p99_ns: None,
            latency_p999_ns: None,
            latency_max_ns: None,
            peak_rss_bytes: None,
            payload_bytes: 0,
            peak_live_bytes: None,
            error: String::new(),
        };
        let t = match run {
            Ok(t) => t,
            Err(e) => {
                row.error = format!("{e:#}");
                return row;
            }
        };
        let mut verdict = t.delivery.clone();
        let mut check = |bad: bool, msg: String| {
            if bad && verdict.is_ok() {
                verdict = Err(msg);
            }
        };
        check(
            t.accepted + t.dropped != t.produced,
            format!("accepted {} + dropped {} != produced {}", t.accepted, t.dropped, t.produced),
        );
        check(t.delivered != t.accepted, format!("{} items delivered, {} accepted", t.delivered, t.accepted));
        check(
            t.dropped > 0 && !policy.drops(),
            format!("{} items dropped by the {policy} policy, which never drops", t.dropped),
        );
        if let Some(max) = t.max_occupancy {
            check(max > spec.capacity, format!("len {max} observed above capacity {}", spec.capacity));
        }
        if let (Some(max), Some(limit)) = (t.max_in_flight, permits) {
            check(max > limit as u64, format!("{max} items in flight under a semaphore of {limit} permits"));
        }
        let (user, sys) = (t.cpu.0.as_secs_f64(), t.cpu.1.as_secs_f64());
        row.status = if verdict.is_ok() { Status::Ok } else { Status::Failed };
        row.error = verdict.err().unwrap_or_default();
        row.seconds = t.seconds;
        row.produced = t.produced;
        row.accepted = t.accepted;
        row.dropped = t.dropped;
        row.delivered = t.delivered;
        row.drop_share = if t.produced == 0 { 0.0 } else { t.dropped as f64 / t.produced as f64 };
        row.delivered_per_second = t.delivered as f64 / t.seconds;
        row.produced_per_second = t.produced as f64 / t.seconds;
        row.cpu_per_wall = (user + sys) / t.seconds;
        row.push_waits = t.push.waits;
        row.producer_blocked_s = t.push.blocked.as_secs_f64();
        row.mean_batch = if t.pop_calls == 0 { 0.0 } else { t.delivered as f64 / t.pop_calls as f64 };
        row.max_occupancy = t.max_occupancy;
        row.max_in_flight = t.max_in_flight;
        row.peak_rss_bytes = t.peak_rss_bytes;
        row.peak_live_bytes = t.peak_live_bytes;
        [row.latency_samples, row.latency_p50_ns, row.latency_p99_ns, row.latency_p999_ns, row.latency_max_ns] =
            measure::latency_columns(t.latencies_ns);
        row
    }
}

/// What one pipeline run counts (`pipeline.rs`).
#[derive(Debug, Clone)]
pub struct PipelineTally {
    pub seconds: f64,
    /// Until the source pushed its last item (and returned).
    pub source_seconds: f64,
    /// The source (parse) pushing into the first queue.
    pub source: SideStats,
    /// The transform stage pushing into the middle queue.
    pub transform: SideStats,
    /// The most items between the source's start on an item and the write stage taking it.
    pub peak_in_flight: u64,
    /// End to end: from the source's start on an item to the end of its write.
    pub latencies_ns: Vec<u64>,
    pub peak_rss_bytes: Option<u64>,
    /// The peak of payload bytes made by the source and not yet freed by the write stage.
    pub peak_live_bytes: u64,
    pub delivery: Result<(), String>,
}

/// The pipeline's configuration: two queues of one implementation between three stages.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PipelineSpec {
    pub variant: super::policy::Variant,
    pub capacity: usize,
    pub middle_capacity: usize,
    pub items: u64,
    pub parse_ns: u64,
    pub transform_ns: u64,
    pub write_ns: u64,
    /// Bytes of each item's payload.
    pub payload: usize,
    pub sampling: bq_engine::workloads::Sampling,
}

impl PipelineSpec {
    /// The most items in flight that two bounded queues allow: each queue's capacity, one item
    /// in each of the three stages, and 2 for the lag of the count (the write stage counts an
    /// item just after the pop that frees its slot; see `pipeline.rs`).
    pub fn bound(&self) -> u64 {
        (self.capacity + self.middle_capacity) as u64 + 5
    }
}

/// One repetition of a pipeline run, as a row of `pipeline.csv`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PipelineRow {
    pub implementation: String,
    pub variant: super::policy::Variant,
    pub capacity: usize,
    pub middle_capacity: usize,
    pub parse_ns: u64,
    pub transform_ns: u64,
    pub write_ns: u64,
    pub items: u64,
    pub repetition: u32,
    pub status: Status,
    pub seconds: f64,
    pub items_per_second: f64,
    /// Items / the time until the source pushed its last one: the pace backpressure left it.
    pub source_items_per_second: f64,
    pub source_blocked_s: f64,
    /// Source blocked time / wall time: the share of the run the source waited on the first queue.
    pub source_blocked_share: f64,
    pub transform_blocked_s: f64,
    pub peak_in_flight: u64,
    pub payload_bytes: usize,
    pub peak_live_bytes: u64,
    pub latency_samples: Option<u64>,
    pub latency_p50_ns: Option<u64>,
    pub latency_p99_ns: Option<u64>,
    pub latency_p999_ns: Option<u64>,
    pub latency_max_ns: Option<u64>,
    pub peak_rss_bytes: Option<u64>,
    pub error: String,
}

impl PipelineRow {
    pub fn ok(&self) -> bool {
        self.status == Status::Ok
    }

    /// The row of one repetition. With both queues bounded, more items in flight than
    /// [`PipelineSpec::bound`] fails the run, like a length above the capacity.
    pub fn new(
        implementation: &str,
        spec: &PipelineSpec,
        repetition: u32,
        run: anyhow::Result<PipelineTally>,
    ) -> PipelineRow {
        let mut row = PipelineRow {
            implementation: implementation.into(),
            variant: spec.variant,
            capacity: spec.capacity,
            middle_capacity: spec.middle_capacity,
            parse_ns: spec.parse_ns,
            transform_ns: spec.transform_ns,
            write_ns: spec.write_ns,
            items: spec.items,
            repetition,
            status: Status::Failed,
            seconds: f64::NAN,
            items_per_second: f64::NAN,
            source_items_per_second: f64::NAN,
            source_blocked_s: f64::NAN,
            source_blocked_share: f64::NAN,
            transform_blocked_s: f64::NAN,
            peak_in_flight: 0,
            payload_bytes: spec.payload,
            peak_live_bytes: 0,
            latency_samples: None,
            latency_p50_ns: None,
            latency_p99_ns: None,
            latency_p999_ns: None,
            latency_max_ns: None,
            peak_rss_bytes: None,
            error: String::new(),
        };
        let t = match run {
            Ok(t) => t,
            Err(e) => {
                row.error = format!("{e:#}");
                return row;
            }
        };
        let mut verdict = t.delivery;
        let bounded = spec.variant != super::policy::Variant::UnboundedMiddle;
        let live_bound = spec.bound() * spec.payload as u64;
        if bounded && verdict.is_ok() && t.peak_live_bytes > live_bound {
            verdict =
                Err(format!("{} payload bytes alive at once, above the bound of {live_bound}", t.peak_live_bytes));
        }
        if bounded && verdict.is_ok() && t.peak_in_flight > spec.bound() {
            verdict = Err(format!(
                "{} items in flight, above the bound of {} for two queues of {} and {} and three stages",
                t.peak_in_flight,
                spec.bound(),
                spec.capacity,
                spec.middle_capacity
            ));
        }
        row.status = if verdict.is_ok() { Status::Ok } else { Status::Failed };
        row.error = verdict.err().unwrap_or_default();
        row.seconds = t.seconds;
        row.items_per_second = spec.items as f64 / t.seconds;
        row.source_items_per_second = spec.items as f64 / t.source_seconds;
        row.source_blocked_s = t.source.blocked.as_secs_f64();
        row.source_blocked_share = row.source_blocked_s / t.seconds;
        row.transform_blocked_s = t.transform.blocked.as_secs_f64();
        row.peak_in_flight = t.peak_in_flight;
        row.peak_live_bytes = t.peak_live_bytes;
        row.peak_rss_bytes = t.peak_rss_bytes;
        [row.latency_samples, row.latency_p50_ns, row.latency_p99_ns, row.latency_p999_ns, row.latency_max_ns] =
            measure::latency_columns(t.latencies_ns);
        row
    }
}
