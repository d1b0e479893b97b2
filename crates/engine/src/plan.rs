//! A plan and its execution: what runs (a [`Target`] and its [`RunSpec`]s), sized to a time
//! budget (`sizing.rs`), then run: for each configuration a pilot that measures its rate, a
//! discarded warm-up and the measured repetitions, repetitions outermost; then, on request, the
//! shutdown probes. `bqh async` runs its plans so; `bqh compare` and `bqh scale` pair their runs
//! with a reference instead (`paired.rs`, which shares [`measure`] and [`pilot`]).

use std::time::Duration;

use crate::driven::measure_driven;
use crate::impls::Choice;
use crate::isolated;
use crate::native::{run_native, NativeKind};
use crate::progress::Progress;
use crate::queue::Impl;
use crate::row::{Mode, Row};
use crate::shutdown::{self, Observation};
use crate::sizing::{self, Shape, Sizing};
use crate::workloads::{RunSpec, Workload};

/// What runs: an implementation driven from Rust, a language's native runner, or a user's OCaml
/// module (`.ml`) on its own domains or systhreads (`NativeKind::OcamlDomains` or
/// `OcamlSysthreads`; in a child process, as every plugin's runs are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Driven(Choice),
    Native(NativeKind),
    ModuleNative(&'static std::path::Path, NativeKind),
}

impl Target {
    pub fn implementation(self) -> String {
        match self {
            Target::Driven(c) => c.name(),
            Target::Native(k) => k.implementation().name().to_string(),
            Target::ModuleNative(path, _) => path.display().to_string(),
        }
    }

    pub fn mode(self) -> Mode {
        match self {
            Target::Driven(_) => Mode::Driven,
            Target::Native(k) | Target::ModuleNative(_, k) => k.mode(),
        }
    }

    pub fn rendezvous(self) -> bool {
        match self {
            Target::Driven(Choice::Builtin(b)) => with_builtin!(b, |imp| imp.traits().rendezvous),
            Target::Driven(Choice::Plugin(_)) | Target::Native(_) | Target::ModuleNative(..) => false, // c/bq.h has no capacity 0
        }
    }
}

pub fn measure(target: Target, spec: RunSpec, repetition: u32, limit: Duration) -> Row {
    match target {
        Target::Driven(Choice::Builtin(b)) => with_builtin!(b, |imp| measure_driven(imp, spec, repetition, limit)),
        Target::Driven(Choice::Plugin(path)) => isolated::run(path, spec, repetition, limit),
        Target::Native(k) => {
            Row::new(&target.implementation(), target.mode(), &spec, repetition, run_native(k, spec, limit))
        }
        Target::ModuleNative(path, k) => isolated::run_native(path, k, spec, repetition, limit),
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
pub(crate) fn threads(s: &RunSpec) -> u64 {
    if s.workload == Workload::Seq {
        1
    } else {
        s.producers + s.consumers
    }
}

/// Grows a run until it lasts [`sizing::PILOT_RUN`]; its rate in items per second. `None` when
/// a run failed (the failure is returned as a row, repetition 0).
pub(crate) fn pilot(target: Target, spec: RunSpec, limit: Duration) -> (Option<f64>, Option<Row>) {
    pilot_with(&mut |t, s, r| measure(t, s, r, limit), target, spec)
}

/// [`pilot`] through any run function (the paired schedule's tests hand in fake queues).
pub(crate) fn pilot_with(
    run: &mut dyn FnMut(Target, RunSpec, u32) -> Row,
    target: Target,
    spec: RunSpec,
) -> (Option<f64>, Option<Row>) {
    let mut items = sizing::min_items(spec.producers);
    loop {
        let row = run(target, RunSpec { items, ..spec }, 0);
        if !row.ok() {
            return (None, Some(row));
        }
        let t = row.seconds.max(1e-6);
        if t >= sizing::PILOT_RUN.as_secs_f64() || items >= sizing::MAX_ITEMS {
            return (Some(row.items as f64 / t), None);
        }
        let grow = (sizing::PILOT_RUN.as_secs_f64() * 1.5 / t).clamp(2.0, 100.0);
        items = ((items as f64 * grow) as u64).min(sizing::MAX_ITEMS);
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 120.0 {
        format!("{}m{:02}s", s as u64 / 60, s as u64 % 60)
    } else {
        format!("{s:.0} s")
    }
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
    let (sized, estimate, said) = sizing::fit(&shapes, plan.sizing, impls.len(), probes, plan.budget);
    plan.sizing = sized;
    let each = if plan.fixed_items {
        format!("1 warm-up and {} measured runs of {} items (--items)", sized.reps, plan.configs[0].1.items)
    } else {
        format!("a pilot, 1 warm-up and {} measured runs of about {} ms", sized.reps, sized.run.as_millis())
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
        let what =
            format!("pilot {} {} {} cap {}", target.implementation(), target.mode(), spec.workload, spec.capacity);
        if !plan.fixed_items {
            let (rate, failure) = pilot(*target, *spec, limit);
            if let Some(row) = failure {
                progress.println(format!("FAILED: {what}: {}; its repetitions are skipped", row.error));
                pilot_failures.push(row);
                skip[i] = true;
            }
            shapes[i].rate = rate;
            spec.items = sizing::items_for(rate.unwrap_or(f64::NAN), sized.run, spec.producers);
        }
        progress.step(sizing::PILOT_COST, &what);
    }
    if !plan.fixed_items {
        progress.set_total(sizing::estimate(&shapes, sized, impls.len(), probes));
    }

    // Repetitions outermost, so slow drift on a shared machine spreads over every config;
    // repetition 0 is the warm-up, discarded unless it failed. It is a second, longer pilot:
    // the measured runs are sized by the faster of its rate and the pilot's.
    let names: Vec<String> = plan
        .configs
        .iter()
        .map(|(t, s)| format!("{} {} {} cap {}", t.implementation(), t.mode(), s.workload, s.capacity))
        .collect();
    for rep in 0..=sized.reps {
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
                config.1.items = sizing::items_for(rate, sized.run, spec.producers);
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
            let next = names.get(i + 1).map_or(String::new(), |n| format!("{n} (rep {rep} of {})", sized.reps));
            progress.step(expected.max(Duration::from_micros(1)) + sizing::THREAD_COST * threads(&spec) as u32, &next);
        }
    }
    let mut shutdown_matrix: Vec<Vec<Observation>> = Vec::new();
    if probes {
        for &c in impls {
            shutdown_matrix.push(match c {
                Choice::Builtin(b) => with_builtin!(b, |imp| shutdown::probe_all(imp)),
                Choice::Plugin(path) => {
                    isolated::probes(path, shutdown::PROBE_LIMIT * shutdown::Question::ALL.len() as u32)
                }
            });
            progress.step(sizing::PROBES_COST, &format!("shutdown probes: {}", c.name()));
        }
    }
    progress.finish();
    rows.extend(pilot_failures);
    (rows, shutdown_matrix)
}
