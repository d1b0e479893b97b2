//! Fidelity: does the harness distort what it measures?
//!
//! Runs `spsc` and `mpsc` on `rust-sync-channel` and `crossbeam` three ways, in one process:
//! as a minimal stand-alone loop (raw channel, plain threads, `send`/`recv`, no trait, no
//! bookkeeping: the program crossbeam-channel's own benchmarks are), with the slices' calls
//! through the harness's adapter but no bookkeeping (`same calls`), and through
//! `driven::run_driven` exactly as `bqh compare`'s throughput slices run (plain calls,
//! `Sampling::PLAIN`), with the same items, capacity, threads and placement (`--placement`,
//! same-core by default: see `placement.rs`). All three are timed alike: from the first
//! worker's start to the last one's end, on the workers' own clocks. Runs alternate (raw,
//! harness, same calls, ...) so that load from elsewhere hits them alike; a row's ratio is the
//! geometric mean of the rounds' time ratios with its 95% interval (the order within a round rotates), and the last table divides
//! std's ratio by crossbeam's: whether the harness charges the two alike. The process's context
//! switches per 1,000 items, in the bare loop and in bqh's, show why when it does not.
//!
//! Capacities 1 (every item a hand-off), 1024, and "never full" (the capacity is the items, so a
//! producer never waits). Every round lasts at least `--round-ms` (100): the items of each row
//! are sized by a pilot of the stand-alone loop. At least 7 rounds (`--reps`).
//!
//! `cargo bench --bench fidelity` (optional: `-- --reps 15 --round-ms 200 --only crossbeam/mpsc`;
//! `-- --list` lists the rows without running them).

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use bq_engine::driven::run_driven;
use bq_engine::impls::{Crossbeam, RustSyncChannel};
use bq_engine::measure::{context_switches, item, Span, SpanClock, Spans};
use bq_engine::placement::{Placement, Side};
use bq_engine::workloads::{RunSpec, Sampling, Workload};
use bq_engine::{Consumer, Impl, Producer};
use bq_results::stats::{paired_ratio, ratio_between, Ratio};

const LIMIT: Duration = Duration::from_secs(120);

/// The two channels, driven by the stand-alone loop.
trait Raw {
    fn run(producers: u64, per: u64, capacity: usize) -> Duration;
}

/// Where the threads of every run go (`--placement`).
static PLACEMENT: std::sync::OnceLock<Placement> = std::sync::OnceLock::new();

fn placement() -> Placement {
    *PLACEMENT.get().unwrap_or(&Placement::SameCore)
}

/// Spawns `producers` threads that push `per` items each and one consumer that receives until
/// the channel closes; times them as `run_driven` does: from the first worker's start to the
/// last one's end, on the workers' own clocks.
fn raw_run<S, R>(
    producers: u64,
    per: u64,
    (tx, rx): (S, R),
    send: impl Fn(&S, u64) + Copy + Send + 'static,
    recv: impl Fn(&R) -> Option<u64> + Send + 'static,
) -> Duration
where
    S: Clone + Send + 'static,
    R: Send + 'static,
{
    // On a thread of its own, placed as run_driven places its runs: its threads inherit.
    thread::spawn(move || {
        placement().enter().unwrap();
        raw_placed(producers, per, (tx, rx), send, recv)
    })
    .join()
    .unwrap()
}

fn raw_placed<S, R>(
    producers: u64,
    per: u64,
    (tx, rx): (S, R),
    send: impl Fn(&S, u64) + Copy + Send + 'static,
    recv: impl Fn(&R) -> Option<u64> + Send + 'static,
) -> Duration
where
    S: Clone + Send + 'static,
    R: Send + 'static,
{
    let start = Arc::new(Barrier::new(producers as usize + 2));
    let ps: Vec<_> = (0..producers)
        .map(|p| {
            let (tx, start) = (tx.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                let clock = SpanClock::start();
                for s in 0..per {
                    send(&tx, item(p, s));
                }
                clock.stop()
            })
        })
        .collect();
    drop(tx);
    let c = {
        let start = start.clone();
        thread::spawn(move || {
            placement().pin(Side::Consumer).unwrap();
            start.wait();
            let clock = SpanClock::start();
            let mut n = 0u64;
            while let Some(x) = recv(&rx) {
                black_box(x);
                n += 1;
            }
            (n, clock.stop())
        })
    };
    start.wait();
    // The same clock as run_driven's: the workers' own, first start to last end.
    let mut spans: Vec<Span> = ps.into_iter().map(|p| p.join().unwrap()).collect();
    let (n, span) = c.join().unwrap();
    spans.push(span);
    assert_eq!(n, producers * per, "the raw loop lost items");
    Duration::from_secs_f64(Spans::of(spans).seconds())
}

impl Raw for RustSyncChannel {
    fn run(producers: u64, per: u64, capacity: usize) -> Duration {
        let (tx, rx) = std::sync::mpsc::sync_channel(capacity);
        raw_run(producers, per, (tx, rx), |tx, x| tx.send(x).unwrap(), |rx| rx.recv().ok())
    }
}

impl Raw for Crossbeam {
    fn run(producers: u64, per: u64, capacity: usize) -> Duration {
        raw_run(producers, per, crossbeam_channel::bounded(capacity), |tx, x| tx.send(x).unwrap(), |rx| rx.recv().ok())
    }
}

/// The stand-alone loop making the slices' calls: `push` and `pop` through the harness's
/// adapter (for std, `SyncRx`'s sole-consumer check), without the harness's bookkeeping.
/// Splits bqh's cost into "interface" (same / raw) and "harness loop" (bqh / same).
fn same_calls<I: Impl>(imp: &I, producers: u64, per: u64, capacity: usize) -> Duration {
    let queue = imp.bounded(capacity).expect("the bench's capacities are valid");
    raw_run(producers, per, queue, |tx, x| tx.push(x).unwrap(), |rx| rx.pop().ok())
}

/// `f`'s result and the context switches per 1,000 of `n` items it made.
/// Per item they show the mechanism behind a ratio: a queue that parks and wakes its threads
/// more often under the harness than in the bare loop.
fn counting_switches<T>(n: f64, f: impl FnOnce() -> T) -> (T, f64) {
    let c0 = context_switches();
    let t = f();
    (t, (context_switches() - c0) as f64 * 1000.0 / n)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The geometric mean of per-round time ratios, with its 95% interval.
fn ratio_stats(v: &[f64]) -> Ratio {
    let logs: Vec<f64> = v.iter().map(|x| x.ln()).collect();
    paired_ratio(&logs).unwrap_or(Ratio { ratio: v[0], low: v[0], high: v[0], pairs: 1 })
}

/// A row's capacity: fixed, or as large as the items, so the queue is never full.
#[derive(Clone, Copy)]
enum Cap {
    Fixed(usize),
    NeverFull,
}

impl std::fmt::Display for Cap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cap::Fixed(c) => write!(f, "{c}"),
            Cap::NeverFull => f.write_str("never-full"),
        }
    }
}

/// Items for which the stand-alone loop runs at least `round`: grown from a small pilot.
fn items_for_round<I: Raw>(producers: u64, cap: Cap, round: Duration) -> u64 {
    let mut items = 10_000u64;
    loop {
        let capacity = match cap {
            Cap::Fixed(c) => c,
            Cap::NeverFull => items as usize,
        };
        let t = I::run(producers, items / producers, capacity);
        if t >= round || items >= bq_engine::MAX_CAPACITY as u64 {
            return items;
        }
        let grow = (round.as_secs_f64() * 1.3 / t.as_secs_f64().max(1e-6)).clamp(1.3, 20.0);
        items = ((items as f64 * grow) as u64).min(bq_engine::MAX_CAPACITY as u64);
    }
}

/// One row: median items/s of each side, and the per-round ratios' geometric mean and
/// interval; returns bqh / raw.
fn compare<I: Impl + Raw>(imp: &'static I, workload: Workload, cap: Cap, round: Duration, reps: usize) -> Ratio {
    let (producers, consumers) = workload.threads();
    let items = items_for_round::<I>(producers, cap, round);
    let capacity = match cap {
        Cap::Fixed(c) => c,
        Cap::NeverFull => items as usize,
    };
    let spec = RunSpec {
        workload,
        producers,
        consumers,
        capacity,
        items,
        sampling: Sampling::PLAIN,
        placement: placement(),
        consumer_work: None,
    };
    let per = spec.per_producer();
    let n = spec.total_items() as f64;
    let (mut raw, mut same, mut driven, mut ratio, mut ratio_same) = (vec![], vec![], vec![], vec![], vec![]);
    let (mut raw_sw, mut driven_sw) = (vec![], vec![]);
    // One unrecorded round first: page faults, thread-stack reuse, lazy statics.
    I::run(producers, per, capacity);
    run_driven(imp, spec, LIMIT).unwrap();
    for round in 0..reps {
        // The three in a rotating order, so that none is always first (or always after the
        // same one): which runs first in a round turned out to matter at capacity 1.
        let (mut r, mut m, mut s) = (0.0, None, 0.0);
        for k in 0..3 {
            match (round + k) % 3 {
                0 => {
                    let (t, sw) = counting_switches(n, || I::run(producers, per, capacity).as_secs_f64());
                    (r, _) = (t, raw_sw.push(sw));
                }
                1 => {
                    let (t, sw) = counting_switches(n, || run_driven(imp, spec, LIMIT).unwrap());
                    (m, _) = (Some(t), driven_sw.push(sw));
                }
                _ => s = same_calls(imp, producers, per, capacity).as_secs_f64(),
            }
        }
        let m = m.expect("run above");
        assert!(m.delivery.is_ok(), "{}: {:?}", imp.name(), m.delivery);
        raw.push(n / r);
        same.push(n / s);
        driven.push(n / m.seconds);
        ratio.push(m.seconds / r);
        ratio_same.push(m.seconds / s);
    }
    let r = ratio_stats(&ratio);
    let s = ratio_stats(&ratio_same);
    println!(
        "| {:<17} | {:<4} | {:>10} | {:>9} | {:>7.2} | {:>7.2} | {:>7.2} | {:>5.3} [{:.3}-{:.3}] | {:>5.3} [{:.3}-{:.3}] | {:>8.2} | {:>8.2} |",
        imp.name(),
        workload.name(),
        cap.to_string(),
        items,
        median(&mut raw) / 1e6,
        median(&mut same) / 1e6,
        median(&mut driven) / 1e6,
        r.ratio, r.low, r.high, s.ratio, s.low, s.high,
        median(&mut raw_sw),
        median(&mut driven_sw),
    );
    r
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name} takes a number")))
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; anything else criterion-style is ignored too.
    let reps = (arg("--reps", 7) as usize).max(1);
    let round = Duration::from_millis(arg("--round-ms", 100).max(1));
    let only = std::env::args().skip_while(|a| a != "--only").nth(1).unwrap_or_default();
    let list = std::env::args().any(|a| a == "--list");
    if let Some(p) = std::env::args().skip_while(|a| a != "--placement").nth(1) {
        let p = <Placement as clap::ValueEnum>::from_str(&p, true).unwrap_or_else(|e| panic!("--placement: {e}"));
        PLACEMENT.set(p).unwrap();
    }
    placement().check().unwrap_or_else(|e| panic!("--placement {e}"));
    let mut rows = Vec::new();
    for workload in [Workload::Spsc, Workload::Mpsc] {
        for cap in [Cap::Fixed(1), Cap::Fixed(1024), Cap::NeverFull] {
            for name in ["rust-sync-channel", "crossbeam"] {
                let id = format!("{name}/{workload}/{cap}");
                if id.contains(&only) {
                    rows.push((name, workload, cap, id));
                }
            }
        }
    }
    if list {
        rows.iter().for_each(|r| println!("fidelity/{}: benchmark", r.3));
        return;
    }
    println!(
        "fidelity: {reps} rounds of raw, bqh, same calls per row, each round at least {} ms, threads {}\n",
        round.as_millis(),
        placement()
    );
    println!("M items/s (medians): raw = send/recv loop; same calls = push/pop through the harness's adapter, no bookkeeping;");
    println!("bqh = driven::run_driven as bqh compare's slices. Ratios are bqh time / other time per round: geometric mean [95% interval].");
    println!("Switches: the process's context switches per 1,000 items (median), in the raw loop and in bqh's.\n");
    println!("| implementation    | load | capacity   | items     | raw     | same    | bqh     | bqh / raw          | bqh / same calls   | sw raw   | sw bqh   |");
    println!("|-------------------|------|------------|-----------|---------|---------|---------|--------------------|--------------------|----------|----------|");
    let mut got: Vec<(&str, Workload, String, Ratio)> = Vec::new();
    for (name, workload, cap, _) in rows {
        let r = if name == "crossbeam" {
            compare(&Crossbeam, workload, cap, round, reps)
        } else {
            compare(&RustSyncChannel, workload, cap, round, reps)
        };
        got.push((name, workload, cap.to_string(), r));
    }
    // Does the harness charge std and crossbeam alike? std's bqh / raw over crossbeam's.
    println!("\n| load | capacity   | (bqh / raw, std) / (bqh / raw, crossbeam) [95% interval] |");
    println!("|------|------------|-----------------------------------------------------------|");
    for (name, w, cap, std) in &got {
        if *name != "rust-sync-channel" {
            continue;
        }
        if let Some((_, _, _, cb)) = got.iter().find(|g| g.0 == "crossbeam" && g.1 == *w && g.2 == *cap) {
            let q = ratio_between(*std, *cb);
            println!("| {:<4} | {:>10} | {:.3} [{:.3}-{:.3}] |", w.name(), cap, q.ratio, q.low, q.high);
        }
    }
}
