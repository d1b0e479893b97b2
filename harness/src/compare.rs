//! The comparison run (`make compare`, `bqh compare`): the matrix of implementations, modes,
//! workloads and capacities; for each, a pilot that sizes its runs to a target duration (see
//! `plan.rs`), a discarded warm-up and the measured repetitions; the shutdown probes; then the
//! report in a results folder.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use serde::Serialize;

use crate::driven::run_driven;
use crate::impls::{Builtin, Choice};
use crate::isolated;
use crate::native::{run_native, NativeKind};
use crate::outdir::Claim;
use crate::plan::{self, Shape, Sizing};
use crate::progress::Progress;
use crate::queue::Impl;
use crate::report;
use crate::schema::{Env, Mode, Observation, Row, Study, Verdict};
use crate::shutdown;
use crate::shutdown_native;
use crate::workloads::{RunSpec, Sampling, Workload};

#[derive(Debug, Clone, clap::Args, Serialize)]
pub struct Args {
    /// Implementations to compare, comma-separated: built-in names, or paths to shared libraries
    /// exporting c/bq.h (run in child processes, driven mode) [default: every built-in]
    #[arg(long = "impl", value_delimiter = ',', value_parser = Choice::parse, value_name = "NAME|PATH")]
    pub impls: Vec<Choice>,
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
    /// Target duration of one measured run, in milliseconds; a pilot run measures each
    /// configuration's rate and sizes its runs to it [default: 80; 25 with --quick]
    #[arg(long, value_name = "MS")]
    pub run_ms: Option<u64>,
    /// Measured repetitions of every configuration, after one discarded warm-up; figures are
    /// medians with a 95% interval [default: 9; 5 with --quick]
    #[arg(long)]
    pub reps: Option<u32>,
    /// Time the whole comparison may take, in seconds; a plan that would not fit is shortened
    /// (shorter runs, then fewer repetitions) and says so before it starts [default: 270; 50
    /// with --quick]
    #[arg(long, value_name = "SECONDS")]
    pub budget: Option<u64>,
    /// Modes to run: driven (Rust threads drive every queue), native (each language's own threads)
    #[arg(long = "mode", value_enum, value_delimiter = ',', default_values_t = [ModeChoice::Driven, ModeChoice::Native])]
    pub modes: Vec<ModeChoice>,
    /// The same matrix with shorter runs and fewer repetitions: a first look in under a minute
    #[arg(long)]
    pub quick: bool,
    /// Skip the shutdown probes
    #[arg(long)]
    pub no_shutdown: bool,
    /// Skip the short memory section (1 MiB payloads, capacities 16 and unbounded, glibc; the
    /// full study is `bqh memory`)
    #[arg(long)]
    pub no_memory: bool,
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
    Driven(Choice),
    Native(NativeKind),
}

impl Target {
    pub fn implementation(self) -> String {
        match self {
            Target::Driven(c) => c.name(),
            Target::Native(k) => k.implementation().name().to_string(),
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
            Target::Driven(Choice::Builtin(b)) => crate::with_builtin!(b, |imp| imp.traits().rendezvous),
            Target::Driven(Choice::Plugin(_)) | Target::Native(_) => false, // c/bq.h has no capacity 0
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
        Target::Driven(Choice::Builtin(b)) => crate::with_builtin!(b, |imp| measure_driven(imp, spec, repetition, limit)),
        Target::Driven(Choice::Plugin(path)) => isolated::run(path, spec, repetition, limit),
        Target::Native(k) => Row::new(&target.implementation(), target.mode(), &spec, repetition, run_native(k, spec, limit)),
    }
}

/// What `bqh compare` will do: every (target, spec) pair that can run, in report order, and
/// how each is sized. A spec's `items` is the fixed `--items`, or 0 until its pilot has run.
pub struct Plan {
    pub configs: Vec<(Target, RunSpec)>,
    pub sizing: Sizing,
    pub fixed_items: bool,
    pub budget: Duration,
}

impl Plan {
    pub fn shapes(&self) -> Vec<Shape> {
        self.configs.iter().map(|(_, s)| Shape { threads: threads(s), producers: s.producers, rate: None }).collect()
    }
}

/// Threads a run starts (seq runs on the calling thread).
fn threads(s: &RunSpec) -> u64 {
    if s.workload == Workload::Seq { 1 } else { s.producers + s.consumers }
}

/// The implementations `--impl` and `--plugin` select, built-ins first by default.
pub fn implementations(args: &Args) -> Vec<Choice> {
    let mut v: Vec<Choice> =
        if args.impls.is_empty() { Builtin::ALL.iter().map(|&b| Choice::Builtin(b)).collect() } else { args.impls.clone() };
    v.extend(args.plugins.iter().filter(|p| !v.contains(p)).copied().collect::<Vec<_>>());
    v
}

/// The whole plan, from the command line; refuses bad input.
pub fn plan(args: &Args) -> anyhow::Result<Plan> {
    let impls = implementations(args);
    let workloads = if args.workloads.is_empty() { Workload::ALL.to_vec() } else { args.workloads.clone() };
    let capacities = if args.capacities.is_empty() { vec![0, 1, 16, 1024] } else { args.capacities.clone() };
    let reps = args.reps.unwrap_or(if args.quick { 5 } else { 9 });
    let run_ms = args.run_ms.unwrap_or(if args.quick { 25 } else { 80 });
    let budget = args.budget.unwrap_or(if args.quick { 50 } else { 270 });
    if reps == 0 || reps > 1000 {
        bail!("--reps {reps}: choose between 1 and 1000");
    }
    if let Some(items) = args.items {
        if items == 0 || items > plan::MAX_ITEMS * 5 {
            bail!("--items {items}: choose between 1 and {}", plan::MAX_ITEMS * 5);
        }
    }
    if run_ms == 0 || run_ms > 60_000 {
        bail!("--run-ms {run_ms}: choose between 1 and 60000 (one minute)");
    }
    if budget == 0 || budget > 7 * 24 * 3600 {
        bail!("--budget {budget}: choose between 1 and 604800 seconds (a week)");
    }
    for &c in &capacities {
        if c > crate::queue::MAX_CAPACITY {
            bail!("--capacity {c} is larger than the harness allows ({})", crate::queue::MAX_CAPACITY);
        }
    }
    let mut targets: Vec<Target> = Vec::new();
    for &c in &impls {
        if args.modes.contains(&ModeChoice::Driven) {
            targets.push(Target::Driven(c));
        }
        if let (true, Choice::Builtin(b)) = (args.modes.contains(&ModeChoice::Native), c) {
            // None for the Rust queues: they run natively in driven mode already.
            targets.extend(NativeKind::of(b).iter().map(|&k| Target::Native(k)));
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
            let items = args.items.unwrap_or(plan::min_items(producers));
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
        bail!("nothing to run: no implementation supports this selection (capacity 0 exists only for rust-sync-channel and crossbeam)");
    }
    Ok(Plan {
        configs,
        sizing: Sizing { run: Duration::from_millis(run_ms), reps },
        fixed_items: args.items.is_some(),
        budget: Duration::from_secs(budget),
    })
}

/// Grows a run until it lasts [`plan::PILOT_RUN`]; its rate in items per second. `None` when
/// a run failed (the failure is returned as a row, repetition 0).
fn pilot(target: Target, spec: RunSpec, limit: Duration) -> (Option<f64>, Option<Row>) {
    let mut items = plan::min_items(spec.producers);
    loop {
        let row = measure(target, RunSpec { items, ..spec }, 0, limit);
        if !row.ok() {
            return (None, Some(row));
        }
        let t = row.seconds.max(1e-6);
        if t >= plan::PILOT_RUN.as_secs_f64() || items >= plan::MAX_ITEMS {
            return (Some(row.items as f64 / t), None);
        }
        let grow = (plan::PILOT_RUN.as_secs_f64() * 1.5 / t).clamp(2.0, 100.0);
        items = ((items as f64 * grow) as u64).min(plan::MAX_ITEMS);
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 120.0 { format!("{}m{:02}s", s as u64 / 60, s as u64 % 60) } else { format!("{s:.0} s") }
}

/// Runs a plan: says how it is sized against its budget, runs the pilots, the warm-up and the
/// repetitions, then (with `probes`) the shutdown probes of `impls`. `what` names the command in
/// its progress lines. Shared by `bqh compare` and `bqh scale`.
pub fn execute(
    what: &'static str,
    plan: &mut Plan,
    impls: &[Choice],
    probes: bool,
    limit: Duration,
) -> (Vec<Row>, Vec<Vec<Observation>>) {
    let mut shapes = plan.shapes();
    let (sizing, estimate, said) = plan::fit(&shapes, plan.sizing, impls.len(), probes, plan.budget);
    plan.sizing = sizing;
    let each = if plan.fixed_items {
        format!("1 warm-up and {} measured runs of {} items (--items)", sizing.reps, plan.configs[0].1.items)
    } else {
        format!("a pilot, 1 warm-up and {} measured runs of about {} ms", sizing.reps, sizing.run.as_millis())
    };
    eprintln!(
        "[{what}] {} configurations, each: {each}; estimated {} (budget {})",
        plan.configs.len(),
        secs(estimate),
        secs(plan.budget)
    );
    for s in &said {
        eprintln!("[{what}] to fit the budget: {s}");
    }
    if estimate > plan.budget {
        eprintln!(
            "[{what}] warning: even shortened, the plan needs about {}, more than the budget of {}; choose fewer \
             --impl/--workload/--capacity, or give it --budget {}",
            secs(estimate),
            secs(plan.budget),
            estimate.as_secs() + 1
        );
    }
    // Start the OCaml runtime outside any timed run.
    crate::impls::ocaml::ensure_runtime();
    let mut progress = Progress::new(what, estimate);
    let mut rows = Vec::new();

    // Pilots: each configuration's rate, and from it the items of its runs. A configuration
    // whose pilot failed is not run again: its failure is reported, the rest goes on.
    let mut skip = vec![false; plan.configs.len()];
    // Kept apart, and listed after the measured rows, so that the reports keep the plan's order.
    let mut pilot_failures = Vec::new();
    for (i, (target, spec)) in plan.configs.iter_mut().enumerate() {
        let what = format!("pilot {} {} {} cap {}", target.implementation(), target.mode(), spec.workload, spec.capacity);
        if !plan.fixed_items {
            let (rate, failure) = pilot(*target, *spec, limit);
            if let Some(row) = failure {
                progress.println(format!("FAILED: {what}: {}; its repetitions are skipped", row.error));
                pilot_failures.push(row);
                skip[i] = true;
            }
            shapes[i].rate = rate;
            spec.items = plan::items_for(rate.unwrap_or(f64::NAN), sizing.run, spec.producers);
        }
        progress.step(plan::PILOT_COST, &what);
    }
    if !plan.fixed_items {
        progress.set_total(plan::estimate(&shapes, sizing, impls.len(), probes));
    }

    // Repetitions outermost, so slow drift on a shared machine spreads over every config;
    // repetition 0 is the warm-up, discarded unless it failed. It is a second, longer pilot:
    // the measured runs are sized by the faster of its rate and the pilot's.
    let names: Vec<String> = plan
        .configs
        .iter()
        .map(|(t, s)| format!("{} {} {} cap {}", t.implementation(), t.mode(), s.workload, s.capacity))
        .collect();
    for rep in 0..=sizing.reps {
        for (i, (config, &skipped)) in plan.configs.iter_mut().zip(&skip).enumerate() {
            let (target, spec) = *config;
            if skipped {
                continue;
            }
            let row = measure(target, spec, rep, limit);
            if rep == 0 && row.ok() && !plan.fixed_items {
                // The faster of the two rates seen: a configuration that flips between a fast
                // and a slow regime (two threads on two cores) then runs at least the target
                // in either, instead of a fraction of it in the fast one.
                let rate = row.items_per_second.max(shapes[i].rate.unwrap_or(0.0));
                config.1.items = plan::items_for(rate, sizing.run, spec.producers);
            }
            let expected = Duration::from_secs_f64(if row.seconds.is_finite() { row.seconds } else { 0.0 });
            if !row.ok() {
                progress.println(format!(
                    "FAILED: {} {} {} capacity {} rep {rep}: {}",
                    row.implementation, row.mode, row.workload, row.capacity, row.error
                ));
            }
            if rep > 0 || !row.ok() {
                rows.push(row);
            }
            let next = names.get(i + 1).map_or(String::new(), |n| format!("{n} (rep {rep} of {})", sizing.reps));
            progress.step(expected.max(Duration::from_micros(1)) + plan::THREAD_COST * threads(&spec) as u32, &next);
        }
    }
    let mut shutdown_matrix: Vec<Vec<Observation>> = Vec::new();
    if probes {
        for &c in impls {
            shutdown_matrix.push(match c {
                Choice::Builtin(b) => crate::with_builtin!(b, |imp| shutdown::probe_all(imp)),
                Choice::Plugin(path) => isolated::probes(path, shutdown::PROBE_LIMIT * shutdown::Question::ALL.len() as u32),
            });
            progress.step(plan::PROBES_COST, &format!("shutdown probes: {}", c.name()));
        }
    }
    progress.finish();
    rows.extend(pilot_failures);
    (rows, shutdown_matrix)
}

/// `bqh compare`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let mut plan = plan(args)?;
    // Refused now, not after the run: the folder is checked again before it is replaced.
    let out = Claim::dir(&args.out)?;
    let limit = Duration::from_secs(args.run_limit.max(1));
    let impls = implementations(args);
    let (rows, shutdown_matrix) = execute("compare", &mut plan, &impls, !args.no_shutdown, limit);

    // Each built-in's own API, without the adapter (plugins export c/bq.h: C's answers).
    let native: Vec<_> = if args.no_shutdown {
        Vec::new()
    } else {
        impls.iter().filter_map(|c| if let Choice::Builtin(b) = c { Some(*b) } else { None }).flat_map(shutdown_native::probe_all).collect()
    };
    let (memory_runs, memory_samples) = if args.no_memory {
        (Vec::new(), Vec::new())
    } else {
        crate::memory::study::execute("compare: memory section", &crate::memory::study::compare_section(&impls), limit)
    };

    let env = Env::collect(Study::Compare, serde_json::to_value(args)?);
    out.write_dir(|dir| {
        report::write_all(dir, &env, &rows, &shutdown_matrix)?;
        report::write_native(dir, &native)?;
        report::memory::append_section(dir, &memory_runs, &memory_samples)
    })?;
    let failed = rows.iter().filter(|r| !r.ok()).count() + memory_runs.iter().filter(|r| !r.ok()).count();
    let probe_failures = shutdown_matrix.iter().flatten().filter(|o| o.verdict == Verdict::Failed).count()
        + native.iter().filter(|o| o.verdict == Verdict::Failed).count();
    eprintln!("wrote {}/ (summary.md, runs.csv, env.json, plots)", args.out.display());
    if failed + probe_failures > 0 {
        eprintln!("error: {failed} run(s) and {probe_failures} shutdown probe(s) FAILED; see the top of {}/summary.md", args.out.display());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
