//! Port validation: `bqh validate` / `make validate`. Shows that a candidate queue (a port, or
//! any shared library exporting `c/bq.h`) behaves like a reference (by default the OCaml
//! original), with five checks (see [`Check`]): sequential differential testing against a
//! model queue with shrinking, linearizability of concurrent histories, wake-up scenarios,
//! stress, and the shutdown probes.
//!
//! Each check of each candidate runs in a child process ([`worker`]: this same binary,
//! re-executed with the hidden `--worker` flag), so that a plugin that crashes or hangs becomes
//! a finding and the parent survives to report it. Inside the worker every run is under a
//! deadline. This file holds the command line, the parent's flow and what both sides share.

pub mod driver;
pub mod linearizability;
pub mod model;
pub mod report;
pub mod sequential;
pub mod shutdown;
pub mod stress;
pub mod wakeup;
mod worker;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;

use crate::impls::{Builtin, Choice};
use crate::isolated::describe_exit;
use crate::outdir::{Claim, FILE_SIGNATURE};
use worker::{died, spawn_worker, worker};

pub use driver::Check;
pub use model::Rng;
pub use report::{CheckReport, Finding, Kind};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
The worked example is rust-port against ocaml; any shared library exporting the C ABI of c/bq.h
can be a candidate or the reference. Each check of each candidate runs in a child process, so a
library that crashes or hangs becomes a finding.

Exit status: 0 when every check passed; 1 when a check found a difference (the report names it,
with the smallest failing case and a command that replays it); 2 on bad input (an unknown name,
a file that is not a shared library, missing symbols).

Examples:
  bqh validate                               # the six built-ins against ocaml
  bqh validate --candidate rust-port
  bqh validate --candidate ./libmybq.so      # gcc -shared -fPIC -O2 -I c -o libmybq.so mybq.c -lpthread
  bqh validate --candidate X --checks sequential --seed 1234 --cases 1   # replay one case

Details: docs/validate.md")]
pub struct Args {
    /// What the candidates must behave like: a built-in name or a path to a shared library
    #[arg(long, default_value = "ocaml", value_name = "NAME|PATH")]
    pub reference: String,
    /// Implementation(s) to check: built-in names (rust-sync-channel, crossbeam, c-pthread,
    /// c-vyukov, ocaml, rust-port) or paths to shared libraries exporting c/bq.h; repeat the
    /// flag or separate with commas [default: the six built-ins]
    #[arg(long, value_delimiter = ',', value_name = "NAME|PATH")]
    pub candidate: Vec<String>,
    /// Checks to run, comma-separated [default: all]
    #[arg(long, value_enum, value_delimiter = ',')]
    pub checks: Vec<Check>,
    /// Seed of the first case; case i of each check uses seed + i [default: random, printed]
    #[arg(long)]
    pub seed: Option<u64>,
    /// Cases per check [default: sequential 300, linearizability 150, wakeup 60, stress 4]
    #[arg(long)]
    pub cases: Option<usize>,
    /// Runs of each linearizability case (more runs, more interleavings) [default: 10]
    #[arg(long)]
    pub reps: Option<usize>,
    /// Also write every check's report as JSON to this file
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Internal: run one check (or `load`) in this process; used for the child processes
    #[arg(long, hide = true)]
    pub worker: Option<String>,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    match &args.worker {
        Some(what) => worker(args, what),
        None => parent(args),
    }
}

// ---------------------------------------------------------------------------------------------
// the parent: one worker per check and candidate, reports collected and printed

fn random_seed() -> u64 {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    (t.as_nanos() as u64 ^ ((std::process::id() as u64) << 20)) % 1_000_000_000
}

fn parent(args: &Args) -> anyhow::Result<ExitCode> {
    // Refused now, not after the checks: the file is checked again before it is replaced.
    let json = args.json.as_deref().map(Claim::file).transpose()?;
    Choice::parse(&args.reference).map_err(anyhow::Error::msg)?;
    let candidates: Vec<String> = if args.candidate.is_empty() {
        // tokio is validated on request (`--candidate tokio`): its linearizability check finds
        // a real window (see `impls/tokio.rs`), so it is not in the default run that must pass.
        Builtin::ALL.iter().filter(|&&b| b != Builtin::Tokio).map(|b| b.name().to_string()).collect()
    } else {
        args.candidate.clone()
    };
    for c in &candidates {
        Choice::parse(c).map_err(anyhow::Error::msg)?;
    }
    let checks = if args.checks.is_empty() { Check::ALL.to_vec() } else { args.checks.clone() };
    let seed = args.seed.unwrap_or_else(random_seed);
    // Load every plugin once in a worker first: a bad library is an input error, said at once.
    for c in &candidates {
        let out = spawn_worker("load", c, args, seed)?;
        if let Some(e) = out.error {
            bail!("{e}");
        }
        if out.status.is_none_or(|s| !s.success()) {
            let tail = out.stderr_tail.join("\n");
            bail!(
                "loading {c} (or the reference {}) {}: the library crashed while loading or making a queue\n{tail}",
                args.reference,
                describe_exit(out.status)
            );
        }
    }

    let names: Vec<&str> = checks.iter().map(|c| c.name()).collect();
    println!("validate: reference {}, seed {seed}, checks: {}", args.reference, names.join(", "));
    let mut reports = Vec::new();
    for c in &candidates {
        println!("== candidate {c}");
        for &check in &checks {
            let out = spawn_worker(check.name(), c, args, seed)?;
            let mut report = match out.report.clone() {
                Some(r) => r,
                None => died(check, c, args, &out),
            };
            if let Some(f) = report.findings.first() {
                // The seed regenerates the failing case; the shutdown probes have none.
                let case = f.seed.map_or(String::new(), |s| format!(" --seed {s} --cases 1"));
                report.replay = Some(format!(
                    "bqh validate --reference {} --candidate {c} --checks {}{case}",
                    args.reference,
                    check.name()
                ));
            }
            print!("{}", report.render());
            let _ = std::io::stdout().flush();
            reports.push(report);
        }
    }
    let failed: Vec<&CheckReport> = reports.iter().filter(|r| !r.passed()).collect();
    let bad: std::collections::BTreeSet<&str> = failed.iter().map(|r| r.candidate.as_str()).collect();
    println!(
        "validate: {} of {} candidate(s) passed every check{}",
        candidates.len() - bad.len(),
        candidates.len(),
        if bad.is_empty() {
            String::new()
        } else {
            format!("; failed: {}", bad.into_iter().collect::<Vec<_>>().join(", "))
        }
    );
    if let Some(json) = &json {
        // An object that begins with bqh's signature, so that the next run may replace it.
        let text = format!("{FILE_SIGNATURE}, \"command\": \"validate\", \"reports\": {}}}\n", serde_json::to_string_pretty(&reports)?);
        json.write_file(text.as_bytes())?;
    }
    Ok(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
