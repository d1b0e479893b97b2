//! What the checks find, in a form a worker process can hand to the parent (JSON) and the
//! parent can print.

use std::fmt::Write as _;

/// The checks, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// Random command sequences on candidate, reference and the model queue, compared.
    Sequential,
    /// Random parallel command lists, histories checked for linearizability against the model.
    Linearizability,
    /// Parked waiters must wake: on items, on space, on close; stolen wake-ups, timed-out waiters.
    Wakeup,
    /// Many producers and consumers at capacity 1: loss, duplication, order, deadlock.
    Stress,
    /// The shutdown probes of `bqh shutdown` on candidate and reference, verdicts compared.
    Shutdown,
}

impl Check {
    pub const ALL: [Check; 5] =
        [Check::Sequential, Check::Linearizability, Check::Wakeup, Check::Stress, Check::Shutdown];

    pub fn name(self) -> &'static str {
        match self {
            Check::Sequential => "sequential",
            Check::Linearizability => "linearizability",
            Check::Wakeup => "wakeup",
            Check::Stress => "stress",
            Check::Shutdown => "shutdown",
        }
    }
}

/// What kind of misbehaviour a finding is; tests and scripts match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Misbehaviour {
    /// A result differs from the model's.
    Mismatch,
    /// The reference itself differs from the model (the candidate may be right).
    ReferenceMismatch,
    /// A concurrent history has no linearization that the model accepts.
    NotLinearizable,
    /// A call did not return where the model says it returns at once.
    Hang,
    /// Every thread stopped making progress.
    Deadlock,
    /// A waiter stayed blocked although what it waits for happened.
    LostWakeup,
    /// A waiter stayed blocked after the close.
    NotWokenByClose,
    /// A pop or push said `closed` on a queue that was never closed.
    ClosedWhileOpen,
    /// An accepted item never came out.
    LostItem,
    /// An item came out twice.
    DuplicateItem,
    /// One producer's items came out of order.
    Reordered,
    /// `len()` exceeded the capacity.
    OverCapacity,
    /// A shutdown probe's verdict differs from the reference's.
    ShutdownDiffers,
    /// The implementation panicked (for a plugin: returned a status code c/bq.h lacks).
    Panic,
    /// The worker process died (a crash in the implementation).
    Crash,
    /// The worker process died while the reference ran: the reference failed, not the candidate.
    ReferenceCrash,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    pub check: Check,
    pub kind: Misbehaviour,
    /// The property that failed, in words.
    pub property: String,
    /// What was seen, in one line.
    pub summary: String,
    /// The smallest failing case found, one line each.
    pub case: Vec<String>,
    /// The seed that generates the case (`--seed S --cases 1` replays it).
    pub seed: Option<u64>,
    /// A linearizability failure's history, for its timeline picture (`timeline.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<History>,
}

/// A concurrent history as the timeline draws it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct History {
    /// The state the parallel part started from, e.g. "capacity 1; sequential prefix: push(1)".
    pub start: String,
    pub threads: usize,
    pub ops: Vec<HistoryOp>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct HistoryOp {
    /// From 0.
    pub thread: usize,
    /// The command with its arguments, e.g. `push_timeout(3, 1µs)`.
    pub call: String,
    pub result: String,
    /// Invocation and return, nanoseconds since the parallel part started.
    pub start_ns: u64,
    pub end_ns: u64,
    /// No order of the history explains it (see `linearizability::check`).
    pub unexplained: bool,
}

/// One check of one candidate.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CheckReport {
    pub check: Check,
    pub candidate: String,
    pub reference: String,
    /// Cases run (or probes, for shutdown).
    pub cases: usize,
    pub seconds: f64,
    /// Adjustments and context, e.g. commands skipped because one side lacks them.
    pub notes: Vec<String>,
    pub findings: Vec<Finding>,
    /// A command that replays the first finding.
    pub replay: Option<String>,
    /// The check ran on the reference alone, against the model queue (`--reference` is not a
    /// built-in): its findings are the reference's.
    #[serde(default)]
    pub of_reference: bool,
    /// The timeline picture of the first finding's history, where the parent wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<String>,
}

impl CheckReport {
    pub fn passed(&self) -> bool {
        self.findings.is_empty()
    }

    /// Human-readable lines for the terminal.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let status = if self.passed() { "pass" } else { "FAIL" };
        let _ = writeln!(out, "  {:<16} {status}  {} cases, {:.1} s", self.check.name(), self.cases, self.seconds);
        for n in &self.notes {
            let _ = writeln!(out, "      note: {n}");
        }
        for f in &self.findings {
            let whose = if self.of_reference {
                format!(" (the reference {} deviates from the model queue)", self.candidate)
            } else {
                String::new()
            };
            let _ = writeln!(out, "      finding [{}]: {}{whose}", kind_name(f.kind), f.property);
            let _ = writeln!(out, "        {}", f.summary);
            if !f.case.is_empty() {
                let _ = writeln!(out, "        smallest failing case:");
                for line in &f.case {
                    let _ = writeln!(out, "          {line}");
                }
            }
        }
        if let Some(t) = &self.timeline {
            let _ = writeln!(out, "      timeline: {t}");
        }
        if let Some(r) = &self.replay {
            let _ = writeln!(out, "      replay: {r}");
        }
        out
    }
}

pub fn kind_name(k: Misbehaviour) -> String {
    serde_json::to_value(k).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}
