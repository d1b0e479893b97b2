//! The comparison (`make compare`, `bqh compare`): the matrix of implementations, modes,
//! workloads and capacities, as a plan the engine runs (`bq_engine::plan`: for each
//! configuration a pilot that sizes its runs to a target duration, a discarded warm-up and the
//! measured repetitions); the shutdown probes; the short memory section; then the report
//! (`report.rs`) in a results folder.

mod plots;
pub mod report;
pub mod rows;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use serde::Serialize;

use bq_engine::impls::{Builtin, Choice};
use bq_engine::isolated;
use bq_engine::plan::{execute, Plan, Target};
use bq_engine::shutdown::{native, Verdict};
use bq_engine::sizing::{self, Sizing};
use bq_engine::workloads::{RunSpec, Sampling, Workload};
use bq_results::Claim;

use crate::memory;
use crate::run_args::{Defaults, ModeChoice, RunArgs};
use crate::study::{self, Study};

/// The shared flags' defaults: `--quick` is a first look in under a minute.
pub const DEFAULTS: Defaults = Defaults {
    impls: &[],
    plugins: true,
    run_ms: [80, 25],
    reps: Some([9, 5]),
    budget: Some([270, 50]),
    out: "results/latest",
};

#[derive(Debug, Clone, clap::Args, Serialize)]
#[command(after_help = DEFAULTS.help())]
pub struct Args {
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
    /// Shared libraries exporting c/bq.h to compare beside the implementations of --impl
    /// (`make compare PLUGIN=path`)
    #[arg(long = "plugin", value_delimiter = ',', value_parser = Choice::parse, value_name = "PATH")]
    pub plugins: Vec<Choice>,
    /// Workloads to run, comma-separated [default: all]
    #[arg(long = "workload", value_enum, value_delimiter = ',')]
    pub workloads: Vec<Workload>,
    /// Queue capacities, comma-separated [default: 0,1,16,1024; 0 only where rendezvous exists]
    #[arg(long = "capacity", value_delimiter = ',')]
    pub capacities: Vec<usize>,
    /// Producer threads, overriding each workload's own number (seq always uses 1)
    #[arg(long)]
    pub producers: Option<u64>,
    /// Consumer threads, overriding each workload's own number (seq always uses 1)
    #[arg(long)]
    pub consumers: Option<u64>,
    /// Items per run, shared by the producers, the same for every configuration [default: sized
    /// per configuration so that each run lasts about --run-ms]
    #[arg(long)]
    pub items: Option<u64>,
    /// Modes to run: driven (Rust threads drive every queue), native (each language's own threads)
    #[arg(long = "mode", value_enum, value_delimiter = ',', default_values_t = [ModeChoice::Driven, ModeChoice::Native])]
    pub modes: Vec<ModeChoice>,
    /// Skip the shutdown probes
    #[arg(long)]
    pub no_shutdown: bool,
    /// Skip the short memory section (1 MiB payloads, capacities 16 and unbounded, glibc; the
    /// full study is `bqh memory`)
    #[arg(long)]
    pub no_memory: bool,
}

/// The implementations `--impl` and `--plugin` select, built-ins first by default.
pub fn implementations(args: &Args) -> anyhow::Result<Vec<Choice>> {
    let mut v = args.run.choices(&DEFAULTS)?;
    v.extend(args.plugins.iter().filter(|p| !v.contains(p)).copied().collect::<Vec<_>>());
    Ok(v)
}

/// The whole plan, from the command line; refuses bad input.
pub fn plan(args: &Args) -> anyhow::Result<Plan> {
    args.run.check(&DEFAULTS)?;
    let impls = implementations(args)?;
    let workloads = if args.workloads.is_empty() { Workload::ALL.to_vec() } else { args.workloads.clone() };
    let capacities = if args.capacities.is_empty() { vec![0, 1, 16, 1024] } else { args.capacities.clone() };
    let (reps, run_ms, budget) = (args.run.reps(&DEFAULTS)?, args.run.run_ms(&DEFAULTS)?, args.run.budget(&DEFAULTS)?);
    if let Some(items) = args.items {
        if items == 0 || items > sizing::MAX_ITEMS * 5 {
            bail!("--items {items}: choose between 1 and {}", sizing::MAX_ITEMS * 5);
        }
    }
    for &c in &capacities {
        if c > bq_engine::MAX_CAPACITY {
            bail!("--capacity {c} is larger than the harness allows ({})", bq_engine::MAX_CAPACITY);
        }
    }
    let mut targets: Vec<Target> = Vec::new();
    for &c in &impls {
        if args.modes.contains(&ModeChoice::Driven) {
            targets.push(Target::Driven(c));
        }
        if let (true, Choice::Builtin(b)) = (args.modes.contains(&ModeChoice::Native), c) {
            // None for the Rust queues: they run natively in driven mode already.
            targets.extend(b.native_runners().iter().map(|&k| Target::Native(k)));
        }
    }
    let mut configs = Vec::new();
    for &w in &workloads {
        for &capacity in &capacities {
            let (mut producers, mut consumers) = w.threads();
            if w != Workload::Seq {
                producers = args.producers.unwrap_or(producers);
                consumers = args.consumers.unwrap_or(consumers);
            }
            if w == Workload::Seq && capacity == 0 {
                continue; // seq at capacity 0 cannot exist: one thread cannot meet itself
            }
            // Checked with the smallest item count a pilot may use, and with --items if fixed.
            let items = args.items.unwrap_or(sizing::min_items(producers));
            let spec = RunSpec { workload: w, producers, consumers, capacity, items, sampling: Sampling::DEFAULT };
            spec.check().map_err(|e| anyhow::anyhow!("{w}: {e}"))?;
            let spec = RunSpec { items: args.items.unwrap_or(0), ..spec };
            for &t in &targets {
                if capacity == 0 && !t.rendezvous() {
                    continue; // no rendezvous mode: the contract suite checks the refusal
                }
                if w.pop_many_max().is_some() && matches!(t, Target::Native(_)) {
                    continue; // the native runners pop one item at a time
                }
                configs.push((t, spec));
            }
        }
    }
    if configs.is_empty() {
        // Say which part of the selection left nothing, rather than guess.
        if targets.is_empty() {
            let native: Vec<&str> =
                Builtin::ALL.iter().filter(|b| !b.native_runners().is_empty()).map(|b| b.name()).collect();
            bail!(
                "nothing to run: only {} have native runners (plugins and the Rust queues run in driven mode \
                 only); add --mode driven, or choose one of them",
                native.join(", ")
            );
        }
        if capacities.iter().all(|&c| c == 0) {
            bail!("nothing to run: capacity 0 exists only for rust-sync-channel and crossbeam");
        }
        bail!("nothing to run: no implementation supports this selection of workloads, capacities and modes");
    }
    Ok(Plan {
        configs,
        sizing: Sizing { run: Duration::from_millis(run_ms), reps },
        fixed_items: args.items.is_some(),
        budget,
    })
}

/// `bqh compare`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let mut plan = plan(args)?;
    // Refused now, not after the run: the folder is checked again before it is replaced.
    let out = Claim::dir(&args.run.out(&DEFAULTS))?;
    let limit = args.run.limit()?;
    let impls = implementations(args)?;
    // A plugin that does not load is an input error, said before any run (in a child process,
    // under a deadline: a library that crashes or hangs while loading cannot take bqh with it).
    for c in &impls {
        if let Choice::Plugin(path) = c {
            eprintln!("[compare] loading {}", path.display());
            isolated::check_loads(path)?;
        }
    }
    let (rows, shutdown) = execute("compare", &mut plan, &impls, !args.no_shutdown, limit);

    // Each built-in's own API, without the adapter (plugins export c/bq.h: C's answers).
    let native: Vec<_> = if args.no_shutdown {
        Vec::new()
    } else {
        impls.iter().filter_map(|c| if let Choice::Builtin(b) = c { Some(*b) } else { None }).flat_map(native::probe_all).collect()
    };
    let memory = if args.no_memory {
        None
    } else {
        let (runs, samples) = memory::execute("compare: memory section", &memory::compare_section(&impls), limit);
        Some(memory::report::Section { runs, samples })
    };

    let results = report::Results { env: study::env(Study::Compare, serde_json::to_value(args)?), rows, shutdown, native, memory };
    out.write_dir(|dir| report::write(dir, &results))?;
    let failed = results.rows.iter().filter(|r| !r.ok()).count()
        + results.memory.as_ref().map_or(0, |m| m.runs.iter().filter(|r| !r.ok()).count());
    let probe_failures = results.shutdown.iter().flatten().filter(|o| o.verdict == Verdict::Failed).count()
        + results.native.iter().filter(|o| o.verdict == Verdict::Failed).count();
    Ok(study::finish(out.path(), "summary.md, runs.csv, env.json, plots", failed, probe_failures))
}
