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
pub mod timeline;
pub mod wakeup;
mod worker;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;

use bq_engine::impls::{Builtin, Choice};
use bq_engine::isolated::describe_exit;
use bq_results::outdir::{Claim, FILE_SIGNATURE};
use worker::{died, spawn_worker, worker};

pub use driver::Check;
pub use model::Rng;
pub use report::{CheckReport, Finding, Misbehaviour};

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
    /// What the candidates must behave like: a built-in name, a path to a shared library, or
    /// an OCaml module implementing ocaml/bqueue.mli (your_queue.ml: compiled with the project's
    /// ocamlopt). A reference that is not a built-in is also checked alone against the model
    /// queue (linearizability, wakeup, stress)
    #[arg(long, default_value = "ocaml", value_name = "NAME|PATH")]
    pub reference: String,
    /// Implementation(s) to check: built-in names (rust-sync-channel, crossbeam, c-pthread,
    /// c-vyukov, ocaml, rust-port), paths to shared libraries exporting c/bq.h, or OCaml modules
    /// (.ml) implementing ocaml/bqueue.mli; repeat the flag or separate with commas [default: the
    /// six built-ins]
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
    /// Folder for the timeline pictures (SVG) of linearizability failures [default: with
    /// --json FILE, the folder FILE.timelines beside it; without, none]
    #[arg(long, value_name = "DIR")]
    pub timeline: Option<PathBuf>,
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

/// A candidate's name as a file name: its last path component, or the built-in's name.
fn file_name(c: &str) -> String {
    let base = std::path::Path::new(c).file_name().map_or(c.to_string(), |f| f.to_string_lossy().into_owned());
    base.chars().map(|ch| if ch.is_ascii_alphanumeric() || "-_.".contains(ch) { ch } else { '_' }).collect()
}

fn parent(args: &Args) -> anyhow::Result<ExitCode> {
    // Zero cases or runs would check nothing and still say "pass".
    if let Some(n) = args.cases.filter(|n| !(1..=1_000_000).contains(n)) {
        bail!("--cases {n}: choose between 1 and 1000000 (with none, nothing would be checked)");
    }
    if let Some(n) = args.reps.filter(|n| !(1..=10_000).contains(n)) {
        bail!("--reps {n}: choose between 1 and 10000 (with none, nothing would be checked)");
    }
    // Refused now, not after the checks: the file is checked again before it is replaced.
    let json = args.json.as_deref().map(Claim::file).transpose()?;
    let timeline_dir = args.timeline.clone().or_else(|| args.json.as_ref().map(|j| j.with_extension("timelines")));
    let timelines = timeline_dir.as_deref().map(Claim::dir).transpose()?;
    let reference_is_builtin =
        matches!(Choice::parse(&args.reference).map_err(anyhow::Error::msg)?, Choice::Builtin(_));
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
    // OCaml modules are compiled here, once, so that a compiler message is shown whole (the
    // workers find the library built).
    for s in std::iter::once(&args.reference).chain(&candidates) {
        let p = std::path::Path::new(s);
        if bq_engine::impls::ocaml_module::is_source(p) {
            println!("validate: compiling {s} against ocaml/bqueue.mli");
            if !p.is_file() {
                bail!("{s}: no such file");
            }
            bq_engine::impls::ocaml_module::build(p).map_err(anyhow::Error::msg)?;
        }
    }
    let checks = if args.checks.is_empty() { Check::ALL.to_vec() } else { args.checks.clone() };
    let seed = args.seed.unwrap_or_else(random_seed);
    // Load every plugin once in a worker first: a bad library is an input error, said at once.
    for c in &candidates {
        println!("validate: loading {c} and the reference {}", args.reference);
        let out = spawn_worker("load", c, args, seed)?;
        if let Some(e) = out.error {
            bail!("{e}");
        }
        if out.killed {
            bail!(
                "loading {c} (or the reference {}) did not finish within {:?}: a library constructor or an OCaml \
                 module's initialisation never returned",
                args.reference,
                bq_engine::isolated::LOAD_LIMIT
            );
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
    let mut pictures: Vec<(String, String)> = Vec::new();
    // A reference that is not a built-in is checked too, alone against the model queue, by the
    // checks that need no reference: both sides are then held to the same standard.
    let mut sides: Vec<(&str, bool)> = Vec::new();
    if !reference_is_builtin {
        sides.push((&args.reference, true));
    }
    sides.extend(candidates.iter().map(|c| (c.as_str(), false)));
    for (c, of_reference) in sides {
        let checks: Vec<Check> = checks
            .iter()
            .copied()
            .filter(|&k| !of_reference || matches!(k, Check::Linearizability | Check::Wakeup | Check::Stress))
            .collect();
        if of_reference {
            println!("== reference {c}, alone against the model queue");
        } else {
            println!("== candidate {c}");
        }
        for &check in &checks {
            let out = spawn_worker(check.name(), c, args, seed)?;
            let mut report = match out.report.clone() {
                Some(r) => r,
                None => died(check, c, args, &out),
            };
            report.of_reference = of_reference;
            if let (Some(claim), Some(h)) = (&timelines, report.findings.first().and_then(|f| f.history.as_ref())) {
                let file = format!("{}-{}.svg", file_name(c), check.name());
                let title = format!(
                    "{c}: the smallest non-linearizable history found (seed {})",
                    report.findings[0].seed.unwrap_or(0)
                );
                pictures.push((file.clone(), timeline::svg(h, &title)));
                report.timeline = Some(claim.path().join(file).display().to_string());
            }
            if let Some(f) = report.findings.first() {
                // The seed regenerates the failing case; the shutdown probes have none.
                let case = f.seed.map_or(String::new(), |s| format!(" --seed {s} --cases 1"));
                report.replay = Some(format!(
                    "{} validate --reference {} --candidate {} --checks {}{case}",
                    this_binary(),
                    shell_word(&args.reference),
                    shell_word(c),
                    check.name()
                ));
            }
            print!("{}", report.render());
            let _ = std::io::stdout().flush();
            reports.push(report);
        }
    }
    if let (Some(claim), false) = (&timelines, pictures.is_empty()) {
        claim.write_dir(|dir| {
            for (file, svg) in &pictures {
                std::fs::write(dir.join(file), svg)?;
            }
            Ok(())
        })?;
    }
    let failed: Vec<&CheckReport> = reports.iter().filter(|r| !r.passed()).collect();
    // A finding of the reference (alone, or where it differs from the model in a comparison) is
    // the reference's, not the candidate's.
    let of_ref = |r: &&CheckReport| {
        r.of_reference
            || r.findings
                .iter()
                .all(|f| matches!(f.kind, Misbehaviour::ReferenceMismatch | Misbehaviour::ReferenceCrash))
    };
    let bad: std::collections::BTreeSet<&str> =
        failed.iter().filter(|r| !of_ref(r)).map(|r| r.candidate.as_str()).collect();
    let reference_failed = failed.iter().any(of_ref);
    println!(
        "validate: {} of {} candidate(s) passed every check{}{}",
        candidates.len() - bad.len(),
        candidates.len(),
        if bad.is_empty() {
            String::new()
        } else {
            format!("; failed: {}", bad.into_iter().collect::<Vec<_>>().join(", "))
        },
        if reference_failed {
            format!(
                "; reference failed: {} itself deviates from the model queue or crashed (see its findings)",
                args.reference
            )
        } else {
            String::new()
        }
    );
    if let Some(json) = &json {
        // An object that begins with bqh's signature, so that the next run may replace it.
        let text = format!(
            "{FILE_SIGNATURE}, \"command\": \"validate\", \"reports\": {}}}\n",
            serde_json::to_string_pretty(&reports)?
        );
        json.write_file(text.as_bytes())?;
    }
    Ok(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// This binary's path as a shell word: the replay line runs as shown, with no `bqh` on PATH.
fn this_binary() -> String {
    std::env::current_exe().map_or_else(|_| "bqh".into(), |p| shell_word(&p.to_string_lossy()))
}

/// `s` quoted for a POSIX shell where it needs it.
fn shell_word(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
