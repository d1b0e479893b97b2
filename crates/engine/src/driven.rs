//! The `driven` runner: Rust threads drive any implementation through the one interface. Same
//! threads, same code, only the queue differs.
//!
//! It is the same program as the native runners, `c/bq_native.c` and `ocaml/bq_native.ml`, in
//! the same order: counted push and pop (in `runner.rs`, shared with the other Rust runners),
//! `producer`, `consumer`, `run_seq`, then `run_threads`, which starts them behind one gate and
//! merges what they counted into a [`Tally`]. Read the three side by side: only the language
//! differs. One consumer exists here only: fan-in-batch's,
//! which takes batches with `pop_many` (the workload is driven only).

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use crate::measure::{cpu_since, cpu_time, item, spin_work, Checksum, Delivery, SideStats, SpanClock, Tally};
use crate::placement::Side;
use crate::queue::{Consumer, Impl, Producer, QueueError};
use crate::row::{Mode, Row};
use crate::runner::{
    parties, pop_counted, pop_one, push_counted, push_one, spawn_each, tally, ConsumerOut, ProducerOut, Receipt, Run,
};
use crate::watchdog::{join_all, within};
use crate::workloads::{RunSpec, Workload};

/// One `pop_many`: its items count as pops. It has no try-first form, so whether it waited is
/// not known: the fan-in-batch consumer's waits and blocked time are not counted.
#[inline]
fn pop_many_counted<C: Consumer>(
    rx: &C,
    max: usize,
    out: &mut Vec<u64>,
    st: &mut SideStats,
) -> Result<usize, QueueError> {
    let r = rx.pop_many(max, out);
    if let Ok(n) = r {
        st.ops += n as u64;
    }
    r
}

fn producer<P: Producer>(run: &Run<Barrier>, tx: &P, id: u64) -> ProducerOut {
    let s = &run.spec;
    let mut out = ProducerOut::default();
    let burst = s.workload.burst();
    if let Err(e) = s.placement.pin(Side::Producer) {
        out.failed = Some(e);
    }
    run.start.wait();
    let clock = SpanClock::start();
    if out.failed.is_none() {
        let pushed = if s.sampling.observe {
            observe_pushes(run, tx, id, burst, &mut out.stats)
        } else {
            give_all(tx, id, s.per_producer(), burst)
        };
        if !s.sampling.observe {
            out.stats.ops = pushed.map_or_else(|(seq, _)| seq, |()| s.per_producer());
        }
        if let Err((seq, e)) = pushed {
            out.refused(id, seq, e);
        }
    }
    out.span = clock.stop();
    out
}

/// A pause after every `n` items (the bursty workload), if any.
#[inline]
fn pause(burst: Option<(u64, Duration)>, seq: u64) {
    if let Some((n, pause)) = burst {
        if (seq + 1).is_multiple_of(n) {
            thread::sleep(pause);
        }
    }
}

/// A throughput slice's producer: `push` its items, nothing else. The push that failed, if one
/// did.
fn give_all<P: Producer>(tx: &P, id: u64, n: u64, burst: Option<(u64, Duration)>) -> Result<(), (u64, QueueError)> {
    for seq in 0..n {
        tx.push(item(id, seq)).map_err(|e| (seq, e))?;
        pause(burst, seq);
    }
    Ok(())
}

/// An observation run's producer: counted pushes (waits timed), sampled push times.
fn observe_pushes<P: Producer>(
    run: &Run<Barrier>,
    tx: &P,
    id: u64,
    burst: Option<(u64, Duration)>,
    st: &mut SideStats,
) -> Result<(), (u64, QueueError)> {
    for seq in 0..run.spec.per_producer() {
        run.pushing(id, seq);
        push_counted(tx, item(id, seq), st).map_err(|e| (seq, e))?;
        pause(burst, seq);
    }
    Ok(())
}

/// A throughput slice's consumer: `pop` until closed, every item folded into a checksum (and
/// the per-item work of the run, if any). What proving delivery needs, and nothing more: no
/// lookup, no clock, no count but the checksum's.
fn take_all<C: Consumer>(rx: &C, work: u64) -> Checksum {
    let mut sum = Checksum::default();
    if work == 0 {
        while let Ok(it) = rx.pop() {
            sum.add(it);
        }
    } else {
        while let Ok(it) = rx.pop() {
            sum.add(it);
            spin_work(work);
        }
    }
    sum
}

/// [`take_all`] with `pop_many(max)`: the fan-in-batch consumer's slice.
fn take_all_batched<C: Consumer>(rx: &C, work: u64, max: usize) -> Checksum {
    let mut sum = Checksum::default();
    let mut batch = Vec::with_capacity(max);
    while rx.pop_many(max, &mut batch).is_ok() {
        for it in batch.drain(..) {
            sum.add(it);
            if work > 0 {
                spin_work(work);
            }
        }
    }
    sum
}

/// An observation run's consumer: counted pops (waits timed), every item checked exactly,
/// sampled latencies and lengths.
fn observe_all<C: Consumer>(run: &Run<Barrier>, rx: &C, has_len: bool, out: &mut ConsumerOut) {
    let s = &run.spec;
    let work = s.consumer_work_ns();
    let occupancy_mask = s.sampling.occupancy_mask();
    let received = |out: &mut ConsumerOut, it: u64| {
        out.received(run, it);
        if work > 0 {
            spin_work(work);
        }
    };
    match s.workload.pop_many_max() {
        None => {
            while let Ok(it) = pop_counted(rx, &mut out.stats) {
                received(out, it);
                if has_len && out.stats.ops & occupancy_mask == 0 {
                    out.max_len = out.max_len.max(rx.len());
                }
            }
            out.stats.ops -= 1; // the final pop said closed and delivered nothing
        }
        Some(max) => {
            let mut batch = Vec::with_capacity(max);
            let mut batches = 0u64;
            while pop_many_counted(rx, max, &mut batch, &mut out.stats).is_ok() {
                batch.drain(..).for_each(|it| received(out, it));
                batches += 1;
                if has_len && batches & occupancy_mask == 0 {
                    out.max_len = out.max_len.max(rx.len());
                }
            }
        }
    }
}

fn consumer<C: Consumer>(run: &Run<Barrier>, rx: &C, has_len: bool) -> ConsumerOut {
    let s = &run.spec;
    let mut out = ConsumerOut::new(s);
    if let Err(e) = s.placement.pin(Side::Consumer) {
        out.failed = Some(e);
    }
    run.start.wait();
    let clock = SpanClock::start();
    if out.failed.is_none() {
        if s.sampling.observe {
            observe_all(run, rx, has_len, &mut out);
        } else {
            let work = s.consumer_work_ns();
            let sum = match s.workload.pop_many_max() {
                None => take_all(rx, work),
                Some(max) => take_all_batched(rx, work, max),
            };
            out.stats.ops = sum.count;
            out.receipt = Receipt::Checksum(sum);
        }
    }
    out.span = clock.stop();
    out
}

/// `seq`: one thread fills the queue to capacity, then drains it, until all items went through.
fn run_seq<I: Impl>(imp: &I, spec: RunSpec) -> anyhow::Result<Tally> {
    let (tx, rx) = imp.bounded(spec.capacity)?;
    let n = spec.total_items();
    let mut delivery = Delivery::sole(1, n);
    let (mut push, mut pop) = (SideStats::default(), SideStats::default());
    let mut max_len = None;
    let mut failed = None;
    let has_len = imp.traits().has_len && spec.sampling.observe;
    let observe = spec.sampling.observe;
    let cpu0 = cpu_time();
    let clock = SpanClock::start();
    let mut next = 0;
    'run: while next < n {
        let batch = (spec.capacity as u64).min(n - next);
        for seq in next..next + batch {
            if let Err(e) = push_one(&tx, item(0, seq), &mut push, observe) {
                failed = Some(format!("seq: push of item {seq} returned {e} while the queue was open"));
                break 'run;
            }
        }
        if has_len {
            max_len = max_len.max(tx.len());
        }
        for _ in 0..batch {
            match pop_one(&rx, &mut pop, observe) {
                Ok(it) => delivery.record(it),
                Err(e) => {
                    failed = Some(format!("seq: a pop returned {e} with items buffered"));
                    break 'run;
                }
            }
        }
        next += batch;
    }
    let span = clock.stop();
    let cpu = cpu_since(cpu0);
    let delivery = failed.map_or_else(|| Delivery::verdict(vec![delivery]), Err);
    // One thread: no push-to-pop latency (it would only be the batch length).
    Ok(Tally {
        seconds: crate::measure::Spans::of([span]).seconds(),
        cpu,
        threads_cpu: Some(Duration::from_nanos(span.cpu_ns)),
        push,
        pop,
        max_occupancy: max_len,
        latencies_ns: Vec::new(),
        delivery,
    })
}

fn run_threads<I: Impl>(imp: &I, spec: RunSpec) -> anyhow::Result<Tally> {
    let (tx, rx) = imp.bounded(spec.capacity)?;
    let run = Arc::new(Run::new(spec, Barrier::new(parties(&spec)), ()));
    let producers = spawn_each("producer", spec.producers, |p| {
        let (run, tx) = (run.clone(), tx.clone());
        move || producer(&run, &tx, p)
    });
    drop(tx); // the producers' clones are the only ones: the last to finish closes the queue
    let has_len = imp.traits().has_len;
    let consumers = spawn_each("consumer", spec.consumers, |_| {
        let (run, rx) = (run.clone(), rx.clone());
        move || consumer(&run, &rx, has_len)
    });
    drop(rx);

    // The run's time comes from its workers' own clocks (their spans), not from this thread's:
    // woken late from the gate, it would start a clock after the work had begun.
    let cpu0 = cpu_time();
    run.start.wait();
    let produced = join_all("producers", producers)?;
    let consumed = join_all("consumers", consumers)?;
    let cpu = cpu_since(cpu0);

    Ok(tally(&spec, cpu, produced, consumed))
}

/// Runs `spec` once on `imp` from Rust threads, under a watchdog of `limit`.
pub fn run_driven<I: Impl>(imp: &'static I, spec: RunSpec, limit: Duration) -> anyhow::Result<Tally> {
    spec.check().map_err(anyhow::Error::msg)?;
    let what = format!("{} {} (capacity {})", imp.name(), spec.workload, spec.capacity);
    within(&what, limit, move || {
        spec.placement.enter().map_err(anyhow::Error::msg)?;
        if spec.workload == Workload::Seq {
            run_seq(imp, spec)
        } else {
            run_threads(imp, spec)
        }
    })?
}

/// Runs one repetition of `spec` on any implementation driven from Rust: the generic entry
/// that tests use with deliberately broken implementations.
pub fn measure_driven<I: Impl>(imp: &'static I, spec: RunSpec, repetition: u32, limit: Duration) -> Row {
    Row::new(imp.name(), Mode::Driven, &spec, repetition, run_driven(imp, spec, limit))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;
    use crate::impls::rust_channels::{Crossbeam, CrossbeamRx, CrossbeamTx};
    use crate::measure::now_ns;
    use crate::placement::Placement;
    use crate::queue::{NewError, Traits, Unsupported};
    use crate::workloads::Sampling;

    /// The first and the last moment any operation of the current run completed.
    static FIRST_OP: AtomicU64 = AtomicU64::new(u64::MAX);
    static LAST_OP: AtomicU64 = AtomicU64::new(0);

    fn stamp() {
        let t = now_ns();
        FIRST_OP.fetch_min(t, Ordering::Relaxed);
        LAST_OP.fetch_max(t, Ordering::Relaxed);
    }

    /// crossbeam, each push and pop stamped as it completes.
    struct Stamped;
    #[derive(Clone)]
    struct StampedTx(CrossbeamTx);
    #[derive(Clone)]
    struct StampedRx(CrossbeamRx);

    impl Producer for StampedTx {
        fn push(&self, item: u64) -> Result<(), QueueError> {
            let r = self.0.push(item);
            stamp();
            r
        }
        fn try_push(&self, item: u64) -> Result<(), QueueError> {
            let r = self.0.try_push(item);
            stamp();
            r
        }
        fn push_timeout(&self, item: u64, t: Duration) -> Result<(), QueueError> {
            self.0.push_timeout(item, t)
        }
        fn close(&self) -> Result<(), Unsupported> {
            Err(Unsupported)
        }
        fn len(&self) -> Option<usize> {
            self.0.len()
        }
    }

    impl Consumer for StampedRx {
        fn pop(&self) -> Result<u64, QueueError> {
            let r = self.0.pop();
            stamp();
            r
        }
        fn try_pop(&self) -> Result<u64, QueueError> {
            let r = self.0.try_pop();
            stamp();
            r
        }
        fn pop_timeout(&self, t: Duration) -> Result<u64, QueueError> {
            self.0.pop_timeout(t)
        }
        fn close(&self) -> Result<(), Unsupported> {
            Err(Unsupported)
        }
        fn len(&self) -> Option<usize> {
            self.0.len()
        }
    }

    impl Impl for Stamped {
        type Tx = StampedTx;
        type Rx = StampedRx;
        fn name(&self) -> &str {
            "stamped"
        }
        fn traits(&self) -> Traits {
            Crossbeam.traits()
        }
        fn make(&self, capacity: usize) -> Result<(StampedTx, StampedRx), NewError> {
            let (tx, rx) = Crossbeam.make(capacity)?;
            Ok((StampedTx(tx), StampedRx(rx)))
        }
    }

    /// The run's clock covers every operation of every worker, however late the thread that
    /// started the run gets to run again: with every thread on one CPU, the caller is often
    /// the last to wake from the start gate, after the workers have begun. (Before the clock
    /// came from the workers' spans, most of these runs measured less than their own work.)
    /// Its threads' CPU time, on one CPU, is within what the clock allows.
    #[test]
    fn the_clock_covers_every_operation_however_late_the_caller_wakes() {
        for workload in [Workload::Spsc, Workload::Mpsc, Workload::Seq] {
            for sampling in [Sampling::PLAIN, Sampling::DEFAULT] {
                for _ in 0..15 {
                    FIRST_OP.store(u64::MAX, Ordering::Relaxed);
                    LAST_OP.store(0, Ordering::Relaxed);
                    let spec = RunSpec { sampling, placement: Placement::SameCore, ..RunSpec::new(workload, 16, 4000) };
                    let row = measure_driven(&Stamped, spec, 1, Duration::from_secs(30));
                    assert!(row.ok(), "{row:?}");
                    let work = LAST_OP.load(Ordering::Relaxed) - FIRST_OP.load(Ordering::Relaxed);
                    let measured = (row.seconds * 1e9).round() as u64;
                    assert!(measured + 1 >= work, "{workload} measured {measured} ns for {work} ns of operations");
                    assert!(row.over_cpu().is_none(), "{workload}: {:?}", row.over_cpu());
                }
            }
        }
    }
}
