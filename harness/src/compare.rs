//! The comparison run (`make compare`, `bqh compare`): the matrix of implementations, modes,
//! workloads and capacities, repeated; the shutdown probes; then the report in a results folder.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::driven::run_driven;
use crate::impls::Builtin;
use crate::native::{run_native, NativeKind};
use crate::outdir::Claim;
use crate::queue::Impl;
use crate::report;
use crate::schema::{Env, Mode, Observation, Row, Verdict};
use crate::shutdown;
use crate::workloads::{RunSpec, Sampling, Workload};

#[derive(Debug, Clone, clap::Args, Serialize)]
pub struct Args {
    /// Implementations to compare, comma-separated [default: all six]
    #[arg(long = "impl", value_enum, value_delimiter = ',')]
    pub impls: Vec<Builtin>,
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
    /// Items per run, shared by the producers [default: 50000; 10000 with --quick]
    #[arg(long)]
    pub items: Option<u64>,
    /// Repetitions of every configuration; figures are medians [default: 5; 3 with --quick]
    #[arg(long)]
    pub reps: Option<u32>,
    /// Modes to run: driven (Rust threads drive every queue), native (each language's own threads)
    #[arg(long = "mode", value_enum, value_delimiter = ',', default_values_t = [ModeChoice::Driven, ModeChoice::Native])]
    pub modes: Vec<ModeChoice>,
    /// The same matrix with fewer items and repetitions: a first look in about a minute
    #[arg(long)]
    pub quick: bool,
    /// Skip the shutdown probes
    #[arg(long)]
    pub no_shutdown: bool,
    /// Results folder: a new or empty folder, or one bqh wrote before (replaced only when the
    /// run is complete). Any other folder is refused: bqh deletes only what it created
    #[arg(long, default_value = "results/latest")]
    pub out: PathBuf,
    /// Seconds one run may take before it is reported as a hang
    #[arg(long, default_value_t = 120)]
    pub run_limit: u64,
}

/// Which modes `--mode` selects: driven, or every native runner there is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModeChoice {
    Driven,
    Native,
}

/// What runs: an implementation driven from Rust, or a language's native runner.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    Driven(Builtin),
    Native(NativeKind),
}

impl Target {
    pub fn implementation(self) -> Builtin {
        match self {
            Target::Driven(b) => b,
            Target::Native(k) => k.implementation(),
        }
    }

    pub fn mode(self) -> Mode {
        match self {
            Target::Driven(_) => Mode::Driven,
            Target::Native(k) => k.mode(),
        }
    }

    fn rendezvous(self) -> bool {
        match self {
            Target::Driven(b) => crate::with_builtin!(b, |imp| imp.traits().rendezvous),
            Target::Native(_) => false,
        }
    }
}

/// Runs one repetition of `spec` on any implementation driven from Rust: the generic entry
/// that tests use with deliberately broken implementations.
pub fn measure_driven<I: Impl>(imp: &'static I, spec: RunSpec, repetition: u32, limit: Duration) -> Row {
    Row::new(imp.name(), Mode::Driven, &spec, repetition, run_driven(imp, spec, limit))
}

fn measure(target: Target, spec: RunSpec, repetition: u32, limit: Duration) -> Row {
    match target {
        Target::Driven(b) => crate::with_builtin!(b, |imp| measure_driven(imp, spec, repetition, limit)),
        Target::Native(k) => {
            Row::new(target.implementation().name(), target.mode(), &spec, repetition, run_native(k, spec, limit))
        }
    }
}

/// The whole plan: every (target, spec) pair that can run, in report order.
pub fn plan(args: &Args) -> anyhow::Result<(Vec<(Target, RunSpec)>, u32)> {
    let impls = if args.impls.is_empty() { Builtin::ALL.to_vec() } else { args.impls.clone() };
    let workloads = if args.workloads.is_empty() { Workload::ALL.to_vec() } else { args.workloads.clone() };
    let capacities = if args.capacities.is_empty() { vec![0, 1, 16, 1024] } else { args.capacities.clone() };
    let items = args.items.unwrap_or(if args.quick { 10_000 } else { 50_000 });
    let reps = args.reps.unwrap_or(if args.quick { 3 } else { 5 });
    if reps == 0 {
        bail!("--reps must be at least 1");
    }
    if items == 0 || items > 100_000_000 {
        bail!("--items {items}: choose between 1 and 100000000");
    }
    for &c in &capacities {
        if c > crate::queue::MAX_CAPACITY {
            bail!("--capacity {c} is larger than the harness allows ({})", crate::queue::MAX_CAPACITY);
        }
    }
    let mut targets: Vec<Target> = Vec::new();
    for &b in &impls {
        if args.modes.contains(&ModeChoice::Driven) {
            targets.push(Target::Driven(b));
        }
        if args.modes.contains(&ModeChoice::Native) {
            // None for the Rust queues: they run natively in driven mode already.
            targets.extend(NativeKind::of(b).iter().map(|&k| Target::Native(k)));
        }
    }
    let mut plan = Vec::new();
    for &w in &workloads {
        for &capacity in &capacities {
            let (mut producers, mut consumers) = w.threads();
            if w != Workload::Seq {
                producers = args.producers.unwrap_or(producers);
                consumers = args.consumers.unwrap_or(consumers);
            }
            let spec = RunSpec { workload: w, producers, consumers, capacity, items, sampling: Sampling::DEFAULT };
            if w == Workload::Seq && capacity == 0 {
                continue; // seq at capacity 0 cannot exist: one thread cannot meet itself
            }
            spec.check().map_err(|e| anyhow::anyhow!("{w}: {e}"))?;
            for &t in &targets {
                if capacity == 0 && !t.rendezvous() {
                    continue; // no rendezvous mode: the contract suite checks the refusal
                }
                plan.push((t, spec));
            }
        }
    }
    if plan.is_empty() {
        bail!("nothing to run: no implementation supports this selection (capacity 0 exists only for rust-sync-channel and crossbeam)");
    }
    Ok((plan, reps))
}

/// `bqh compare`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let (plan, reps) = plan(args)?;
    // Refused now, not after the run: the folder is checked again before it is replaced.
    let out = Claim::dir(&args.out)?;
    let limit = Duration::from_secs(args.run_limit.max(1));
    let impls = if args.impls.is_empty() { Builtin::ALL.to_vec() } else { args.impls.clone() };
    let total = plan.len() as u64 * reps as u64 + if args.no_shutdown { 0 } else { impls.len() as u64 };
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{elapsed_precise} [{wide_bar}] {pos}/{len} ETA {eta} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    // Start the OCaml runtime outside any timed run.
    crate::impls::ocaml::ensure_runtime();

    // Repetitions outermost, so slow drift on a shared machine spreads over every config.
    let mut rows = Vec::with_capacity(plan.len() * reps as usize);
    for rep in 1..=reps {
        for &(target, spec) in &plan {
            bar.set_message(format!("{} {} {} cap {} (rep {rep})", target.implementation(), target.mode(), spec.workload, spec.capacity));
            let row = measure(target, spec, rep, limit);
            if !row.ok() {
                bar.println(format!(
                    "FAILED: {} {} {} capacity {} rep {rep}: {}",
                    row.implementation, row.mode, row.workload, row.capacity, row.error
                ));
            }
            rows.push(row);
            bar.inc(1);
        }
    }
    let mut shutdown_matrix: Vec<Vec<Observation>> = Vec::new();
    if !args.no_shutdown {
        for &b in &impls {
            bar.set_message(format!("shutdown probes: {b}"));
            shutdown_matrix.push(crate::with_builtin!(b, |imp| shutdown::probe_all(imp)));
            bar.inc(1);
        }
    }
    bar.finish_with_message("done");

    let env = Env::collect(serde_json::to_value(args)?);
    out.write_dir(|dir| report::write_all(dir, &env, &rows, &shutdown_matrix))?;
    let failed = rows.iter().filter(|r| !r.ok()).count();
    let probe_failures = shutdown_matrix.iter().flatten().filter(|o| o.verdict == Verdict::Failed).count();
    eprintln!("wrote {}/ (summary.md, runs.csv, env.json, plots)", args.out.display());
    if failed + probe_failures > 0 {
        eprintln!("error: {failed} run(s) and {probe_failures} shutdown probe(s) FAILED; see the top of {}/summary.md", args.out.display());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
