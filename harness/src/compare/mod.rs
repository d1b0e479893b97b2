//! The comparison (`make compare`, `bqh compare`): the matrix of implementations, modes,
//! workloads, capacities and placements, as a paired plan the engine runs
//! (`bq_engine::paired`: every implementation in short slices, each next to a slice of the
//! reference, for a ratio with its interval; the reference against itself as the A/A control);
//! the shutdown probes; the short memory section; then the report (`report.rs`) in a results
//! folder.

mod forest;
mod json;
mod observations;
mod plots;
pub mod report;
mod verdict;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use serde::Serialize;

use bq_engine::impls::{Builtin, Choice};
use bq_engine::isolated;
use bq_engine::native_runners::NativeKind;
use bq_engine::paired::{self, Plan, References};
use bq_engine::placement::Placement;
use bq_engine::shutdown::{own_api, Verdict};
use bq_engine::sizing;
use bq_engine::target::Target;
use bq_engine::workloads::{RunSpec, Sampling, Workload};
use bq_results::Claim;

use crate::memory;
use crate::shared_flags::{Defaults, ModeChoice, RunArgs};
use crate::study::{self, Study};

crate::study::declare!(
    /// `bqh compare`, one of [`crate::STUDIES`].
    Compare,
    "compare",
    "Run the comparison (throughput, blocking, latency, shutdown) and write a results folder"
);

/// The shared flags' defaults: `--quick` is a first look in under a minute.
pub const DEFAULTS: Defaults = Defaults {
    impls: &[],
    plugins: true,
    run_ms: [10, 10],
    reps: Some([6, 3]),
    budget: Some([240, 30]),
    out: "results/latest",
};

#[derive(Debug, Clone, clap::Args, Serialize)]
#[command(after_help = DEFAULTS.help())]
pub struct Args {
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
    /// The implementation every other is compared with, in pairs, in every placement: a
    /// built-in name, a plugin (.so) or an OCaml module (.ml) [default: per placement, the one
    /// whose slices spread least there: crossbeam same-core, rust-sync-channel cross-core and
    /// unpinned, where crossbeam's slices flip between spinning and parking; both run every
    /// configuration, capacity 0 included]
    #[arg(long, value_parser = Choice::parse, value_name = "NAME|PATH")]
    pub reference: Option<Choice>,
    /// Where threads run, comma-separated: same-core (every thread on one CPU), cross-core
    /// (producers on one CPU, consumers on another), unpinned (where the scheduler puts them)
    /// [default: same-core and cross-core; seq, one thread, same-core]
    #[arg(long = "placement", value_enum, value_delimiter = ',')]
    pub placements: Vec<Placement>,
    /// Busy work a consumer does per item, in nanoseconds, comma-separated: each value is a
    /// configuration of its own (0 to 1000000) [default: the workload's own: 1000 in
    /// slow-consumer, 0 elsewhere]
    #[arg(long = "consumer-work", value_delimiter = ',', value_name = "NS")]
    pub consumer_work: Vec<u64>,
    /// Add pairs to a configuration until its ratio's 95% interval is within ±GOAL percent,
    /// while the budget lasts (0.1 to 100)
    #[arg(long, value_name = "PERCENT", default_value_t = 3.0)]
    pub goal: f64,
    /// Shared libraries exporting c/bq.h to compare beside the implementations of --impl
    /// (`make compare PLUGIN=path`)
    #[arg(long = "plugin", value_delimiter = ',', value_parser = Choice::parse, value_name = "PATH")]
    pub plugins: Vec<Choice>,
    /// Workloads to run, comma-separated [default: all]
    #[arg(long = "workload", value_enum, value_delimiter = ',')]
    pub workloads: Vec<Workload>,
    /// Queue capacities, comma-separated; 0 is a rendezvous (rust-sync-channel and crossbeam
    /// only) [default: 1,16,1024: a hand-off per item, a small buffer, a large one; 16 with
    /// --quick]
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

/// The default references, per placement: see `--reference` and `docs/measurement.md`.
pub const REFERENCES: [(Placement, Builtin); 3] = [
    (Placement::SameCore, Builtin::Crossbeam),
    (Placement::CrossCore, Builtin::RustSyncChannel),
    (Placement::Unpinned, Builtin::RustSyncChannel),
];

/// The reference of each placement: `--reference` for all, or the defaults.
pub fn references(args: &Args) -> References {
    match args.reference {
        Some(c) => References::all(Target::Driven(c)),
        None => {
            let of = |p: Placement| {
                let b = REFERENCES.iter().find(|(q, _)| *q == p).map(|(_, b)| *b).expect("every placement has one");
                Target::Driven(Choice::Builtin(b))
            };
            References {
                same_core: of(Placement::SameCore),
                cross_core: of(Placement::CrossCore),
                unpinned: of(Placement::Unpinned),
            }
        }
    }
}

/// The implementations `--impl` and `--plugin` select, built-ins first by default, and the
/// references after them if they do not name them.
pub fn implementations(args: &Args) -> anyhow::Result<Vec<Choice>> {
    let mut v = args.run.choices(&DEFAULTS)?;
    v.extend(args.plugins.iter().filter(|p| !v.contains(p)).copied().collect::<Vec<_>>());
    for t in reference_targets(args) {
        if let Target::Driven(c) = t {
            if !v.contains(&c) {
                v.push(c);
            }
        }
    }
    Ok(v)
}

/// The placements of a workload: `--placement`, or by default every thread on one CPU and
/// producers and consumers on CPUs of their own: the two placements whose figures repeat.
/// Unpinned runs flip between the two from one slice to the next (their A/A interval was
/// ±77-113% on the 2-core machine of docs/measurement.md), so they are asked for by name.
fn placements(args: &Args, w: Workload) -> Vec<Placement> {
    // seq is one thread: nothing to place apart.
    run_placements(args).into_iter().filter(|&p| !(w == Workload::Seq && p == Placement::CrossCore)).collect()
}

/// Every placement the run uses: `--placement`, or same-core and cross-core.
fn run_placements(args: &Args) -> Vec<Placement> {
    if args.placements.is_empty() {
        vec![Placement::SameCore, Placement::CrossCore]
    } else {
        args.placements.clone()
    }
}

/// The references of the placements the run uses, each once.
fn reference_targets(args: &Args) -> Vec<Target> {
    let refs = references(args);
    let mut out: Vec<Target> = Vec::new();
    for t in run_placements(args).into_iter().map(|p| refs.of(p)) {
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// Why `t` does not run `spec`, if it does not.
fn unsupported(t: Target, spec: &RunSpec) -> Option<String> {
    let threads = spec.producers + spec.consumers;
    match t {
        _ if spec.capacity == 0 && !t.rendezvous() => Some(String::new()), // the contract suite checks the refusal
        Target::Native(_) if spec.workload.pop_many_max().is_some() => Some(String::new()), // native runners pop one at a time
        Target::Native(NativeKind::TokioTasks) if spec.placement == Placement::CrossCore => {
            Some("tokio (native-tasks) has no cross-core runs: tasks move between the runtime's workers".into())
        }
        Target::ModuleNative(..) if spec.workload.pop_many_max().is_some() => Some(String::new()),
        Target::Native(NativeKind::OcamlDomains) | Target::ModuleNative(_, NativeKind::OcamlDomains)
            if spec.workload != Workload::Seq
                && threads as usize > bq_engine::impls::ocaml::native::recommended_domains() =>
        {
            Some(format!(
                "{} ({}) skips {} ({} domains): more than Domain.recommended_domain_count ({} here), OCaml's advice \
                 for domains running at once",
                t.implementation(),
                t.mode(),
                spec.workload,
                threads,
                bq_engine::impls::ocaml::native::recommended_domains()
            ))
        }
        _ => None,
    }
}

/// The whole plan, from the command line, and what it leaves out and why; refuses bad input.
pub fn plan(args: &Args) -> anyhow::Result<(Plan, Vec<String>)> {
    args.run.check(&DEFAULTS)?;
    let impls = implementations(args)?;
    let workloads = if args.workloads.is_empty() { Workload::ALL.to_vec() } else { args.workloads.clone() };
    // --quick: one capacity, so that every workload and placement still gets its pairs.
    let capacities = match (args.capacities.is_empty(), args.run.quick) {
        (false, _) => args.capacities.clone(),
        (true, false) => vec![1, 16, 1024],
        (true, true) => vec![16],
    };
    let (first_pairs, run_ms, budget) =
        (args.run.reps(&DEFAULTS)?, args.run.run_ms(&DEFAULTS)?, args.run.budget(&DEFAULTS)?);
    if !(args.goal >= 0.1 && args.goal <= 100.0) {
        bail!("--goal {}: choose a half-width between 0.1 and 100 percent", args.goal);
    }
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
    for p in &args.placements {
        p.check().map_err(|e| anyhow::anyhow!("--placement {e}"))?;
    }
    for &ns in &args.consumer_work {
        if ns > bq_engine::workloads::MAX_CONSUMER_WORK_NS {
            bail!(
                "--consumer-work {ns}: choose between 0 and {} ns (1 ms)",
                bq_engine::workloads::MAX_CONSUMER_WORK_NS
            );
        }
    }
    let refs = references(args);
    let mut targets = reference_targets(args);
    let reference_targets = targets.clone();
    let is_reference = |t: Target| reference_targets.contains(&t);
    for &c in &impls {
        if args.modes.contains(&ModeChoice::Driven) && !is_reference(Target::Driven(c)) {
            targets.push(Target::Driven(c));
        }
        match (args.modes.contains(&ModeChoice::Native), c) {
            // None for the Rust queues: they run natively in driven mode already.
            (true, Choice::Builtin(b)) => targets.extend(b.native_runners().iter().map(|&k| Target::Native(k))),
            // A user's OCaml module runs on its own domains and systhreads, as the bundled one.
            (true, Choice::Plugin(p)) if bq_engine::impls::ocaml_module::is_source(p) => targets
                .extend([NativeKind::OcamlDomains, NativeKind::OcamlSysthreads].map(|k| Target::ModuleNative(p, k))),
            _ => {}
        }
    }
    if targets.iter().all(|&t| is_reference(t)) && !args.modes.contains(&ModeChoice::Driven) {
        let native: Vec<&str> =
            Builtin::ALL.iter().filter(|b| !b.native_runners().is_empty()).map(|b| b.name()).collect();
        bail!(
            "nothing to run: only {} have native runners (plugins and the Rust queues run in driven mode only); add \
             --mode driven, or choose one of them",
            native.join(", ")
        );
    }
    let mut cells = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    let works: Vec<Option<u64>> =
        if args.consumer_work.is_empty() { vec![None] } else { args.consumer_work.iter().map(|&n| Some(n)).collect() };
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
            for placement in placements(args, w) {
                let reference = refs.of(placement);
                if capacity == 0 && !reference.rendezvous() {
                    skipped.push(format!(
                        "{w} at capacity 0 {placement}: the reference {} has no rendezvous",
                        reference.implementation()
                    ));
                    continue;
                }
                for &consumer_work in &works {
                    // Checked with the smallest item count a pilot may use, and with --items if fixed.
                    let items = args.items.unwrap_or(sizing::min_items(producers));
                    let spec = RunSpec {
                        workload: w,
                        producers,
                        consumers,
                        capacity,
                        items,
                        sampling: Sampling::PLAIN,
                        placement,
                        consumer_work,
                    };
                    spec.check().map_err(|e| anyhow::anyhow!("{w}: {e}"))?;
                    let spec = RunSpec { items: args.items.unwrap_or(0), ..spec };
                    for &t in &targets {
                        match unsupported(t, &spec) {
                            None => cells.push((t, spec)),
                            Some(why) if why.is_empty() || skipped.contains(&why) => {}
                            Some(why) => skipped.push(why),
                        }
                    }
                }
            }
        }
    }
    for s in &skipped {
        eprintln!("[compare] skipped: {s}");
    }
    // Only the references' own A/A cells: nothing is compared.
    if cells.iter().all(|(t, _)| is_reference(*t)) && targets.iter().any(|&t| !is_reference(t)) || cells.is_empty() {
        if capacities.iter().all(|&c| c == 0) {
            bail!("nothing to run: capacity 0 exists only for rust-sync-channel and crossbeam");
        }
        bail!("nothing to run: no implementation supports this selection of workloads, capacities and modes");
    }
    let plan = Plan {
        references: refs,
        cells,
        run: Duration::from_millis(run_ms),
        first_pairs,
        goal: args.goal / 100.0,
        budget,
        fixed_items: args.items,
    };
    Ok((plan, skipped))
}

/// `bqh compare`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let (mut plan, skipped) = plan(args)?;
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
    let outcome = paired::measure_pairs(Compare::NAME, &mut plan, limit);
    let shutdown = if args.no_shutdown { Vec::new() } else { probes(&impls) };

    // Each built-in's own API, without the adapter (plugins export c/bq.h: C's answers).
    let native: Vec<_> = if args.no_shutdown {
        Vec::new()
    } else {
        impls
            .iter()
            .filter_map(|c| if let Choice::Builtin(b) = c { Some(*b) } else { None })
            .flat_map(own_api::probe_all)
            .collect()
    };
    let memory = if args.no_memory {
        None
    } else {
        let (runs, samples) =
            memory::measure_configs("compare: memory section", &memory::compare_section(&impls), limit);
        Some(memory::report::Section { runs, samples })
    };

    let rows = outcome.rows;
    // What the plan left out, and why, is part of what the run was: the report says it.
    let mut parameters = serde_json::to_value(args)?;
    parameters["skipped"] = serde_json::to_value(&skipped)?;
    let results = report::Results { env: study::env::<Compare>(parameters), rows, shutdown, native, memory };
    out.write_dir(|dir| report::write(dir, &results))?;
    let failed = results.rows.iter().filter(|r| !r.ok()).count()
        + results.memory.as_ref().map_or(0, |m| m.runs.iter().filter(|r| !r.ok()).count());
    let probe_failures = results.shutdown.iter().flatten().filter(|o| o.verdict == Verdict::Failed).count()
        + results.native.iter().filter(|o| o.verdict == Verdict::Failed).count();
    // A port against its original: its verdict, a line per configuration, where the run ends.
    for line in report::port_lines(&crate::ratios::cells(&results.rows)) {
        println!("{}", line.replace("**", ""));
    }
    Ok(study::finish(out.path(), "summary.md, results.json, runs.csv, env.json, plots", failed, probe_failures))
}

/// The shutdown probes through the harness interface, one column per implementation.
fn probes(impls: &[Choice]) -> Vec<Vec<bq_engine::shutdown::Observation>> {
    impls
        .iter()
        .map(|&c| {
            eprintln!("[compare] shutdown probes: {}", c.name());
            match c {
                Choice::Builtin(b) => bq_engine::with_builtin!(b, |imp| bq_engine::shutdown::probe_all(imp)),
                Choice::Plugin(path) => isolated::probes(
                    path,
                    bq_engine::shutdown::PROBE_LIMIT * bq_engine::shutdown::Question::ALL.len() as u32,
                ),
            }
        })
        .collect()
}
