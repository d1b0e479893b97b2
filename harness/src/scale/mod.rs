//! Thread scaling (`bqh scale`, `make scale`): the cost per item against the number of threads,
//! for the fan-in shape (N producers, 1 consumer) and the mpmc shape (N producers, N consumers),
//! N = 1, 2, 4, ... up to `--max-threads`, at each capacity, for every implementation. Runs are
//! paired with the reference as in `bqh compare` (the engine's `paired::measure_pairs`), so each
//! point also has a ratio with its interval; the report is `report.rs`. More threads than cores is the point: how each design behaves when the
//! threads outnumber the cores is what this shows.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use serde::Serialize;

use bq_engine::impls::Choice;
use bq_engine::paired::{self, Plan, References};
use bq_engine::target::Target;
use bq_engine::workloads::{RunSpec, Sampling, Workload};
use bq_results::Claim;

use crate::shared_flags::{Defaults, ModeChoice, RunArgs};
use crate::study::{self, Study};

pub mod report;

crate::study::declare!(
    /// `bqh scale`, one of [`crate::STUDIES`].
    Scale,
    "scale",
    "Thread scaling: cost per item against the number of threads, fan-in and mpmc"
);

/// The shapes the study scales.
pub const SHAPES: [Workload; 2] = [Workload::FanIn, Workload::Mpmc];

/// The shared flags' defaults.
pub const DEFAULTS: Defaults = Defaults {
    impls: &[],
    plugins: false,
    run_ms: [20, 10],
    reps: Some([4, 3]),
    budget: Some([240, 60]),
    out: "results/latest-scale",
};

#[derive(Debug, Clone, clap::Args, Serialize)]
#[command(after_help = DEFAULTS.help())]
pub struct Args {
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
    /// The implementation every other is compared with, in pairs (a built-in)
    #[arg(long, value_parser = Choice::parse, value_name = "NAME", default_value = "crossbeam")]
    pub reference: Choice,
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
    args.run.check(&DEFAULTS)?;
    let impls = args.run.builtins(&DEFAULTS)?;
    let Choice::Builtin(_) = args.reference else {
        bail!("--reference {}: this study runs built-ins only", args.reference.name());
    };
    let reference = Target::Driven(args.reference);
    let mut targets = vec![reference];
    for &b in &impls {
        if args.modes.contains(&ModeChoice::Driven) && Target::Driven(Choice::Builtin(b)) != reference {
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
                let spec = RunSpec {
                    workload: w,
                    producers: n,
                    consumers,
                    capacity,
                    items: 0,
                    sampling: Sampling::PLAIN,
                    placement: Default::default(),
                    consumer_work: None,
                };
                let fits = |t: &Target| match t {
                    Target::Native(k) | Target::ModuleNative(_, k) => n + consumers <= k.max_threads(),
                    Target::Driven(_) => true,
                };
                configs.extend(targets.iter().filter(|t| fits(t)).map(|&t| (t, spec)));
            }
        }
    }
    if configs.iter().all(|(t, _)| *t == reference) && targets.len() > 1 || configs.is_empty() {
        bail!("nothing to run: no implementation has the selected --mode");
    }
    Ok(Plan {
        references: References::all(reference),
        cells: configs,
        run: Duration::from_millis(args.run.run_ms(&DEFAULTS)?),
        first_pairs: args.run.reps(&DEFAULTS)?,
        goal: 0.05,
        budget: args.run.budget(&DEFAULTS)?,
        fixed_items: None,
    })
}

/// `bqh scale`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let mut plan = plan(args)?;
    let out = Claim::dir(&args.run.out(&DEFAULTS))?;
    let rows = paired::measure_pairs(Scale::NAME, &mut plan, args.run.limit()?).rows;
    let results = report::Results { env: study::env::<Scale>(serde_json::to_value(args)?), rows };
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
