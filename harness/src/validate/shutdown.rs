//! The shutdown check: the probes of `bqh shutdown` (`bq_engine::shutdown`) run on the candidate and
//! on the reference; every question's verdict must be the reference's.

use super::report::{Finding, Misbehaviour};
use super::Check;
use bq_engine::shutdown::{Observation, Verdict, PROBE_LIMIT, WAITERS};

/// Compares the candidate's observations with the reference's, question by question: (questions
/// compared, a finding for each verdict that differs, a note for each question left out).
pub fn compare_probes(cand: &[Observation], reference: &[Observation]) -> (usize, Vec<Finding>, Vec<String>) {
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
        // The reference is the yardstick here: when it failed (crashed, raised, hung), the
        // difference is its own, whatever the candidate said.
        if r.verdict == Verdict::Failed {
            findings.push(Finding {
                check: Check::Shutdown,
                kind: Misbehaviour::ReferenceMismatch,
                property: c.question.text().into(),
                summary: format!(
                    "the reference {} failed the probe ({}), so {}'s answer ({}: {}) is not judged",
                    r.implementation,
                    r.detail,
                    c.implementation,
                    verdict(c),
                    c.detail
                ),
                case: vec![],
                seed: None,
                history: None,
            });
            continue;
        }
        let woken = c.question.text().contains("woken");
        let summary = if c.verdict == Verdict::Failed && woken {
            let who = if c.question.text().starts_with("blocked producers") { "producers" } else { "consumers" };
            format!(
                "hang after close: with {WAITERS} blocked {who}, {} got no answer within {PROBE_LIMIT:?}; {}: {} ({})",
                c.implementation,
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
            kind: Misbehaviour::ShutdownDiffers,
            property: c.question.text().into(),
            summary,
            case: vec![],
            seed: None,
            history: None,
        });
    }
    (cand.len(), findings, notes)
}
