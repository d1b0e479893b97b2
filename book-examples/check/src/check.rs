//! The check of a bounded queue with the book's interface (step 5 of chapter 2), in three
//! stages:
//!
//! 1. `std`: contract tests with std's `Condvar` (wrapped only to count the threads asleep in
//!    it, so that a test can wait until every sleeper it wants is asleep, instead of guessing
//!    with a pause): full and empty queues, order, the bound, several sleepers on each side,
//!    close while they sleep, timeouts and their extremes, and 16 threads at capacity 1.
//! 2. `spurious`: the same tests while every wait also returns after at most 10 ms with no
//!    notification, as the standard library allows a wait to: a wait in an `if`, or a timeout
//!    that restarts at each wake-up, fails here for certain instead of once in a while.
//! 3. `shuttle`: five small scenarios under the shuttle model checker, which runs each in
//!    thousands of interleavings (seeded: the same ones every time) and fails on a deadlock or a
//!    failed assertion. Shuttle does not model time, so the scenarios use push, pop and close.
//!
//! Each test runs in a child process of its own (`run_one`), under a deadline: a queue that
//! hangs, crashes or spins cannot take the check down with it. Nothing here measures speed: a
//! call that should return at once is given [`HANG`] (5 s) before it counts as stuck, and a
//! timeout is checked to last *at least* its duration.

use std::collections::HashSet;
use std::panic::{self, AssertUnwindSafe};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How the check calls a queue: the book's interface with u64 items (the build script writes
/// this impl for each queue it compiles).
pub trait Queue: Send + Sync + 'static {
    fn new(capacity: usize) -> Self
    where
        Self: Sized;
    fn push(&self, x: u64) -> Result<(), u64>;
    fn pop(&self) -> Option<u64>;
    fn push_timeout(&self, x: u64, t: Duration) -> Result<(), PushError>;
    fn pop_timeout(&self, t: Duration) -> Result<u64, PopError>;
    fn close(&self);
    fn len(&self) -> usize;
}

#[derive(Debug, PartialEq, Eq)]
pub enum PushError {
    Closed(u64),
    Timeout(u64),
}

#[derive(Debug, PartialEq, Eq)]
pub enum PopError {
    Closed,
    Timeout,
}

/// `std::sync` as the queue sees it in stages 1 and 2: std's, but for `Condvar`, which counts its
/// sleepers and, in stage 2, wakes them spuriously.
#[allow(dead_code)] // the skeleton, as shipped, calls none of it
pub mod sync {
    pub use std::sync::*;

    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use std::time::{Duration, Instant};

    /// Threads inside a wait of any `Condvar` of this module, in this process.
    pub static SLEEPING: AtomicUsize = AtomicUsize::new(0);
    /// Stage 2: every wait returns after at most [`TICK`].
    pub static SPURIOUS: AtomicBool = AtomicBool::new(false);
    /// Waits that returned because of the tick, not a notification or their own timeout.
    pub static SPURIOUS_WAKEUPS: AtomicUsize = AtomicUsize::new(0);
    pub const TICK: Duration = Duration::from_millis(10);

    #[derive(Debug, Default)]
    pub struct Condvar {
        inner: std::sync::Condvar,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct WaitTimeoutResult(bool);

    impl WaitTimeoutResult {
        pub fn timed_out(&self) -> bool {
            self.0
        }
    }

    type Waited<'a, T> = LockResult<(MutexGuard<'a, T>, bool)>;

    impl Condvar {
        pub const fn new() -> Self {
            Condvar { inner: std::sync::Condvar::new() }
        }

        /// std's wait, for at most `d` (None: no limit), counted; true when the time is up.
        /// In stage 2 it returns after [`TICK`] at the latest, and says the time is up only when
        /// `d` itself has passed.
        fn wait_at_most<'a, T>(&self, g: MutexGuard<'a, T>, d: Option<Duration>) -> Waited<'a, T> {
            let tick = SPURIOUS.load(SeqCst).then_some(TICK);
            let limit = match (d, tick) {
                (Some(d), Some(t)) => Some(d.min(t)),
                (d, t) => d.or(t),
            };
            SLEEPING.fetch_add(1, SeqCst);
            let r: Waited<'a, T> = match limit {
                None => match self.inner.wait(g) {
                    Ok(g) => Ok((g, false)),
                    Err(e) => Err(PoisonError::new((e.into_inner(), false))),
                },
                Some(l) => match self.inner.wait_timeout(g, l) {
                    Ok((g, r)) => Ok((g, r.timed_out())),
                    Err(e) => {
                        let (g, r) = e.into_inner();
                        Err(PoisonError::new((g, r.timed_out())))
                    }
                },
            };
            SLEEPING.fetch_sub(1, SeqCst);
            let cut_short = match (d, limit) {
                (Some(d), Some(l)) => l < d,
                (None, l) => l.is_some(),
                (Some(_), None) => false,
            };
            let fix = |(g, up): (MutexGuard<'a, T>, bool)| {
                if cut_short && up {
                    SPURIOUS_WAKEUPS.fetch_add(1, SeqCst);
                    (g, false)
                } else {
                    (g, up)
                }
            };
            match r {
                Ok(x) => Ok(fix(x)),
                Err(e) => Err(PoisonError::new(fix(e.into_inner()))),
            }
        }

        pub fn wait<'a, T>(&self, g: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
            match self.wait_at_most(g, None) {
                Ok((g, _)) => Ok(g),
                Err(e) => Err(PoisonError::new(e.into_inner().0)),
            }
        }

        pub fn wait_while<'a, T, F>(&self, mut g: MutexGuard<'a, T>, mut condition: F) -> LockResult<MutexGuard<'a, T>>
        where
            F: FnMut(&mut T) -> bool,
        {
            while condition(&mut *g) {
                g = self.wait(g)?;
            }
            Ok(g)
        }

        pub fn wait_timeout<'a, T>(
            &self,
            g: MutexGuard<'a, T>,
            d: Duration,
        ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
            match self.wait_at_most(g, Some(d)) {
                Ok((g, up)) => Ok((g, WaitTimeoutResult(up))),
                Err(e) => {
                    let (g, up) = e.into_inner();
                    Err(PoisonError::new((g, WaitTimeoutResult(up))))
                }
            }
        }

        /// As std's: one start, and after every wake-up only the time that is left.
        pub fn wait_timeout_while<'a, T, F>(
            &self,
            mut g: MutexGuard<'a, T>,
            d: Duration,
            mut condition: F,
        ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)>
        where
            F: FnMut(&mut T) -> bool,
        {
            let start = Instant::now();
            loop {
                if !condition(&mut *g) {
                    return Ok((g, WaitTimeoutResult(false)));
                }
                let Some(left) = d.checked_sub(start.elapsed()) else {
                    return Ok((g, WaitTimeoutResult(true)));
                };
                g = self.wait_timeout(g, left)?.0;
            }
        }

        pub fn notify_one(&self) {
            self.inner.notify_one();
        }

        pub fn notify_all(&self) {
            self.inner.notify_all();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// helpers

/// How long a call that should return at once may take before the check calls it stuck.
pub const HANG: Duration = Duration::from_secs(5);
/// A timeout the tests wait out: far longer than the spurious tick (10 ms).
const TIMEOUT: Duration = Duration::from_millis(300);
const LONG: Duration = Duration::from_secs(3600);

/// A call running in a thread of its own, so that the test can wait for it with a deadline.
struct Call<T> {
    what: String,
    rx: mpsc::Receiver<T>,
    handle: Option<thread::JoinHandle<()>>,
    done: Arc<AtomicBool>,
}

fn call<T: Send + 'static>(what: impl Into<String>, f: impl FnOnce() -> T + Send + 'static) -> Call<T> {
    let what = what.into();
    let (tx, rx) = mpsc::channel();
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    let handle = thread::Builder::new()
        .name(what.clone())
        .spawn(move || {
            let r = f();
            d.store(true, SeqCst);
            let _ = tx.send(r);
        })
        .unwrap();
    Call { what, rx, handle: Some(handle), done }
}

impl<T> Call<T> {
    fn finished(&self) -> bool {
        self.done.load(SeqCst)
    }

    /// Its result, waiting at most `limit`: None when it is still running. A panic in the call
    /// is the test's panic, with its message.
    fn result_within(&mut self, limit: Duration) -> Option<T> {
        match self.rx.recv_timeout(limit) {
            Ok(r) => Some(r),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => match self.handle.take().unwrap().join() {
                Err(payload) => panic::resume_unwind(payload),
                Ok(()) => unreachable!("a call that finished sends its result"),
            },
        }
    }

    /// Its result; it must come within [`HANG`], since `why` it should return.
    fn result(mut self, why: &str) -> T {
        let what = self.what.clone();
        self.result_within(HANG).unwrap_or_else(|| panic!("{what} was still blocked {} s after {why}", HANG.as_secs()))
    }
}

/// Waits until `n` threads sleep in a condition variable (stages 1 and 2). `calls` are the
/// calls expected to be asleep: one that returns instead fails the test at once.
fn until_asleep<T: std::fmt::Debug>(n: usize, calls: &mut [Call<T>], doing: &str) {
    let start = Instant::now();
    while sync::SLEEPING.load(SeqCst) < n {
        for c in calls.iter_mut() {
            if c.finished() {
                let r = c.result_within(HANG);
                panic!("{} returned {r:?} instead of waiting ({doing})", c.what);
            }
        }
        if start.elapsed() > HANG {
            panic!(
                "only {} of {n} threads went to sleep on a condition variable ({doing}) within {} s",
                sync::SLEEPING.load(SeqCst),
                HANG.as_secs()
            );
        }
        thread::sleep(Duration::from_millis(1));
    }
}

/// Stage 2: waits until a sleeping thread has been woken spuriously (a wake-up with no
/// notification), then returns while that thread still holds the lock or has already gone back
/// to sleep: whatever it did with the wake-up is done before the test's next call on the queue,
/// which needs the lock. Stage 1: nothing.
fn let_a_spurious_wakeup_happen() {
    if !sync::SPURIOUS.load(SeqCst) {
        return;
    }
    let before = sync::SPURIOUS_WAKEUPS.load(SeqCst);
    let start = Instant::now();
    while sync::SPURIOUS_WAKEUPS.load(SeqCst) == before {
        assert!(start.elapsed() < HANG, "no spurious wake-up happened in {} s", HANG.as_secs());
        thread::sleep(Duration::from_millis(1));
    }
}

/// `f`, which should return at once, in a thread; its result within [`HANG`].
fn soon<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    call(what, f).result("it was called (it should return at once)")
}

/// Results of calls that should all return, since `why`; names how many did not.
fn all_results<T>(calls: Vec<Call<T>>, who: &str, why: &str) -> Vec<T> {
    let n = calls.len();
    let deadline = Instant::now() + HANG;
    let mut out = Vec::new();
    let mut stuck = Vec::new();
    for mut c in calls {
        match c.result_within(deadline.saturating_duration_since(Instant::now())) {
            Some(r) => out.push(r),
            None => stuck.push(c.what.clone()),
        }
    }
    assert!(
        stuck.is_empty(),
        "{} of {n} {who} still blocked {} s after {why}: {}",
        stuck.len(),
        HANG.as_secs(),
        stuck.join(", ")
    );
    out
}

// ---------------------------------------------------------------------------------------------
// stage 1 and 2: the contract

fn capacity_0<Q: Queue>() {
    Q::new(1);
    let made = panic::catch_unwind(|| {
        Q::new(0);
    });
    assert!(made.is_err(), "Queue::new(0) made a queue that no item could ever enter: it must panic");
}

/// A full queue: push_timeout gives up and hands the item back; push waits (asleep, and still
/// after a spurious wake-up) until a pop makes room; order is kept.
fn full_queue<Q: Queue>() {
    for capacity in [1u64, 3] {
        let q = Arc::new(Q::new(capacity as usize));
        for i in 0..capacity {
            assert_eq!(
                soon("push", {
                    let q = q.clone();
                    move || q.push(i)
                }),
                Ok(()),
                "push {i} into a queue of capacity {capacity}"
            );
        }
        assert_eq!(q.len(), capacity as usize, "len of a full queue of capacity {capacity}");
        let r = soon("push_timeout", {
            let q = q.clone();
            move || q.push_timeout(99, Duration::from_millis(1))
        });
        assert_eq!(r, Err(PushError::Timeout(99)), "push_timeout(1 ms) on a full queue of capacity {capacity}");
        let mut pusher = [call("a producer in push(100) on a full queue", {
            let q = q.clone();
            move || q.push(100)
        })];
        until_asleep(1, &mut pusher, "push on a full queue");
        let_a_spurious_wakeup_happen();
        let len = q.len();
        assert!(
            len == capacity as usize,
            "the queue of capacity {capacity} holds {len} items: push added one to a full queue \
             after a wake-up with no room (wait in a loop: `while` or `wait_while`)"
        );
        assert_eq!(q.pop(), Some(0));
        let [pusher] = pusher;
        assert_eq!(pusher.result("a pop made room"), Ok(()));
        let rest: Vec<u64> = (0..capacity)
            .map(|_| {
                soon("pop", {
                    let q = q.clone();
                    move || q.pop()
                })
                .unwrap()
            })
            .collect();
        let mut want: Vec<u64> = (1..capacity).collect();
        want.push(100);
        assert_eq!(rest, want, "the items after a push that waited, in order");
    }
}

/// An empty queue: pop_timeout gives up; pop waits (asleep, and still after a spurious
/// wake-up) until a push wakes it with the item.
fn empty_queue<Q: Queue>() {
    let q = Arc::new(Q::new(2));
    let r = soon("pop_timeout", {
        let q = q.clone();
        move || q.pop_timeout(Duration::from_millis(1))
    });
    assert_eq!(r, Err(PopError::Timeout), "pop_timeout(1 ms) on an empty queue");
    let mut popper = [call("a consumer in pop() on an empty queue", {
        let q = q.clone();
        move || q.pop()
    })];
    until_asleep(1, &mut popper, "pop on an empty queue");
    let_a_spurious_wakeup_happen();
    assert_eq!(q.push(5), Ok(()));
    let [popper] = popper;
    let got = popper.result("push(5) put an item in its queue");
    assert!(
        got == Some(5),
        "pop on an open queue returned {got:?}, expected Some(5): {}",
        if sync::SPURIOUS.load(SeqCst) {
            "it woke up with no item (a spurious wake-up) and did not look again: wait in a loop"
        } else {
            "the item pushed after it went to sleep"
        }
    );
}

/// One producer, 20,000 items through capacity 4, then close: every item, in order.
fn fifo<Q: Queue>() {
    let q = Arc::new(Q::new(4));
    let n = 20_000u64;
    let producer = call("the producer", {
        let q = q.clone();
        move || {
            for i in 0..n {
                q.push(i).unwrap();
            }
            q.close();
        }
    });
    let consumer = call("the consumer", {
        let q = q.clone();
        move || std::iter::from_fn(|| q.pop()).collect::<Vec<u64>>()
    });
    let mut got = consumer;
    let got = got
        .result_within(Duration::from_secs(30))
        .expect("20,000 items through a queue of capacity 4 took over 30 s: a hang");
    producer.result("the consumer took every item");
    assert_eq!(got.len() as u64, n, "items lost or added");
    assert!(got.iter().copied().eq(0..n), "the items came out of order");
}

/// While 3 producers and a consumer run, an observer sees 0 <= len <= capacity every time.
fn len_within_capacity<Q: Queue>() {
    let q = Arc::new(Q::new(4));
    let stop = Arc::new(AtomicBool::new(false));
    let observer = call("the observer", {
        let (q, stop) = (q.clone(), stop.clone());
        move || {
            while !stop.load(SeqCst) {
                let len = q.len();
                assert!(len <= 4, "len() was {len} in a queue of capacity 4");
            }
        }
    });
    let producers: Vec<_> = (0..3u64)
        .map(|p| {
            call(format!("producer {p}"), {
                let q = q.clone();
                move || (0..2_000).for_each(|i| q.push(p * 10_000 + i).unwrap())
            })
        })
        .collect();
    let consumer = call("the consumer", {
        let q = q.clone();
        move || {
            (0..6_000).for_each(|_| {
                q.pop().unwrap();
            })
        }
    });
    let mut consumer = consumer;
    consumer.result_within(Duration::from_secs(30)).expect("6,000 items took over 30 s: a hang");
    all_results(producers, "producers", "the consumer took all their items");
    stop.store(true, SeqCst);
    observer.result("it was told to stop");
}

/// Four consumers asleep on an empty queue; four pushes: each must wake one of them.
fn sleeping_consumers<Q: Queue>() {
    let q = Arc::new(Q::new(4));
    let mut consumers: Vec<_> = (0..4)
        .map(|c| {
            call(format!("consumer {c} in pop()"), {
                let q = q.clone();
                move || q.pop()
            })
        })
        .collect();
    until_asleep(4, &mut consumers, "4 consumers in pop on an empty queue");
    for x in 1..=4 {
        assert_eq!(q.push(x), Ok(()));
    }
    let mut got: Vec<u64> = all_results(consumers, "sleeping consumers", "4 items were pushed, one for each")
        .into_iter()
        .map(|r| r.expect("pop returned None on an open queue"))
        .collect();
    got.sort_unstable();
    assert_eq!(got, [1, 2, 3, 4], "four sleeping consumers, four items");
}

/// Four producers asleep on a full queue of capacity 1; five pops: each must let one in.
fn sleeping_producers<Q: Queue>() {
    let q = Arc::new(Q::new(1));
    q.push(0).unwrap();
    let mut producers: Vec<_> = (1..=4u64)
        .map(|x| {
            call(format!("producer in push({x})"), {
                let q = q.clone();
                move || q.push(x)
            })
        })
        .collect();
    until_asleep(4, &mut producers, "4 producers in push on a full queue");
    let popper = call("the consumer's 5 pops", {
        let q = q.clone();
        move || (0..5).map(|_| q.pop()).collect::<Vec<_>>()
    });
    let pushed = all_results(producers, "sleeping producers", "a consumer popped 5 items (one slot freed for each)");
    assert!(pushed.iter().all(Result::is_ok), "a push into an open queue failed: {pushed:?}");
    let mut got: Vec<u64> = popper.result("every producer got in").into_iter().map(Option::unwrap).collect();
    got.sort_unstable();
    assert_eq!(got, [0, 1, 2, 3, 4]);
}

/// Close lets the consumers drain in order, and refuses pushes, handing the item back.
fn close_drains_in_order<Q: Queue>() {
    let q = Arc::new(Q::new(4));
    for i in 0..3 {
        q.push(i).unwrap();
    }
    q.close();
    let r = soon("push after close", {
        let q = q.clone();
        move || q.push(7)
    });
    assert_eq!(r, Err(7), "push(7) after close: the queue is closed, and the item comes back");
    let r = soon("push_timeout after close", {
        let q = q.clone();
        move || q.push_timeout(8, Duration::from_millis(1))
    });
    assert_eq!(r, Err(PushError::Closed(8)), "push_timeout(8) after close");
    assert_eq!(q.len(), 3, "a push after close put an item in the queue");
    let pop = |what: &str| {
        soon(what, {
            let q = q.clone();
            move || q.pop()
        })
    };
    assert_eq!(pop("pop"), Some(0), "pop after close: items pushed before the close are still delivered");
    let r = soon("pop_timeout", {
        let q = q.clone();
        move || q.pop_timeout(HANG)
    });
    assert_eq!(r, Ok(1), "pop_timeout after close, an item buffered");
    assert_eq!(pop("pop"), Some(2));
    assert_eq!(pop("pop on a closed, drained queue"), None, "pop on a closed and drained queue");
    let r = soon("pop_timeout", {
        let q = q.clone();
        move || q.pop_timeout(HANG)
    });
    assert_eq!(r, Err(PopError::Closed), "pop_timeout on a closed and drained queue");
}

/// Four consumers asleep (two in pop, two in pop_timeout(1 h)); close must wake all four.
fn close_wakes_consumers<Q: Queue>() {
    let q = Arc::new(Q::new(2));
    let mut consumers: Vec<_> = (0..4)
        .map(|c| {
            let q = q.clone();
            if c % 2 == 0 {
                call(format!("consumer {c} in pop()"), move || q.pop().ok_or(PopError::Closed))
            } else {
                call(format!("consumer {c} in pop_timeout(1 h)"), move || q.pop_timeout(LONG))
            }
        })
        .collect();
    until_asleep(4, &mut consumers, "4 consumers on an empty queue");
    q.close();
    for r in all_results(consumers, "sleeping consumers", "close (it must wake every sleeper: notify_all)") {
        assert_eq!(r, Err(PopError::Closed), "a sleeping consumer after close");
    }
}

/// Four producers asleep on a full queue (push, push_timeout(1 h)); close must wake all four,
/// refuse their items and hand them back; the item buffered before the close stays.
fn close_wakes_producers<Q: Queue>() {
    let q = Arc::new(Q::new(1));
    q.push(0).unwrap();
    let mut producers: Vec<_> = (1..=4u64)
        .map(|x| {
            let q = q.clone();
            if x % 2 == 0 {
                call(format!("producer in push({x})"), move || q.push(x).map_err(PushError::Closed))
            } else {
                call(format!("producer in push_timeout({x}, 1 h)"), move || q.push_timeout(x, LONG))
            }
        })
        .collect();
    until_asleep(4, &mut producers, "4 producers on a full queue");
    q.close();
    let results =
        all_results(producers, "sleeping producers", "close (it must wake every sleeper, on both sides: notify_all)");
    for (x, r) in (1..=4u64).zip(results) {
        assert_eq!(r, Err(PushError::Closed(x)), "a sleeping producer after close: refused, its item handed back");
    }
    assert_eq!(
        soon("pop", {
            let q = q.clone();
            move || q.pop()
        }),
        Some(0),
        "the item buffered before the close"
    );
    assert_eq!(
        soon("pop", {
            let q = q.clone();
            move || q.pop()
        }),
        None,
        "a producer woken by close put its item in"
    );
}

/// Timeouts last at least their duration, from one deadline; they end early when the other
/// side acts.
fn timeouts<Q: Queue>() {
    let q = Arc::new(Q::new(1));
    let at_least = |what: &str, start: Instant| {
        let took = start.elapsed();
        assert!(took >= TIMEOUT, "{what} gave up after {took:?}, before its timeout of {TIMEOUT:?}");
    };
    let start = Instant::now();
    let mut c = call("pop_timeout(300 ms) on an empty queue", {
        let q = q.clone();
        move || q.pop_timeout(TIMEOUT)
    });
    let r = c.result_within(TIMEOUT + HANG).unwrap_or_else(|| {
        panic!(
            "pop_timeout(300 ms) on an empty queue had not returned {} s later{}",
            HANG.as_secs(),
            if sync::SPURIOUS.load(SeqCst) {
                ", with a wake-up every 10 ms: the deadline must be set once, not at every wake-up"
            } else {
                ""
            }
        )
    });
    assert_eq!(r, Err(PopError::Timeout), "pop_timeout on an empty queue");
    at_least("pop_timeout(300 ms) on an empty queue", start);

    q.push(1).unwrap();
    let start = Instant::now();
    let mut c = call("push_timeout(2, 300 ms) on a full queue", {
        let q = q.clone();
        move || q.push_timeout(2, TIMEOUT)
    });
    let r = c.result_within(TIMEOUT + HANG).unwrap_or_else(|| {
        panic!(
            "push_timeout(2, 300 ms) on a full queue had not returned {} s later{}",
            HANG.as_secs(),
            if sync::SPURIOUS.load(SeqCst) {
                ", with a wake-up every 10 ms: the deadline must be set once, not at every wake-up"
            } else {
                ""
            }
        )
    });
    assert_eq!(r, Err(PushError::Timeout(2)), "push_timeout on a full queue: gives up, hands the item back");
    at_least("push_timeout(2, 300 ms) on a full queue", start);
    assert_eq!(q.pop(), Some(1));

    // Early, with the item, when one arrives during the wait.
    let mut c = [call("pop_timeout(1 h) on an empty queue", {
        let q = q.clone();
        move || q.pop_timeout(LONG)
    })];
    until_asleep(1, &mut c, "pop_timeout on an empty queue");
    q.push(3).unwrap();
    let [c] = c;
    assert_eq!(c.result("push(3) put an item in its queue"), Ok(3));
    q.push(4).unwrap();
    let mut c = [call("push_timeout(5, 1 h) on a full queue", {
        let q = q.clone();
        move || q.push_timeout(5, LONG)
    })];
    until_asleep(1, &mut c, "push_timeout on a full queue");
    assert_eq!(q.pop(), Some(4));
    let [c] = c;
    assert_eq!(c.result("a pop made room"), Ok(()));
    assert_eq!(q.pop(), Some(5));
}

/// Timeouts of 0 and 1 ns answer at once; Duration::MAX (too far for an Instant) waits, without
/// panicking, until the other side acts.
fn extreme_timeouts<Q: Queue>() {
    let q = Arc::new(Q::new(1));
    for t in [Duration::ZERO, Duration::from_nanos(1)] {
        let r = soon("pop_timeout", {
            let q = q.clone();
            move || q.pop_timeout(t)
        });
        assert_eq!(r, Err(PopError::Timeout), "pop_timeout({t:?}) on an empty queue");
    }
    q.push(0).unwrap();
    for t in [Duration::ZERO, Duration::from_nanos(1)] {
        let r = soon("push_timeout", {
            let q = q.clone();
            move || q.push_timeout(1, t)
        });
        assert_eq!(r, Err(PushError::Timeout(1)), "push_timeout(1, {t:?}) on a full queue");
    }
    assert_eq!(
        soon("pop_timeout", {
            let q = q.clone();
            move || q.pop_timeout(Duration::ZERO)
        }),
        Ok(0),
        "pop_timeout(0) with an item buffered"
    );
    assert_eq!(
        soon("push_timeout", {
            let q = q.clone();
            move || q.push_timeout(7, Duration::ZERO)
        }),
        Ok(()),
        "push_timeout(7, 0) with room"
    );
    assert_eq!(q.pop(), Some(7));

    let mut c = [call("pop_timeout(Duration::MAX) on an empty queue", {
        let q = q.clone();
        move || q.pop_timeout(Duration::MAX)
    })];
    until_asleep(1, &mut c, "pop_timeout(Duration::MAX) on an empty queue");
    q.push(8).unwrap();
    let [c] = c;
    assert_eq!(c.result("push(8) put an item in its queue"), Ok(8));
    q.push(9).unwrap();
    let mut c = [call("push_timeout(10, Duration::MAX) on a full queue", {
        let q = q.clone();
        move || q.push_timeout(10, Duration::MAX)
    })];
    until_asleep(1, &mut c, "push_timeout(Duration::MAX) on a full queue");
    assert_eq!(q.pop(), Some(9));
    let [c] = c;
    assert_eq!(c.result("a pop made room"), Ok(()));
    assert_eq!(q.pop(), Some(10));
}

/// 8 producers and 8 consumers (more threads than this machine has cores), capacity 1, blocking
/// and timed calls mixed: every item exactly once, each producer's in order, no `None` before
/// the close; no item delivered for 5 s is a deadlock.
fn stress<Q: Queue>() {
    const P: u64 = 8;
    const EACH: u64 = 2_000;
    let q = Arc::new(Q::new(1));
    let delivered = Arc::new(AtomicUsize::new(0));
    let producers_left = Arc::new(AtomicUsize::new(P as usize));
    let producers: Vec<_> = (0..P)
        .map(|p| {
            let (q, left) = (q.clone(), producers_left.clone());
            call(format!("producer {p}"), move || {
                for i in 0..EACH {
                    let x = p * EACH + i;
                    let r = if i % 2 == 0 { q.push(x) } else { q.push_timeout(x, LONG).map_err(|_| x) };
                    assert_eq!(r, Ok(()), "a push into an open queue failed");
                }
                left.fetch_sub(1, SeqCst);
            })
        })
        .collect();
    let consumers: Vec<_> = (0..8)
        .map(|c| {
            let (q, delivered, left) = (q.clone(), delivered.clone(), producers_left.clone());
            call(format!("consumer {c}"), move || {
                let mut got = Vec::new();
                loop {
                    let x = if got.len() % 2 == 0 { q.pop() } else { q.pop_timeout(LONG).ok() };
                    match x {
                        Some(x) => {
                            got.push(x);
                            delivered.fetch_add(1, SeqCst);
                        }
                        None => {
                            let running = left.load(SeqCst);
                            assert_eq!(
                                running, 0,
                                "pop said the queue was closed while {running} producers were still pushing"
                            );
                            return got;
                        }
                    }
                }
            })
        })
        .collect();
    // The watchdog: an item delivered at least every HANG, until all are.
    let (mut last, mut since) = (0, Instant::now());
    while delivered.load(SeqCst) < (P * EACH) as usize {
        thread::sleep(Duration::from_millis(20));
        let now = delivered.load(SeqCst);
        if now != last {
            (last, since) = (now, Instant::now());
        } else if since.elapsed() > HANG {
            panic!(
                "deadlock: no item delivered for {} s, {now} of {} so far; {} threads asleep on a \
                 condition variable, {} producers not finished",
                HANG.as_secs(),
                P * EACH,
                sync::SLEEPING.load(SeqCst),
                producers_left.load(SeqCst)
            );
        }
    }
    all_results(producers, "producers", "every item was delivered");
    q.close();
    let got = all_results(consumers, "consumers", "close");
    let mut seen = HashSet::new();
    for mine in &got {
        for p in 0..P {
            let from_p: Vec<u64> = mine.iter().copied().filter(|x| x / EACH == p).collect();
            assert!(from_p.windows(2).all(|w| w[0] < w[1]), "a consumer got producer {p}'s items out of order");
        }
        for &x in mine {
            assert!(seen.insert(x), "item {x} was delivered twice");
        }
    }
    assert_eq!(seen.len() as u64, P * EACH, "items were lost");
}

// ---------------------------------------------------------------------------------------------
// stage 3: shuttle

const ITERATIONS: usize = 10_000;
/// PCT's preemption bound: bugs in a queue like this need one or two badly placed preemptions.
const DEPTH: usize = 3;

/// A shuttle thread with a name (which shuttle's deadlock report lists).
fn spawn<T: Send + 'static>(name: String, f: impl FnOnce() -> T + Send + 'static) -> shuttle::thread::JoinHandle<T> {
    shuttle::thread::Builder::new().name(name).spawn(f).unwrap()
}

fn explore(scenario: fn()) {
    use shuttle::scheduler::{PctScheduler, RandomScheduler};
    shuttle::Runner::new(PctScheduler::new_from_seed(0x5eed, DEPTH, ITERATIONS), Default::default()).run(scenario);
    shuttle::Runner::new(RandomScheduler::new_from_seed(0x5eed, ITERATIONS), Default::default()).run(scenario);
}

/// Two producers and two consumers at capacity 1, then close: every item, each producer's in
/// order, the bound kept.
fn deliver_everything<Q: Queue>() {
    let q = Arc::new(Q::new(1));
    let producers: Vec<_> = (0..2u64)
        .map(|p| {
            let q = q.clone();
            spawn(format!("producer {p}"), move || {
                for s in 0..2 {
                    q.push(p * 10 + s).unwrap();
                    assert!(q.len() <= 1, "a queue of capacity 1 holds {} items", q.len());
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..2)
        .map(|c| {
            let q = q.clone();
            spawn(format!("consumer {c}"), move || std::iter::from_fn(|| q.pop()).collect::<Vec<u64>>())
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    q.close();
    let mut all = Vec::new();
    for c in consumers {
        let got = c.join().unwrap();
        for p in 0..2 {
            let mine: Vec<u64> = got.iter().copied().filter(|x| x / 10 == p).collect();
            assert!(mine.windows(2).all(|w| w[0] < w[1]), "producer {p}'s items out of order: {got:?}");
        }
        all.extend(got);
    }
    all.sort_unstable();
    assert_eq!(all, [0, 1, 10, 11], "the items delivered");
}

/// Producers and consumers asleep at the same time, no close: a wake-up that reaches the wrong
/// side is a deadlock, which shuttle reports.
fn mixed_sleepers<Q: Queue>() {
    let q = Arc::new(Q::new(1));
    let mut threads = Vec::new();
    for p in 0..2u64 {
        let q = q.clone();
        threads.push(spawn(format!("producer {p}"), move || {
            q.push(p).unwrap();
            q.push(p + 10).unwrap();
        }));
    }
    for c in 0..2 {
        let q = q.clone();
        threads.push(spawn(format!("consumer {c}"), move || {
            assert!(q.pop().is_some(), "pop returned None on an open queue");
            assert!(q.pop().is_some(), "pop returned None on an open queue");
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(q.len(), 0);
}

/// Close wakes every consumer asleep on an empty queue.
fn close_wakes_consumers_shuttle<Q: Queue>() {
    let q = Arc::new(Q::new(1));
    let waiters: Vec<_> = (0..3)
        .map(|c| {
            let q = q.clone();
            spawn(format!("consumer {c}"), move || q.pop())
        })
        .collect();
    q.close();
    for w in waiters {
        assert_eq!(w.join().unwrap(), None, "pop after close on an empty queue");
    }
}

/// Close wakes every producer asleep on a full queue; nothing gets in after it.
fn close_wakes_producers_shuttle<Q: Queue>() {
    let q = Arc::new(Q::new(1));
    q.push(1).unwrap();
    let waiters: Vec<_> = (0..2u64)
        .map(|i| {
            let q = q.clone();
            spawn(format!("producer {i}"), move || q.push(2 + i))
        })
        .collect();
    q.close();
    for (i, w) in waiters.into_iter().enumerate() {
        assert_eq!(w.join().unwrap(), Err(2 + i as u64), "push after close: refused, the item handed back");
    }
    assert_eq!(q.pop(), Some(1), "the item buffered before the close");
    assert_eq!(q.pop(), None, "a producer woken by close put its item in");
}

/// Two consumers, two items: whichever wakes, and whoever takes an item first, both get one. A
/// consumer whose wake-up was stolen must wait again, not report the queue closed.
fn stolen_wakeup<Q: Queue>() {
    let q = Arc::new(Q::new(1));
    let consumers: Vec<_> = (0..2)
        .map(|c| {
            let q = q.clone();
            spawn(format!("consumer {c}"), move || q.pop())
        })
        .collect();
    q.push(1).unwrap();
    q.push(2).unwrap();
    let mut got: Vec<Option<u64>> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
    got.sort_unstable();
    assert_eq!(got, [Some(1), Some(2)], "two consumers, two items, an open queue");
}

// ---------------------------------------------------------------------------------------------
// the stages, and running them

/// One check: its name and the function that runs it (panics when it fails).
pub struct Check {
    pub name: &'static str,
    pub run: fn(),
}

pub struct Stage {
    pub name: &'static str,
    pub about: String,
    pub checks: Vec<Check>,
}

pub struct Checks {
    pub stages: Vec<Stage>,
}

macro_rules! checks {
    ($q:ty; $($name:ident),* $(,)?) => {
        vec![$(Check { name: stringify!($name), run: $name::<$q> }),*]
    };
}

fn contract<Q: Queue>() -> Vec<Check> {
    checks![Q; capacity_0, full_queue, empty_queue, fifo, len_within_capacity, sleeping_consumers,
        sleeping_producers, close_drains_in_order, close_wakes_consumers, close_wakes_producers,
        timeouts, extreme_timeouts, stress]
}

/// The checks of a queue compiled twice: `S` with the check's `sync`, `M` with shuttle's.
pub fn checks<S: Queue, M: Queue>() -> Checks {
    let shuttle = |name: &'static str, scenario: fn()| Check { name, run: scenario };
    Checks {
        stages: vec![
            Stage {
                name: "std",
                about: "the contract tests, with std's Mutex and Condvar".into(),
                checks: contract::<S>(),
            },
            Stage {
                name: "spurious",
                about: format!(
                    "the same, while every wait also wakes up every {} ms with no notification, as std allows",
                    sync::TICK.as_millis()
                ),
                checks: contract::<S>(),
            },
            Stage {
                name: "shuttle",
                about: format!("the shuttle model checker: 5 scenarios, {} interleavings each", 2 * ITERATIONS),
                checks: vec![
                    shuttle("deliver_everything", || explore(deliver_everything::<M>)),
                    shuttle("mixed_sleepers", || explore(mixed_sleepers::<M>)),
                    shuttle("close_wakes_consumers", || explore(close_wakes_consumers_shuttle::<M>)),
                    shuttle("close_wakes_producers", || explore(close_wakes_producers_shuttle::<M>)),
                    shuttle("stolen_wakeup", || explore(stolen_wakeup::<M>)),
                ],
            },
        ],
    }
}

impl Checks {
    pub fn find(&self, stage: &str, check: &str) -> Option<(&Stage, &Check)> {
        let s = self.stages.iter().find(|s| s.name == stage)?;
        Some((s, s.checks.iter().find(|c| c.name == check)?))
    }
}

/// The first panic of the process: its message, where, and in which thread.
static FIRST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// The child's side: runs one check and exits (0: passed; 1: failed, with `FAIL: why` as the
/// last line of standard output). `sources` maps generated files to what they were made from.
pub fn run_one(checks: &Checks, stage: &str, check: &str, sources: &'static [(&'static str, &'static str)]) -> ! {
    let Some((_, c)) = checks.find(stage, check) else {
        println!("FAIL: no check {stage}/{check}");
        std::process::exit(2);
    };
    panic::set_hook(Box::new(move |info| {
        let mut first = FIRST_PANIC.lock().unwrap_or_else(|e| e.into_inner());
        if first.is_some() {
            return;
        }
        let message = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "(a panic with no message)".into());
        let mut text = message.replace('\n', " ");
        if let Some(tasks) = text.strip_prefix("deadlock! blocked tasks: ") {
            // shuttle's: "[main-thread (task main-thread(0)), consumer 1 (task ...), ...]"
            let names: Vec<&str> =
                tasks.trim_matches(['[', ']']).split("), ").filter_map(|t| t.split(" (task").next()).collect();
            text = format!(
                "a deadlock: in one of the interleavings shuttle ran, every thread was blocked ({})",
                names.join(", ")
            );
        }
        if let Some(l) = info.location() {
            // Where in the queue's own code; the check's own assertions say enough.
            if let Some((_, source)) = sources.iter().find(|(g, _)| *g == l.file()) {
                text = format!("{text} (at {source}:{})", l.line());
            }
        }
        if let Some(name) = thread::current().name().filter(|n| *n != "main") {
            text = format!("in {name}: {text}");
        }
        *first = Some(text);
    }));
    sync::SPURIOUS.store(stage == "spurious", SeqCst);
    let r = panic::catch_unwind(AssertUnwindSafe(c.run));
    match r {
        Ok(()) => {
            println!("PASS");
            std::process::exit(0)
        }
        Err(_) => {
            let why = FIRST_PANIC.lock().unwrap_or_else(|e| e.into_inner()).clone().unwrap_or_default();
            println!("FAIL: {why}");
            std::process::exit(1)
        }
    }
}

/// How long one check may run in its child process before it is killed as a hang.
pub const CHILD_LIMIT: Duration = Duration::from_secs(60);

/// The parent's side: runs `exe ARGS` (a child that calls [`run_one`]) and returns None when the
/// check passed, or why it failed.
pub fn run_child(exe: &std::path::Path, args: &[&str]) -> Option<String> {
    let mut child = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let err_reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > CHILD_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(10));
    };
    let stdout = reader.join().unwrap();
    let stderr = err_reader.join().unwrap();
    let last = stdout.lines().last().unwrap_or("");
    match status {
        None => Some(format!("still running after {} s: killed (a call that never returned?)", CHILD_LIMIT.as_secs())),
        Some(s) if s.success() && last == "PASS" => None,
        Some(_) if last.starts_with("FAIL: ") => Some(last["FAIL: ".len()..].to_string()),
        Some(s) => {
            let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
            Some(format!(
                "the check's process ended with {s} (stderr: {})",
                tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
            ))
        }
    }
}

/// The learner's report: each stage's checks in order (`child(STAGE, CHECK)` runs one, in a
/// child process: None when it passed), each line given to `print` as soon as it is known; the
/// stages after one with a failure do not run. Returns whether every check passed.
pub fn report(
    checks: &Checks,
    file: &str,
    child: impl Fn(&str, &str) -> Option<String>,
    mut print: impl FnMut(String),
) -> bool {
    print(format!("checking {file}"));
    for (i, stage) in checks.stages.iter().enumerate() {
        print(format!("{}. {}: {}", i + 1, stage.name, stage.about));
        let mut failed = 0;
        for c in &stage.checks {
            match child(stage.name, c.name) {
                None => print(format!("   ok    {}", c.name)),
                Some(why) => {
                    failed += 1;
                    print(format!("   FAIL  {}: {why}", c.name));
                }
            }
        }
        if failed > 0 {
            let later: Vec<&str> = checks.stages[i + 1..].iter().map(|s| s.name).collect();
            let then =
                if later.is_empty() { String::new() } else { format!("; then the stages {} run", later.join(" and ")) };
            print(format!("not yet: {failed} of {} checks of stage {} failed{then}", stage.checks.len(), stage.name));
            return false;
        }
    }
    let n: usize = checks.stages.iter().map(|s| s.checks.len()).sum();
    print(format!("right: the {n} checks of the {} stages pass", checks.stages.len()));
    true
}
