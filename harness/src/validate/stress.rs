//! The stress check, whose round is also the contract suite's `stress` test: many producers
//! and consumers on a queue of capacity 1, so that every call contends and waits. Every item
//! must come out exactly once, each producer's items in order (per consumer), nobody may see
//! `closed` before the last producer is done, and `len()` never exceeds 1. Rounds with only
//! blocking calls make lost wake-ups fatal: when no item moves for [`STALL`], the round is a
//! deadlock, and the finding says who was blocked where.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::driver::{CaseCheck, Check, Described};
use super::model::{Caps, Rng};
use super::report::Misbehaviour;
use bq_engine::measure::{item, Delivery};
use bq_engine::queue::{Consumer, Impl, Producer, QueueError};

/// No item delivered for this long: deadlock (a correct queue moves one in microseconds).
const STALL: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy)]
pub struct Round {
    pub producers: u64,
    pub consumers: usize,
    pub per_producer: u64,
    /// Mix in try_ and timed calls (else only blocking push/pop).
    pub mixed: bool,
}

/// The rounds `--cases N` cycles through.
pub const ROUNDS: [Round; 4] = [
    Round { producers: 2, consumers: 2, per_producer: 3_000, mixed: false },
    Round { producers: 8, consumers: 8, per_producer: 1_000, mixed: false },
    Round { producers: 3, consumers: 5, per_producer: 1_500, mixed: false },
    Round { producers: 8, consumers: 8, per_producer: 1_000, mixed: true },
];

impl Round {
    fn describe(&self) -> String {
        format!(
            "capacity 1, {} producers x {} items, {} consumers, {}",
            self.producers,
            self.per_producer,
            self.consumers,
            if self.mixed {
                "push/try_push/push_timeout and pop/try_pop/pop_timeout"
            } else {
                "blocking push and pop only"
            }
        )
    }
}

#[derive(Default)]
struct Shared {
    delivered: AtomicU64,
    in_push: AtomicUsize,
    in_pop: AtomicUsize,
    producers_done: AtomicU64,
    consumers_done: AtomicUsize,
    max_len: AtomicUsize,
    stop: AtomicBool,
    failure: Mutex<Option<(Misbehaviour, String)>>,
}

impl Shared {
    fn fail(&self, kind: Misbehaviour, msg: String) {
        self.failure.lock().unwrap().get_or_insert((kind, msg));
    }
}

/// Starts one of a round's threads: it waits at `start` for all the others, then runs `body`,
/// which picks each call with `pick()`: 0, the blocking call, in a round of blocking calls only;
/// 0-2 at random (from its own generator, seeded with `seed`) in a mixed round.
fn spawn<T: Send + 'static>(
    start: &Arc<Barrier>,
    round: Round,
    seed: u64,
    body: impl FnOnce(&mut dyn FnMut() -> usize) -> T + Send + 'static,
) -> JoinHandle<T> {
    let start = start.clone();
    let mut rng = Rng::new(seed);
    thread::spawn(move || {
        start.wait();
        body(&mut || if round.mixed { rng.below(3) } else { 0 })
    })
}

/// Runs one round on a fresh queue of `imp`; `seed` picks each thread's calls in a mixed round.
/// The contract suite's `stress` test is a round of this too.
pub fn run_round<I: Impl>(imp: &'static I, round: Round, seed: u64) -> Result<(), (Misbehaviour, String)> {
    let (tx, rx) = imp.bounded(1).map_err(|e| (Misbehaviour::Mismatch, e.to_string()))?;
    let sh = Arc::new(Shared::default());
    let start = Arc::new(Barrier::new(round.producers as usize + round.consumers));
    let mut seeds = Rng::new(seed);
    let mut handles = Vec::new();
    for p in 0..round.producers {
        let (tx, sh) = (tx.clone(), sh.clone());
        handles.push(spawn(&start, round, seeds.next_u64(), move |pick| {
            for s in 0..round.per_producer {
                let it = item(p, s);
                sh.in_push.fetch_add(1, Ordering::SeqCst);
                let r = match pick() {
                    0 => tx.push(it),
                    1 => loop {
                        match tx.try_push(it) {
                            Err(QueueError::Full) => thread::yield_now(),
                            r => break r,
                        }
                    },
                    _ => loop {
                        match tx.push_timeout(it, Duration::from_micros(200)) {
                            Err(QueueError::Timeout) => {}
                            r => break r,
                        }
                    },
                };
                sh.in_push.fetch_sub(1, Ordering::SeqCst);
                if let Err(e) = r {
                    let kind =
                        if e == QueueError::Closed { Misbehaviour::ClosedWhileOpen } else { Misbehaviour::Mismatch };
                    sh.fail(
                        kind,
                        format!("producer {p}'s push of item {s} returned {e} while every consumer was still there"),
                    );
                    return;
                }
            }
            sh.producers_done.fetch_add(1, Ordering::SeqCst);
        }));
    }
    drop(tx); // the queue closes when the last producer finishes
    let mut consumers = Vec::new();
    for c in 0..round.consumers {
        let (rx, sh) = (rx.clone(), sh.clone());
        consumers.push(spawn(&start, round, seeds.next_u64(), move |pick| {
            let mut got = Delivery::new(round.producers, round.per_producer);
            loop {
                sh.in_pop.fetch_add(1, Ordering::SeqCst);
                let r = match pick() {
                    0 => rx.pop(),
                    1 => rx.try_pop(),
                    _ => rx.pop_timeout(Duration::from_micros(200)),
                };
                sh.in_pop.fetch_sub(1, Ordering::SeqCst);
                match r {
                    Ok(x) => {
                        got.record(x);
                        sh.delivered.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(QueueError::Empty) => thread::yield_now(),
                    Err(QueueError::Timeout) => {}
                    Err(QueueError::Closed) => {
                        let done = sh.producers_done.load(Ordering::SeqCst);
                        if done < round.producers {
                            sh.fail(
                                Misbehaviour::ClosedWhileOpen,
                                format!(
                                    "consumer {c}'s pop returned closed while {} of {} producers were still running \
                                     (the queue was open)",
                                    round.producers - done,
                                    round.producers
                                ),
                            );
                        }
                        break;
                    }
                    Err(QueueError::Full) => {
                        sh.fail(Misbehaviour::Mismatch, "a pop returned full".into());
                        break;
                    }
                }
                if sh.stop.load(Ordering::Relaxed) {
                    break;
                }
            }
            sh.consumers_done.fetch_add(1, Ordering::SeqCst);
            got
        }));
    }
    // Watches len() (where there is one) and progress.
    let observer = imp.traits().has_len.then(|| {
        let (rx, sh) = (rx.clone(), sh.clone());
        thread::spawn(move || {
            while !sh.stop.load(Ordering::Relaxed) && sh.consumers_done.load(Ordering::SeqCst) < round.consumers {
                if let Some(len) = rx.len() {
                    sh.max_len.fetch_max(len, Ordering::SeqCst);
                }
                thread::sleep(Duration::from_micros(200));
            }
        })
    });
    let total = round.producers * round.per_producer;
    let mut last = (0, Instant::now());
    while sh.consumers_done.load(Ordering::SeqCst) < round.consumers {
        thread::sleep(Duration::from_millis(20));
        if sh.failure.lock().unwrap().is_some() {
            break; // a consumer or producer saw something impossible; the rest may never end
        }
        let now = sh.delivered.load(Ordering::SeqCst);
        if now != last.0 {
            last = (now, Instant::now());
        } else if last.1.elapsed() >= STALL {
            let (pushing, popping) = (sh.in_push.load(Ordering::SeqCst), sh.in_pop.load(Ordering::SeqCst));
            let len = rx.len().map_or(String::new(), |l| format!(", {l} item(s) buffered"));
            sh.stop.store(true, Ordering::SeqCst);
            let _ = rx.close(); // release them if the close works; the process exits soon anyway
            if now == total {
                return Err((
                    Misbehaviour::NotWokenByClose,
                    format!(
                        "hang after close: every item was delivered and the last producer handle dropped (the \
                         close), but {popping} of {} consumer(s) are still blocked in pop after {STALL:?}",
                        round.consumers
                    ),
                ));
            }
            return Err((
                Misbehaviour::Deadlock,
                format!(
                    "deadlock: no item delivered for {STALL:?}, with {pushing} producer(s) blocked in push and \
                     {popping} consumer(s) blocked in pop{len}; {now} of {total} items delivered"
                ),
            ));
        }
    }
    if let Some(f) = sh.failure.lock().unwrap().take() {
        sh.stop.store(true, Ordering::SeqCst);
        let _ = rx.close();
        return Err(f);
    }
    let got: Vec<Delivery> = consumers.into_iter().map(|h| h.join().expect("consumer panicked")).collect();
    for h in handles {
        h.join().expect("producer panicked");
    }
    if let Some(o) = observer {
        o.join().expect("observer panicked");
    }
    let max_len = sh.max_len.load(Ordering::SeqCst);
    if max_len > 1 {
        return Err((Misbehaviour::OverCapacity, format!("len() was {max_len} on a queue of capacity 1")));
    }
    Delivery::verdict(got).map_err(|e| (delivery_kind(&e), e))
}

/// The finding kind of a [`Delivery::verdict`] message (`measure.rs` words them; the test below
/// pins each one to its kind).
fn delivery_kind(msg: &str) -> Misbehaviour {
    if msg.contains("lost") {
        Misbehaviour::LostItem
    } else if msg.contains("delivered twice") || msg.contains("two consumers") {
        Misbehaviour::DuplicateItem
    } else if msg.contains("reordered or duplicated") {
        Misbehaviour::Reordered
    } else {
        Misbehaviour::Mismatch // "never pushed": an item no producer sent
    }
}

/// A round, and the seed of its threads' choices.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    pub round: Round,
    pub seed: u64,
}

/// The check: [`ROUNDS`] in turn, by seed. A round is not shrunk: it is already small in what
/// it does, and a deadlock costs [`STALL`] per try.
pub struct Stress;

impl CaseCheck for Stress {
    type Case = Case;
    type Failure = (Misbehaviour, String);
    const CHECK: Check = Check::Stress;
    const DEFAULT_CASES: usize = ROUNDS.len();
    const NOUN: &'static str = "stress round";

    fn generate(&self, seed: u64, _rng: &mut Rng, _caps: Caps) -> Case {
        Case { round: ROUNDS[(seed % ROUNDS.len() as u64) as usize], seed }
    }

    fn run<I: Impl>(&self, imp: &'static I, case: &Case) -> Result<(), (Misbehaviour, String)> {
        run_round(imp, case.round, case.seed)
    }

    fn describe<I: Impl>(&self, _imp: &'static I, case: &Case, (kind, summary): &(Misbehaviour, String)) -> Described {
        Described {
            kind: *kind,
            property: "under contention every item is delivered once, in order per producer, without deadlock".into(),
            summary: summary.clone(),
            case: vec![case.round.describe()],
        }
    }

    fn progress_detail(&self, case: &Case) -> Option<String> {
        Some(case.round.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kind of the verdict on consumers that saw these (producer, seq) items, out of
    /// `producers` x `per`.
    fn verdict(producers: u64, per: u64, consumers: &[&[(u64, u64)]]) -> Misbehaviour {
        let parts = consumers.iter().map(|items| {
            let mut d = Delivery::new(producers, per);
            items.iter().for_each(|&(p, s)| d.record(item(p, s)));
            d
        });
        delivery_kind(&Delivery::verdict(parts.collect()).unwrap_err())
    }

    #[test]
    fn delivery_failures_have_their_kinds() {
        assert_eq!(verdict(1, 2, &[&[(0, 0)]]), Misbehaviour::LostItem);
        assert_eq!(verdict(1, 2, &[&[(0, 0), (0, 1)], &[(0, 1)]]), Misbehaviour::DuplicateItem);
        assert_eq!(verdict(1, 2, &[&[(0, 1), (0, 0)]]), Misbehaviour::Reordered);
        assert_eq!(verdict(1, 2, &[&[(0, 0), (0, 0)]]), Misbehaviour::Reordered);
        assert_eq!(verdict(1, 2, &[&[(0, 0), (0, 1), (0, 7)]]), Misbehaviour::Mismatch);
    }
}
