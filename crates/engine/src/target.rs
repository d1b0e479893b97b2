//! What one run measures: an implementation driven from Rust, a language's native runner, or a
//! user's OCaml module on its own domains or systhreads, in one configuration (`RunSpec`).
//! [`measure`] makes the run; `(Target, RunSpec)` is the scheduler's [`Measurable`] for every study
//! whose rows are `runs.csv`'s.

use std::time::Duration;

use crate::driven::measure_driven;
use crate::impls::Choice;
use crate::isolated;
use crate::native_runners::{run_native, NativeKind};
use crate::queue::Impl;
use crate::row::{Mode, Row};
use crate::schedule::{Measurable, Outcome};
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

/// A target in one configuration: what the scheduler runs for the studies whose rows are
/// `runs.csv`'s.
pub type TargetSpec = (Target, RunSpec);

/// One run of `target` in `spec`'s configuration, under the deadline `limit`.
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

/// Threads a run starts (seq runs on the calling thread).
pub fn threads(s: &RunSpec) -> u64 {
    if s.workload == Workload::Seq {
        1
    } else {
        s.producers + s.consumers
    }
}

impl Outcome for Row {
    fn ok(&self) -> bool {
        Row::ok(self)
    }
    fn seconds(&self) -> f64 {
        self.seconds
    }
    fn items_per_second(&self) -> f64 {
        self.items_per_second
    }
    fn error(&self) -> &str {
        &self.error
    }
}

impl Measurable for TargetSpec {
    type Row = Row;

    fn label(&self) -> String {
        let (t, s) = self;
        let work = s.consumer_work.map_or(String::new(), |ns| format!(" consumer work {ns} ns"));
        format!("{} {} {} cap {} {}{work}", t.implementation(), t.mode(), s.workload, s.capacity, s.placement)
    }
    fn threads(&self) -> u64 {
        threads(&self.1)
    }
    fn producers(&self) -> u64 {
        self.1.producers
    }
    fn with_items(&self, items: u64) -> Self {
        (self.0, RunSpec { items, ..self.1 })
    }
    fn measure(&self, repetition: u32, limit: Duration) -> Row {
        measure(self.0, self.1, repetition, limit)
    }
}
