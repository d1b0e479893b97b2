//! The checks, and one driver for the four that run generated cases (sequential,
//! linearizability, wakeup, stress): case *i* comes from seed `S + i`, runs under the check's
//! deadline, and the first failing case is shrunk and becomes the check's finding. The shutdown
//! check compares fixed probes instead (`shutdown.rs`).
//!
//! Generation and shrinking are this project's own rather than `proptest`'s `TestRunner`:
//! - `--seed S --cases 1` must regenerate case `S` exactly, from a generator small enough to
//!   keep stable ([`Rng`]); `proptest` draws from its own `TestRng`, which would change every
//!   replay command.
//! - A run that hangs must cost one bounded wait (the checks run it under
//!   `bq_engine::watchdog::within`, which leaves the stuck thread behind) and count against a
//!   budget of hangs; `proptest` bounds a case only by forking a process for it.
//! - The smaller cases are domain moves that must stay valid (no blocking call where the model
//!   says it waits; a smaller capacity may need a command removed with it), and the concurrent
//!   checks try each smaller case several times since their failures depend on the
//!   interleaving; `proptest`'s value trees shrink each field on its own and assume a
//!   deterministic test.

use super::model::{Caps, Rng};
pub use super::report::Check;
use super::report::{Finding, Misbehaviour};
use bq_engine::queue::Impl;

/// What the checks inside a worker need.
pub struct Ctx {
    pub seed: u64,
    pub cases: Option<usize>,
    pub caps: Caps,
}

impl Ctx {
    /// Tells the parent what runs now, so that a crash can name the case.
    pub fn progress(&self, text: &str) {
        let _ = bq_engine::isolated::Answers::say_anywhere(&format!("progress {text}"));
    }
}

/// How much shrinking may cost. Shrinking stops when either budget is spent; a failing case
/// that hung has spent one hang already.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Runs in all (each try of a smaller case is one).
    pub runs: usize,
    /// Runs that hang: each costs the check's whole deadline.
    pub hangs: usize,
    /// Runs of each smaller case before it counts as passing (more for failures that depend
    /// on the interleaving).
    pub tries: usize,
}

impl Budget {
    pub const NONE: Budget = Budget { runs: 0, hangs: 0, tries: 0 };
}

/// A finding's own parts; the driver adds the check and the seed.
pub struct Described {
    pub kind: Misbehaviour,
    /// The property that failed, in words.
    pub property: String,
    /// What was seen, in one line.
    pub summary: String,
    /// The case, one line each.
    pub case: Vec<String>,
}

/// A check that runs generated cases.
pub trait CaseCheck {
    type Case: Clone;
    type Failure;
    const CHECK: Check;
    /// Cases without `--cases` (its help in `Args` lists them).
    const DEFAULT_CASES: usize;
    /// What one case is called in the progress line ("sequential case", "stress round"...).
    const NOUN: &'static str;
    /// Shrinking's budget; the default shrinks nothing.
    const SHRINK: Budget = Budget::NONE;

    /// The case of `seed`, drawn from `rng` (seeded with `seed`), using only what `caps` allows.
    fn generate(&self, seed: u64, rng: &mut Rng, caps: Caps) -> Self::Case;
    /// Runs `case` on `imp`, every run under a deadline.
    fn run<I: Impl>(&self, imp: &'static I, case: &Self::Case) -> Result<(), Self::Failure>;
    /// Smaller (or simpler) valid cases to try in place of `case`, best first.
    fn smaller(&self, _case: &Self::Case, _failure: &Self::Failure) -> Vec<Self::Case> {
        vec![]
    }
    /// Whether `now`, seen on a smaller case, is the failure being shrunk (`was`) again.
    fn same(&self, _was: &Self::Failure, _now: &Self::Failure) -> bool {
        true
    }
    /// Whether the failure is a hang (it cost a whole deadline).
    fn hung(&self, _failure: &Self::Failure) -> bool {
        false
    }
    /// The finding for a (shrunk) failing case.
    fn describe<I: Impl>(&self, imp: &'static I, case: &Self::Case, failure: &Self::Failure) -> Described;
    /// The failure's concurrent history, for a timeline picture (linearizability only).
    fn history(&self, _case: &Self::Case, _failure: &Self::Failure) -> Option<super::report::History> {
        None
    }
    /// More for the progress line, after the seed.
    fn progress_detail(&self, _case: &Self::Case) -> Option<String> {
        None
    }
}

/// Runs `check` on `imp`: `ctx.cases` cases (the check's default when unset), stopping at the
/// first failure, which is shrunk and described. Returns (cases run, findings).
pub fn run<C: CaseCheck, I: Impl>(check: &C, imp: &'static I, ctx: &Ctx) -> (usize, Vec<Finding>) {
    let cases = ctx.cases.unwrap_or(C::DEFAULT_CASES);
    for i in 0..cases {
        let seed = ctx.seed.wrapping_add(i as u64);
        let case = check.generate(seed, &mut Rng::new(seed), ctx.caps);
        let detail = check.progress_detail(&case).map_or(String::new(), |d| format!(": {d}"));
        ctx.progress(&format!("{} {} of {cases} (seed {seed}){detail}", C::NOUN, i + 1));
        let Err(failure) = check.run(imp, &case) else { continue };
        let (case, failure) = shrink(check, imp, case, failure);
        let d = check.describe(imp, &case, &failure);
        let finding = Finding {
            check: C::CHECK,
            kind: d.kind,
            property: d.property,
            summary: d.summary,
            case: d.case,
            seed: Some(seed),
            history: check.history(&case, &failure),
        };
        return (i + 1, vec![finding]);
    }
    (cases, vec![])
}

/// The one shrinking loop: until no smaller case fails the same way, run the check's smaller
/// cases in order and keep the first that does, within the check's [`Budget`].
pub fn shrink<C: CaseCheck, I: Impl>(
    check: &C,
    imp: &'static I,
    mut case: C::Case,
    mut failure: C::Failure,
) -> (C::Case, C::Failure) {
    let budget = C::SHRINK;
    let mut runs = 0;
    let mut hangs = check.hung(&failure) as usize;
    'shrink: loop {
        for smaller in check.smaller(&case, &failure) {
            for _ in 0..budget.tries {
                if runs >= budget.runs || hangs >= budget.hangs {
                    break 'shrink;
                }
                runs += 1;
                if let Err(f) = check.run(imp, &smaller) {
                    hangs += check.hung(&f) as usize;
                    if check.same(&failure, &f) {
                        (case, failure) = (smaller, f);
                        continue 'shrink;
                    }
                }
            }
        }
        break;
    }
    (case, failure)
}
