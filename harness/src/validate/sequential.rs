//! The sequential check: random command sequences at random capacities, run on the candidate,
//! the reference and the model; every result must match. A failing sequence is shrunk
//! ([`Sequential::smaller`]: cut after the first divergence, chunks removed, smaller
//! capacities, items renumbered) by the driver's loop.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::driver::{Budget, CaseCheck, Check, Described};
use super::model::{random_op, Caps, Handles, Model, Op, Ret, Rng};
use super::report::Misbehaviour;
use bq_engine::queue::{Impl, MAX_CAPACITY};
use bq_engine::watchdog::{within, WatchdogError};

/// How long one sequence may run. Its commands return at once or after a timeout of at most
/// 1 ms, so this is only reached by a hang.
const LIMIT: Duration = Duration::from_secs(5);
/// Shrinking budget: runs in all, and runs that hang (each costs [`LIMIT`]).
const MAX_SHRINK_RUNS: usize = 400;
const MAX_SHRINK_HANGS: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub capacity: usize,
    pub ops: Vec<Op>,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Results of the commands that returned, in order.
    pub results: Vec<Ret>,
    /// Why it stopped early: a hang, a panic, or the queue could not be made.
    pub stopped: Option<String>,
    pub hung: bool,
}

pub fn generate(rng: &mut Rng, caps: Caps) -> Case {
    // The largest capacity in about one case of 100: a sequence never fills it, and the Rust
    // channels allocate (and crossbeam initialises) all of it, a tenth of a second each time.
    let capacity = match rng.below(100) {
        0 => MAX_CAPACITY,
        1..=30 => 1,
        31..=60 => 2,
        61..=80 => 3,
        _ => rng.range(4, 8),
    };
    let len = rng.range(1, 40);
    let mut model = Model::new(capacity);
    let mut next_item = 0;
    let mut producers_gone = false;
    let mut ops = Vec::with_capacity(len);
    for _ in 0..len {
        let mut op = random_op(rng, caps, &mut next_item, producers_gone);
        if model.would_block(op) {
            op = op.timed(rng.timeout());
        }
        if op == Op::Close && !caps.explicit_close {
            producers_gone = true;
        }
        model.step(op);
        ops.push(op);
    }
    Case { capacity, ops }
}

/// A case the generator could have produced: no command that waits forever, no push once the
/// producer handle is gone.
pub fn valid(case: &Case, caps: Caps) -> bool {
    let mut model = Model::new(case.capacity);
    let mut producers_gone = false;
    for &op in &case.ops {
        if model.would_block(op) || (producers_gone && (op.is_push() || op == Op::Close)) {
            return false;
        }
        if op == Op::Close && !caps.explicit_close {
            producers_gone = true;
        }
        model.step(op);
    }
    true
}

pub fn model_results(case: &Case) -> Vec<Ret> {
    let mut m = Model::new(case.capacity);
    case.ops.iter().map(|&op| m.step(op)).collect()
}

/// Runs `case` on a fresh queue of `imp` under the watchdog.
pub fn run<I: Impl>(imp: &'static I, case: &Case) -> Outcome {
    let results = Arc::new(Mutex::new(Vec::new()));
    let (shared, c) = (results.clone(), case.clone());
    let r = within(&format!("{}: sequence", imp.name()), LIMIT, move || -> Result<(), String> {
        let (tx, rx) = imp.bounded(c.capacity).map_err(|e| e.to_string())?;
        let mut h = Handles::new(imp, tx, rx);
        for &op in &c.ops {
            let ret = h.run(op);
            shared.lock().unwrap().push(ret);
        }
        Ok(())
    });
    let results = results.lock().unwrap().clone();
    let (stopped, hung) = match r {
        Ok(Ok(())) => (None, false),
        Ok(Err(e)) => (Some(e), false),
        Err(e @ WatchdogError::Hung { .. }) => (Some(e.to_string()), true),
        Err(e) => (Some(e.to_string()), false),
    };
    Outcome { results, stopped, hung }
}

/// Index of the first command whose result differs from the model's (or that never returned).
pub fn divergence(case: &Case, out: &Outcome) -> Option<usize> {
    let expected = model_results(case);
    let first_diff = expected.iter().zip(&out.results).position(|(a, b)| a != b);
    first_diff.or_else(|| (out.results.len() < expected.len()).then_some(out.results.len()))
}

/// The case as a table: command, the first side's result (the one that differs), the model's,
/// the other side's. Sides are (label, name, outcome).
pub fn render(case: &Case, first: (&str, &str, &Outcome), other: (&str, &str, &Outcome)) -> Vec<String> {
    let (cand_label, cand_name, cand) = first;
    let (ref_label, ref_name, reference) = other;
    let reference = Some(reference);
    let expected = model_results(case);
    let mut lines = vec![
        format!("capacity {}; {} command(s), one after another:", case.capacity, case.ops.len()),
        format!("     {:<24} {cand_label:<10} {:<10} {ref_label}", "command", "model"),
    ];
    let shown = |o: Option<&Outcome>, i: usize| match o {
        Some(o) => {
            o.results.get(i).map_or_else(|| if o.hung { "(hung)".into() } else { "-".into() }, |r| r.to_string())
        }
        None => "-".into(),
    };
    for (i, op) in case.ops.iter().enumerate() {
        let c = shown(Some(cand), i);
        let m = expected[i].to_string();
        let r = shown(reference, i);
        let mark = if c != m { "   <-- differs" } else { "" };
        lines.push(format!("{:>3}. {:<24} {c:<10} {m:<10} {r}{mark}", i + 1, op.to_string()));
    }
    lines.push(format!("({cand_label}: {cand_name}; {ref_label}: {ref_name})"));
    lines
}

/// How a sequence failed.
#[derive(Debug, Clone)]
pub enum Failure {
    /// The candidate diverged from the model.
    Candidate(Outcome),
    /// The candidate agreed with the model and the reference did not: the model or the
    /// reference is wrong, not necessarily the candidate.
    Reference { reference: Outcome, candidate: Outcome },
}

/// The check: each sequence on the candidate, then (when it agrees with the model) on the
/// reference. `reference` runs a case on the reference implementation (any `Impl`, behind a
/// closure so that the check is not instantiated for every pair).
pub struct Sequential<'a> {
    pub reference: &'a dyn Fn(&Case) -> Outcome,
    pub ref_name: String,
    pub caps: Caps,
}

impl CaseCheck for Sequential<'_> {
    type Case = Case;
    type Failure = Failure;
    const CHECK: Check = Check::Sequential;
    const DEFAULT_CASES: usize = 300;
    const NOUN: &'static str = "sequential case";
    const SHRINK: Budget = Budget { runs: MAX_SHRINK_RUNS, hangs: MAX_SHRINK_HANGS, tries: 1 };

    fn generate(&self, _seed: u64, rng: &mut Rng, caps: Caps) -> Case {
        generate(rng, caps)
    }

    fn run<I: Impl>(&self, imp: &'static I, case: &Case) -> Result<(), Failure> {
        let candidate = run(imp, case);
        if divergence(case, &candidate).is_some() {
            return Err(Failure::Candidate(candidate));
        }
        let reference = (self.reference)(case);
        if divergence(case, &reference).is_some() {
            return Err(Failure::Reference { reference, candidate });
        }
        Ok(())
    }

    /// The sequence cut after its first divergence (what follows cannot matter); chunks
    /// removed, halving their size down to single commands (delta debugging); a smaller
    /// capacity, alone or with one command less (a smaller queue is full one push sooner, so a
    /// push may have to go with it); last, the items renumbered 1, 2, 3... for a readable
    /// report. A divergence of the reference is reported as found.
    fn smaller(&self, case: &Case, failure: &Failure) -> Vec<Case> {
        let Failure::Candidate(out) = failure else { return vec![] };
        let mut smaller = Vec::new();
        if let Some(at) = divergence(case, out).filter(|&at| at + 1 < case.ops.len()) {
            smaller.push(Case { capacity: case.capacity, ops: case.ops[..=at].to_vec() });
        }
        let mut chunk = case.ops.len().div_ceil(2).max(1);
        loop {
            for start in (0..case.ops.len()).step_by(chunk) {
                let mut c = case.clone();
                c.ops.drain(start..(start + chunk).min(case.ops.len()));
                smaller.push(c);
            }
            if chunk == 1 {
                break;
            }
            chunk = chunk.div_ceil(2);
        }
        // Capacities up to 8 (not every one below the largest).
        for capacity in 1..case.capacity.min(9) {
            smaller.push(Case { capacity, ops: case.ops.clone() });
            for i in 0..case.ops.len() {
                let mut c = Case { capacity, ops: case.ops.clone() };
                c.ops.remove(i);
                smaller.push(c);
            }
        }
        let mut n = 0;
        let ops = case.ops.iter().map(|op| {
            op.item().map_or(*op, |_| {
                n += 1;
                op.with_item(n)
            })
        });
        smaller.push(Case { capacity: case.capacity, ops: ops.collect() });
        smaller.retain(|c| !c.ops.is_empty() && c != case && valid(c, self.caps));
        smaller
    }

    fn same(&self, _was: &Failure, now: &Failure) -> bool {
        matches!(now, Failure::Candidate(_))
    }

    fn hung(&self, failure: &Failure) -> bool {
        matches!(failure, Failure::Candidate(out) if out.hung)
    }

    /// The case as a table; for a candidate's divergence the reference runs the shrunk case
    /// for its column.
    fn describe<I: Impl>(&self, imp: &'static I, case: &Case, failure: &Failure) -> Described {
        let ref_name = &self.ref_name;
        match failure {
            Failure::Candidate(out) => {
                let r_out = (self.reference)(case);
                let at = divergence(case, out).unwrap_or(0);
                let op = case.ops.get(at).copied();
                let expected = model_results(case).get(at).copied();
                let summary = match (&out.stopped, out.results.get(at), op, expected) {
                    (Some(why), None, Some(op), Some(e)) => format!(
                        "command {} `{op}` never returned or failed ({why}); the model returns {e} at once",
                        at + 1
                    ),
                    (_, Some(got), Some(op), Some(e)) => {
                        format!("command {} `{op}` returned {got}; the model (and a correct queue) returns {e}", at + 1)
                    }
                    _ => "the candidate diverges from the model".into(),
                };
                let kind = if out.hung {
                    Misbehaviour::Hang
                } else if out.stopped.as_deref().is_some_and(|s| s.contains("panicked")) {
                    Misbehaviour::Panic
                } else {
                    Misbehaviour::Mismatch
                };
                Described {
                    kind,
                    property: "every command returns what the model queue returns".into(),
                    summary,
                    case: render(case, ("candidate", imp.name(), out), ("reference", ref_name, &r_out)),
                }
            }
            Failure::Reference { reference, candidate } => Described {
                kind: Misbehaviour::ReferenceMismatch,
                property: format!("the reference ({ref_name}) returns what the model queue returns"),
                summary: "the reference differs from the model: the model or the reference is wrong, not necessarily the candidate".into(),
                case: render(case, ("reference", ref_name, reference), ("candidate", imp.name(), candidate)),
            },
        }
    }
}
