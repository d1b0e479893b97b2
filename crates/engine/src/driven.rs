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
use std::time::{Duration, Instant};

use crate::row::{Mode, Row};
use crate::measure::{cpu_since, cpu_time, item, spin_work, Delivery, SideStats, Tally};
use crate::queue::{Consumer, Impl, Producer, QueueError};
use crate::placement::Side;
use crate::runner::{parties, pop_one, push_one, spawn_each, tally, ConsumerOut, ProducerOut, Run};
use crate::watchdog::{join_all, within};
use crate::workloads::{RunSpec, Workload};

/// One `pop_many`: its items count as pops. It has no try-first form, so whether it waited is
/// not known: the fan-in-batch consumer's waits and blocked time are not counted.
#[inline]
fn pop_many_counted<C: Consumer>(rx: &C, max: usize, out: &mut Vec<u64>, st: &mut SideStats) -> Result<usize, QueueError> {
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
    let observe = s.sampling.observe;
    if let Err(e) = s.placement.pin(Side::Producer) {
        out.failed = Some(e);
    }
    run.start.wait();
    for seq in 0..s.per_producer() {
        if out.failed.is_some() {
            break;
        }
        run.pushing(id, seq);
        if let Err(e) = push_one(tx, item(id, seq), &mut out.stats, observe) {
            out.refused(id, seq, e);
            break;
        }
        if let Some((n, pause)) = burst {
            if (seq + 1) % n == 0 {
                thread::sleep(pause);
            }
        }
    }
    out
}

fn consumer<C: Consumer>(run: &Run<Barrier>, rx: &C, has_len: bool) -> ConsumerOut {
    let s = &run.spec;
    let mut out = ConsumerOut::new(s, Delivery::for_consumers(s.consumers, s.producers, s.per_producer()));
    let work = s.workload.consumer_work_ns();
    let observe = s.sampling.observe;
    // An observation run samples the length; a throughput slice never does.
    let has_len = has_len && observe;
    let occupancy_mask = s.sampling.occupancy_mask();
    if let Err(e) = s.placement.pin(Side::Consumer) {
        out.delivery.fail(|| e);
    }
    let received = |out: &mut ConsumerOut, it: u64| {
        out.received(run, it);
        if work > 0 {
            spin_work(work);
        }
    };
    run.start.wait();
    match s.workload.pop_many_max() {
        None => {
            while let Ok(it) = pop_one(rx, &mut out.stats, observe) {
                received(&mut out, it);
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
                batch.drain(..).for_each(|it| received(&mut out, it));
                batches += 1;
                if has_len && batches & occupancy_mask == 0 {
                    out.max_len = out.max_len.max(rx.len());
                }
            }
        }
    }
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
    let t0 = Instant::now();
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
    let seconds = t0.elapsed().as_secs_f64();
    let cpu = cpu_since(cpu0);
    let delivery = failed.map_or_else(|| Delivery::verdict(vec![delivery]), Err);
    // One thread: no push-to-pop latency (it would only be the batch length).
    Ok(Tally { seconds, cpu, push, pop, max_occupancy: max_len, latencies_ns: Vec::new(), delivery })
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

    let cpu0 = cpu_time();
    run.start.wait();
    let t0 = Instant::now();
    let produced = join_all("producers", producers)?;
    let consumed = join_all("consumers", consumers)?;
    let seconds = t0.elapsed().as_secs_f64();
    let cpu = cpu_since(cpu0);

    Ok(tally(seconds, cpu, produced, consumed))
}

/// Runs `spec` once on `imp` from Rust threads, under a watchdog of `limit`.
pub fn run_driven<I: Impl>(imp: &'static I, spec: RunSpec, limit: Duration) -> anyhow::Result<Tally> {
    spec.check().map_err(anyhow::Error::msg)?;
    let what = format!("{} {} (capacity {})", imp.name(), spec.workload, spec.capacity);
    within(&what, limit, move || {
        spec.placement.enter().map_err(anyhow::Error::msg)?;
        if spec.workload == Workload::Seq { run_seq(imp, spec) } else { run_threads(imp, spec) }
    })?
}

/// Runs one repetition of `spec` on any implementation driven from Rust: the generic entry
/// that tests use with deliberately broken implementations.
pub fn measure_driven<I: Impl>(imp: &'static I, spec: RunSpec, repetition: u32, limit: Duration) -> Row {
    Row::new(imp.name(), Mode::Driven, &spec, repetition, run_driven(imp, spec, limit))
}
