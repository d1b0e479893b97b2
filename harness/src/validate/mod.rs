//! Port validation: `bqh validate` / `make validate`. Shows that a candidate queue (a port, or
//! any shared library exporting `c/bq.h`) behaves like a reference (by default the OCaml
//! original), with five checks (see [`Check`]): sequential differential testing against a
//! model queue with shrinking, linearizability of concurrent histories, wake-up scenarios,
//! stress, and the shutdown probes.
//!
//! Each check of each candidate runs in a child process (this same binary, re-executed with
//! the hidden `--worker` flag), so that a plugin that crashes or hangs becomes a finding and
//! the parent survives to report it. Inside the worker every run is under a deadline.

pub mod linearizability;
pub mod model;
pub mod report;
pub mod sequential;
pub mod stress;
pub mod wakeup;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

use crate::impls::plugin::Plugin;
use crate::impls::Builtin;
use crate::queue::{Impl, Traits};
use crate::shutdown::{self, Observation, Verdict};
use model::Caps;
pub use report::{Check, CheckReport, Finding, Kind};

/// A worker gets this long for one check before it is killed and reported as hung. The checks
/// bound their own runs; this only catches a hang outside them.
const WORKER_LIMIT: Duration = Duration::from_secs(600);

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

/// What the checks inside a worker need.
pub struct Ctx {
    pub seed: u64,
    pub cases: Option<usize>,
    pub reps: Option<usize>,
    pub caps: Caps,
}

impl Ctx {
    /// Tells the parent what runs now, so that a crash can name the case.
    pub fn progress(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "progress {text}");
        let _ = out.flush();
    }
}

/// A candidate or reference as named on the command line.
#[derive(Debug, Clone)]
enum Target {
    Builtin(Builtin),
    Plugin(PathBuf),
}

impl Target {
    fn parse(s: &str) -> anyhow::Result<Target> {
        if let Some(b) = Builtin::from_name(s) {
            return Ok(Target::Builtin(b));
        }
        let path = Path::new(s);
        if s.contains('/') || s.ends_with(".so") || path.exists() {
            return Ok(Target::Plugin(path.to_path_buf()));
        }
        let names: Vec<&str> = Builtin::ALL.iter().map(|b| b.name()).collect();
        bail!(
            "unknown implementation '{s}': expected one of {}, or a path to a shared library (e.g. ./libmybq.so)",
            names.join(", ")
        )
    }
}

/// A target, loaded in the worker.
#[derive(Clone, Copy)]
enum Loaded {
    Builtin(Builtin),
    Plugin(&'static Plugin),
}

/// Runs `$body` with `$imp` bound to the `&'static` implementation `$loaded` names.
macro_rules! with_loaded {
    ($loaded:expr, |$imp:ident| $body:expr) => {
        match $loaded {
            Loaded::Plugin(p) => {
                let $imp: &'static Plugin = p;
                $body
            }
            Loaded::Builtin(b) => $crate::with_builtin!(b, |$imp| $body),
        }
    };
}

fn load(s: &str) -> anyhow::Result<Loaded> {
    Ok(match Target::parse(s)? {
        Target::Builtin(b) => Loaded::Builtin(b),
        Target::Plugin(p) => Loaded::Plugin(Plugin::load_static(&p)?),
    })
}

fn name_and_traits(l: Loaded) -> (String, Traits) {
    with_loaded!(l, |imp| (imp.name().to_string(), imp.traits()))
}

/// What both sides support, and a note for each thing left out of the comparison.
fn caps(cand: Loaded, reference: Loaded) -> (Caps, Vec<String>) {
    let (c, r) = (name_and_traits(cand), name_and_traits(reference));
    let mut notes = Vec::new();
    for (name, t) in [&c, &r] {
        if !t.explicit_close {
            notes.push(format!(
                "{name} has no explicit close: close() means dropping the producer handle, and no push follows it"
            ));
        }
        if !t.has_len {
            notes.push(format!("{name} has no len(): len() is not compared"));
        }
        if !t.exact_try_pop {
            notes.push(format!(
                "{name}: try_pop may answer empty while another consumer holds the receiver (documented in \
                 impls/rust_channels.rs), so the linearizability check pops from one thread only"
            ));
        }
    }
    let caps = Caps {
        explicit_close: c.1.explicit_close && r.1.explicit_close,
        has_len: c.1.has_len && r.1.has_len,
        concurrent_consumers: c.1.exact_try_pop && r.1.exact_try_pop,
    };
    (caps, notes)
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    match &args.worker {
        Some(what) => worker(args, what),
        None => parent(args),
    }
}

// ---------------------------------------------------------------------------------------------
// the worker (child process): one check of one candidate

fn worker(args: &Args, what: &str) -> anyhow::Result<ExitCode> {
    let [candidate] = args.candidate.as_slice() else { bail!("--worker takes exactly one --candidate") };
    let loaded = load(candidate).and_then(|c| Ok((c, load(&args.reference)?)));
    let (cand, reference) = match loaded {
        Ok(v) => v,
        Err(e) => {
            println!("error {e:#}");
            return Ok(ExitCode::from(2));
        }
    };
    if what == "load" {
        // Make and free one queue, so that a library that crashes at once says so here.
        for l in [cand, reference] {
            with_loaded!(l, |imp| drop(imp.bounded(2).map_err(|e| anyhow::anyhow!("{e}"))?));
        }
        println!("loaded");
        return Ok(ExitCode::SUCCESS);
    }
    let check = <Check as clap::ValueEnum>::from_str(what, false).map_err(|e| anyhow::anyhow!("--worker: {e}"))?;
    let (caps, all_notes) = caps(cand, reference);
    let ctx = Ctx { seed: args.seed.unwrap_or(0), cases: args.cases, reps: args.reps, caps };
    let start = Instant::now();
    let notes: Vec<String> = all_notes
        .into_iter()
        .filter(|n| match check {
            Check::Sequential => !n.contains("linearizability"),
            Check::Linearizability => true,
            _ => false,
        })
        .collect();
    let (cases, findings, more_notes) = match check {
        Check::Sequential => {
            let ref_name = name_and_traits(reference).0;
            let ref_run: Box<dyn Fn(&sequential::Case) -> sequential::Outcome> =
                with_loaded!(reference, |imp| Box::new(move |c: &sequential::Case| sequential::run(imp, c)));
            let (n, f) = with_loaded!(cand, |imp| sequential::check(imp, &*ref_run, &ref_name, &ctx));
            (n, f, vec![])
        }
        Check::Linearizability => {
            let (n, f) = with_loaded!(cand, |imp| linearizability::check(imp, &ctx));
            (n, f, vec![])
        }
        Check::Wakeup => {
            let (n, f) = with_loaded!(cand, |imp| wakeup::check(imp, &ctx));
            (n, f, vec![])
        }
        Check::Stress => {
            let (n, f) = with_loaded!(cand, |imp| stress::check(imp, &ctx));
            (n, f, vec![])
        }
        Check::Shutdown => {
            ctx.progress("shutdown probes on the candidate");
            let c = with_loaded!(cand, |imp| shutdown::probe_all(imp));
            ctx.progress("shutdown probes on the reference");
            let r = with_loaded!(reference, |imp| shutdown::probe_all(imp));
            compare_shutdown(&c, &r)
        }
    };
    let report = CheckReport {
        check,
        candidate: name_and_traits(cand).0,
        reference: name_and_traits(reference).0,
        cases,
        seconds: start.elapsed().as_secs_f64(),
        notes: notes.into_iter().chain(more_notes).collect(),
        findings,
        replay: None,
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "report {}", serde_json::to_string(&report)?)?;
    out.flush()?;
    // Threads left behind by a hang may never end: do not wait for them.
    std::process::exit(0)
}

/// Check 3: the verdict of every shutdown question must be the reference's.
fn compare_shutdown(cand: &[Observation], reference: &[Observation]) -> (usize, Vec<Finding>, Vec<String>) {
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    let verdict = |o: &Observation| match o.verdict {
        Verdict::Yes => "yes",
        Verdict::No => "no",
        Verdict::NotApplicable => "n/a",
        Verdict::Failed => "FAILED",
    };
    for (c, r) in cand.iter().zip(reference) {
        if c.verdict == Verdict::NotApplicable || r.verdict == Verdict::NotApplicable {
            let who = if c.verdict == Verdict::NotApplicable { &c.implementation } else { &r.implementation };
            notes.push(format!("'{}' not compared: {who} has no explicit close", c.question.text()));
            continue;
        }
        if c.verdict == r.verdict {
            continue;
        }
        let woken = c.question.text().contains("woken");
        let summary = if c.verdict == Verdict::Failed && woken {
            let who = if c.question.text().starts_with("blocked producers") { "producers" } else { "consumers" };
            format!(
                "hang after close: with {} blocked {who}, {} got no answer within {:?}; {}: {} ({})",
                shutdown::WAITERS,
                c.implementation,
                shutdown::PROBE_LIMIT,
                r.implementation,
                verdict(r),
                r.detail
            )
        } else {
            format!(
                "{}: {} ({}); {}: {} ({})",
                c.implementation,
                verdict(c),
                c.detail,
                r.implementation,
                verdict(r),
                r.detail
            )
        };
        findings.push(Finding {
            check: Check::Shutdown,
            kind: Kind::ShutdownDiffers,
            property: c.question.text().into(),
            summary,
            case: vec![],
            seed: None,
        });
    }
    (cand.len(), findings, notes)
}

// ---------------------------------------------------------------------------------------------
// the parent: one worker per check and candidate, reports collected and printed

/// What a worker process left behind.
struct WorkerOutput {
    report: Option<CheckReport>,
    error: Option<String>,
    status: Option<std::process::ExitStatus>,
    last_progress: Option<String>,
    stderr_tail: Vec<String>,
    killed: bool,
}

fn spawn_worker(exe: &Path, what: &str, candidate: &str, args: &Args, seed: u64) -> anyhow::Result<WorkerOutput> {
    let mut cmd = Command::new(exe);
    cmd.args(["validate", "--worker", what, "--reference", &args.reference, "--candidate", candidate]);
    cmd.args(["--seed", &seed.to_string()]);
    if let Some(n) = args.cases {
        cmd.args(["--cases", &n.to_string()]);
    }
    if let Some(n) = args.reps {
        cmd.args(["--reps", &n.to_string()]);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {}", exe.display()))?;
    let (lines_tx, lines_rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("piped");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stderr = child.stderr.take().expect("piped");
    let stderr_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    });
    let mut out = WorkerOutput {
        report: None,
        error: None,
        status: None,
        last_progress: None,
        stderr_tail: vec![],
        killed: false,
    };
    let deadline = Instant::now() + WORKER_LIMIT;
    loop {
        match lines_rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                if let Some(p) = line.strip_prefix("progress ") {
                    out.last_progress = Some(p.to_string());
                } else if let Some(r) = line.strip_prefix("report ") {
                    out.report = Some(serde_json::from_str(r).context("a worker's report is not valid JSON")?);
                } else if let Some(e) = line.strip_prefix("error ") {
                    out.error = Some(e.to_string());
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            out.killed = true;
            break;
        }
    }
    out.status = Some(child.wait()?);
    let err = stderr_reader.join().unwrap_or_default();
    out.stderr_tail = err.lines().rev().take(12).collect::<Vec<_>>().into_iter().rev().map(str::to_string).collect();
    Ok(out)
}

fn describe_exit(status: Option<std::process::ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Some(s) => match (s.code(), s.signal()) {
            (Some(c), _) => format!("exited with status {c}"),
            (_, Some(sig)) => {
                let name = match sig {
                    libc::SIGSEGV => " (SIGSEGV, segmentation fault)",
                    libc::SIGABRT => " (SIGABRT, abort)",
                    libc::SIGBUS => " (SIGBUS, bus error)",
                    libc::SIGFPE => " (SIGFPE, arithmetic error)",
                    libc::SIGILL => " (SIGILL, illegal instruction)",
                    libc::SIGKILL => " (SIGKILL)",
                    _ => "",
                };
                format!("was killed by signal {sig}{name}")
            }
            _ => "ended".into(),
        },
        None => "did not start".into(),
    }
}

fn random_seed() -> u64 {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    (t.as_nanos() as u64 ^ ((std::process::id() as u64) << 20)) % 1_000_000_000
}

fn parent(args: &Args) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("cannot find the bqh executable to run workers")?;
    Target::parse(&args.reference)?;
    let candidates: Vec<String> = if args.candidate.is_empty() {
        Builtin::ALL.iter().map(|b| b.name().to_string()).collect()
    } else {
        args.candidate.clone()
    };
    for c in &candidates {
        Target::parse(c)?;
    }
    let checks = if args.checks.is_empty() { Check::ALL.to_vec() } else { args.checks.clone() };
    let seed = args.seed.unwrap_or_else(random_seed);
    // Load every plugin once in a worker first: a bad library is an input error, said at once.
    for c in &candidates {
        let out = spawn_worker(&exe, "load", c, args, seed)?;
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
            let out = spawn_worker(&exe, check.name(), c, args, seed)?;
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
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&reports)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The report of a worker that died or was killed: a crash (or hang) of the candidate.
fn died(check: Check, candidate: &str, args: &Args, out: &WorkerOutput) -> CheckReport {
    let during = out.last_progress.as_deref().unwrap_or("start-up");
    let (kind, what) = if out.killed {
        (Kind::Hang, format!("the worker did not finish within {WORKER_LIMIT:?} and was killed"))
    } else {
        (Kind::Crash, format!("the worker process {}", describe_exit(out.status)))
    };
    let seed = during.split("(seed ").nth(1).and_then(|s| s.split(')').next()).and_then(|s| s.parse().ok());
    CheckReport {
        check,
        candidate: candidate.to_string(),
        reference: args.reference.clone(),
        cases: 0,
        seconds: 0.0,
        notes: vec![],
        findings: vec![Finding {
            check,
            kind,
            property: "the implementation runs the check without crashing".into(),
            summary: format!("{what} during: {during}"),
            case: out.stderr_tail.iter().map(|l| format!("stderr: {l}")).collect(),
            seed,
        }],
        replay: None,
    }
}
