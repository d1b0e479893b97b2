//! The workloads: their shapes and the one configuration a run takes ([`RunSpec`]). The
//! runners that execute them are `driven.rs` (Rust threads, any implementation) and the native
//! runners in C (`c/bq_native.c`) and OCaml (`ocaml/bq_native.ml`).
//!
//! Names and shapes follow crossbeam-channel's benchmarks (`seq`, `spsc`, `mpsc`, `mpmc`) so
//! figures compare with theirs; `fan-in`, `slow-consumer` and `bursty` are this project's.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::placement::Placement;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// One thread pushes up to the capacity, then pops it all, and again
    Seq,
    /// One producer, one consumer
    Spsc,
    /// 4 producers, 1 consumer
    Mpsc,
    /// 4 producers, 4 consumers
    Mpmc,
    /// 64 producers, 1 consumer: the single consumer is the bottleneck
    FanIn,
    /// fan-in, the consumer taking up to 1024 items per `pop_many` (the swap buffers' own,
    /// pop then try_pops for the others)
    FanInBatch,
    /// 2 producers, 1 consumer that spins ~1 µs per item: producers mostly blocked (backpressure)
    SlowConsumer,
    /// 2 producers that push bursts of 256 items with 100 µs pauses between, 1 consumer
    Bursty,
}

/// Per-item consumer work in the slow-consumer workload.
pub const SLOW_CONSUMER_WORK_NS: u64 = 1_000;
pub const BURST_ITEMS: u64 = 256;
pub const BURST_PAUSE: Duration = Duration::from_micros(100);
/// Most items one `pop_many` of the fan-in-batch consumer takes: the largest capacity of the
/// default comparison, so that it takes whatever is buffered.
pub const POP_MANY_MAX: usize = 1024;

impl Workload {
    pub const ALL: [Workload; 8] = [
        Workload::Seq,
        Workload::Spsc,
        Workload::Mpsc,
        Workload::Mpmc,
        Workload::FanIn,
        Workload::FanInBatch,
        Workload::SlowConsumer,
        Workload::Bursty,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Workload::Seq => "seq",
            Workload::Spsc => "spsc",
            Workload::Mpsc => "mpsc",
            Workload::Mpmc => "mpmc",
            Workload::FanIn => "fan-in",
            Workload::FanInBatch => "fan-in-batch",
            Workload::SlowConsumer => "slow-consumer",
            Workload::Bursty => "bursty",
        }
    }

    /// (producers, consumers) by default; `seq` uses one thread for both.
    pub fn threads(self) -> (u64, u64) {
        match self {
            Workload::Seq | Workload::Spsc => (1, 1),
            Workload::Mpsc => (4, 1),
            Workload::Mpmc => (4, 4),
            Workload::FanIn | Workload::FanInBatch => (64, 1),
            Workload::SlowConsumer | Workload::Bursty => (2, 1),
        }
    }

    pub fn consumer_work_ns(self) -> u64 {
        if self == Workload::SlowConsumer {
            SLOW_CONSUMER_WORK_NS
        } else {
            0
        }
    }

    /// The consumers take items with `pop_many(max)` instead of one `pop` at a time: the most
    /// one call takes. Driven only: the native runners pop one item at a time.
    pub fn pop_many_max(self) -> Option<usize> {
        (self == Workload::FanInBatch).then_some(POP_MANY_MAX)
    }

    pub fn burst(self) -> Option<(u64, Duration)> {
        (self == Workload::Bursty).then_some((BURST_ITEMS, BURST_PAUSE))
    }

    /// (items per burst, pause in ns), (0, 0) for none: as the C and OCaml runners take it.
    pub fn burst_ns(self) -> (u64, u64) {
        self.burst().map_or((0, 0), |(n, d)| (n, d.as_nanos() as u64))
    }
}

impl std::fmt::Display for Workload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How often the runners sample, the same in every language: the latency of one item in
/// 2^`latency_shift` (timing every item would add two clock reads per item and distort the
/// fastest queues; 1 in 16 keeps thousands of samples per run) and the queue's length once
/// every 2^`occupancy_shift` pops. Powers of two, so the check is a mask in every language.
///
/// `observe: false` is a throughput slice: plain `push` and `pop` as a user's program makes
/// them, no clock read, no length sampled, no wait counted (the try-first calls that count waits
/// change what they measure: at capacity 1 they spare a thread many sleeps). Only the exact
/// delivery check stays. Waits and latencies then come from a separate observation run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sampling {
    pub latency_shift: u32,
    pub occupancy_shift: u32,
    #[serde(default = "observing")]
    pub observe: bool,
}

fn observing() -> bool {
    true
}

impl Sampling {
    pub const DEFAULT: Sampling = Sampling { latency_shift: 4, occupancy_shift: 6, observe: true };
    /// A throughput slice: nothing sampled, no wait counted.
    pub const PLAIN: Sampling = Sampling { observe: false, ..Sampling::DEFAULT };

    pub fn latency_mask(self) -> u64 {
        (1 << self.latency_shift) - 1
    }

    pub fn occupancy_mask(self) -> u64 {
        (1 << self.occupancy_shift) - 1
    }

    /// Latency slots one producer needs for `per_producer` items.
    pub fn latency_slots(self, per_producer: u64) -> usize {
        (per_producer >> self.latency_shift) as usize + 1
    }
}

/// The most busy work per item a consumer may do (`--consumer-work`): 1 ms.
pub const MAX_CONSUMER_WORK_NS: u64 = 1_000_000;

/// The most producer (and consumer) threads a run starts.
pub const MAX_THREADS: u64 = 1024;

/// One configuration to run.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct RunSpec {
    pub workload: Workload,
    pub producers: u64,
    pub consumers: u64,
    pub capacity: usize,
    /// Total items; rounded down to a multiple of `producers`.
    pub items: u64,
    pub sampling: Sampling,
    /// Where its threads run.
    #[serde(default)]
    pub placement: Placement,
    /// Busy work a consumer does per item, replacing the workload's own
    /// ([`Workload::consumer_work_ns`]): how a consumer's pace changes a queue's figure.
    #[serde(default)]
    pub consumer_work: Option<u64>,
}

impl RunSpec {
    /// `workload` with its own thread counts and the default sampling.
    pub fn new(workload: Workload, capacity: usize, items: u64) -> RunSpec {
        let (producers, consumers) = workload.threads();
        RunSpec {
            workload,
            producers,
            consumers,
            capacity,
            items,
            sampling: Sampling::DEFAULT,
            placement: Placement::Unpinned,
            consumer_work: None,
        }
    }

    /// Nanoseconds of busy work a consumer does per item: `consumer_work`, or the workload's.
    pub fn consumer_work_ns(&self) -> u64 {
        self.consumer_work.unwrap_or(self.workload.consumer_work_ns())
    }

    pub fn per_producer(&self) -> u64 {
        self.items / self.producers
    }

    pub fn total_items(&self) -> u64 {
        self.per_producer() * self.producers
    }

    /// Why this configuration cannot run, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        self.check_up_to(MAX_THREADS)
    }

    /// [`check`](RunSpec::check) with at most `most` producers and `most` consumers (tasks
    /// are cheaper than threads: see `native_runners.rs`).
    pub fn check_up_to(&self, most: u64) -> Result<(), String> {
        if self.producers == 0 || self.consumers == 0 {
            return Err("producers and consumers must be at least 1".into());
        }
        if self.producers > most || self.consumers > most {
            return Err(format!("{} producers / {} consumers: at most {most} of each", self.producers, self.consumers));
        }
        if self.items < self.producers {
            return Err(format!("{} items cannot be shared by {} producers", self.items, self.producers));
        }
        if self.per_producer() >= 1 << 32 {
            return Err("at most 2^32 - 1 items per producer".into());
        }
        if self.workload == Workload::Seq && (self.producers, self.consumers) != (1, 1) {
            return Err("seq runs on one thread: it takes 1 producer and 1 consumer".into());
        }
        if self.workload == Workload::Seq && self.capacity == 0 {
            return Err("seq cannot run at capacity 0: one thread cannot meet itself at a rendezvous".into());
        }
        if self.workload == Workload::Seq && self.placement == Placement::CrossCore {
            return Err("seq runs on one thread: it has no cross-core placement".into());
        }
        if self.consumer_work_ns() > MAX_CONSUMER_WORK_NS {
            return Err(format!(
                "{} ns of consumer work per item: at most {MAX_CONSUMER_WORK_NS} (1 ms)",
                self.consumer_work_ns()
            ));
        }
        if self.sampling.latency_shift > 20 || self.sampling.occupancy_shift > 20 {
            return Err("sampling shifts above 20 (one sample in a million) leave nothing to report".into());
        }
        Ok(())
    }
}
