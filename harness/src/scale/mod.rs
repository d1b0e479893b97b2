//! Thread scaling (`bqh scale`, `make scale`): the cost per item against the number of threads,
//! for the fan-in shape (N producers, 1 consumer) and the mpmc shape (N producers, N consumers),
//! N = 1, 2, 4, ... up to `--max-threads`, at each capacity, for every implementation. Runs are
//! sized and repeated as in `bqh compare` (the engine's `plan::execute`); the report is
//! `report.rs`. More threads than cores is the point: how each design behaves when the
//! threads outnumber the cores is what this shows.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use serde::Serialize;

use bq_engine::impls::{Builtin, Choice};
use bq_engine::plan::{execute, Plan, Target};
use bq_engine::sizing::Sizing;
use bq_engine::workloads::{RunSpec, Sampling, Workload};
use bq_results::Claim;

use crate::run_args::ModeChoice;
use crate::study::{self, Study};

pub mod report;
pub mod rows;

/// The shapes the study scales.
pub const SHAPES: [Workload; 2] = [Workload::FanIn, Workload::Mpmc];

#[derive(Debug, Clone, clap::Args, Serialize)]
pub struct Args {
    /// Implementations, comma-separated [default: all]
    #[arg(long = "impl", value_enum, value_delimiter = ',')]
    pub impls: Vec<Builtin>,
    /// Queue capacities, comma-separated
    #[arg(long = "capacity", value_delimiter = ',', default_values_t = [16, 1024])]
    pub capacities: Vec<usize>,
    /// Largest number of producers (fan-in) and of producers and of consumers each (mpmc):
    /// the study runs 1, 2, 4, ... up to it
    #[arg(long, default_value_t = 256)]
    pub max_threads: u64,
    /// Modes to run: driven (Rust threads drive every queue), native (each language's own threads)
    #[arg(long = "mode", value_enum, value_delimiter = ',', default_values_t = [ModeChoice::Driven, ModeChoice::Native])]
    pub modes: Vec<ModeChoice>,
    /// Target duration of one measured run, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 40)]
    pub run_ms: u64,
    /// Measured repetitions of every configuration, after one discarded warm-up
    #[arg(long, default_value_t = 3)]
    pub reps: u32,
    /// Time the whole study may take, in seconds (shortened to fit, and said so, as in compare)
    #[arg(long, value_name = "SECONDS", default_value_t = 240)]
    pub budget: u64,
    /// Results folder: a new or empty folder, or one bqh wrote before
    #[arg(long, default_value = "results/latest-scale")]
    pub out: PathBuf,
    /// Seconds one run may take before it is reported as a hang
    #[arg(long, default_value_t = 120)]
    pub run_limit: u64,
}

/// 1, 2, 4, ... up to `max`.
pub fn thread_counts(max: u64) -> Vec<u64> {
    std::iter::successors(Some(1u64), |n| n.checked_mul(2)).take_while(|&n| n <= max).collect()
}

/// Every configuration of the study, in report order: shape, capacity, thread count, target.
pub fn plan(args: &Args) -> anyhow::Result<Plan> {
    if args.max_threads == 0 || args.max_threads > 512 {
        bail!("--max-threads {}: choose between 1 and 512 (mpmc runs twice as many threads)", args.max_threads);
    }
    if args.capacities.is_empty() || args.capacities.iter().any(|&c| c == 0 || c > bq_engine::MAX_CAPACITY) {
        bail!("--capacity: give capacities between 1 and {}", bq_engine::MAX_CAPACITY);
    }
    if args.reps == 0 || args.reps > 1000 || args.run_ms == 0 || args.run_ms > 60_000 {
        bail!("--reps takes 1 to 1000 and --run-ms 1 to 60000");
    }
    if args.budget == 0 || args.budget > 7 * 24 * 3600 {
        bail!("--budget {}: choose between 1 and 604800 seconds (a week)", args.budget);
    }
    let impls = if args.impls.is_empty() { Builtin::ALL.to_vec() } else { args.impls.clone() };
    let mut targets = Vec::new();
    for &b in &impls {
        if args.modes.contains(&ModeChoice::Driven) {
            targets.push(Target::Driven(Choice::Builtin(b)));
        }
        if args.modes.contains(&ModeChoice::Native) {
            targets.extend(b.native_runners().iter().map(|&k| Target::Native(k)));
        }
    }
    let mut configs = Vec::new();
    for w in SHAPES {
        for &capacity in &args.capacities {
            for n in thread_counts(args.max_threads) {
                let consumers = if w == Workload::Mpmc { n } else { 1 };
                let spec = RunSpec { workload: w, producers: n, consumers, capacity, items: 0, sampling: Sampling::DEFAULT };
                let fits = |t: &Target| match t {
                    Target::Native(k) => n + consumers <= k.max_threads(),
                    Target::Driven(_) => true,
                };
                configs.extend(targets.iter().filter(|t| fits(t)).map(|&t| (t, spec)));
            }
        }
    }
    if configs.is_empty() {
        bail!("nothing to run: no implementation has the selected --mode");
    }
    Ok(Plan {
        configs,
        sizing: Sizing { run: Duration::from_millis(args.run_ms), reps: args.reps },
        fixed_items: false,
        budget: Duration::from_secs(args.budget),
    })
}

/// `bqh scale`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let mut plan = plan(args)?;
    let out = Claim::dir(&args.out)?;
    let (rows, _) = execute("scale", &mut plan, &[], false, Duration::from_secs(args.run_limit.max(1)));
    let results = report::Results { env: study::env(Study::Scale, serde_json::to_value(args)?), rows };
    out.write_dir(|dir| report::write(dir, &results))?;
    let failed = results.rows.iter().filter(|r| !r.ok()).count();
    Ok(study::finish(out.path(), "summary.md, runs.csv, env.json, plots", failed, 0))
}

#[cfg(test)]
mod tests {
    use super::thread_counts;

    #[test]
    fn thread_counts_are_powers_of_two_up_to_the_limit() {
        assert_eq!(thread_counts(1), [1]);
        assert_eq!(thread_counts(6), [1, 2, 4]);
        assert_eq!(thread_counts(256).len(), 9);
        assert_eq!(thread_counts(u64::MAX).len(), 64);
        assert!(thread_counts(0).is_empty());
    }
}
