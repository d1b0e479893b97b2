//! The worker processes: each check of each candidate runs in a child process (this same
//! binary, re-executed with the hidden `--worker` flag), so that a plugin that crashes or hangs
//! becomes a finding and the parent survives to report it. The child loads both libraries, runs
//! one check and prints its report as a line of JSON; the parent spawns it, reads its progress
//! lines, kills it past [`WORKER_LIMIT`] and turns a death into a finding.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

use super::driver::{self, Check, Ctx};
use super::linearizability::{self, Linearizability};
use super::model::Caps;
use super::report::{CheckReport, Finding, Misbehaviour};
use super::sequential::{self, Sequential};
use super::stress::Stress;
use super::wakeup::Wakeup;
use super::{shutdown, Args};
use bq_engine::impls::plugin::Plugin;
use bq_engine::impls::Builtin;
use bq_engine::impls::Choice;
use bq_engine::isolated::{describe_exit, run_self};
use bq_engine::queue::{Impl, Traits};

/// A worker gets this long for one check before it is killed and reported as hung. The checks
/// bound their own runs; this only catches a hang outside them.
const WORKER_LIMIT: Duration = Duration::from_secs(600);

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
            Loaded::Builtin(b) => bq_engine::with_builtin!(b, |$imp| $body),
        }
    };
}

fn load(s: &str) -> anyhow::Result<Loaded> {
    Ok(match Choice::parse(s).map_err(anyhow::Error::msg)? {
        Choice::Builtin(b) => Loaded::Builtin(b),
        Choice::Plugin(p) => Loaded::Plugin(Plugin::load_static(p)?),
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
                 its file under impls/), so the linearizability check pops from one thread only"
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

// ---------------------------------------------------------------------------------------------
// the child: one check of one candidate

pub(super) fn worker(args: &Args, what: &str) -> anyhow::Result<ExitCode> {
    // A panic's message only: its stderr becomes a finding, where backtrace lines (with
    // RUST_BACKTRACE set) would crowd out the message.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("panicked: {}", bq_engine::watchdog::panic_message(info.payload()))
    }));
    let [candidate] = args.candidate.as_slice() else { bail!("--worker takes exactly one --candidate") };
    // The results' own channel: a library that prints cannot mix its lines into them.
    let answers = bq_engine::isolated::Answers::take()?;
    let loaded = load(candidate).and_then(|c| Ok((c, load(&args.reference)?)));
    let (cand, reference) = match loaded {
        Ok(v) => v,
        Err(e) => {
            answers.say(&format!("error {e:#}"))?;
            return Ok(ExitCode::from(2));
        }
    };
    if what == "load" {
        // Make and free one queue, so that a library that crashes at once says so here.
        for l in [cand, reference] {
            with_loaded!(l, |imp| drop(imp.bounded(2).map_err(|e| anyhow::anyhow!("{e}"))?));
        }
        answers.say("loaded")?;
        return Ok(ExitCode::SUCCESS);
    }
    let check = <Check as clap::ValueEnum>::from_str(what, false).map_err(|e| anyhow::anyhow!("--worker: {e}"))?;
    let (caps, all_notes) = caps(cand, reference);
    let ctx = Ctx { seed: args.seed.unwrap_or(0), cases: args.cases, caps };
    let start = Instant::now();
    let mut notes: Vec<String> = all_notes
        .into_iter()
        .filter(|n| match check {
            Check::Sequential => !n.contains("linearizability"),
            Check::Linearizability => true,
            _ => false,
        })
        .collect();
    let (cases, findings) = match check {
        Check::Sequential => {
            // "side" lines tell the parent whose code runs, so that a crash is blamed right.
            let ref_run: Box<dyn Fn(&sequential::Case) -> sequential::Outcome> = with_loaded!(reference, |imp| {
                Box::new(move |c: &sequential::Case| {
                    let _ = answers.say("side reference");
                    let out = sequential::run(imp, c);
                    let _ = answers.say("side candidate");
                    out
                })
            });
            let check = Sequential { reference: &*ref_run, ref_name: name_and_traits(reference).0, caps };
            with_loaded!(cand, |imp| driver::run(&check, imp, &ctx))
        }
        Check::Linearizability => {
            let check = Linearizability { reps: args.reps.unwrap_or(linearizability::DEFAULT_REPS) };
            with_loaded!(cand, |imp| driver::run(&check, imp, &ctx))
        }
        Check::Wakeup => with_loaded!(cand, |imp| driver::run(&Wakeup, imp, &ctx)),
        Check::Stress => with_loaded!(cand, |imp| driver::run(&Stress, imp, &ctx)),
        Check::Shutdown => {
            ctx.progress("shutdown probes on the candidate");
            let c = with_loaded!(cand, |imp| bq_engine::shutdown::probe_all(imp));
            ctx.progress("shutdown probes on the reference");
            answers.say("side reference")?;
            let r = with_loaded!(reference, |imp| bq_engine::shutdown::probe_all(imp));
            let (n, findings, more_notes) = shutdown::compare_probes(&c, &r);
            notes.extend(more_notes);
            (n, findings)
        }
    };
    let report = CheckReport {
        check,
        candidate: name_and_traits(cand).0,
        reference: name_and_traits(reference).0,
        cases,
        seconds: start.elapsed().as_secs_f64(),
        notes,
        findings,
        replay: None,
        of_reference: false,
        timeline: None,
    };
    answers.say(&format!("report {}", serde_json::to_string(&report)?))?;
    // Threads left behind by a hang may never end: do not wait for them.
    std::process::exit(0)
}
// ---------------------------------------------------------------------------------------------
// the parent's side: spawn a worker, read what it says, make a report of its death

/// What a worker process left behind.
pub(super) struct WorkerOutput {
    pub(super) report: Option<CheckReport>,
    pub(super) error: Option<String>,
    pub(super) status: Option<std::process::ExitStatus>,
    pub(super) last_progress: Option<String>,
    pub(super) stderr_tail: Vec<String>,
    pub(super) killed: bool,
    /// The reference's code was running when the worker stopped (its last "side" line).
    pub(super) in_reference: bool,
    /// "peak RSS 12.3 MiB": how much memory the worker reached, for the report of one that died.
    pub(super) peak_rss: String,
}

pub(super) fn spawn_worker(what: &str, candidate: &str, args: &Args, seed: u64) -> anyhow::Result<WorkerOutput> {
    let mut argv: Vec<String> =
        ["validate", "--worker", what, "--reference", &args.reference, "--candidate", candidate]
            .map(String::from)
            .to_vec();
    argv.extend(["--seed".into(), seed.to_string()]);
    if let Some(n) = args.cases {
        argv.extend(["--cases".into(), n.to_string()]);
    }
    if let Some(n) = args.reps {
        argv.extend(["--reps".into(), n.to_string()]);
    }
    let (mut report, mut error, mut last_progress, mut in_reference) = (None, None, None, false);
    // Loading alone gets the short deadline compare's loading has: a constructor that never
    // returns is said within seconds.
    let limit = if what == "load" { bq_engine::isolated::LOAD_LIMIT } else { WORKER_LIMIT };
    let done = run_self(&argv, limit, |line| {
        if let Some(p) = line.strip_prefix("progress ") {
            last_progress = Some(p.to_string());
        } else if let Some(r) = line.strip_prefix("report ") {
            report = Some(serde_json::from_str(r).context("a worker's report is not valid JSON")?);
        } else if let Some(side) = line.strip_prefix("side ") {
            in_reference = side == "reference";
        } else if let Some(e) = line.strip_prefix("error ") {
            error = Some(e.to_string());
        }
        Ok(())
    })?;
    let peak_rss = done.peak_rss();
    Ok(WorkerOutput {
        report,
        error,
        status: Some(done.status),
        last_progress,
        stderr_tail: done.stderr_tail,
        killed: done.killed,
        in_reference,
        peak_rss,
    })
}

/// The report of a worker that died or was killed: a crash (or hang) of the candidate.
pub(super) fn died(check: Check, candidate: &str, args: &Args, out: &WorkerOutput) -> CheckReport {
    let during = out.last_progress.as_deref().unwrap_or("start-up");
    let (kind, what) = if out.killed {
        (
            Misbehaviour::Hang,
            format!("the worker did not finish within {WORKER_LIMIT:?} and was killed ({})", out.peak_rss),
        )
    } else {
        (Misbehaviour::Crash, format!("the worker process {} ({})", describe_exit(out.status), out.peak_rss))
    };
    let seed = during.split("(seed ").nth(1).and_then(|s| s.split(')').next()).and_then(|s| s.parse().ok());
    let (kind, property, what) = if out.in_reference {
        let what = format!("reference failed: {what} while the reference {} ran", args.reference);
        (Misbehaviour::ReferenceCrash, "the reference runs the check without crashing", what)
    } else {
        (kind, "the implementation runs the check without crashing", what)
    };
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
            property: property.into(),
            summary: format!("{what} during: {during}"),
            case: out.stderr_tail.iter().map(|l| format!("stderr: {l}")).collect(),
            seed,
            history: None,
        }],
        replay: None,
        of_reference: false,
        timeline: None,
    }
}
