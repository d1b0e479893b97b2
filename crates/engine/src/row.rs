//! What the engine produces for one run: the row of `runs.csv`, filled from a [`Tally`].

use serde::{Deserialize, Serialize};

use crate::measure::{self, Tally};
use crate::placement::Placement;
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

/// What a run was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A repetition that counts waits and samples latencies while it is timed (every run of
    /// the studies, and of comparisons before paired measurement).
    #[default]
    Run,
    /// One half of a pair: plain calls, timed for a ratio to the reference (`pair`).
    Slice,
    /// An untimed look at the same configuration: waits counted, latencies sampled.
    Observation,
    /// A slice whose threads used more CPU time than its clock allows ([`Row::over_cpu`]): no
    /// measurement. Kept to be counted, never in a figure; the slice was run again.
    Discarded,
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
    /// Where its threads ran.
    #[serde(default)]
    pub placement: Placement,
    #[serde(default)]
    pub kind: Kind,
    /// A slice's pair: the two slices of a pair share it (0: not a slice).
    #[serde(default)]
    pub pair: u64,
    /// Whether this slice is the pair's reference half.
    #[serde(default)]
    pub reference: bool,
    /// Its place in the order the runs were made (1, 2, ...; 0: not recorded).
    #[serde(default)]
    pub order: u64,
    /// The peak resident memory of the child process that made the run, in KiB (runs of a
    /// plugin, which run in children; empty for runs in bqh's own process).
    #[serde(default)]
    pub child_peak_rss_kib: Option<u64>,
    /// CPU time the run's own threads used within their spans, in seconds (empty: a run made
    /// before bqh measured it).
    #[serde(default)]
    pub threads_cpu_s: Option<f64>,
    /// CPUs its placement let its threads use: 1 same-core, 2 cross-core, every allowed CPU
    /// unpinned. Its threads' CPU time can be at most this times its seconds.
    #[serde(default)]
    pub allowed_cpus: Option<u32>,
    /// Busy work its consumers did per item when the run set it (`--consumer-work`; empty:
    /// the workload's own).
    #[serde(default)]
    pub consumer_work_ns: Option<u64>,
}

/// Columns `Row` gained with paired measurement, after every older one.
pub const PAIRED_COLUMNS: usize = 5;
/// Columns `Row` gained after those, for runs in child processes.
pub const CHILD_COLUMNS: usize = 1;
/// Columns `Row` gained after those, when every runner's clock came from its workers' spans.
pub const CLOCK_COLUMNS: usize = 3;

impl Row {
    pub fn ok(&self) -> bool {
        self.status == Status::Ok
    }

    /// A repetition as every run was before paired measurement: unpinned, unpaired.
    pub fn is_legacy(&self) -> bool {
        self.kind == Kind::Run
            && self.placement == Placement::Unpinned
            && self.pair == 0
            && !self.reference
            && self.order == 0
    }

    /// How many of its last columns a file of `rows` can leave out: the columns added since
    /// the first studies (the paired ones, then the child's) are written only from the first
    /// row that uses them, so that a folder redraws to its own bytes.
    pub fn unused_columns(rows: &[Row]) -> usize {
        if rows.iter().any(|r| r.threads_cpu_s.is_some() || r.allowed_cpus.is_some() || r.consumer_work_ns.is_some()) {
            0
        } else if rows.iter().any(|r| r.child_peak_rss_kib.is_some()) {
            CLOCK_COLUMNS
        } else if !rows.iter().all(Row::is_legacy) {
            CLOCK_COLUMNS + CHILD_COLUMNS
        } else {
            CLOCK_COLUMNS + CHILD_COLUMNS + PAIRED_COLUMNS
        }
    }

    /// Whether its threads used more CPU time than its clock allows on the CPUs they had: then
    /// its clock did not cover their work, and its figures are not a measurement. `None` for a
    /// run that recorded no threads' CPU time (made before bqh measured it).
    pub fn over_cpu(&self) -> Option<String> {
        let (Some(cpu), Some(cpus)) = (self.threads_cpu_s, self.allowed_cpus) else { return None };
        if !self.ok()
            || self.kind == Kind::Discarded
            || !self.seconds.is_finite()
            || cpu <= measure::cpu_bound(self.seconds, cpus)
        {
            return None;
        }
        Some(format!(
            "its threads used {cpu:.6} s of CPU in {:.6} s on {cpus} CPU(s), {:.2} CPUs' worth: its clock did not cover \
             their work",
            self.seconds,
            cpu / self.seconds
        ))
    }

    /// Why a successful row's figures cannot be a measurement, if they cannot: times that are
    /// not finite or not positive, or a throughput that does not follow from its items and time
    /// (a file edited by hand or by another tool). Failed rows carry no figures (NaN).
    pub fn implausible(&self) -> Option<String> {
        if !self.ok() {
            return None;
        }
        // 1e308 as written, not as 309 digits.
        let short =
            |x: f64| if x != 0.0 && !(1e-6..1e15).contains(&x.abs()) { format!("{x:e}") } else { format!("{x}") };
        if !(self.seconds.is_finite() && self.seconds > 0.0) {
            return Some(format!("seconds is {}: a run takes a finite, positive time", short(self.seconds)));
        }
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(f64::MIN_POSITIVE);
        let items = self.items as f64;
        if self.items > 0 && !close(self.ns_per_item, self.seconds * 1e9 / items) {
            return Some(format!(
                "ns_per_item is {} but {} items in {} s make {}",
                short(self.ns_per_item),
                self.items,
                self.seconds,
                short(self.seconds * 1e9 / items)
            ));
        }
        if let Some(why) = self.over_cpu() {
            return Some(why);
        }
        if self.items > 0 && !close(self.items_per_second, items / self.seconds) {
            return Some(format!(
                "items_per_second is {} but {} items in {} s make {}",
                short(self.items_per_second),
                self.items,
                self.seconds,
                short(items / self.seconds)
            ));
        }
        None
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
            placement: spec.placement,
            kind: Kind::Run,
            pair: 0,
            reference: false,
            order: 0,
            child_peak_rss_kib: None,
            threads_cpu_s: None,
            allowed_cpus: Some(spec.placement.cpus()),
            consumer_work_ns: spec.consumer_work,
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
        row.threads_cpu_s = t.threads_cpu.map(|d| d.as_secs_f64());
        row.pushes = t.push.ops;
        row.push_waits = t.push.waits;
        row.push_wait_share = share(t.push.waits, t.push.ops);
        row.pops = t.pop.ops;
        row.pop_waits = t.pop.waits;
        row.pop_wait_share = share(t.pop.waits, t.pop.ops);
        row.producer_blocked_s = t.push.blocked.as_secs_f64();
        row.consumer_blocked_s = t.pop.blocked.as_secs_f64();
        row.max_occupancy = t.max_occupancy;
        [row.latency_samples, row.latency_p50_ns, row.latency_p99_ns, row.latency_p999_ns, row.latency_max_ns] =
            measure::latency_columns(t.latencies_ns);
        row
    }
}
