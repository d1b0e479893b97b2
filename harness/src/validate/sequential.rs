//! Check 1, sequential differential: random command sequences at random capacities, run on the
//! candidate, the reference and the model; every result must match. A failing sequence is
//! shrunk (truncate after the first divergence, then remove-chunks delta debugging, then
//! smaller capacities). A hand-written shrinker rather than `proptest`: a hang during shrinking
//! must cost a bounded wait and leave a thread behind, which needs control over every run.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::model::{random_op, Caps, Handles, Model, Op, Ret, Rng};
use super::report::{Check, Finding, Kind};
use super::Ctx;
use crate::queue::Impl;
use crate::watchdog::{within, WatchdogError};

/// How long one sequence may run. Its commands return at once or after a timeout of at most
/// 1 ms, so this is only reached by a hang.
const LIMIT: Duration = Duration::from_secs(5);
/// Shrinking budget: runs in all, and runs that hang (each costs [`LIMIT`]).
const MAX_SHRINK_RUNS: usize = 400;
const MAX_SHRINK_HANGS: usize = 3;
pub const DEFAULT_CASES: usize = 300;

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
    let capacity = match rng.below(10) {
        0..=2 => 1,
        3..=5 => 2,
        6..=7 => 3,
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
            op = op.timed(rng.timeout_us());
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

/// Shrinks `case` while `imp` still diverges from the model on it.
pub fn shrink<I: Impl>(imp: &'static I, case: Case, caps: Caps) -> (Case, Outcome) {
    let mut runs = 0;
    let mut hangs = 0;
    let mut best_out = run(imp, &case);
    let mut best = case;
    let mut try_case = |c: &Case, best: &mut Case, best_out: &mut Outcome| -> bool {
        if runs >= MAX_SHRINK_RUNS || hangs >= MAX_SHRINK_HANGS || !valid(c, caps) {
            return false;
        }
        runs += 1;
        let out = run(imp, c);
        hangs += out.hung as usize;
        if divergence(c, &out).is_some() {
            *best = c.clone();
            *best_out = out;
            true
        } else {
            false
        }
    };
    // Commands after the first divergence cannot matter.
    if let Some(at) = divergence(&best, &best_out) {
        best.ops.truncate(at + 1);
    }
    // Until nothing shrinks: remove chunks, halving their size down to single commands; then
    // a smaller capacity, alone or with one command less (a smaller queue is full one push
    // sooner, so a push may have to go with it).
    loop {
        let before = (best.capacity, best.ops.len());
        let mut chunk = best.ops.len().div_ceil(2).max(1);
        loop {
            let mut start = 0;
            while start < best.ops.len() {
                let mut c = best.clone();
                let end = (start + chunk).min(c.ops.len());
                c.ops.drain(start..end);
                if c.ops.is_empty() || !try_case(&c, &mut best, &mut best_out) {
                    start += chunk;
                }
            }
            if chunk == 1 {
                break;
            }
            chunk = chunk.div_ceil(2);
        }
        'capacity: for capacity in 1..best.capacity {
            let mut c = Case { capacity, ops: best.ops.clone() };
            if try_case(&c, &mut best, &mut best_out) {
                break;
            }
            for i in 0..best.ops.len() {
                c.ops = best.ops.clone();
                c.ops.remove(i);
                if !c.ops.is_empty() && try_case(&c, &mut best, &mut best_out) {
                    break 'capacity;
                }
            }
        }
        if (best.capacity, best.ops.len()) == before {
            break;
        }
    }
    // Renumber the items 1, 2, 3... for a readable report.
    let mut n = 0;
    let ops = best
        .ops
        .iter()
        .map(|op| {
            op.item().map_or(*op, |_| {
                n += 1;
                op.with_item(n)
            })
        })
        .collect();
    let c = Case { capacity: best.capacity, ops };
    if c != best {
        try_case(&c, &mut best, &mut best_out);
    }
    if let Some(at) = divergence(&best, &best_out) {
        best.ops.truncate(at + 1);
    }
    (best, best_out)
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

/// The whole check: `ctx.cases` random sequences, stopping at the first finding.
/// `reference` runs a case on the reference implementation (any `Impl`, behind a closure so
/// that this is not instantiated for every pair).
pub fn check<C: Impl>(
    cand: &'static C,
    reference: &dyn Fn(&Case) -> Outcome,
    ref_name: &str,
    ctx: &Ctx,
) -> (usize, Vec<Finding>) {
    let caps = ctx.caps;
    let cases = ctx.cases.unwrap_or(DEFAULT_CASES);
    for i in 0..cases {
        let seed = ctx.seed.wrapping_add(i as u64);
        ctx.progress(&format!("sequential case {} of {cases} (seed {seed})", i + 1));
        let case = generate(&mut Rng::new(seed), caps);
        let c_out = run(cand, &case);
        if divergence(&case, &c_out).is_some() {
            let (small, small_out) = shrink(cand, case, caps);
            let r_out = reference(&small);
            let at = divergence(&small, &small_out).unwrap_or(0);
            let op = small.ops.get(at).copied();
            let expected = model_results(&small).get(at).copied();
            let summary = match (&small_out.stopped, small_out.results.get(at), op, expected) {
                (Some(why), None, Some(op), Some(e)) => {
                    format!("command {} `{op}` never returned or failed ({why}); the model returns {e} at once", at + 1)
                }
                (_, Some(got), Some(op), Some(e)) => {
                    format!("command {} `{op}` returned {got}; the model (and a correct queue) returns {e}", at + 1)
                }
                _ => "the candidate diverges from the model".into(),
            };
            let kind = if small_out.hung {
                Kind::Hang
            } else if small_out.stopped.as_deref().is_some_and(|s| s.contains("panicked")) {
                Kind::Panic
            } else {
                Kind::Mismatch
            };
            let finding = Finding {
                check: Check::Sequential,
                kind,
                property: "every command returns what the model queue returns".into(),
                summary,
                case: render(&small, ("candidate", cand.name(), &small_out), ("reference", ref_name, &r_out)),
                seed: Some(seed),
            };
            return (i + 1, vec![finding]);
        }
        let r_out = reference(&case);
        if divergence(&case, &r_out).is_some() {
            let finding = Finding {
                check: Check::Sequential,
                kind: Kind::ReferenceMismatch,
                property: format!("the reference ({ref_name}) returns what the model queue returns"),
                summary: "the reference differs from the model: the model or the reference is wrong, not necessarily the candidate".into(),
                case: render(&case, ("reference", ref_name, &r_out), ("candidate", cand.name(), &c_out)),
                seed: Some(seed),
            };
            return (i + 1, vec![finding]);
        }
    }
    (cases, vec![])
}
