//! tokio beyond the contract suite: its native mode (tasks) delivers every item exactly once in
//! every shape, capacity 0 and the largest capacity are handled without a panic, and the async
//! study (`bqh async`) writes a results folder that `bqh report` redraws as it was. No timing
//! thresholds: only correctness and the files.

use std::path::PathBuf;
use std::time::Duration;

use bq_engine::impls::Tokio;
use bq_engine::native_runners::{run_native, NativeKind};
use bq_engine::watchdog::within;
use bq_engine::workloads::{RunSpec, Workload};
use bq_engine::{Consumer, Impl, NewError, Producer, MAX_CAPACITY};
use bq_results::files::read_csv;

mod common;
use common::{bqh, files};

const LIMIT: Duration = Duration::from_secs(60);

fn scratch(name: &str) -> PathBuf {
    common::scratch("tokio", name)
}

#[test]
fn native_tasks_deliver_every_item_once() {
    let shapes = [
        RunSpec::new(Workload::Seq, 1, 5_000),
        RunSpec::new(Workload::Spsc, 1, 20_000),
        RunSpec::new(Workload::Mpmc, 16, 20_000),
        RunSpec::new(Workload::FanIn, 1024, 20_000),
        RunSpec::new(Workload::SlowConsumer, 16, 2_000),
        RunSpec::new(Workload::Bursty, 16, 2_000),
        // Many more tasks than a run may start threads: 10,000 producers, 2 items each.
        RunSpec { producers: 10_000, ..RunSpec::new(Workload::FanIn, 16, 20_000) },
    ];
    for spec in shapes {
        let tally = run_native(NativeKind::TokioTasks, spec, LIMIT).unwrap_or_else(|e| panic!("{spec:?}: {e:#}"));
        assert_eq!(tally.delivery, Ok(()), "{} with {} producers", spec.workload, spec.producers);
        assert_eq!(tally.push.ops, spec.total_items(), "{}: pushes", spec.workload);
        assert_eq!(tally.pop.ops, spec.total_items(), "{}: pops", spec.workload);
        assert!(
            tally.max_occupancy.is_some_and(|m| m <= spec.capacity),
            "{}: {:?}",
            spec.workload,
            tally.max_occupancy
        );
    }
}

#[test]
fn native_tasks_refuse_what_cannot_run() {
    let zero = RunSpec::new(Workload::Spsc, 0, 100);
    assert!(run_native(NativeKind::TokioTasks, zero, LIMIT)
        .unwrap_err()
        .to_string()
        .contains("capacity must be at least 1"));
    let too_many = RunSpec {
        producers: bq_engine::impls::tokio::native::MAX_TASKS + 1,
        ..RunSpec::new(Workload::FanIn, 16, 1 << 20)
    };
    assert!(run_native(NativeKind::TokioTasks, too_many, LIMIT).is_err());
    // Threads keep their own limit.
    let threads = RunSpec { producers: 2_000, ..RunSpec::new(Workload::FanIn, 16, 1 << 20) };
    assert!(run_native(NativeKind::CPthreads, threads, LIMIT).is_err());
}

#[test]
fn capacity_zero_is_refused_and_the_largest_accepted() {
    within("tokio capacities", LIMIT, || {
        // tokio::sync::mpsc::channel(0) panics; the adapter says so first, by either door.
        for made in [Tokio.bounded(0), Tokio.make(0)] {
            match made {
                Err(e @ NewError::ZeroCapacity { .. }) => assert!(e.to_string().contains("tokio"), "{e}"),
                Err(e) => panic!("capacity 0: {e}"),
                Ok(_) => panic!("capacity 0 accepted"),
            }
        }
        let (tx, rx) = Tokio.bounded(1).unwrap();
        tx.push(1).unwrap();
        assert_eq!(tx.len(), Some(1));
        assert_eq!(rx.len(), Some(1));
        let (tx, rx) = Tokio.bounded(MAX_CAPACITY).unwrap();
        assert_eq!(tx.len(), Some(0));
        tx.push(7).unwrap();
        assert_eq!(rx.pop(), Ok(7));
        assert!(matches!(Tokio.bounded(MAX_CAPACITY + 1), Err(NewError::TooLarge { .. })));
        assert!(matches!(Tokio.bounded(usize::MAX), Err(NewError::TooLarge { .. })));
    })
    .unwrap();
}

#[test]
fn the_async_study_is_written_and_redrawn_as_one() {
    let dir = scratch("async");
    let out = bqh(&[
        "async",
        "--tasks",
        "4,300",
        "--threads",
        "4",
        "--impl",
        "tokio,crossbeam",
        "--capacity",
        "16",
        "--spawn",
        "1,50",
        "--run-ms",
        "2",
        "--reps",
        "1",
        "--budget",
        "20",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = read_csv::<bq_engine::row::Row>(&dir.join("runs.csv")).unwrap();
    // Tasks at 4 and 300 producers, threads at 4 for two implementations, one repetition each.
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.ok()), "{rows:?}");
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    for needle in [
        "# Async: tokio tasks against threads",
        "## Reading",
        "| tokio (native-tasks) |",
        "| crossbeam |",
        "## Starting idle tasks and threads",
        "| threads | 50 | 50 |",
        "async-fan-in-16.svg",
    ] {
        assert!(summary.contains(needle), "summary lacks {needle}:\n{summary}");
    }
    let spawn = std::fs::read_to_string(dir.join("spawn.csv")).unwrap();
    assert_eq!(spawn.lines().count(), 1 + 4, "{spawn}");
    // Redrawn from its files, it is the same study.
    let redrawn = scratch("async-redrawn");
    let out = bqh(&["report", dir.to_str().unwrap(), "--out", redrawn.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(files(&redrawn)["summary.md"], files(&dir)["summary.md"]);
    assert_eq!(files(&redrawn)["spawn.csv"], files(&dir)["spawn.csv"]);
    // Bad input: a clear message, exit 2, nothing run.
    for (args, says) in [
        (&["--tasks", "0"][..], "--tasks 0"),
        (&["--tasks", "100001"], "--tasks 100001"),
        (&["--tasks", "18446744073709551615"], "--tasks 18446744073709551615"),
        (&["--threads", "1025"], "--threads 1025"),
        (&["--spawn", "20001"], "--spawn 20001"),
        (&["--capacity", "0"], "--capacity"),
        (&["--reps", "0"], "--reps"),
        (&["--budget", "0"], "--budget 0"),
    ] {
        let out_dir = scratch("async-refused");
        let mut a = vec!["async"];
        a.extend_from_slice(args);
        a.extend_from_slice(&["--out", out_dir.to_str().unwrap()]);
        let o = bqh(&a);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says) && !err.contains("panicked"), "{args:?}: {err}");
        assert!(!out_dir.exists(), "{args:?}: wrote {}", out_dir.display());
    }
}
