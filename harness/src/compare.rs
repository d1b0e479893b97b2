//! The comparison run (`make compare`, `bqh compare`): the matrix of implementations, modes,
//! workloads and capacities, repeated; the shutdown probes; then the report in a results folder.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::impls::Builtin;
use crate::native::{run_native, NativeKind};
use crate::queue::Impl;
use crate::report;
use crate::shutdown::{self, Observation};
use crate::workloads::{run_driven, Measurement, RunSpec, Workload};

/// A folder holding this file is a committed canonical run: never written over.
pub const CANONICAL_MARKER: &str = "CANONICAL";

#[derive(Debug, Clone, clap::Args, Serialize)]
pub struct Args {
    /// Implementations to compare, comma-separated [default: all five]
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
    #[arg(long = "mode", value_enum, value_delimiter = ',', default_values_t = [Mode::Driven, Mode::Native])]
    pub modes: Vec<Mode>,
    /// The same matrix with fewer items and repetitions: a first look in about a minute
    #[arg(long)]
    pub quick: bool,
    /// Skip the shutdown probes
    #[arg(long)]
    pub no_shutdown: bool,
    /// Results folder (replaced, unless it is a committed canonical run)
    #[arg(long, default_value = "results/latest")]
    pub out: PathBuf,
    /// Seconds one run may take before it is reported as a hang
    #[arg(long, default_value_t = 120)]
    pub run_limit: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Driven,
    Native,
}

/// One repetition, as a row of `runs.csv`.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Row {
    pub implementation: String,
    pub mode: String,
    pub workload: String,
    pub producers: u64,
    pub consumers: u64,
    pub capacity: usize,
    pub items: u64,
    pub repetition: u32,
    /// `ok`, or `failed` (lost, duplicated or reordered items, a hang, a panic): never averaged in.
    pub status: String,
    pub seconds: f64,
    pub ns_per_item: f64,
    pub items_per_second: f64,
    pub cpu_user_s: f64,
    pub cpu_sys_s: f64,
    /// (user + sys) / wall: 2.0 means both cores busy for the whole run.
    pub cpu_per_wall: f64,
    pub pushes: u64,
    pub push_waits: u64,
    pub push_wait_share: f64,
    pub pops: u64,
    pub pop_waits: u64,
    pub pop_wait_share: f64,
    pub producer_blocked_s: f64,
    pub consumer_blocked_s: f64,
    pub max_occupancy: Option<usize>,
    pub latency_samples: Option<u64>,
    pub latency_p50_ns: Option<u64>,
    pub latency_p99_ns: Option<u64>,
    pub latency_p999_ns: Option<u64>,
    pub latency_max_ns: Option<u64>,
    pub error: String,
}

impl Row {
    pub fn ok(&self) -> bool {
        self.status == "ok"
    }

    fn new(implementation: &str, mode: &str, spec: &RunSpec, repetition: u32, m: anyhow::Result<Measurement>) -> Row {
        let mut row = Row {
            implementation: implementation.into(),
            mode: mode.into(),
            workload: spec.workload.name().into(),
            producers: spec.producers,
            consumers: spec.consumers,
            capacity: spec.capacity,
            items: spec.total_items(),
            repetition,
            status: "failed".into(),
            seconds: f64::NAN,
            ns_per_item: f64::NAN,
            items_per_second: f64::NAN,
            cpu_user_s: f64::NAN,
            cpu_sys_s: f64::NAN,
            cpu_per_wall: f64::NAN,
            pushes: 0,
            push_waits: 0,
            push_wait_share: f64::NAN,
            pops: 0,
            pop_waits: 0,
            pop_wait_share: f64::NAN,
            producer_blocked_s: f64::NAN,
            consumer_blocked_s: f64::NAN,
            max_occupancy: None,
            latency_samples: None,
            latency_p50_ns: None,
            latency_p99_ns: None,
            latency_p999_ns: None,
            latency_max_ns: None,
            error: String::new(),
        };
        let m = match m {
            Ok(m) => m,
            Err(e) => {
                row.error = format!("{e:#}");
                return row;
            }
        };
        let share = |w: u64, n: u64| if n == 0 { 0.0 } else { w as f64 / n as f64 };
        row.status = if m.delivery.is_ok() { "ok" } else { "failed" }.into();
        row.error = m.delivery.clone().err().unwrap_or_default();
        row.seconds = m.seconds;
        row.ns_per_item = m.seconds * 1e9 / m.items as f64;
        row.items_per_second = m.items as f64 / m.seconds;
        row.cpu_user_s = m.cpu_user_s;
        row.cpu_sys_s = m.cpu_sys_s;
        row.cpu_per_wall = (m.cpu_user_s + m.cpu_sys_s) / m.seconds;
        row.pushes = m.pushes;
        row.push_waits = m.push_waits;
        row.push_wait_share = share(m.push_waits, m.pushes);
        row.pops = m.pops;
        row.pop_waits = m.pop_waits;
        row.pop_wait_share = share(m.pop_waits, m.pops);
        row.producer_blocked_s = m.producer_blocked_s;
        row.consumer_blocked_s = m.consumer_blocked_s;
        row.max_occupancy = m.max_occupancy;
        if let Some(l) = m.latency {
            row.latency_samples = Some(l.samples);
            row.latency_p50_ns = Some(l.p50_ns);
            row.latency_p99_ns = Some(l.p99_ns);
            row.latency_p999_ns = Some(l.p999_ns);
            row.latency_max_ns = Some(l.max_ns);
        }
        row
    }
}

/// What runs: an implementation driven from Rust, or a language's native runner.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    Driven(Builtin),
    Native(NativeKind),
}

impl Target {
    pub fn implementation(self) -> &'static str {
        match self {
            Target::Driven(b) => b.name(),
            Target::Native(NativeKind::CPthreads) => Builtin::CPthread.name(),
            Target::Native(_) => Builtin::Ocaml.name(),
        }
    }

    pub fn mode(self) -> &'static str {
        match self {
            Target::Driven(_) => "driven",
            Target::Native(k) => k.mode_name(),
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
    Row::new(imp.name(), "driven", &spec, repetition, run_driven(imp, spec, limit))
}

fn measure(target: Target, spec: RunSpec, repetition: u32, limit: Duration) -> Row {
    match target {
        Target::Driven(b) => crate::with_builtin!(b, |imp| measure_driven(imp, spec, repetition, limit)),
        Target::Native(k) => Row::new(target.implementation(), target.mode(), &spec, repetition, run_native(k, spec, limit)),
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
        if args.modes.contains(&Mode::Driven) {
            targets.push(Target::Driven(b));
        }
        if args.modes.contains(&Mode::Native) {
            match b {
                Builtin::CPthread => targets.push(Target::Native(NativeKind::CPthreads)),
                Builtin::Ocaml => {
                    targets.push(Target::Native(NativeKind::OcamlDomains));
                    targets.push(Target::Native(NativeKind::OcamlSysthreads));
                }
                _ => {} // Rust queues run natively in driven mode already
            }
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
            let spec = RunSpec { workload: w, producers, consumers, capacity, items };
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
    prepare_out(&args.out)?;
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

    let env = report::Env::collect(args);
    report::write_all(&args.out, &env, &rows, &shutdown_matrix)?;
    let failed = rows.iter().filter(|r| !r.ok()).count();
    let probe_failures =
        shutdown_matrix.iter().flatten().filter(|o| o.verdict == shutdown::Verdict::Failed).count();
    eprintln!("wrote {}/ (summary.md, runs.csv, env.json, plots)", args.out.display());
    if failed + probe_failures > 0 {
        eprintln!("error: {failed} run(s) and {probe_failures} shutdown probe(s) FAILED; see the top of {}/summary.md", args.out.display());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Empties (or creates) the output folder, refusing a committed canonical run.
pub fn prepare_out(out: &Path) -> anyhow::Result<()> {
    if out.join(CANONICAL_MARKER).exists() {
        bail!(
            "{} is a committed canonical run and is never overwritten; choose another --out (the default is results/latest)",
            out.display()
        );
    }
    if out.exists() {
        std::fs::remove_dir_all(out).with_context(|| format!("cannot clear {}", out.display()))?;
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))
}
