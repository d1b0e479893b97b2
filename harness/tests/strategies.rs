//! `bqh strategies`: every policy accounts for every item on real queues at capacity 1 and the
//! largest capacity; the checks bite on queues that lose, miscount or die; the semaphore and the
//! pipeline's bound are checked in-run; the command writes a folder `bqh report` redraws; bad
//! input is refused with exit 2. No test looks at a speed.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bq_engine::impls::rust_channels::CrossbeamTx;
use bq_engine::impls::{CPthread, Crossbeam, Ocaml, RustPort};
use bq_engine::watchdog::within;
use bq_engine::workloads::{RunSpec, Workload};
use bq_engine::{Impl, Producer, QueueError, MAX_CAPACITY};
use harness::strategies::pipeline::{self, run_pipeline};
use harness::strategies::policy::{Policy, Variant};
use harness::strategies::rows::{PipelineRow, StrategyRow, StrategyTally};
use harness::strategies::rows::{PIPELINE_CSV, STRATEGIES_CSV};
use harness::strategies::{measure_strategy, Semaphore, StrategySpec};

mod common;
use common::rigged::Rigged;
use common::{bqh, files};

const LIMIT: Duration = Duration::from_secs(60);

/// The payload counter (`memory::payload`) is process-wide: runs that check its peak take turns.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn spec(workload: Workload, capacity: usize, policy: Policy, items: u64) -> StrategySpec {
    StrategySpec {
        run: RunSpec::new(workload, capacity, items),
        policy,
        batch: 8,
        permits: capacity.min(64),
        payload: 64,
    }
}

/// The accounting every row must show, besides `ok`.
fn accounted(row: &StrategyRow) {
    assert!(row.ok(), "{} {} {} cap {}: {}", row.implementation, row.workload, row.policy, row.capacity, row.error);
    assert_eq!(row.accepted + row.dropped, row.produced, "{row:?}");
    assert_eq!(row.delivered, row.accepted, "{row:?}");
    if !row.policy.drops() {
        assert_eq!(row.dropped, 0, "{row:?}");
    }
    if let Some(max) = row.max_occupancy {
        assert!(max <= row.capacity, "{row:?}");
    }
    assert!(row.peak_live_bytes.is_some_and(|b| b >= row.payload_bytes as u64), "{row:?}");
}

fn every_policy<I: Impl>(imp: &'static I, capacity: usize) {
    for w in [Workload::SlowConsumer, Workload::FanIn, Workload::Bursty] {
        for p in Policy::ALL {
            let row = measure_strategy(imp, spec(w, capacity, p, 3_200), 1, LIMIT);
            accounted(&row);
            if p == Policy::Semaphore {
                let (max, permits) = (row.max_in_flight.unwrap(), row.permits.unwrap() as u64);
                assert!(max >= 1 && max <= permits, "{max} in flight, {permits} permits: {row:?}");
            }
        }
    }
}

#[test]
fn every_policy_accounts_for_every_item_at_capacity_1() {
    let _serial = serial();
    every_policy(&Crossbeam, 1);
    every_policy(&CPthread, 1);
    every_policy(&Ocaml, 1);
}

#[test]
fn every_policy_accounts_for_every_item_at_the_largest_capacity() {
    let _serial = serial();
    // crossbeam would allocate and stamp 2^24 slots up front; these two allocate as they fill.
    every_policy(&CPthread, MAX_CAPACITY);
    every_policy(&RustPort, MAX_CAPACITY);
}

#[test]
fn batches_and_semaphores_at_their_edges() {
    let _serial = serial();
    for (batch, permits, capacity) in [(1, 1, 1), (1, 1, 16), (64, 64, 1), (MAX_CAPACITY, MAX_CAPACITY, 16)] {
        for p in [Policy::NaturalBatch, Policy::Semaphore] {
            let s = StrategySpec {
                run: RunSpec::new(Workload::FanIn, capacity, 2_048),
                policy: p,
                batch,
                permits,
                payload: 8,
            };
            let row = measure_strategy(&Crossbeam, s, 1, LIMIT);
            accounted(&row);
            if p == Policy::Semaphore {
                assert!(row.max_in_flight.unwrap() <= permits as u64, "{row:?}");
            } else {
                assert!(row.mean_batch >= 1.0 && row.mean_batch <= batch as f64, "{row:?}");
            }
        }
    }
}

#[test]
fn a_semaphore_above_its_limit_fails_the_run() {
    let tally = |max| StrategyTally {
        seconds: 0.5,
        cpu: Default::default(),
        produced: 10,
        accepted: 10,
        dropped: 0,
        delivered: 10,
        push: Default::default(),
        pop_calls: 10,
        max_occupancy: Some(4),
        max_in_flight: Some(max),
        latencies_ns: vec![],
        peak_rss_bytes: None,
        peak_live_bytes: Some(100),
        delivery: Ok(()),
    };
    let run = RunSpec::new(Workload::SlowConsumer, 16, 10);
    assert!(StrategyRow::new("x", &run, Policy::Semaphore, None, Some(4), 1, Ok(tally(4))).ok());
    let row = StrategyRow::new("x", &run, Policy::Semaphore, None, Some(4), 1, Ok(tally(5)));
    assert_eq!((row.ok(), row.error.as_str()), (false, "5 items in flight under a semaphore of 4 permits"));
    // The accounting itself: a miscount, and a drop by a policy that never drops.
    let t = StrategyTally { accepted: 9, ..tally(1) };
    assert!(StrategyRow::new("x", &run, Policy::Block, None, None, 1, Ok(t))
        .error
        .contains("accepted 9 + dropped 0 != produced 10"));
    let t = StrategyTally { accepted: 9, dropped: 1, delivered: 9, ..tally(1) };
    assert!(StrategyRow::new("x", &run, Policy::Block, None, None, 1, Ok(t))
        .error
        .contains("dropped by the block policy"));
    // Payload bytes alive above what capacity 16, 2 producers and 1 consumer taking 1 can hold.
    let mut row = StrategyRow::new(
        "x",
        &run,
        Policy::Block,
        None,
        None,
        1,
        Ok(StrategyTally { peak_live_bytes: Some(19 * 8), ..tally(1) }),
    );
    row.check_live_bytes(8, 1);
    assert!(row.ok(), "{row:?}");
    let mut row = StrategyRow::new(
        "x",
        &run,
        Policy::Block,
        None,
        None,
        1,
        Ok(StrategyTally { peak_live_bytes: Some(19 * 8 + 1), ..tally(1) }),
    );
    row.check_live_bytes(8, 1);
    assert!(!row.ok() && row.error.contains("153 payload bytes alive at once, above the 152"), "{row:?}");
}

#[test]
fn the_semaphore_wakes_its_waiters_when_closed() {
    let s = Arc::new(Semaphore::new(1));
    assert!(s.try_acquire() && !s.try_acquire());
    let waiter = {
        let s = s.clone();
        std::thread::spawn(move || s.acquire())
    };
    std::thread::sleep(Duration::from_millis(20));
    s.close();
    assert!(!within("a waiter on a closed semaphore", LIMIT, move || waiter.join().unwrap()).unwrap());
    let s = Semaphore::new(0);
    s.release();
    assert!(s.acquire());
}

/// Every 100th offer is acknowledged and thrown away.
static LOSSY: Rigged =
    Rigged { name: "lossy", try_push: Some(|n, _, _| (n % 100 == 99).then_some(Ok(()))), ..Rigged::CROSSBEAM };
/// Every 3rd offer says full: the drop path, deterministically. Odd ones are enqueued anyway: the
/// drop is a lie the verdict must catch.
static SAYS_FULL: Rigged = Rigged { name: "says-full", try_push: Some(says_full), ..Rigged::CROSSBEAM };
/// The consumer panics at its 100th pop.
static DIES: Rigged = Rigged { name: "dies", pop_panics_at: Some(100), ..Rigged::CROSSBEAM };

fn says_full(n: u64, item: u64, inner: &CrossbeamTx) -> Option<Result<(), QueueError>> {
    if n % 3 != 2 {
        return None;
    }
    if n % 2 == 1 {
        // A copy of the payload, with the same number: the producer frees the one it offered.
        // SAFETY: items are payloads of at least 8 bytes holding their number.
        let number = unsafe { (item as *const u64).read() };
        if let Err(e) = inner.push(bq_engine::measure::payload_item(number, 64)) {
            return Some(Err(e));
        }
    }
    Some(Err(QueueError::Full))
}

#[test]
fn the_checks_bite_on_queues_that_lose_miscount_or_die() {
    let _serial = serial();
    let row = measure_strategy(&LOSSY, spec(Workload::Bursty, 16, Policy::Drop, 2_000), 1, LIMIT);
    assert!(!row.ok() && row.error.contains("accepted items lost"), "{row:?}");

    // Full answers are drops under `drop`: counted, and an item dropped but delivered is caught.
    let row = measure_strategy(&SAYS_FULL, spec(Workload::SlowConsumer, 1024, Policy::Drop, 2_000), 1, LIMIT);
    assert!(!row.ok() && row.error.contains("counted as dropped but delivered"), "{row:?}");
    assert!(row.dropped > 0, "{row:?}");

    // A consumer that dies: producers are not left waiting (queue and semaphore close), the run fails.
    for p in [Policy::Block, Policy::Semaphore, Policy::NaturalBatch, Policy::TimeoutDrop1ms] {
        let row = measure_strategy(&DIES, spec(Workload::FanIn, 4, p, 6_400), 1, LIMIT);
        assert!(!row.ok() && row.error.contains("panicked") && row.error.contains("the consumer died"), "{p}: {row:?}");
    }
}

#[test]
fn the_pipeline_delivers_everything_within_its_bound() {
    let _serial = serial();
    fn each<I: Impl>(imp: &'static I) {
        for v in Variant::ALL {
            for cap in [1, 16] {
                let s = pipeline::sized(pipeline::spec(v, cap, 256), 500);
                let row = PipelineRow::new(imp.name(), &s, 1, run_pipeline(imp, s, LIMIT));
                assert!(row.ok(), "{} {v} cap {cap}: {}", imp.name(), row.error);
                if v == Variant::UnboundedMiddle {
                    assert!(s.middle_capacity >= 500, "{s:?}");
                } else {
                    assert!(row.peak_in_flight <= s.bound(), "{row:?}");
                }
                assert!(row.peak_in_flight >= 1 && row.latency_samples.is_some(), "{row:?}");
                assert!(row.peak_live_bytes >= 256, "{row:?}");
            }
        }
    }
    each(&Crossbeam);
    each(&CPthread);
    each(&Ocaml);
}

fn scratch(name: &str) -> PathBuf {
    common::scratch("strategies", name)
}

#[test]
fn the_command_writes_a_study_that_report_redraws() {
    let dir = scratch("small");
    let out = bqh(&[
        "strategies",
        "--quick",
        "--impl",
        "crossbeam,c-pthread",
        "--capacity",
        "4",
        "--run-ms",
        "2",
        "--reps",
        "1",
        "--budget",
        "5",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("[strategies] 42 configurations (36 policy runs, 6 pipelines)") && err.contains("estimated"),
        "{err}"
    );
    let mut r = csv::Reader::from_path(dir.join(STRATEGIES_CSV)).unwrap();
    let rows: Vec<StrategyRow> = r.deserialize().map(Result::unwrap).collect();
    // 2 implementations x 3 shapes x 6 policies, one repetition each (warm-ups are not rows).
    assert_eq!(rows.len(), 36);
    rows.iter().for_each(accounted);
    let mut r = csv::Reader::from_path(dir.join(PIPELINE_CSV)).unwrap();
    let pipeline: Vec<PipelineRow> = r.deserialize().map(Result::unwrap).collect();
    assert_eq!(pipeline.len(), 6);
    assert!(pipeline.iter().all(PipelineRow::ok), "{pipeline:?}");
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    for needle in [
        "# Backpressure strategies and a pipeline",
        "## Reading",
        "## Policies",
        "### fan-in, capacity 4",
        "| c-pthread | semaphore |",
        "## Pipeline",
        "| crossbeam | unbounded-middle | 4 |",
        "pipeline-in-flight.svg",
        "strategies-delivered-bursty-4.svg",
    ] {
        assert!(summary.contains(needle), "summary lacks {needle}:\n{summary}");
    }
    assert!(!summary.contains("FAILED"), "{summary}");
    assert!(dir.join("strategies-dropped-slow-consumer-4.svg").is_file());
    let redrawn = scratch("redrawn");
    let out = bqh(&["report", dir.to_str().unwrap(), "--out", redrawn.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (a, b) = (files(&dir), files(&redrawn));
    for f in ["summary.md", STRATEGIES_CSV, PIPELINE_CSV, "env.json", "pipeline-throughput.svg"] {
        assert_eq!(a[f], b[f], "{f} differs when redrawn");
    }
}

#[test]
fn bad_input_is_refused_with_exit_2() {
    for (args, says) in [
        (vec!["strategies", "--batch", "0"], "--batch 0: pop_many takes k between 1 and"),
        (vec!["strategies", "--batch", "18446744073709551615"], "pop_many takes k between 1 and"),
        (vec!["strategies", "--policy", "nope"], "invalid value 'nope'"),
        (vec!["strategies", "--policy", "block,"], "a value is required"),
        (vec!["strategies", "--permits", "0"], "--permits 0: choose between 1 and"),
        (vec!["strategies", "--capacity", "0"], "capacities between 1 and"),
        (vec!["strategies", "--capacity", "18446744073709551615"], "capacities between 1 and"),
        (vec!["strategies", "--reps", "0"], "--reps 0: choose between 1 and 1000"),
        (vec!["strategies", "--run-ms", "0"], "--run-ms 0: choose"),
        (vec!["strategies", "--budget", "18446744073709551615"], "choose between 1 and 604800"),
        (vec!["strategies", "--workload", "seq"], "seq runs on one thread"),
        (vec!["strategies", "--impl", "nope"], "invalid value 'nope'"),
        (vec!["strategies", "--no-pipeline", "--no-policies"], "leave nothing to run"),
        (vec!["strategies", "--payload", "7"], "--payload 7: choose between 8"),
        (vec!["strategies", "--payload", "1048577"], "choose between 8"),
        (vec!["strategies", "--payload", "18446744073709551615"], "choose between 8"),
    ] {
        let o = bqh(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says) && !err.contains("panicked"), "{args:?}: {err}");
    }
    let help = bqh(&["strategies", "--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success() && text.contains("timeout-drop-100us") && text.contains("natural-batch"), "{text}");
}
