//! What every study shares: its name in `env.json`, the `Env` it records, and how its command
//! ends (what it wrote, what failed, the exit status).

use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;
use bq_results::{Env, Toolchain};

/// Which study a results folder holds, so that `bqh report` draws the right report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Study {
    /// `bqh compare`: the matrix of workloads and capacities, and the shutdown probes.
    Compare,
    /// `bqh scale`: cost per item against the number of threads.
    Scale,
    /// `bqh shutdown --out`: the shutdown probes alone, through the adapter and native.
    Shutdown,
    /// `bqh strategies`: backpressure policies and the pipeline.
    Strategies,
    /// `bqh memory`: live bytes and RSS over time, per capacity and allocator.
    Memory,
    /// `bqh async`: fan-in with tokio tasks against threads, and what a task and a thread cost.
    Async,
}

impl Study {
    pub const ALL: [Study; 6] =
        [Study::Compare, Study::Scale, Study::Shutdown, Study::Strategies, Study::Memory, Study::Async];

    /// Its name in `env.json`, the same as its command's.
    pub fn name(self) -> &'static str {
        match self {
            Study::Compare => "compare",
            Study::Scale => "scale",
            Study::Shutdown => "shutdown",
            Study::Strategies => "strategies",
            Study::Memory => "memory",
            Study::Async => "async",
        }
    }

    /// The study a folder's `env.json` names.
    pub fn of(env: &Env) -> anyhow::Result<Study> {
        match Study::ALL.into_iter().find(|s| s.name() == env.study) {
            Some(s) => Ok(s),
            None => {
                let names: Vec<&str> = Study::ALL.iter().map(|s| s.name()).collect();
                bail!(
                    "env.json names the study '{}', which this bqh does not know (it knows {})",
                    env.study,
                    names.join(", ")
                )
            }
        }
    }
}

/// This machine, this build, this command, for `study`'s `env.json`.
pub fn env(study: Study, parameters: serde_json::Value) -> Env {
    use bq_engine::toolchain;
    Env::collect(
        study.name(),
        &Toolchain { rustc: toolchain::RUSTC, ocamlopt: toolchain::OCAMLOPT, cc: toolchain::CC },
        parameters,
    )
}

/// How a study's command ends: what it wrote, then the failures, loudly, with exit status 1.
pub fn finish(out: &Path, files: &str, failed_runs: usize, failed_probes: usize) -> ExitCode {
    eprintln!("wrote {}/ ({files})", out.display());
    if failed_runs + failed_probes == 0 {
        return ExitCode::SUCCESS;
    }
    let probes = if failed_probes > 0 { format!(" and {failed_probes} shutdown probe(s)") } else { String::new() };
    eprintln!("error: {failed_runs} run(s){probes} FAILED; see the top of {}/summary.md", out.display());
    ExitCode::FAILURE
}
