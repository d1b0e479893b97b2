//! Shutdown semantics, observed: each cell of the matrix in `summary.md` comes from a probe
//! that runs against the implementation under a watchdog, never from a table written by hand.
//! `bqh validate` runs the same probes on a candidate and its reference and compares verdicts.
//! The questions and what a probe saw are in `observation.rs`; the harness's shutdown study
//! draws the matrix. `own_api.rs` asks the same kind of questions of each queue's own API.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use crate::impls::Builtin;
use crate::queue::{AdapterClose, Consumer, Impl, Producer, QueueError};

mod observation;
pub mod own_api;

use crate::watchdog::{join_all, within};
pub use observation::{NativeObservation, NativeQuestion, Observation, Question, Verdict};

/// How long one probe may take before it is reported as a hang.
pub const PROBE_LIMIT: Duration = Duration::from_secs(10);
/// How many blocked threads a wake-up probe parks on the queue.
pub const WAITERS: usize = 3;
/// Repetitions of each wake-up probe; the reported wake-up time is their median.
pub const REPS: usize = 5;
/// Pause that lets waiters reach their blocking call before the probe acts.
const SETTLE: Duration = Duration::from_millis(20);

/// Runs every probe against `imp`.
pub fn probe_all<I: Impl>(imp: &'static I) -> Vec<Observation> {
    Question::ALL.iter().map(|&q| probe(imp, q)).collect()
}

/// Runs one probe under the watchdog.
pub fn probe<I: Impl>(imp: &'static I, question: Question) -> Observation {
    let explicit = imp.traits().explicit_close;
    let name = imp.name().to_string();
    let what = format!("{name}: shutdown probe '{}'", question.text());
    let needs_explicit = matches!(
        question,
        Question::PushAfterClose | Question::ConsumersWokenOnExplicitClose | Question::ProducersWokenOnExplicitClose
    );
    let via_adapter = match imp.adapter_close() {
        AdapterClose::Nothing => false,
        AdapterClose::OnDrop => !needs_explicit,
        AdapterClose::Explicit => needs_explicit,
    };
    let obs = |verdict, detail: String, wake_us| Observation {
        implementation: name.clone(),
        question,
        verdict,
        detail,
        wake_us,
        via_adapter,
    };
    if needs_explicit && !explicit {
        return obs(Verdict::NotApplicable, "no explicit close in its API".into(), None);
    }
    let result = within(&what, PROBE_LIMIT, move || match question {
        Question::DrainAfterClose => drain_after_close(imp),
        Question::PushAfterClose => push_after_close(imp),
        Question::ProducersWokenWhenConsumersLeave => repeat_wake(|| producers_woken(imp, Closer::DropConsumers)),
        Question::ConsumersWokenOnLastProducerDrop => repeat_wake(|| consumers_woken(imp, Closer::DropProducers)),
        Question::ConsumersWokenOnExplicitClose => repeat_wake(|| consumers_woken(imp, Closer::Explicit)),
        Question::ProducersWokenOnExplicitClose => repeat_wake(|| producers_woken(imp, Closer::Explicit)),
        Question::NothingLost => nothing_lost(imp),
    });
    match result {
        Ok((yes, detail, wake_us)) => obs(if yes { Verdict::Yes } else { Verdict::No }, detail, wake_us),
        Err(e) => obs(Verdict::Failed, e.to_string(), None),
    }
}

type ProbeResult = (bool, String, Option<f64>);

fn drain_after_close<I: Impl>(imp: &I) -> ProbeResult {
    let (tx, rx) = imp.bounded(4).expect("capacity 4");
    for i in 0..3 {
        tx.push(i).expect("push into an open queue");
    }
    drop(tx);
    let got: Vec<u64> = std::iter::from_fn(|| rx.pop().ok()).collect();
    let ended = rx.try_pop() == Err(QueueError::Closed);
    let yes = got == [0, 1, 2] && ended;
    (yes, format!("got {got:?}, then {}", if ended { "closed" } else { "not closed" }), None)
}

fn push_after_close<I: Impl>(imp: &I) -> ProbeResult {
    let (tx, rx) = imp.bounded(4).expect("capacity 4");
    tx.push(1).expect("push into an open queue");
    tx.close().expect("explicit close");
    let results = [tx.push(2), tx.try_push(3), tx.push_timeout(4, Duration::from_millis(1))];
    drop(tx);
    let left: Vec<u64> = std::iter::from_fn(|| rx.pop().ok()).collect();
    let all_closed = results.iter().all(|r| *r == Err(QueueError::Closed));
    let yes = all_closed && left == [1];
    let fmt = |r: &Result<(), QueueError>| r.map_or_else(|e| e.to_string(), |()| "ok".into());
    let detail = format!(
        "push: {}, try_push: {}, push_timeout: {}; queue then held {left:?}",
        fmt(&results[0]),
        fmt(&results[1]),
        fmt(&results[2])
    );
    (yes, detail, None)
}

#[derive(Clone, Copy)]
enum Closer {
    Explicit,
    DropProducers,
    DropConsumers,
}

/// (woken, waiting, microseconds from the closing action to the slowest waiter's return)
type Wake = (usize, usize, f64);

/// Runs a wake-up probe [`REPS`] times; yes when every waiter woke every time.
fn repeat_wake(mut one: impl FnMut() -> Wake) -> ProbeResult {
    let mut times = Vec::with_capacity(REPS);
    let mut worst = (WAITERS, WAITERS);
    for _ in 0..REPS {
        let (woken, waiting, us) = one();
        if woken < worst.0 {
            worst = (woken, waiting);
        }
        times.push(us);
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let yes = worst.0 == worst.1;
    (yes, format!("{} of {} woken with closed", worst.0, worst.1), Some(median))
}

/// Parks [`WAITERS`] producers on a full queue (capacity 1), then closes it.
fn producers_woken<I: Impl>(imp: &I, closer: Closer) -> Wake {
    let (tx, rx) = imp.bounded(1).expect("capacity 1");
    tx.push(0).expect("push into an open queue");
    let push = |tx: &I::Tx, timed: bool| if timed { tx.push_timeout(1, HOUR) } else { tx.push(1) };
    woken(&tx, push, || match closer {
        Closer::Explicit => tx.close().expect("explicit close"),
        Closer::DropConsumers => drop(rx),
        Closer::DropProducers => unreachable!("producers cannot be woken by their own drop"),
    })
}

/// Parks [`WAITERS`] consumers on an empty queue, then closes it.
fn consumers_woken<I: Impl>(imp: &I, closer: Closer) -> Wake {
    let (tx, rx) = imp.bounded(1).expect("capacity 1");
    let pop = |rx: &I::Rx, timed: bool| if timed { rx.pop_timeout(HOUR) } else { rx.pop() }.map(drop);
    woken(&rx, pop, || match closer {
        Closer::Explicit => rx.close().expect("explicit close"),
        Closer::DropProducers => drop(tx),
        Closer::DropConsumers => unreachable!("consumers cannot be woken by their own drop"),
    })
}

const HOUR: Duration = Duration::from_secs(3600);

/// Parks [`WAITERS`] threads in `wait` on clones of `handle` (every other one with a timed
/// call), lets them settle, runs `close`, and times until the slowest waiter returned.
fn woken<H: Clone + Send + 'static>(
    handle: &H,
    wait: fn(&H, bool) -> Result<(), QueueError>,
    close: impl FnOnce(),
) -> Wake {
    let ready = Arc::new(Barrier::new(WAITERS + 1));
    let woken = Arc::new(AtomicUsize::new(0));
    let waiters: Vec<_> = (0..WAITERS)
        .map(|i| {
            let (h, ready, woken) = (handle.clone(), ready.clone(), woken.clone());
            thread::spawn(move || {
                ready.wait();
                if wait(&h, i % 2 == 1) == Err(QueueError::Closed) {
                    woken.fetch_add(1, Ordering::SeqCst);
                }
                Instant::now()
            })
        })
        .collect();
    ready.wait();
    thread::sleep(SETTLE);
    let start = Instant::now();
    close();
    // Display, not Debug: the message becomes a finding.
    let ends = join_all("waiters", waiters).unwrap_or_else(|e| panic!("{e}"));
    let slowest = ends.iter().map(|e| e.saturating_duration_since(start)).max().unwrap_or_default();
    (woken.load(Ordering::SeqCst), WAITERS, slowest.as_secs_f64() * 1e6)
}

/// Two producers push until told to stop, then drop their handles while a consumer drains.
/// Every push that returned Ok must come out exactly once.
fn nothing_lost<I: Impl>(imp: &I) -> ProbeResult {
    let (tx, rx) = imp.bounded(16).expect("capacity 16");
    let accepted = Arc::new(AtomicUsize::new(0));
    let producers: Vec<_> = (0..2u64)
        .map(|p| {
            let (tx, accepted) = (tx.clone(), accepted.clone());
            thread::spawn(move || {
                for s in 0..5_000u64 {
                    if tx.push((p << 32) | s).is_ok() {
                        accepted.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    drop(tx);
    let mut delivered = 0usize;
    while rx.pop().is_ok() {
        delivered += 1;
    }
    join_all("producers", producers).unwrap_or_else(|e| panic!("{e}"));
    let accepted = accepted.load(Ordering::SeqCst);
    (accepted == delivered, format!("{delivered} of {accepted} accepted items delivered"), None)
}

/// Every probe on each of `impls`, one column each.
pub fn probe_matrix(impls: &[Builtin]) -> Vec<Vec<Observation>> {
    impls.iter().map(|&b| with_builtin!(b, |imp| probe_all(imp))).collect()
}
