//! The wakeup check: the bugs that linearizability cannot see because they only show while
//! threads wait. Each scenario parks 1-3 consumers on an empty queue (or producers on a full
//! one), with `pop()`/`push()` or a timed variant with a long timeout (an hour up to the largest
//! each API can express), after 0-3 timed calls (0, 1 ns or 100 µs) that timed out, then acts:
//! - feed: one item (or one free slot) per waiter: every waiter must return with it;
//! - close: every waiter must return `closed`;
//! - steal: hand an item (slot) over and take it straight back with `try_pop` (`try_push`), so
//!   a woken waiter finds nothing: it must go back to waiting, not report `closed`.
//!
//! A waiter still blocked [`LIMIT`] after its wake-up is a finding (a correct queue wakes it in
//! microseconds; the limit only separates "slow" from "never").

use std::collections::HashMap;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::driver::{Budget, CaseCheck, Check, Described};
use super::model::{show_timeout, Caps, Rng, LONG_TIMEOUTS};
use super::report::Misbehaviour;
use bq_engine::queue::{Consumer, Impl, Producer, QueueError};

const LIMIT: Duration = Duration::from_secs(5);
/// Lets the waiters reach their wait before the scenario acts (not needed for correctness).
const SETTLE: Duration = Duration::from_millis(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Consumers,
    Producers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Feed,
    Close,
    Steal(usize),
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub capacity: usize,
    pub side: Side,
    /// Per waiter: true for the timed call (timeout `long`), false for the plain blocking one.
    pub timed: Vec<bool>,
    pub long: Duration,
    /// Timed calls that time out before the waiters park, and their timeout.
    pub timeouts_before: usize,
    pub before: Duration,
    pub action: Action,
}

impl Scenario {
    fn waiter_call(&self, i: usize) -> String {
        match (self.side, self.timed[i]) {
            (Side::Consumers, false) => "pop()".into(),
            (Side::Consumers, true) => format!("pop_timeout({})", show_timeout(self.long)),
            (Side::Producers, false) => "push()".into(),
            (Side::Producers, true) => format!("push_timeout({})", show_timeout(self.long)),
        }
    }

    pub fn describe(&self) -> Vec<String> {
        let who = if self.side == Side::Consumers { "consumers" } else { "producers" };
        let state = if self.side == Side::Consumers { "an empty" } else { "a full" };
        let calls: Vec<String> = (0..self.timed.len()).map(|i| self.waiter_call(i)).collect();
        let mut lines = vec![format!("capacity {}, {state} queue", self.capacity)];
        if self.timeouts_before > 0 {
            let t = show_timeout(self.before);
            let call =
                if self.side == Side::Consumers { format!("pop_timeout({t})") } else { format!("push_timeout({t})") };
            lines.push(format!("{} x {call} that timed out", self.timeouts_before));
        }
        lines.push(format!("{} {who} parked in {}", self.timed.len(), calls.join(", ")));
        lines.push(match (self.action, self.side) {
            (Action::Feed, Side::Consumers) => format!("then {} push(es), one per waiter", self.timed.len()),
            (Action::Feed, Side::Producers) => format!("then {} pop(s), one per waiter", self.timed.len()),
            (Action::Close, _) => "then close (explicit, or the last handle of the other side dropped)".into(),
            (Action::Steal(n), Side::Consumers) => {
                format!("then {n} x (push, then try_pop at once: steal the item back), then one push per waiter")
            }
            (Action::Steal(n), Side::Producers) => {
                format!("then {n} x (pop, then try_push at once: steal the slot back), then one pop per waiter")
            }
        });
        lines
    }
}

pub fn generate(rng: &mut Rng) -> Scenario {
    let waiters = [1, 2, 2, 3, 3][rng.below(5)];
    Scenario {
        capacity: rng.range(1, 3),
        side: if rng.chance(50) { Side::Consumers } else { Side::Producers },
        timed: (0..waiters).map(|_| rng.chance(40)).collect(),
        long: LONG_TIMEOUTS[rng.below(LONG_TIMEOUTS.len())],
        timeouts_before: if rng.chance(50) { 0 } else { rng.range(1, 3) },
        before: [Duration::ZERO, Duration::from_nanos(1), Duration::from_micros(100)][rng.below(3)],
        action: match rng.below(10) {
            0..=3 => Action::Feed,
            4..=6 => Action::Close,
            _ => Action::Steal(rng.range(1, 4)),
        },
    }
}

/// A failure: its kind and what was seen.
pub type Fail = (Misbehaviour, String);
type WaiterResult = Result<Option<u64>, QueueError>;
/// What a waiter thread reports: its result, or its panic's message (a plugin's status code
/// that c/bq.h lacks panics in the binding).
type WaiterReport = (usize, Result<WaiterResult, String>);

/// Runs a waiter's call, its panic caught so that it becomes a finding, not a lost wake-up.
fn caught(f: impl FnOnce() -> WaiterResult) -> Result<WaiterResult, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| bq_engine::watchdog::panic_message(&*p))
}

/// What the main thread knows: items accepted, items it popped, what each waiter returned.
struct Tally {
    sent: Vec<u64>,
    received: Vec<u64>,
    results: Vec<Option<WaiterResult>>,
}

impl Tally {
    /// Items in the queue, counting only what waiters have reported (a waiter that took an
    /// item but has not said so yet makes this an overestimate, a pusher an underestimate).
    fn buffered(&self) -> isize {
        let waiters: isize = self
            .results
            .iter()
            .map(|r| match r {
                Some(Ok(Some(_))) => -1,
                Some(Ok(None)) => 1,
                _ => 0,
            })
            .sum();
        self.sent.len() as isize - self.received.len() as isize + waiters
    }

    fn record(&mut self, (i, r): WaiterReport, s: &Scenario) -> Result<(), Fail> {
        let r = r.map_err(|m| (Misbehaviour::Panic, format!("{} panicked: {m}", s.waiter_call(i))))?;
        if r == Err(QueueError::Closed) && s.action != Action::Close {
            return Err(closed_while_open_finding(&s.waiter_call(i)));
        }
        self.results[i] = Some(r);
        Ok(())
    }

    /// Waits for waiters' reports until `ready`; a finding when none comes within [`LIMIT`].
    fn wait_until(
        &mut self,
        done: &mpsc::Receiver<WaiterReport>,
        ready: &dyn Fn(&Tally) -> bool,
        s: &Scenario,
    ) -> Result<(), Fail> {
        while let Ok(report) = done.try_recv() {
            self.record(report, s)?;
        }
        while !ready(self) {
            match done.recv_timeout(LIMIT) {
                Ok(report) => self.record(report, s)?,
                Err(_) => return Err(self.blocked_finding(s, Some(self.buffered()))),
            }
        }
        Ok(())
    }

    fn blocked_finding(&self, s: &Scenario, len: Option<isize>) -> Fail {
        let k = s.timed.len();
        let blocked: Vec<String> = (0..k).filter(|&i| self.results[i].is_none()).map(|i| s.waiter_call(i)).collect();
        let who = if s.side == Side::Consumers { "consumers" } else { "producers" };
        let len = len.map_or(String::new(), |l| format!(" ({l} item(s) buffered)"));
        let msg =
            format!("{} of {k} blocked {who} ({}) still blocked {LIMIT:?} after", blocked.len(), blocked.join(", "));
        match (s.action, s.side) {
            (Action::Close, _) => {
                (Misbehaviour::NotWokenByClose, format!("deadlock after close: {msg} the close{len}"))
            }
            (_, Side::Consumers) => (Misbehaviour::LostWakeup, format!("lost wake-up: {msg} items arrived{len}")),
            (_, Side::Producers) => (Misbehaviour::LostWakeup, format!("lost wake-up: {msg} slots freed up{len}")),
        }
    }
}

/// Runs one scenario; the failure, if any, as (kind, what was seen).
pub fn run<I: Impl>(imp: &'static I, s: &Scenario) -> Result<(), Fail> {
    let explicit = imp.traits().explicit_close;
    let (tx, rx) = imp.bounded(s.capacity).map_err(|e| (Misbehaviour::Mismatch, e.to_string()))?;
    let k = s.timed.len();
    let mut next = 0u64;
    let mut item = || {
        next += 1;
        next
    };
    let mismatch = |what: &str, got: String, want: &str| {
        Err((Misbehaviour::Mismatch, format!("{what} returned {got}; expected {want}")))
    };
    let mut tally = Tally { sent: Vec::new(), received: Vec::new(), results: vec![None; k] };
    if s.side == Side::Producers {
        for _ in 0..s.capacity {
            let x = item();
            if let Err(e) = tx.try_push(x) {
                return mismatch("try_push on a queue with room", e.to_string(), "ok");
            }
            tally.sent.push(x);
        }
    }
    for _ in 0..s.timeouts_before {
        let t = s.before;
        match s.side {
            Side::Consumers => match rx.pop_timeout(t) {
                Err(QueueError::Timeout) => {}
                r => return mismatch("pop_timeout on an empty queue", format!("{r:?}"), "timed out"),
            },
            Side::Producers => match tx.push_timeout(item(), t) {
                Err(QueueError::Timeout) => {}
                r => return mismatch("push_timeout on a full queue", format!("{r:?}"), "timed out"),
            },
        }
    }

    // Park the waiters. Each reports (index, result) when it returns.
    let (done_tx, done_rx) = mpsc::channel::<WaiterReport>();
    let mut waiter_items = HashMap::new();
    let long = s.long;
    for (i, &timed) in s.timed.iter().enumerate() {
        let done = done_tx.clone();
        match s.side {
            Side::Consumers => {
                let rx = rx.clone();
                thread::spawn(move || {
                    let r = caught(|| (if timed { rx.pop_timeout(long) } else { rx.pop() }).map(Some));
                    let _ = done.send((i, r));
                });
            }
            Side::Producers => {
                let (tx, x) = (tx.clone(), item());
                waiter_items.insert(i, x);
                thread::spawn(move || {
                    let r = caught(|| (if timed { tx.push_timeout(x, long) } else { tx.push(x) }).map(|()| None));
                    let _ = done.send((i, r));
                });
            }
        }
    }
    drop(done_tx);
    thread::sleep(SETTLE);

    let mut tx = Some(tx);
    let mut rx = Some(rx);
    match s.action {
        Action::Close => match (s.side, explicit) {
            (_, true) => rx.as_ref().unwrap().close().expect("explicit close"),
            (Side::Consumers, false) => drop(tx.take()),
            (Side::Producers, false) => drop(rx.take()),
        },
        Action::Feed | Action::Steal(_) => {
            // The main thread never waits inside the queue (a lost wake-up must not hit it, or
            // rescue a waiter by timing out): it hands over an item (a slot) only when its
            // tally says there is room, and otherwise waits for a waiter to report.
            let room = |t: &Tally| match s.side {
                Side::Consumers => t.buffered() < s.capacity as isize,
                Side::Producers => t.buffered() >= 1,
            };
            let steals = if let Action::Steal(n) = s.action { n } else { 0 };
            for round in 0.. {
                let enough = match s.side {
                    // every waiter has an item to take
                    Side::Consumers => tally.sent.len() - tally.received.len() >= k,
                    // every waiter's push fits: main popped the steals' and the waiters' share
                    Side::Producers => tally.received.len() >= tally.sent.len() - s.capacity + k,
                };
                if round >= steals && enough {
                    break;
                }
                tally.wait_until(&done_rx, &room, s)?;
                match s.side {
                    Side::Consumers => {
                        let x = item();
                        match tx.as_ref().unwrap().try_push(x) {
                            Ok(()) => tally.sent.push(x),
                            Err(e) => return mismatch("try_push on a queue with room", e.to_string(), "ok"),
                        }
                        if round < steals {
                            match rx.as_ref().unwrap().try_pop() {
                                Ok(y) => tally.received.push(y),
                                Err(QueueError::Empty) => {} // a waiter was quicker
                                Err(e) => {
                                    return mismatch("try_pop on an open queue", e.to_string(), "an item or empty")
                                }
                            }
                        }
                    }
                    Side::Producers => {
                        match rx.as_ref().unwrap().try_pop() {
                            Ok(y) => tally.received.push(y),
                            Err(e) => return mismatch("try_pop on a queue with items", e.to_string(), "an item"),
                        }
                        if round < steals {
                            let x = item();
                            match tx.as_ref().unwrap().try_push(x) {
                                Ok(()) => tally.sent.push(x),
                                Err(QueueError::Full) => {} // a waiter was quicker
                                Err(e) => return mismatch("try_push on an open queue", e.to_string(), "ok or full"),
                            }
                        }
                    }
                }
            }
        }
    }

    // Collect the waiters.
    let everyone = |t: &Tally| t.results.iter().all(Option::is_some);
    if let Err(f) = tally.wait_until(&done_rx, &everyone, s) {
        // Read the length before the close below: released waiters would change it.
        let len = rx.as_ref().and_then(|r| r.len()).or_else(|| tx.as_ref().and_then(|t| t.len()));
        if explicit {
            if let Some(r) = rx.as_ref() {
                let _ = r.close(); // try to release them; the process exits soon anyway
            }
        }
        return Err(if matches!(f.0, Misbehaviour::ClosedWhileOpen | Misbehaviour::Panic) {
            f
        } else {
            tally.blocked_finding(s, len.map(|l| l as isize))
        });
    }

    // Judge what they got.
    let Tally { mut sent, mut received, results } = tally;
    for (i, r) in results.into_iter().map(Option::unwrap).enumerate() {
        let call = s.waiter_call(i);
        match (s.action, r) {
            (Action::Close, Err(QueueError::Closed)) => {}
            (Action::Close, r) => {
                return mismatch(&format!("{call}, blocked when the queue closed,"), format!("{r:?}"), "closed");
            }
            (_, Err(e)) => return mismatch(&format!("waiter {call}"), e.to_string(), "ok"),
            (_, Ok(Some(x))) => received.push(x),
            (_, Ok(None)) => sent.push(waiter_items[&i]),
        }
    }
    // Every accepted item comes out exactly once: drain what is left.
    if let Some(rx) = rx.take() {
        drop(tx.take());
        if explicit {
            rx.close().expect("explicit close");
        }
        loop {
            match rx.pop_timeout(LIMIT) {
                Ok(y) => received.push(y),
                Err(QueueError::Closed) => break,
                Err(e) => return mismatch("pop after close", e.to_string(), "an item or closed"),
            }
        }
        let mut counts: HashMap<u64, i32> = HashMap::new();
        for &x in &sent {
            *counts.entry(x).or_default() += 1;
        }
        for &y in &received {
            *counts.entry(y).or_default() -= 1;
        }
        if let Some((&x, _)) = counts.iter().find(|(_, &c)| c > 0) {
            return Err((Misbehaviour::LostItem, format!("item {x} was accepted but never came out")));
        }
        if let Some((&x, _)) = counts.iter().find(|(_, &c)| c < 0) {
            return Err((Misbehaviour::DuplicateItem, format!("item {x} came out more often than it went in")));
        }
    }
    Ok(())
}

fn closed_while_open_finding(call: &str) -> Fail {
    (
        Misbehaviour::ClosedWhileOpen,
        format!(
            "a waiter in {call} returned closed, but the queue was never closed (a wake-up whose \
             item or slot was taken by someone else was reported as a close: `if` instead of \
             `while` around the wait?)"
        ),
    )
}

/// The check: each scenario once. Its failures depend on the interleaving, so each smaller
/// scenario gets a few tries while shrinking. A smaller scenario that hangs again costs a whole
/// [`LIMIT`]; a few of those are allowed, so that a lost wake-up shrinks to its fewest waiters
/// (one hang per waiter, steal or timed-out call removed; a smaller one that passes is quick).
pub struct Wakeup;

impl CaseCheck for Wakeup {
    type Case = Scenario;
    type Failure = Fail;
    const CHECK: Check = Check::Wakeup;
    const DEFAULT_CASES: usize = 60;
    const NOUN: &'static str = "wake-up scenario";
    const SHRINK: Budget = Budget { runs: 60, hangs: 8, tries: 5 };

    fn generate(&self, _seed: u64, rng: &mut Rng, _caps: Caps) -> Scenario {
        generate(rng)
    }

    /// A panic of the main thread's calls (a status code c/bq.h lacks) is a finding too.
    fn run<I: Impl>(&self, imp: &'static I, s: &Scenario) -> Result<(), Fail> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(imp, s)))
            .unwrap_or_else(|p| Err((Misbehaviour::Panic, bq_engine::watchdog::panic_message(&*p))))
    }

    /// One waiter, one timed-out call, one steal or one capacity less.
    fn smaller(&self, s: &Scenario, _failure: &Fail) -> Vec<Scenario> {
        let mut smaller = Vec::new();
        if s.timed.len() > 1 {
            for i in 0..s.timed.len() {
                let mut c = s.clone();
                c.timed.remove(i);
                smaller.push(c);
            }
        }
        if s.timeouts_before > 0 {
            smaller.push(Scenario { timeouts_before: s.timeouts_before - 1, ..s.clone() });
        }
        if let Action::Steal(n @ 2..) = s.action {
            smaller.push(Scenario { action: Action::Steal(n - 1), ..s.clone() });
        }
        if s.capacity > 1 {
            smaller.push(Scenario { capacity: s.capacity - 1, ..s.clone() });
        }
        smaller
    }

    /// The same kind of failure, its message the smaller scenario's.
    fn same(&self, was: &Fail, now: &Fail) -> bool {
        was.0 == now.0
    }

    fn hung(&self, (kind, _): &Fail) -> bool {
        matches!(kind, Misbehaviour::LostWakeup | Misbehaviour::NotWokenByClose)
    }

    fn describe<I: Impl>(&self, _imp: &'static I, s: &Scenario, (kind, summary): &Fail) -> Described {
        let property = match kind {
            Misbehaviour::NotWokenByClose => "close wakes every waiter",
            Misbehaviour::LostWakeup => "an item (a free slot) wakes a waiter",
            Misbehaviour::ClosedWhileOpen => "a waiter returns closed only after a close",
            Misbehaviour::LostItem | Misbehaviour::DuplicateItem => "every accepted item comes out exactly once",
            _ => "waiters return what the model says",
        };
        Described { kind: *kind, property: property.into(), summary: summary.clone(), case: s.describe() }
    }
}
