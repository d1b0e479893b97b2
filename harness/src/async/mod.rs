//! The async study (`bqh async`, `make async`): the fan-in shape (N producers, 1 consumer) with
//! tokio tasks against threads. tokio's native mode (`impls::tokio::native`: producer and
//! consumer tasks on a multi-thread runtime, one worker per core) runs at 64, 1,024 and 10,000
//! producers; threads (tokio's channel driven through its blocking calls, crossbeam, std's
//! channel) run at 64 and 1,024, the most threads a run of the harness starts. What 10,000
//! threads would cost is measured apart: idle threads and idle tasks are started, counted,
//! weighed (address space and resident memory) and joined ([`SpawnCost`], `spawn.csv`).
//! Runs are sized by time and repeated by the engine's scheduler (`schedule.rs`); the report
//! is `report.rs`.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::bail;
use serde::Serialize;

use bq_engine::impls::{tokio::native::MAX_TASKS, Builtin, Choice};
use bq_engine::native_runners::NativeKind;
use bq_engine::schedule::{self, Length, Schedule, Scheduler};
use bq_engine::sizing::Sizing;
use bq_engine::target::{Target, TargetSpec};
use bq_engine::watchdog::within;
use bq_engine::workloads::{RunSpec, Sampling, Workload, MAX_THREADS};
use bq_results::Claim;

use crate::shared_flags::{Defaults, RunArgs};
use crate::study::{self, Study};
use rows::SpawnCost;

pub mod report;
pub mod rows;

crate::study::declare!(
    /// `bqh async`, one of [`crate::STUDIES`].
    Async,
    "async",
    "Fan-in with tokio tasks against threads (up to 10,000 producers), and what each costs to start"
);

/// The most idle tasks or threads the spawn measurement starts (Linux's default `pid_max` is
/// 32,768 threads for the whole machine).
pub const MAX_SPAWN: u64 = 20_000;

/// The shared flags' defaults: `--impl` is the implementations driven by threads.
pub const DEFAULTS: Defaults = Defaults {
    impls: &[Builtin::Tokio, Builtin::Crossbeam, Builtin::RustSyncChannel],
    plugins: false,
    run_ms: [40, 20],
    reps: Some([5, 3]),
    budget: Some([90, 30]),
    out: "results/latest-async",
};

#[derive(Debug, Clone, clap::Args, Serialize)]
#[command(after_help = DEFAULTS.help())]
pub struct Args {
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
    /// Producer tasks of tokio's native runs (1 consumer task), comma-separated
    #[arg(long, value_delimiter = ',', default_values_t = [64, 1024, 10_000])]
    pub tasks: Vec<u64>,
    /// Producer threads of the driven runs (1 consumer thread), comma-separated, at most 1024
    #[arg(long, value_delimiter = ',', default_values_t = [64, 1024])]
    pub threads: Vec<u64>,
    /// Queue capacities, comma-separated
    #[arg(long = "capacity", value_delimiter = ',', default_values_t = [16, 1024])]
    pub capacities: Vec<usize>,
    /// Idle tasks and idle threads to start, weigh and join, comma-separated (0: none)
    #[arg(long, value_delimiter = ',', default_values_t = [64, 1024, 10_000])]
    pub spawn: Vec<u64>,
}

fn check_counts(flag: &str, counts: &[u64], most: u64, empty_ok: bool) -> anyhow::Result<()> {
    if counts.is_empty() && !empty_ok {
        bail!("--{flag}: give at least one count");
    }
    if let Some(n) = counts.iter().find(|&&n| n == 0 || n > most) {
        bail!("--{flag} {n}: choose between 1 and {most}");
    }
    Ok(())
}

/// Every fan-in configuration of the study, in report order: capacity, then tasks, then threads.
/// The study's configurations, how each is sized, and the budget, from the command line;
/// refuses bad input.
pub fn plan(args: &Args) -> anyhow::Result<(Vec<TargetSpec>, Sizing, Duration)> {
    check_counts("tasks", &args.tasks, MAX_TASKS, true)?;
    check_counts("threads", &args.threads, MAX_THREADS, true)?;
    check_counts("spawn", &args.spawn, MAX_SPAWN, true)?;
    args.run.check(&DEFAULTS)?;
    let impls = args.run.builtins(&DEFAULTS)?;
    if args.tasks.is_empty() && args.threads.is_empty() {
        bail!("nothing to run: give --tasks or --threads");
    }
    if args.capacities.is_empty() || args.capacities.iter().any(|&c| c == 0 || c > bq_engine::MAX_CAPACITY) {
        bail!(
            "--capacity: give capacities between 1 and {} (tokio's channel has no capacity 0)",
            bq_engine::MAX_CAPACITY
        );
    }
    let fan_in = |producers, capacity| RunSpec {
        workload: Workload::FanIn,
        producers,
        consumers: 1,
        capacity,
        items: 0,
        sampling: Sampling::DEFAULT,
        placement: Default::default(),
        consumer_work: None,
    };
    let mut configs = Vec::new();
    for &capacity in &args.capacities {
        for &n in &args.tasks {
            configs.push((Target::Native(NativeKind::TokioTasks), fan_in(n, capacity)));
        }
        for &n in &args.threads {
            configs.extend(impls.iter().map(|&b| (Target::Driven(Choice::Builtin(b)), fan_in(n, capacity))));
        }
    }
    let sizing = Sizing { run: Duration::from_millis(args.run.run_ms(&DEFAULTS)?), reps: args.run.reps(&DEFAULTS)? };
    Ok((configs, sizing, args.run.budget(&DEFAULTS)?))
}

/// (VmSize, VmRSS) of this process in MiB, from `/proc/self/status`.
fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmSize:"), field("VmRSS:"))
}

/// Starts `n` idle std threads (default stack), waits until every one runs, weighs the
/// process, then releases and joins them. Stops at the first spawn the system refuses.
fn spawn_threads(n: u64) -> SpawnCost {
    let gate = Arc::new((Mutex::new(false), Condvar::new()));
    let running = Arc::new(AtomicU64::new(0));
    let (vm0, rss0) = memory_mib();
    let t0 = Instant::now();
    let mut handles = Vec::with_capacity(n as usize);
    let mut error = String::new();
    for i in 0..n {
        let (gate, running) = (gate.clone(), running.clone());
        let spawned = thread::Builder::new().spawn(move || {
            running.fetch_add(1, Ordering::SeqCst);
            let (open, cv) = &*gate;
            let mut g = open.lock().unwrap_or_else(PoisonError::into_inner);
            while !*g {
                g = cv.wait(g).unwrap_or_else(PoisonError::into_inner);
            }
        });
        match spawned {
            Ok(h) => handles.push(h),
            Err(e) => {
                error = format!("the system refused thread {} of {n}: {e}", i + 1);
                break;
            }
        }
    }
    let started = handles.len() as u64;
    while running.load(Ordering::SeqCst) < started {
        thread::yield_now();
    }
    let start_ms = t0.elapsed().as_secs_f64() * 1e3;
    let (vm1, rss1) = memory_mib();
    let t1 = Instant::now();
    *gate.0.lock().unwrap_or_else(PoisonError::into_inner) = true;
    gate.1.notify_all();
    handles.into_iter().for_each(|h| h.join().expect("an idle thread cannot panic"));
    let join_ms = t1.elapsed().as_secs_f64() * 1e3;
    SpawnCost {
        kind: "threads".into(),
        wanted: n,
        started,
        start_ms,
        join_ms,
        address_space_mib: vm1 - vm0,
        resident_mib: rss1 - rss0,
        error,
    }
}

/// The same with `n` idle tokio tasks on a multi-thread runtime with one worker per core (the
/// runtime is built before the clock starts, like the threads' process).
fn spawn_tasks(n: u64) -> SpawnCost {
    let workers = thread::available_parallelism().map_or(1, |c| c.get());
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(workers).build() {
        Ok(rt) => rt,
        Err(e) => {
            let error = format!("cannot build a tokio runtime with {workers} workers: {e}");
            return SpawnCost {
                kind: "tasks".into(),
                wanted: n,
                started: 0,
                start_ms: f64::NAN,
                join_ms: f64::NAN,
                address_space_mib: f64::NAN,
                resident_mib: f64::NAN,
                error,
            };
        }
    };
    rt.block_on(async {
        // Closed to release them: every waiting `acquire` then returns at once.
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let running = Arc::new(AtomicU64::new(0));
        let (vm0, rss0) = memory_mib();
        let t0 = Instant::now();
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let (gate, running) = (gate.clone(), running.clone());
                tokio::spawn(async move {
                    running.fetch_add(1, Ordering::SeqCst);
                    let _ = gate.acquire().await;
                })
            })
            .collect();
        while running.load(Ordering::SeqCst) < n {
            tokio::task::yield_now().await;
        }
        let start_ms = t0.elapsed().as_secs_f64() * 1e3;
        let (vm1, rss1) = memory_mib();
        let t1 = Instant::now();
        gate.close();
        for h in handles {
            h.await.expect("an idle task cannot panic");
        }
        let join_ms = t1.elapsed().as_secs_f64() * 1e3;
        SpawnCost {
            kind: "tasks".into(),
            wanted: n,
            started: n,
            start_ms,
            join_ms,
            address_space_mib: vm1 - vm0,
            resident_mib: rss1 - rss0,
            error: String::new(),
        }
    })
}

/// Tasks, then threads, for every count, each under the watchdog.
pub fn spawn_costs(counts: &[u64], limit: Duration) -> Vec<SpawnCost> {
    let mut out = Vec::new();
    for (kind, f) in [("tasks", spawn_tasks as fn(u64) -> SpawnCost), ("threads", spawn_threads)] {
        for &n in counts {
            let what = format!("starting {n} idle {kind}");
            out.push(within(&what, limit, move || f(n)).unwrap_or_else(|e| SpawnCost {
                kind: kind.into(),
                wanted: n,
                started: 0,
                start_ms: f64::NAN,
                join_ms: f64::NAN,
                address_space_mib: f64::NAN,
                resident_mib: f64::NAN,
                error: e.to_string(),
            }));
        }
    }
    out
}

/// `bqh async`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let (configs, wanted, budget) = plan(args)?;
    let out = Claim::dir(&args.run.out(&DEFAULTS))?;
    let limit = args.run.limit()?;
    let mut scheduler = Scheduler::new(Async::NAME, Length::Time(wanted.run), limit);
    let each = |s: Sizing| {
        format!(
            "{} configurations, each: a pilot, 1 warm-up and {} measured runs of about {} ms",
            configs.len(),
            s.reps,
            s.run.as_millis()
        )
    };
    let (sized, _) = scheduler.fit(&schedule::shapes(&configs), wanted, budget, &each, &|x| x.to_string());
    let rows = scheduler.execute(&configs, Schedule::Repetitions(sized.reps));
    scheduler.finish();
    eprintln!("[async] starting idle tasks and threads: {:?}", args.spawn);
    let spawned = spawn_costs(&args.spawn, limit);
    let results = report::Results { env: study::env::<Async>(serde_json::to_value(args)?), rows, spawned };
    out.write_dir(|dir| report::write(dir, &results))?;
    let failed = results.rows.iter().filter(|r| !r.ok()).count();
    Ok(study::finish(out.path(), "summary.md, runs.csv, spawn.csv, env.json, plots", failed, 0))
}
