//! The workloads, and the `driven` runner: Rust threads drive any implementation through the
//! one interface. Same threads, same code, only the queue differs.
//!
//! Names and shapes follow crossbeam-channel's benchmarks (`seq`, `spsc`, `mpsc`, `mpmc`) so
//! figures compare with theirs; `fan-in`, `slow-consumer` and `bursty` are this project's.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::measure::{self, cpu_time, item, spin_work, Delivery, Latency, SideStats, OCCUPANCY_EVERY, SAMPLE_MASK, SAMPLE_SHIFT};
use crate::queue::{Consumer, Impl, Producer, QueueError};
use crate::watchdog::{join_all, within};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum, Serialize)]
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
    /// 2 producers, 1 consumer that spins ~1 µs per item: producers mostly blocked (backpressure)
    SlowConsumer,
    /// 2 producers that push bursts of 256 items with 100 µs pauses between, 1 consumer
    Bursty,
}

/// Per-item consumer work in the slow-consumer workload.
pub const SLOW_CONSUMER_WORK_NS: u64 = 1_000;
pub const BURST_ITEMS: u64 = 256;
pub const BURST_PAUSE: Duration = Duration::from_micros(100);

impl Workload {
    pub const ALL: [Workload; 7] = [
        Workload::Seq,
        Workload::Spsc,
        Workload::Mpsc,
        Workload::Mpmc,
        Workload::FanIn,
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
            Workload::FanIn => (64, 1),
            Workload::SlowConsumer | Workload::Bursty => (2, 1),
        }
    }

    pub fn consumer_work_ns(self) -> u64 {
        if self == Workload::SlowConsumer { SLOW_CONSUMER_WORK_NS } else { 0 }
    }

    pub fn burst(self) -> Option<(u64, Duration)> {
        (self == Workload::Bursty).then_some((BURST_ITEMS, BURST_PAUSE))
    }
}

impl std::fmt::Display for Workload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One configuration to run.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RunSpec {
    pub workload: Workload,
    pub producers: u64,
    pub consumers: u64,
    pub capacity: usize,
    /// Total items; rounded down to a multiple of `producers`.
    pub items: u64,
}

impl RunSpec {
    pub fn per_producer(&self) -> u64 {
        self.items / self.producers
    }

    pub fn total_items(&self) -> u64 {
        self.per_producer() * self.producers
    }

    /// Why this configuration cannot run, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        if self.producers == 0 || self.consumers == 0 {
            return Err("producers and consumers must be at least 1".into());
        }
        if self.producers > 1024 || self.consumers > 1024 {
            return Err(format!("{} producers / {} consumers: at most 1024 of each", self.producers, self.consumers));
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
        Ok(())
    }
}

/// Everything one repetition measured.
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    pub seconds: f64,
    pub cpu_user_s: f64,
    pub cpu_sys_s: f64,
    pub items: u64,
    pub pushes: u64,
    pub push_waits: u64,
    pub pops: u64,
    pub pop_waits: u64,
    /// Summed over producers.
    pub producer_blocked_s: f64,
    pub consumer_blocked_s: f64,
    /// Largest `len()` a consumer saw (sampled); `None` where the queue has no `len`.
    pub max_occupancy: Option<usize>,
    pub latency: Option<Latency>,
    /// `Err` says what was lost, duplicated or reordered; such a run is never averaged in.
    pub delivery: Result<(), String>,
}

/// What every runner (driven here, native in C and OCaml) counts during one run.
pub struct Tally {
    pub seconds: f64,
    /// (user, system) CPU time the process used during the run.
    pub cpu: (Duration, Duration),
    pub push: SideStats,
    pub pop: SideStats,
    pub max_occupancy: Option<usize>,
    pub latencies_ns: Vec<u64>,
    pub delivery: Result<(), String>,
}

impl Measurement {
    /// A run's figures from its tally; a sampled length above the capacity fails the run.
    pub fn from_tally(spec: &RunSpec, t: Tally) -> Measurement {
        let mut delivery = t.delivery;
        if let (Some(max), Ok(())) = (t.max_occupancy, &delivery) {
            if max > spec.capacity {
                delivery = Err(format!("len {max} observed above capacity {}", spec.capacity));
            }
        }
        Measurement {
            seconds: t.seconds,
            cpu_user_s: t.cpu.0.as_secs_f64(),
            cpu_sys_s: t.cpu.1.as_secs_f64(),
            items: spec.total_items(),
            pushes: t.push.ops,
            push_waits: t.push.waits,
            pops: t.pop.ops,
            pop_waits: t.pop.waits,
            producer_blocked_s: t.push.blocked.as_secs_f64(),
            consumer_blocked_s: t.pop.blocked.as_secs_f64(),
            max_occupancy: t.max_occupancy,
            latency: measure::latency_of(t.latencies_ns),
            delivery,
        }
    }
}

/// (user, system) CPU time used since `start` (a `cpu_time()` reading).
pub fn cpu_since(start: (Duration, Duration)) -> (Duration, Duration) {
    let now = cpu_time();
    (now.0.saturating_sub(start.0), now.1.saturating_sub(start.1))
}

/// Runs `spec` once on `imp` from Rust threads, under a watchdog of `limit`.
pub fn run_driven<I: Impl>(imp: &'static I, spec: RunSpec, limit: Duration) -> anyhow::Result<Measurement> {
    spec.check().map_err(anyhow::Error::msg)?;
    let what = format!("{} {} (capacity {})", imp.name(), spec.workload, spec.capacity);
    let r = within(&what, limit, move || {
        if spec.workload == Workload::Seq { run_seq(imp, spec) } else { run_threads(imp, spec) }
    })?;
    r
}

/// `try_push` first, so that a push that had to wait is counted and timed; the fast path
/// costs the same as a plain `push`.
#[inline]
fn push_counted<P: Producer>(tx: &P, it: u64, st: &mut SideStats) -> Result<(), QueueError> {
    st.ops += 1;
    match tx.try_push(it) {
        Err(QueueError::Full) => {
            st.waits += 1;
            let t = Instant::now();
            let r = tx.push(it);
            st.blocked += t.elapsed();
            r
        }
        r => r,
    }
}

#[inline]
fn pop_counted<C: Consumer>(rx: &C, st: &mut SideStats) -> Result<u64, QueueError> {
    st.ops += 1;
    match rx.try_pop() {
        Err(QueueError::Empty) => {
            st.waits += 1;
            let t = Instant::now();
            let r = rx.pop();
            st.blocked += t.elapsed();
            r
        }
        r => r,
    }
}

struct ProducerOut {
    stats: SideStats,
    /// Push time (ns since start) of every sampled item, by `seq >> SAMPLE_SHIFT`.
    pushed_at: Vec<u64>,
}

struct ConsumerOut {
    stats: SideStats,
    delivery: Delivery,
    /// (item, pop time in ns since start) of every sampled item.
    popped_at: Vec<(u64, u64)>,
    max_len: Option<usize>,
}

fn run_threads<I: Impl>(imp: &I, spec: RunSpec) -> anyhow::Result<Measurement> {
    let (tx, rx) = imp.bounded(spec.capacity)?;
    let per = spec.per_producer();
    let start = Arc::new(Barrier::new((spec.producers + spec.consumers + 1) as usize));
    let clock = Instant::now();
    let ns = move || clock.elapsed().as_nanos() as u64;
    let burst = spec.workload.burst();
    let work = spec.workload.consumer_work_ns();

    let producers: Vec<_> = (0..spec.producers)
        .map(|p| {
            let (tx, start) = (tx.clone(), start.clone());
            thread::Builder::new()
                .name(format!("producer {p}"))
                .spawn(move || -> Result<ProducerOut, QueueError> {
                    let mut out = ProducerOut { stats: SideStats::default(), pushed_at: vec![0; (per >> SAMPLE_SHIFT) as usize + 1] };
                    start.wait();
                    for s in 0..per {
                        if s & SAMPLE_MASK == 0 {
                            out.pushed_at[(s >> SAMPLE_SHIFT) as usize] = ns();
                        }
                        push_counted(&tx, item(p, s), &mut out.stats)?;
                        if let Some((n, pause)) = burst {
                            if (s + 1) % n == 0 {
                                thread::sleep(pause);
                            }
                        }
                    }
                    Ok(out)
                })
                .expect("cannot spawn a producer thread")
        })
        .collect();
    drop(tx); // the producers' clones are the only ones: the last to finish closes the queue

    let has_len = imp.traits().has_len;
    let consumers: Vec<_> = (0..spec.consumers)
        .map(|c| {
            let (rx, start) = (rx.clone(), start.clone());
            thread::Builder::new()
                .name(format!("consumer {c}"))
                .spawn(move || {
                    let mut out = ConsumerOut {
                        stats: SideStats::default(),
                        delivery: Delivery::new(spec.producers, per),
                        // A fair share of the samples, so that the vector rarely grows mid-run.
                        popped_at: Vec::with_capacity((spec.total_items() >> SAMPLE_SHIFT) as usize / spec.consumers as usize + 1),
                        max_len: None,
                    };
                    start.wait();
                    while let Ok(it) = pop_counted(&rx, &mut out.stats) {
                        out.delivery.record(it);
                        if it & SAMPLE_MASK == 0 {
                            out.popped_at.push((it, ns()));
                        }
                        if has_len && out.stats.ops % OCCUPANCY_EVERY == 0 {
                            out.max_len = out.max_len.max(rx.len());
                        }
                        if work > 0 {
                            spin_work(work);
                        }
                    }
                    out.stats.ops -= 1; // the final pop that said Closed delivered nothing
                    out
                })
                .expect("cannot spawn a consumer thread")
        })
        .collect();
    drop(rx);

    let cpu0 = cpu_time();
    start.wait();
    let t0 = Instant::now();
    let produced = join_all("producers", producers)?;
    let consumed = join_all("consumers", consumers)?;
    let seconds = t0.elapsed().as_secs_f64();
    let cpu = cpu_since(cpu0);

    let mut push = SideStats::default();
    let mut pushed_at = Vec::with_capacity(produced.len());
    for p in produced {
        let p = p.map_err(|e| anyhow::anyhow!("a push failed with '{e}' while the queue should have been open"))?;
        push.add(&p.stats);
        pushed_at.push(p.pushed_at);
    }
    let mut pop = SideStats::default();
    let mut parts = Vec::new();
    let mut max_occupancy = None;
    let mut latencies_ns = Vec::new();
    for c in consumed {
        pop.add(&c.stats);
        max_occupancy = max_occupancy.max(c.max_len);
        for (it, at) in c.popped_at {
            let (p, s) = measure::split(it);
            if let Some(&t) = pushed_at.get(p as usize).and_then(|v| v.get((s >> SAMPLE_SHIFT) as usize)) {
                latencies_ns.push(at.saturating_sub(t));
            }
        }
        parts.push(c.delivery);
    }
    let delivery = Delivery::verdict(parts);
    Ok(Measurement::from_tally(&spec, Tally { seconds, cpu, push, pop, max_occupancy, latencies_ns, delivery }))
}

/// `seq`: one thread fills the queue to capacity, then drains it, until all items went through.
fn run_seq<I: Impl>(imp: &I, spec: RunSpec) -> anyhow::Result<Measurement> {
    let (tx, rx) = imp.bounded(spec.capacity)?;
    let n = spec.total_items();
    let mut delivery = Delivery::new(1, n);
    let (mut push, mut pop) = (SideStats::default(), SideStats::default());
    let mut max_len = None;
    let has_len = imp.traits().has_len;
    let cpu0 = cpu_time();
    let t0 = Instant::now();
    let mut next = 0;
    while next < n {
        let batch = (spec.capacity as u64).min(n - next);
        for s in next..next + batch {
            push_counted(&tx, item(0, s), &mut push)?;
        }
        if has_len {
            max_len = max_len.max(tx.len());
        }
        for _ in 0..batch {
            delivery.record(pop_counted(&rx, &mut pop)?);
        }
        next += batch;
    }
    let seconds = t0.elapsed().as_secs_f64();
    let cpu = cpu_since(cpu0);
    let delivery = Delivery::verdict(vec![delivery]);
    // One thread: no push-to-pop latency (it would only be the batch length).
    let tally = Tally { seconds, cpu, push, pop, max_occupancy: max_len, latencies_ns: Vec::new(), delivery };
    Ok(Measurement::from_tally(&spec, tally))
}
