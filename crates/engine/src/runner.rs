//! What every threaded runner shares, so that each keeps only its own loop: the counted push and
//! pop, the state its threads share ([`Run`]: the spec, the start gate, the clock, the push
//! times of the sampled items), what each side counts ([`ProducerOut`], [`ConsumerOut`]) and how
//! their counts become one [`Tally`]. The driven runner (`driven.rs`), tokio's task runner
//! (`impls/tokio.rs`), the strategies study and its pipeline build on it.

use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::measure::{split, Checksum, Delivery, PushTimes, SideStats, Span, Spans, Tally};
use crate::queue::{Consumer, Producer, QueueError};
use crate::workloads::RunSpec;

/// Times `f` as a wait on `st`.
#[inline]
pub fn waited<T>(st: &mut SideStats, f: impl FnOnce() -> T) -> T {
    st.waits += 1;
    let t = Instant::now();
    let r = f();
    st.blocked += t.elapsed();
    r
}

/// `try_push` first, so that a push that had to wait is counted and timed; the fast path
/// costs the same as a plain `push`.
#[inline]
pub fn push_counted<P: Producer>(tx: &P, it: u64, st: &mut SideStats) -> Result<(), QueueError> {
    st.ops += 1;
    match tx.try_push(it) {
        Err(QueueError::Full) => waited(st, || tx.push(it)),
        r => r,
    }
}

/// `try_pop` first, as [`push_counted`].
#[inline]
pub fn pop_counted<C: Consumer>(rx: &C, st: &mut SideStats) -> Result<u64, QueueError> {
    st.ops += 1;
    match rx.try_pop() {
        Err(QueueError::Empty) => waited(st, || rx.pop()),
        r => r,
    }
}

/// A push as a user's program makes it: a throughput slice's (see `Sampling::observe`).
#[inline]
pub fn push_plain<P: Producer>(tx: &P, it: u64, st: &mut SideStats) -> Result<(), QueueError> {
    st.ops += 1;
    tx.push(it)
}

/// A pop as a user's program makes it, as [`push_plain`].
#[inline]
pub fn pop_plain<C: Consumer>(rx: &C, st: &mut SideStats) -> Result<u64, QueueError> {
    st.ops += 1;
    rx.pop()
}

/// [`push_counted`] in an observation run, [`push_plain`] in a throughput slice.
#[inline]
pub fn push_one<P: Producer>(tx: &P, it: u64, st: &mut SideStats, observe: bool) -> Result<(), QueueError> {
    if observe {
        push_counted(tx, it, st)
    } else {
        push_plain(tx, it, st)
    }
}

/// [`pop_counted`] in an observation run, [`pop_plain`] in a throughput slice.
#[inline]
pub fn pop_one<C: Consumer>(rx: &C, st: &mut SideStats, observe: bool) -> Result<u64, QueueError> {
    if observe {
        pop_counted(rx, st)
    } else {
        pop_plain(rx, st)
    }
}

/// What every thread of a run shares: the spec, the start gate (`G`: a std or a tokio barrier),
/// the clock, the push times of the sampled items, and what the runner adds (`extra`).
pub struct Run<G, X = ()> {
    pub spec: RunSpec,
    pub start: G,
    clock: Instant,
    pushed_at: PushTimes,
    pub extra: X,
}

impl<G, X> Run<G, X> {
    pub fn new(spec: RunSpec, start: G, extra: X) -> Self {
        let pushed_at = PushTimes::new(spec.sampling, spec.producers, spec.per_producer());
        Run { spec, start, clock: Instant::now(), pushed_at, extra }
    }

    /// Nanoseconds since the run was made.
    pub fn now(&self) -> u64 {
        self.clock.elapsed().as_nanos() as u64
    }

    /// Producer `id` is about to push its item `seq` (the clock is read for sampled items only).
    #[inline]
    pub fn pushing(&self, id: u64, seq: u64) {
        self.pushed_at.pushing(id, seq, || self.now());
    }

    /// A consumer took `it`: its push-to-pop latency, for a sampled item.
    #[inline]
    pub fn latency(&self, it: u64) -> Option<u64> {
        let (p, seq) = split(it);
        self.pushed_at.since_push(p, seq, || self.now())
    }
}

/// Starts `n` threads named `{role} 0`, `{role} 1`, ..., each running what `make(i)` returns.
pub fn spawn_each<T, F>(role: &str, n: u64, mut make: impl FnMut(u64) -> F) -> Vec<JoinHandle<T>>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    (0..n)
        .map(|i| {
            thread::Builder::new()
                .name(format!("{role} {i}"))
                .spawn(make(i))
                .unwrap_or_else(|e| panic!("cannot spawn a {role} thread: {e}"))
        })
        .collect()
}

/// Who waits at a run's gate: its producers, its consumers and the caller.
pub fn parties(spec: &RunSpec) -> usize {
    (spec.producers + spec.consumers + 1) as usize
}

/// What one producer counted.
#[derive(Default)]
pub struct ProducerOut {
    pub stats: SideStats,
    /// A push that failed while the queue was open.
    pub failed: Option<String>,
    /// Its work on its own clocks.
    pub span: Span,
}

impl ProducerOut {
    /// Records a push refused while the queue was open: a failed run.
    pub fn refused(&mut self, id: u64, seq: u64, e: impl std::fmt::Display) {
        self.failed = Some(format!("producer {id}: push of item {seq} returned {e} while the queue was open"));
    }
}

/// How a consumer proves what it received: the exact record of an observation run (every
/// item's place), or a throughput slice's checksum (every item once, at three additions).
pub enum Receipt {
    Exact(Delivery),
    Checksum(Checksum),
}

impl Receipt {
    /// The receipt a consumer of `spec` keeps.
    pub fn for_run(spec: &RunSpec) -> Receipt {
        if spec.sampling.observe {
            Receipt::Exact(Delivery::for_consumers(spec.consumers, spec.producers, spec.per_producer()))
        } else {
            Receipt::Checksum(Checksum::default())
        }
    }

    /// The verdict on every consumer's receipt of a run of `spec`.
    pub fn verdict(spec: &RunSpec, parts: Vec<Receipt>) -> Result<(), String> {
        let mut exact = Vec::new();
        let mut sum: Option<Checksum> = None;
        for r in parts {
            match r {
                Receipt::Exact(d) => exact.push(d),
                Receipt::Checksum(c) => sum.get_or_insert_with(Checksum::default).merge(&c),
            }
        }
        match (sum, exact.is_empty()) {
            (Some(c), true) => Checksum::verdict(c, spec.producers, spec.per_producer()),
            (None, false) => Delivery::verdict(exact),
            (None, true) => Err("no consumer recorded anything".into()),
            (Some(_), false) => Err("exact records beside checksums in one run".into()),
        }
    }
}

/// What one consumer counted.
pub struct ConsumerOut {
    pub stats: SideStats,
    pub receipt: Receipt,
    pub latencies_ns: Vec<u64>,
    /// Largest length sampled; `None` where the queue has no length.
    pub max_len: Option<usize>,
    /// Its work on its own clocks.
    pub span: Span,
    /// What stopped it before its work (a CPU it could not be pinned to).
    pub failed: Option<String>,
}

impl ConsumerOut {
    pub fn new(spec: &RunSpec) -> Self {
        ConsumerOut {
            stats: SideStats::default(),
            receipt: Receipt::for_run(spec),
            // A fair share of the samples, so that the vector rarely grows mid-run.
            latencies_ns: Vec::with_capacity(if spec.sampling.observe {
                (spec.total_items() >> spec.sampling.latency_shift) as usize / spec.consumers as usize + 1
            } else {
                0
            }),
            max_len: None,
            span: Span::default(),
            failed: None,
        }
    }

    /// `it` arrived in an observation run: checked exactly, and its latency kept when it is a
    /// sampled item. (A throughput slice folds items into its checksum in its own loop.)
    #[inline]
    pub fn received<G, X>(&mut self, run: &Run<G, X>, it: u64) {
        match &mut self.receipt {
            Receipt::Exact(d) => d.record(it),
            Receipt::Checksum(c) => c.add(it),
        }
        if let Some(ns) = run.latency(it) {
            self.latencies_ns.push(ns);
        }
    }
}

/// What the consumers of a run counted, together; their receipts still one per consumer, for
/// the runner's own verdict.
pub struct Consumed {
    pub pop: SideStats,
    pub max_occupancy: Option<usize>,
    pub latencies_ns: Vec<u64>,
    pub receipts: Vec<Receipt>,
    pub spans: Vec<Span>,
    pub failed: Option<String>,
}

/// Adds up what each consumer counted.
pub fn merge_consumers(consumed: Vec<ConsumerOut>) -> Consumed {
    let mut all = Consumed {
        pop: SideStats::default(),
        max_occupancy: None,
        latencies_ns: Vec::new(),
        receipts: Vec::new(),
        spans: Vec::new(),
        failed: None,
    };
    for c in consumed {
        all.pop.add(&c.stats);
        all.max_occupancy = all.max_occupancy.max(c.max_len);
        all.latencies_ns.extend(c.latencies_ns);
        all.receipts.push(c.receipt);
        all.spans.push(c.span);
        all.failed = all.failed.or(c.failed);
    }
    all
}

/// The one tally of a threaded run of `spec`, from what each side counted: its time is the
/// workers' spans together (earliest start to latest end), `cpu` the process's.
pub fn tally(
    spec: &RunSpec,
    cpu: (Duration, Duration),
    produced: Vec<ProducerOut>,
    consumed: Vec<ConsumerOut>,
) -> Tally {
    let mut push = SideStats::default();
    let mut failed = None;
    let mut spans = Spans::default();
    for p in produced {
        push.add(&p.stats);
        spans.add(p.span);
        failed = failed.or(p.failed);
    }
    let c = merge_consumers(consumed);
    c.spans.iter().for_each(|&s| spans.add(s));
    let delivery = failed.or(c.failed).map_or_else(|| Receipt::verdict(spec, c.receipts), Err);
    Tally {
        seconds: spans.seconds(),
        cpu,
        threads_cpu: Some(spans.cpu()),
        push,
        pop: c.pop,
        max_occupancy: c.max_occupancy,
        latencies_ns: c.latencies_ns,
        delivery,
    }
}
