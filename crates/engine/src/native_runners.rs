//! The `native` mode: each language runs its own producers and consumers (pthreads inside C;
//! OCaml domains, or systhreads sharing one domain's runtime lock; tokio tasks on a runtime) and
//! hands its figures back over the boundary once per run. Rust's threaded queues are native in
//! `driven` mode already.
//! The difference between `driven` and `native` is the cost of the boundary.
//!
//! The runners are `c/bq_native.c` and `ocaml/bq_native.ml`; Rust's view of each is in its
//! boundary file (`impls/c_abi.rs`, `impls/ocaml.rs`); tokio's tasks are in `impls/tokio.rs`.
//! This file picks one and times it.

use std::time::Duration;

use crate::impls::plugin::Plugin;
pub use crate::impls::NativeKind;
use crate::impls::{c_abi, ocaml, tokio};
use crate::measure::Tally;
use crate::measure::{cpu_since, cpu_time};
use crate::placement::Placement;
use crate::watchdog::within;
use crate::workloads::{RunSpec, MAX_THREADS};

/// Why `kind` cannot run `spec`, if it cannot.
fn check(kind: NativeKind, spec: &RunSpec) -> anyhow::Result<()> {
    // Tasks are not threads: tokio's runner takes more producers than the threads' limit.
    let most = if kind == NativeKind::TokioTasks { tokio::native::MAX_TASKS } else { MAX_THREADS };
    spec.check_up_to(most).map_err(anyhow::Error::msg)?;
    if spec.capacity == 0 {
        anyhow::bail!("the C, OCaml and tokio queues have no rendezvous mode: capacity must be at least 1");
    }
    if spec.workload.pop_many_max().is_some() {
        anyhow::bail!("{} is driven only: the native runners pop one item at a time", spec.workload);
    }
    if spec.placement == Placement::CrossCore && kind == NativeKind::TokioTasks {
        anyhow::bail!(
            "{}: tasks move between the runtime's workers, so producers and consumers cannot be placed apart",
            kind.mode()
        );
    }
    Ok(())
}

/// Runs `spec` natively, under a watchdog of `limit`.
pub fn run_native(kind: NativeKind, spec: RunSpec, limit: Duration) -> anyhow::Result<Tally> {
    check(kind, &spec)?;
    let what = format!("{} {} (capacity {})", kind.mode(), spec.workload, spec.capacity);
    placed_and_timed(&what, spec, limit, move || match kind {
        NativeKind::CPthreads => c_abi::native::run(&spec),
        NativeKind::OcamlDomains => ocaml::native::run(&spec, true),
        NativeKind::OcamlSysthreads => ocaml::native::run(&spec, false),
        NativeKind::TokioTasks => tokio::native::run(&spec),
    })
}

/// Runs `run` under a watchdog of `limit`, on a thread placed as `spec` says (every thread,
/// domain or worker a runner creates inherits its CPUs), with the process's CPU time taken
/// around it: the runners fill in their own times and counts.
fn placed_and_timed(
    what: &str,
    spec: RunSpec,
    limit: Duration,
    run: impl FnOnce() -> anyhow::Result<Tally> + Send + 'static,
) -> anyhow::Result<Tally> {
    within(what, limit, move || {
        spec.placement.enter().map_err(anyhow::Error::msg)?;
        let cpu0 = cpu_time();
        let mut tally = run()?;
        tally.cpu = cpu_since(cpu0);
        Ok(tally)
    })?
}

/// Runs `spec` on a user's OCaml module's own runner (`ocaml/bq_native.ml` built into the
/// module's library), on domains or systhreads as `kind` says, under a watchdog of `limit`:
/// in the child process that loaded it (`isolated.rs`).
pub fn run_module(plugin: &'static Plugin, kind: NativeKind, spec: RunSpec, limit: Duration) -> anyhow::Result<Tally> {
    check(kind, &spec)?;
    let domains = match kind {
        NativeKind::OcamlDomains => true,
        NativeKind::OcamlSysthreads => false,
        _ => anyhow::bail!("{}: an OCaml module runs on domains or systhreads only", kind.mode()),
    };
    let what = format!("{} {} {} (capacity {})", plugin.path().display(), kind.mode(), spec.workload, spec.capacity);
    placed_and_timed(&what, spec, limit, move || plugin.run_native(&spec, domains))
}
