//! The pipeline of the strategies study: three stages on three threads, connected by two queues
//! of the same implementation.
//!
//! ```text
//! parse (source) --queue 1--> transform --queue 2 (middle)--> write
//! ```
//!
//! Each stage's per-item work is a calibrated spin (`measure::spin_work`, the slow consumer's
//! busy work): parse < transform < write ([`super::policy`]'s `*_NS`), so the write stage sets
//! the pace. With both queues bounded, slowing the write stage must slow the source (it blocks
//! on queue 1) and leave the items in flight where they were: at most both capacities plus one
//! item per stage ([`PipelineSpec::bound`], checked on every run). With the middle queue
//! unbounded (a capacity of at least the run's items), the transform stage runs ahead and the
//! backlog, hence memory, grows with the length of the run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use bq_engine::measure::{item, payload_item, spin_work, split, take_payload, Delivery, SideStats};
use bq_engine::memory::{payload, peak_rss_bytes, reset_peak_rss};
use bq_engine::queue::{Consumer, Impl, Producer};
use bq_engine::runner::push_counted;
use bq_engine::watchdog::{join_all, within};
use bq_engine::workloads::Sampling;

use super::policy::{Variant, PARSE_NS, TRANSFORM_NS};
use super::rows::{PipelineSpec, PipelineTally};

/// The pipeline of `variant` with queues of `capacity`; its items are set by the sizing.
pub fn spec(variant: Variant, capacity: usize, payload: usize) -> PipelineSpec {
    PipelineSpec {
        variant,
        capacity,
        middle_capacity: capacity,
        items: 0,
        parse_ns: PARSE_NS,
        transform_ns: TRANSFORM_NS,
        write_ns: variant.write_ns(),
        payload,
        sampling: Sampling::DEFAULT,
    }
}

/// `spec` with `items` items; an unbounded middle queue gets a capacity of at least that many.
pub fn sized(spec: PipelineSpec, items: u64) -> PipelineSpec {
    let middle_capacity = if spec.variant == Variant::UnboundedMiddle {
        (items as usize).clamp(spec.capacity, bq_engine::MAX_CAPACITY)
    } else {
        spec.capacity
    };
    PipelineSpec { items, middle_capacity, ..spec }
}

/// What the three stages share: the spec, the gate, the clock, the sampled start times (by
/// `seq >> latency_shift`), and how many items the write stage has taken.
struct Stages {
    spec: PipelineSpec,
    start: Barrier,
    clock: Instant,
    started_at: Vec<AtomicU64>,
    taken: AtomicU64,
}

impl Stages {
    fn now(&self) -> u64 {
        self.clock.elapsed().as_nanos() as u64
    }
}

/// The source: parses (spins) and pushes. It also keeps the peak of items in flight: those it
/// started minus those the write stage took (the queues' own synchronisation orders the
/// write stage's count before the push that a freed slot let through).
fn parse<P: Producer>(run: &Stages, tx: P) -> (SideStats, u64, Option<String>) {
    let s = &run.spec;
    let (mut st, mut peak) = (SideStats::default(), 0);
    let mask = s.sampling.latency_mask();
    run.start.wait();
    for seq in 0..s.items {
        if seq & mask == 0 {
            run.started_at[(seq >> s.sampling.latency_shift) as usize].store(run.now(), Ordering::Relaxed);
        }
        peak = peak.max(seq + 1 - run.taken.load(Ordering::Acquire));
        let it = payload_item(item(0, seq), s.payload);
        spin_work(s.parse_ns);
        if let Err(e) = push_counted(&tx, it, &mut st) {
            // SAFETY: made above and not enqueued.
            unsafe { take_payload(it, s.payload) };
            return (st, peak, Some(format!("parse: push of item {seq} returned {e} while the queue was open")));
        }
    }
    (st, peak, None)
}

fn transform<C: Consumer, P: Producer>(run: &Stages, rx: C, tx: P) -> (SideStats, Option<String>) {
    let mut st = SideStats::default();
    run.start.wait();
    while let Ok(it) = rx.pop() {
        // SAFETY: a live payload of this size; the write stage frees it.
        std::hint::black_box(unsafe { payload::touch(it, run.spec.payload.max(8)) });
        spin_work(run.spec.transform_ns);
        if let Err(e) = push_counted(&tx, it, &mut st) {
            // SAFETY: not enqueued: this stage still owns it.
            let id = unsafe { take_payload(it, run.spec.payload) };
            return (
                st,
                Some(format!("transform: push of item {} returned {e} while the queue was open", split(id).1)),
            );
        }
    }
    (st, None)
}

fn write<C: Consumer>(run: &Stages, rx: C) -> (Delivery, Vec<u64>) {
    let s = &run.spec;
    let mut delivery = Delivery::sole(1, s.items);
    let mut latencies = Vec::with_capacity((s.items >> s.sampling.latency_shift) as usize + 1);
    let mask = s.sampling.latency_mask();
    run.start.wait();
    while let Ok(taken) = rx.pop() {
        run.taken.fetch_add(1, Ordering::Release);
        // SAFETY: every item is a payload of the source's, taken once, here.
        let it = unsafe { take_payload(taken, s.payload) };
        delivery.record(it);
        spin_work(s.write_ns);
        let seq = split(it).1;
        if seq & mask == 0 {
            if let Some(t) = run.started_at.get((seq >> s.sampling.latency_shift) as usize) {
                latencies.push(run.now().saturating_sub(t.load(Ordering::Relaxed)));
            }
        }
    }
    (delivery, latencies)
}

fn run_stages<I: Impl>(imp: &I, spec: PipelineSpec) -> anyhow::Result<PipelineTally> {
    let (tx1, rx1) = imp.bounded(spec.capacity)?;
    let (tx2, rx2) = imp.bounded(spec.middle_capacity)?;
    let run = Arc::new(Stages {
        spec,
        start: Barrier::new(4),
        clock: Instant::now(),
        started_at: (0..spec.sampling.latency_slots(spec.items)).map(|_| AtomicU64::new(0)).collect(),
        taken: AtomicU64::new(0),
    });
    let spawn = |name: &str| thread::Builder::new().name(name.into());
    // Each stage owns its handles: a stage that ends drops them and closes its queues.
    let r = run.clone();
    let source = spawn("parse").spawn(move || parse(&r, tx1)).expect("cannot spawn the parse thread");
    let r = run.clone();
    let middle = spawn("transform").spawn(move || transform(&r, rx1, tx2)).expect("cannot spawn the transform thread");
    let r = run.clone();
    let sink = spawn("write").spawn(move || write(&r, rx2)).expect("cannot spawn the write thread");

    let rss = reset_peak_rss();
    let live_before = payload::live_bytes();
    payload::reset_peak();
    let t0 = Instant::now(); // before the gate, as in strategies.rs
    run.start.wait();
    let (source, peak_in_flight, failed) = join_all("parse", vec![source])?.remove(0);
    let source_seconds = t0.elapsed().as_secs_f64();
    let (transform, failed2) = join_all("transform", vec![middle])?.remove(0);
    let (delivery, latencies_ns) = join_all("write", vec![sink])?.remove(0);
    let seconds = t0.elapsed().as_secs_f64();
    let peak_rss = if rss { peak_rss_bytes() } else { None };
    let peak_live_bytes = payload::peak_live_bytes().saturating_sub(live_before);
    let delivery = failed.or(failed2).map_or_else(|| Delivery::verdict(vec![delivery]), Err);
    Ok(PipelineTally {
        seconds,
        source_seconds,
        source,
        transform,
        peak_in_flight,
        latencies_ns,
        peak_rss_bytes: peak_rss,
        peak_live_bytes,
        delivery,
    })
}

/// Runs the pipeline once on `imp`, under a watchdog of `limit`.
pub fn run_pipeline<I: Impl>(imp: &'static I, spec: PipelineSpec, limit: Duration) -> anyhow::Result<PipelineTally> {
    if spec.items == 0 || spec.items >= 1 << 32 {
        anyhow::bail!("a pipeline run takes 1 to 2^32 - 1 items, not {}", spec.items);
    }
    if spec.payload < 8 {
        anyhow::bail!("a payload of {} bytes cannot hold the item's number (8 bytes)", spec.payload);
    }
    let what = format!("{} pipeline {} (capacity {})", imp.name(), spec.variant, spec.capacity);
    within(&what, limit, move || run_stages(imp, spec))?
}
