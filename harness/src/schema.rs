//! The results schema: what every runner produces and every report reads.
//!
//! Data flows one way: a runner (the driven one in `driven.rs`, the native ones behind
//! `impls/c_abi.rs` and `impls/ocaml.rs`) fills a [`Tally`]; `compare` turns each into a
//! [`Row`] of `runs.csv`, the shutdown probes give [`Observation`]s for `shutdown.csv`, and
//! [`Env`] is `env.json`. `report` renders from these types alone, so `bqh report` can redraw a
//! results folder from its files.

use std::process::Command;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::measure::{self, SideStats};
use crate::workloads::{RunSpec, Workload};

/// How a run drove its queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Rust threads through the harness interface (over FFI for C and OCaml).
    Driven,
    /// pthreads inside C.
    Native,
    /// One OCaml domain per producer and consumer: parallel.
    NativeDomains,
    /// OCaml systhreads in one domain: they take turns on the runtime lock.
    NativeSysthreads,
    /// tokio tasks on a multi-thread runtime with one worker thread per core.
    NativeTasks,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Driven => "driven",
            Mode::Native => "native",
            Mode::NativeDomains => "native-domains",
            Mode::NativeSysthreads => "native-systhreads",
            Mode::NativeTasks => "native-tasks",
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a repetition counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Ok,
    /// Lost, duplicated or reordered items, an overfilled queue, a hang, a panic: never averaged.
    Failed,
}

/// What every runner (driven in Rust, native in C and OCaml) counts during one run.
#[derive(Debug, Clone)]
pub struct Tally {
    pub seconds: f64,
    /// (user, system) CPU time the process used during the run.
    pub cpu: (Duration, Duration),
    pub push: SideStats,
    pub pop: SideStats,
    /// Largest length a consumer sampled; `None` where the queue has no length.
    pub max_occupancy: Option<usize>,
    pub latencies_ns: Vec<u64>,
    /// `Err` says what was lost, duplicated or reordered, or which push failed.
    pub delivery: Result<(), String>,
}

/// One repetition, as a row of `runs.csv`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Row {
    pub implementation: String,
    pub mode: Mode,
    pub workload: Workload,
    pub producers: u64,
    pub consumers: u64,
    pub capacity: usize,
    pub items: u64,
    pub repetition: u32,
    pub status: Status,
    pub seconds: f64,
    pub ns_per_item: f64,
    pub items_per_second: f64,
    pub cpu_user_s: f64,
    pub cpu_sys_s: f64,
    /// (user + sys) / wall: 2.0 means both cores busy for the whole run.
    pub cpu_per_wall: f64,
    pub pushes: u64,
    pub push_waits: u64,
    pub push_wait_share: f64,
    pub pops: u64,
    pub pop_waits: u64,
    pub pop_wait_share: f64,
    pub producer_blocked_s: f64,
    pub consumer_blocked_s: f64,
    pub max_occupancy: Option<usize>,
    pub latency_samples: Option<u64>,
    pub latency_p50_ns: Option<u64>,
    pub latency_p99_ns: Option<u64>,
    pub latency_p999_ns: Option<u64>,
    pub latency_max_ns: Option<u64>,
    pub error: String,
}

impl Row {
    pub fn ok(&self) -> bool {
        self.status == Status::Ok
    }

    /// The row of one repetition: its figures, or the error that stopped it. A sampled length
    /// above the capacity fails the run, like a delivery error.
    pub fn new(implementation: &str, mode: Mode, spec: &RunSpec, repetition: u32, run: anyhow::Result<Tally>) -> Row {
        let mut row = Row {
            implementation: implementation.into(),
            mode,
            workload: spec.workload,
            producers: spec.producers,
            consumers: spec.consumers,
            capacity: spec.capacity,
            items: spec.total_items(),
            repetition,
            status: Status::Failed,
            seconds: f64::NAN,
            ns_per_item: f64::NAN,
            items_per_second: f64::NAN,
            cpu_user_s: f64::NAN,
            cpu_sys_s: f64::NAN,
            cpu_per_wall: f64::NAN,
            pushes: 0,
            push_waits: 0,
            push_wait_share: f64::NAN,
            pops: 0,
            pop_waits: 0,
            pop_wait_share: f64::NAN,
            producer_blocked_s: f64::NAN,
            consumer_blocked_s: f64::NAN,
            max_occupancy: None,
            latency_samples: None,
            latency_p50_ns: None,
            latency_p99_ns: None,
            latency_p999_ns: None,
            latency_max_ns: None,
            error: String::new(),
        };
        let t = match run {
            Ok(t) => t,
            Err(e) => {
                row.error = format!("{e:#}");
                return row;
            }
        };
        let mut delivery = t.delivery;
        if let (Some(max), Ok(())) = (t.max_occupancy, &delivery) {
            if max > spec.capacity {
                delivery = Err(format!("len {max} observed above capacity {}", spec.capacity));
            }
        }
        let share = |w: u64, n: u64| if n == 0 { 0.0 } else { w as f64 / n as f64 };
        let (user, sys) = (t.cpu.0.as_secs_f64(), t.cpu.1.as_secs_f64());
        row.status = if delivery.is_ok() { Status::Ok } else { Status::Failed };
        row.error = delivery.err().unwrap_or_default();
        row.seconds = t.seconds;
        row.ns_per_item = t.seconds * 1e9 / row.items as f64;
        row.items_per_second = row.items as f64 / t.seconds;
        row.cpu_user_s = user;
        row.cpu_sys_s = sys;
        row.cpu_per_wall = (user + sys) / t.seconds;
        row.pushes = t.push.ops;
        row.push_waits = t.push.waits;
        row.push_wait_share = share(t.push.waits, t.push.ops);
        row.pops = t.pop.ops;
        row.pop_waits = t.pop.waits;
        row.pop_wait_share = share(t.pop.waits, t.pop.ops);
        row.producer_blocked_s = t.push.blocked.as_secs_f64();
        row.consumer_blocked_s = t.pop.blocked.as_secs_f64();
        row.max_occupancy = t.max_occupancy;
        if let Some(l) = measure::latency_of(t.latencies_ns) {
            row.latency_samples = Some(l.samples);
            row.latency_p50_ns = Some(l.p50_ns);
            row.latency_p99_ns = Some(l.p99_ns);
            row.latency_p999_ns = Some(l.p999_ns);
            row.latency_max_ns = Some(l.max_ns);
        }
        row
    }
}

/// The questions of the shutdown matrix, in the order the matrix lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Question {
    /// After the last producer handle drops, consumers get what is buffered, in order.
    DrainAfterClose,
    /// A push after the explicit close fails and enqueues nothing.
    PushAfterClose,
    /// Producers blocked on a full queue wake (with an error) when every consumer goes away.
    ProducersWokenWhenConsumersLeave,
    /// Consumers blocked on an empty queue wake when the last producer handle drops.
    ConsumersWokenOnLastProducerDrop,
    /// Consumers blocked on an empty queue wake on the explicit close.
    ConsumersWokenOnExplicitClose,
    /// Producers blocked on a full queue wake on the explicit close.
    ProducersWokenOnExplicitClose,
    /// Under a concurrent close, every accepted push is delivered.
    NothingLost,
}

impl Question {
    pub const ALL: [Question; 7] = [
        Question::DrainAfterClose,
        Question::PushAfterClose,
        Question::ProducersWokenWhenConsumersLeave,
        Question::ConsumersWokenOnLastProducerDrop,
        Question::ConsumersWokenOnExplicitClose,
        Question::ProducersWokenOnExplicitClose,
        Question::NothingLost,
    ];

    pub fn text(self) -> &'static str {
        match self {
            Question::DrainAfterClose => "consumers drain what is buffered after the last producer handle drops",
            Question::PushAfterClose => "a push after the explicit close fails and enqueues nothing",
            Question::ProducersWokenWhenConsumersLeave => "blocked producers are woken when the consumers go away",
            Question::ConsumersWokenOnLastProducerDrop => "blocked consumers are woken when the last producer handle drops",
            Question::ConsumersWokenOnExplicitClose => "blocked consumers are woken by the explicit close",
            Question::ProducersWokenOnExplicitClose => "blocked producers are woken by the explicit close",
            Question::NothingLost => "nothing accepted is lost when the producers close mid-stream",
        }
    }
}

/// What a probe saw. `Yes`/`No` answer the question; the rest say why there is no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Yes,
    No,
    /// The implementation's native API has no such operation.
    NotApplicable,
    /// The probe hung or panicked: a finding in itself.
    Failed,
}

/// One shutdown probe's result, as a row of `shutdown.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub implementation: String,
    pub question: Question,
    pub verdict: Verdict,
    /// What was seen, in words ("3 of 3 woken", "no explicit close").
    pub detail: String,
    /// For wake-up probes: the median over the probe's repetitions of the time from the
    /// closing action until the slowest waiter returned, in microseconds.
    pub wake_us: Option<f64>,
    /// True when the behaviour comes from the harness adapter (`impls::closing`) rather than
    /// the implementation's own API.
    pub via_adapter: bool,
}

/// The questions of the native shutdown probes (`shutdown_native.rs`): each implementation's
/// own API, without the harness adapter, where the languages really differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NativeQuestion {
    /// Producers blocked on a full queue are released when the consumer panics (raises).
    ProducersReleasedWhenConsumerDies,
    /// A consumer blocked on an empty queue is released when the producer panics (raises).
    ConsumerReleasedWhenProducerDies,
    /// A push refused (closed, or full for the non-blocking push) hands the item back.
    RefusedPushReturnsItem,
    /// Items still buffered are dropped when the last consumer leaves.
    BufferDroppedWhenConsumersLeave,
    /// One holder can close the queue for every holder, apart from dropping its handle.
    OneHolderClosesForAll,
}

impl NativeQuestion {
    pub const ALL: [NativeQuestion; 5] = [
        NativeQuestion::ProducersReleasedWhenConsumerDies,
        NativeQuestion::ConsumerReleasedWhenProducerDies,
        NativeQuestion::RefusedPushReturnsItem,
        NativeQuestion::BufferDroppedWhenConsumersLeave,
        NativeQuestion::OneHolderClosesForAll,
    ];

    pub fn text(self) -> &'static str {
        match self {
            NativeQuestion::ProducersReleasedWhenConsumerDies => "blocked producers are released when the consumer panics (raises)",
            NativeQuestion::ConsumerReleasedWhenProducerDies => "a blocked consumer is released when the producer panics (raises)",
            NativeQuestion::RefusedPushReturnsItem => "a refused push hands the item back to the caller",
            NativeQuestion::BufferDroppedWhenConsumersLeave => "items still buffered are dropped when the last consumer leaves",
            NativeQuestion::OneHolderClosesForAll => "one holder can close the queue for all, apart from dropping its handle",
        }
    }
}

/// One native shutdown probe's result, as a row of `shutdown-native.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NativeObservation {
    pub implementation: String,
    /// The API probed, as its language names it ("std::sync::mpsc::sync_channel", "c/bq.h").
    pub api: String,
    pub question: NativeQuestion,
    pub verdict: Verdict,
    /// What was seen, in words.
    pub detail: String,
}

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

/// Which study a results folder holds, so that `bqh report` draws the right report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Study {
    /// `bqh compare`: the matrix of workloads and capacities, and the shutdown probes.
    #[default]
    Compare,
    /// `bqh scale`: cost per item against the number of threads.
    Scale,
    /// `bqh shutdown --out`: the shutdown probes alone, through the adapter and native.
    Shutdown,
    /// `bqh strategies`: backpressure policies and the pipeline (`strategies.csv`, `pipeline.csv`).
    Strategies,
    /// `bqh memory`: live bytes and RSS over time, per capacity and allocator.
    Memory,
    /// `bqh async`: fan-in with tokio tasks against threads, and what a task and a thread cost.
    Async,
}

/// Where and with what a run was made: `env.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Env {
    /// Absent in folders written before there was more than one study: a comparison.
    #[serde(default)]
    pub study: Study,
    pub date_utc: String,
    pub cpu_model: String,
    pub cores: usize,
    pub kernel: String,
    pub rustc: String,
    pub ocamlopt: String,
    pub cc: String,
    pub git_commit: String,
    pub command: String,
    /// The command's parameters as it parsed them (for `compare`: its `Args`).
    pub parameters: serde_json::Value,
}

fn first_line(cmd: &str, args: &[&str]) -> Option<String> {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8_lossy(&o.stdout).lines().next().map(str::to_string))
}

impl Env {
    /// This machine, this build, this command.
    pub fn collect(study: Study, parameters: serde_json::Value) -> Env {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
            .unwrap_or_else(|| "unknown".into());
        let dirty = first_line("git", &["status", "--porcelain", "--untracked-files=no"]).is_some();
        let commit = first_line("git", &["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
        Env {
            study,
            date_utc: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            cpu_model,
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease").map_or("unknown".into(), |s| s.trim().into()),
            rustc: env!("BQ_RUSTC_VERSION").into(),
            ocamlopt: crate::impls::ocaml::OCAML_VERSION.into(),
            cc: env!("BQ_CC_VERSION").into(),
            git_commit: if dirty { format!("{commit} (with uncommitted changes)") } else { commit },
            command: std::env::args().collect::<Vec<_>>().join(" "),
            parameters,
        }
    }
}

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
    pub policy: crate::policy::Policy,
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
        policy: crate::policy::Policy,
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
        check(t.dropped > 0 && !policy.drops(), format!("{} items dropped by the {policy} policy, which never drops", t.dropped));
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
        if let Some(l) = measure::latency_of(t.latencies_ns) {
            row.latency_samples = Some(l.samples);
            row.latency_p50_ns = Some(l.p50_ns);
            row.latency_p99_ns = Some(l.p99_ns);
            row.latency_p999_ns = Some(l.p999_ns);
            row.latency_max_ns = Some(l.max_ns);
        }
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
    pub variant: crate::policy::Variant,
    pub capacity: usize,
    pub middle_capacity: usize,
    pub items: u64,
    pub parse_ns: u64,
    pub transform_ns: u64,
    pub write_ns: u64,
    /// Bytes of each item's payload.
    pub payload: usize,
    pub sampling: crate::workloads::Sampling,
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
    pub variant: crate::policy::Variant,
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
    pub fn new(implementation: &str, spec: &PipelineSpec, repetition: u32, run: anyhow::Result<PipelineTally>) -> PipelineRow {
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
        let bounded = spec.variant != crate::policy::Variant::UnboundedMiddle;
        let live_bound = spec.bound() * spec.payload as u64;
        if bounded && verdict.is_ok() && t.peak_live_bytes > live_bound {
            verdict = Err(format!("{} payload bytes alive at once, above the bound of {live_bound}", t.peak_live_bytes));
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
        if let Some(l) = measure::latency_of(t.latencies_ns) {
            row.latency_samples = Some(l.samples);
            row.latency_p50_ns = Some(l.p50_ns);
            row.latency_p99_ns = Some(l.p99_ns);
            row.latency_p999_ns = Some(l.p999_ns);
            row.latency_max_ns = Some(l.max_ns);
        }
        row
    }
}
