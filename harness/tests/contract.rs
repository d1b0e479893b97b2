//! The contract suite: written once, generic over `Impl`, run against every implementation.
//!
//! Every test runs under a watchdog: a hang fails with the implementation's and the test's
//! names after [`LIMIT`] instead of stalling CI. Tests never assert on speed; where a test must
//! show that a call is *still* waiting, it checks after a pause that the call has not returned,
//! which can only err towards passing a broken queue, never towards failing a good one.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use bq_engine::measure::{item, Delivery};
use bq_engine::watchdog::{join_all, within, WatchdogError};
use bq_engine::{Consumer, Impl, NewError, Producer, QueueError, MAX_CAPACITY, MAX_ITEM};
use harness::validate::report::kind_name;
use harness::validate::stress::{run_round, Round};

const LIMIT: Duration = Duration::from_secs(60);
/// How long to wait before concluding that a blocked call is still blocked.
const SETTLE: Duration = Duration::from_millis(50);

fn run<I: Impl>(imp: &'static I, test: &str, body: impl FnOnce(&'static I) + Send + 'static) {
    let what = format!("{} / {test}", imp.name());
    if let Err(e) = within(&what, LIMIT, move || body(imp)) {
        panic!("{e}");
    }
}

/// A pop that says `Closed` while a producer is still running saw a closed queue that was
/// open: a spurious wake-up taken for a close (`if` instead of `while` around a wait).
fn assert_closed_only_after(name: &str, finished: &AtomicUsize, producers: u64) {
    let done = finished.load(Ordering::SeqCst) as u64;
    assert_eq!(done, producers, "{name}: a pop said Closed while {} producers were still running", producers - done);
}

fn assert_len_within<I: Impl>(imp: &I, tx: &I::Tx, capacity: usize) {
    if let Some(len) = tx.len() {
        assert!(len <= capacity, "{}: len {len} exceeds capacity {capacity}", imp.name());
    }
}

// ---------------------------------------------------------------------------------------------
// full and empty queues

fn full_queue<I: Impl>(imp: &'static I) {
    for capacity in [1, 3] {
        let (tx, rx) = imp.bounded(capacity).unwrap();
        for i in 0..capacity as u64 {
            tx.try_push(i).unwrap();
            assert_len_within(imp, &tx, capacity);
        }
        assert_eq!(tx.try_push(99), Err(QueueError::Full), "{}: try_push on a full queue", imp.name());
        assert_eq!(tx.push_timeout(99, Duration::from_millis(1)), Err(QueueError::Timeout));
        if let Some(len) = tx.len() {
            assert_eq!(len, capacity, "{}: len of a full queue", imp.name());
        }
        let done = Arc::new(AtomicBool::new(false));
        let pusher = {
            let (tx, done) = (tx.clone(), done.clone());
            thread::spawn(move || {
                tx.push(100).unwrap();
                done.store(true, Ordering::SeqCst);
            })
        };
        thread::sleep(SETTLE);
        assert!(!done.load(Ordering::SeqCst), "{}: push on a full queue did not wait", imp.name());
        assert_len_within(imp, &tx, capacity);
        assert_eq!(rx.pop(), Ok(0));
        pusher.join().unwrap();
        assert!(done.load(Ordering::SeqCst));
        assert_len_within(imp, &tx, capacity);
        let mut rest = Vec::new();
        while let Ok(x) = rx.try_pop() {
            rest.push(x);
        }
        let mut expected: Vec<u64> = (1..capacity as u64).collect();
        expected.push(100);
        assert_eq!(rest, expected, "{}: order after a blocked push", imp.name());
    }
}

fn empty_queue<I: Impl>(imp: &'static I) {
    let (tx, rx) = imp.bounded(2).unwrap();
    assert_eq!(rx.try_pop(), Err(QueueError::Empty), "{}: try_pop on an empty queue", imp.name());
    if let Some(len) = tx.len() {
        assert_eq!(len, 0);
    }
    let done = Arc::new(AtomicBool::new(false));
    let popper = {
        let (rx, done) = (rx.clone(), done.clone());
        thread::spawn(move || {
            let x = rx.pop();
            done.store(true, Ordering::SeqCst);
            x
        })
    };
    thread::sleep(SETTLE);
    assert!(!done.load(Ordering::SeqCst), "{}: pop on an empty queue did not wait", imp.name());
    tx.push(5).unwrap();
    assert_eq!(popper.join().unwrap(), Ok(5));
}

/// While producers and consumers run, an observer checks 0 <= len <= capacity each time.
fn len_never_exceeds_capacity<I: Impl>(imp: &'static I) {
    if !imp.traits().has_len {
        return; // rust-sync-channel: std's channel has no len
    }
    let capacity = 4;
    let (tx, rx) = imp.bounded(capacity).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let observer = {
        let (tx, stop) = (tx.clone(), stop.clone());
        thread::spawn(move || {
            let mut observations = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let len = tx.len().unwrap();
                assert!(len <= capacity, "len {len} observed above capacity {capacity}");
                observations += 1;
            }
            observations
        })
    };
    let producers: Vec<_> = (0..3)
        .map(|p| {
            let tx = tx.clone();
            thread::spawn(move || (0..2_000).for_each(|s| tx.push(item(p, s)).unwrap()))
        })
        .collect();
    let consumer = thread::spawn(move || {
        (0..6_000).for_each(|_| {
            rx.pop().unwrap();
        })
    });
    join_all("producers", producers).unwrap();
    consumer.join().unwrap();
    stop.store(true, Ordering::Relaxed);
    assert!(observer.join().unwrap() > 0);
}

// ---------------------------------------------------------------------------------------------
// order, loss and duplication

fn fifo_one_producer<I: Impl>(imp: &'static I) {
    let (tx, rx) = imp.bounded(4).unwrap();
    let n = 20_000;
    let producer = thread::spawn(move || (0..n).for_each(|i| tx.push(i).unwrap()));
    let got: Vec<u64> = std::iter::from_fn(|| rx.pop().ok()).collect();
    producer.join().unwrap();
    assert_eq!(got.len() as u64, n, "{}: items lost or added", imp.name());
    assert!(got.iter().copied().eq(0..n), "{}: not FIFO", imp.name());
}

fn many_producers_and_consumers<I: Impl>(imp: &'static I) {
    let (producers, consumers, per_producer) = (4u64, 4, 5_000u64);
    let (tx, rx) = imp.bounded(8).unwrap();
    let finished = Arc::new(AtomicUsize::new(0));
    let senders: Vec<_> = (0..producers)
        .map(|p| {
            let (tx, finished) = (tx.clone(), finished.clone());
            thread::Builder::new()
                .name(format!("producer {p}"))
                .spawn(move || {
                    (0..per_producer).for_each(|s| tx.push(item(p, s)).unwrap());
                    finished.fetch_add(1, Ordering::SeqCst);
                })
                .unwrap()
        })
        .collect();
    drop(tx);
    let receivers: Vec<_> = (0..consumers)
        .map(|c| {
            let (rx, finished) = (rx.clone(), finished.clone());
            let name = imp.name();
            thread::Builder::new()
                .name(format!("consumer {c}"))
                .spawn(move || {
                    let mut got = Delivery::new(producers, per_producer);
                    while let Ok(x) = rx.pop() {
                        got.record(x);
                    }
                    assert_closed_only_after(name, &finished, producers);
                    got
                })
                .unwrap()
        })
        .collect();
    drop(rx);
    join_all("producers", senders).unwrap();
    let got = join_all("consumers", receivers).unwrap();
    if let Err(e) = Delivery::verdict(got) {
        panic!("{}: {e}", imp.name());
    }
}

/// The ring rotates many times: fill to a varying level, drain, repeat, checking FIFO.
fn wrap_around<I: Impl>(imp: &'static I) {
    for capacity in [1usize, 2, 3, 13] {
        let (tx, rx) = imp.bounded(capacity).unwrap();
        let mut next_in = 0u64;
        let mut next_out = 0u64;
        for round in 0..(200 * capacity) {
            let fill = 1 + round % capacity;
            for _ in 0..fill {
                tx.try_push(next_in).unwrap_or_else(|e| panic!("{}: cap {capacity}: try_push: {e}", imp.name()));
                next_in += 1;
            }
            // Leave one item behind on odd rounds, so the head moves by odd steps too.
            let keep = (round % 2 == 1 && fill > 1) as usize;
            for _ in 0..fill - keep {
                assert_eq!(rx.try_pop(), Ok(next_out), "{}: capacity {capacity}, round {round}", imp.name());
                next_out += 1;
            }
            if keep == 1 {
                assert_eq!(rx.pop(), Ok(next_out));
                next_out += 1;
            }
        }
        assert_eq!(rx.try_pop(), Err(QueueError::Empty));
    }
}

/// `pop_many` waits for the first item only, keeps queue order, never takes more than `max`,
/// and says `Closed` only once the queue is drained.
fn pop_many<I: Impl>(imp: &'static I) {
    let name = imp.name();
    let (tx, rx) = imp.bounded(8).unwrap();
    let mut out = Vec::new();
    assert_eq!(rx.pop_many(0, &mut out), Ok(0), "{name}: max 0 must not wait");
    for i in 0..5 {
        tx.push(i).unwrap();
    }
    assert_eq!(rx.pop_many(1, &mut out), Ok(1), "{name}: max 1");
    assert_eq!(rx.pop_many(3, &mut out), Ok(3), "{name}: max 3 of 4 buffered");
    assert_eq!(rx.pop_many(usize::MAX, &mut out), Ok(1), "{name}: the one left, without waiting for more");
    assert_eq!(out, [0, 1, 2, 3, 4], "{name}: order");
    // A waiting pop_many wakes for one item and returns it alone.
    let waiter = {
        let rx = rx.clone();
        thread::spawn(move || {
            let mut got = Vec::new();
            rx.pop_many(16, &mut got).map(|n| (n, got))
        })
    };
    thread::sleep(SETTLE);
    tx.push(9).unwrap();
    assert_eq!(waiter.join().unwrap(), Ok((1, vec![9])), "{name}: a waiting pop_many");
    tx.push(10).unwrap();
    drop(tx);
    out.clear();
    assert_eq!(rx.pop_many(16, &mut out), Ok(1), "{name}: drain after close");
    assert_eq!(rx.pop_many(16, &mut out), Err(QueueError::Closed), "{name}: closed and drained");
    assert_eq!(out, [10]);
}

/// A `pop_many` that takes fewer items than are buffered (a swap buffer then keeps the rest of
/// the batch it swapped out) leaves them in the queue: `len` counts them, the bound includes
/// them, `try_pop` and a second consumer get them, in order. At capacity 1 and around the end
/// of a batch again and again (wrap-around).
fn pop_many_leaves_the_rest<I: Impl>(imp: &'static I) {
    let name = imp.name();
    let (tx, rx) = imp.bounded(6).unwrap();
    for i in 0..6 {
        tx.push(i).unwrap();
    }
    let mut out = Vec::new();
    assert_eq!(rx.pop_many(2, &mut out), Ok(2), "{name}");
    if let Some(len) = tx.len() {
        assert_eq!(len, 4, "{name}: len after taking 2 of 6");
    }
    tx.push(6).unwrap();
    tx.push(7).unwrap();
    assert_eq!(tx.try_push(8), Err(QueueError::Full), "{name}: the rest of a batch counts against the bound");
    assert_eq!(rx.try_pop(), Ok(2), "{name}: try_pop after a partial pop_many");
    let other = rx.clone();
    assert_eq!(thread::spawn(move || other.pop()).join().unwrap(), Ok(3), "{name}: another consumer");
    while out.len() < 6 {
        rx.pop_many(3, &mut out).unwrap();
    }
    assert_eq!(out, [0, 1, 4, 5, 6, 7], "{name}: order across pop_many, try_pop and pop");
    assert_eq!(rx.try_pop(), Err(QueueError::Empty), "{name}");

    let (tx, rx) = imp.bounded(1).unwrap();
    let producer = thread::spawn(move || (0..500u64).try_for_each(|i| tx.push(i)));
    let mut got = Vec::new();
    while got.len() < 500 {
        match got.len() % 3 {
            0 => rx.pop_many(usize::MAX, &mut got).map(drop).unwrap(),
            1 => got.push(rx.pop().unwrap()),
            _ => rx.pop_many(1, &mut got).map(drop).unwrap(),
        }
    }
    producer.join().unwrap().unwrap();
    assert_eq!(got, (0..500).collect::<Vec<_>>(), "{name}: capacity 1 through pop, pop_many");
    assert_eq!(rx.pop_many(4, &mut got), Err(QueueError::Closed), "{name}: closed after the producer left");
}

// ---------------------------------------------------------------------------------------------
// close

/// Closing ("last producer drops", or the explicit close) lets consumers drain in order.
fn close_drains_in_order<I: Impl>(imp: &'static I) {
    let (tx, rx) = imp.bounded(4).unwrap();
    for i in 0..3 {
        tx.push(i).unwrap();
    }
    if imp.traits().explicit_close {
        tx.close().unwrap();
        assert_eq!(tx.push(7), Err(QueueError::Closed), "{}: push after close", imp.name());
        assert_eq!(tx.try_push(7), Err(QueueError::Closed));
        assert_eq!(tx.push_timeout(7, Duration::from_millis(1)), Err(QueueError::Closed));
        assert_eq!(tx.len(), Some(3), "{}: a push after close enqueued something", imp.name());
    } else {
        assert!(tx.close().is_err(), "{}: says it has no explicit close", imp.name());
    }
    drop(tx); // the Rust channel model's close
    assert_eq!(rx.pop(), Ok(0));
    assert_eq!(rx.try_pop(), Ok(1));
    assert_eq!(rx.pop_timeout(Duration::from_secs(5)), Ok(2));
    assert_eq!(rx.pop(), Err(QueueError::Closed), "{}: pop after drain", imp.name());
    assert_eq!(rx.try_pop(), Err(QueueError::Closed));
    assert_eq!(rx.pop_timeout(Duration::from_secs(5)), Err(QueueError::Closed));
}

/// Blocked consumers all wake when the queue closes.
fn close_wakes_waiting_consumers<I: Impl>(imp: &'static I) {
    let (tx, rx) = imp.bounded(2).unwrap();
    let waiting = Arc::new(AtomicUsize::new(0));
    let consumers: Vec<_> = (0..4)
        .map(|i| {
            let (rx, waiting) = (rx.clone(), waiting.clone());
            thread::spawn(move || {
                waiting.fetch_add(1, Ordering::SeqCst);
                if i % 2 == 0 {
                    rx.pop()
                } else {
                    rx.pop_timeout(Duration::from_secs(3600))
                }
            })
        })
        .collect();
    while waiting.load(Ordering::SeqCst) < 4 {
        thread::yield_now();
    }
    thread::sleep(SETTLE);
    if imp.traits().explicit_close {
        rx.close().unwrap(); // the explicit close, from the consumer side
    }
    drop(tx);
    for r in join_all("consumers", consumers).unwrap() {
        assert_eq!(r, Err(QueueError::Closed), "{}: a waiting consumer after close", imp.name());
    }
}

/// Blocked producers all wake when the queue is closed explicitly, and enqueue nothing.
fn close_wakes_waiting_producers<I: Impl>(imp: &'static I) {
    if !imp.traits().explicit_close {
        return; // no explicit close; the consumer-side case is `consumers_leaving_wake_producers`
    }
    let (tx, rx) = imp.bounded(1).unwrap();
    tx.push(1).unwrap();
    let producers: Vec<_> = (0..4)
        .map(|i| {
            let tx = tx.clone();
            thread::spawn(move || if i % 2 == 0 { tx.push(2) } else { tx.push_timeout(2, Duration::from_secs(3600)) })
        })
        .collect();
    thread::sleep(SETTLE);
    tx.close().unwrap();
    for r in join_all("producers", producers).unwrap() {
        assert_eq!(r, Err(QueueError::Closed), "{}: a waiting producer after close", imp.name());
    }
    assert_eq!(rx.pop(), Ok(1));
    assert_eq!(rx.pop(), Err(QueueError::Closed), "{}: a producer woken by close enqueued", imp.name());
}

/// When every consumer goes away, blocked producers wake with an error, and pushes fail.
fn consumers_leaving_wake_producers<I: Impl>(imp: &'static I) {
    let (tx, rx) = imp.bounded(1).unwrap();
    tx.push(1).unwrap();
    let waiting = Arc::new(AtomicUsize::new(0));
    let producers: Vec<_> = (0..4)
        .map(|i| {
            let (tx, waiting) = (tx.clone(), waiting.clone());
            thread::spawn(move || {
                waiting.fetch_add(1, Ordering::SeqCst);
                if i % 2 == 0 {
                    tx.push(2)
                } else {
                    tx.push_timeout(2, Duration::from_secs(3600))
                }
            })
        })
        .collect();
    while waiting.load(Ordering::SeqCst) < 4 {
        thread::yield_now();
    }
    thread::sleep(SETTLE);
    let rx2 = rx.clone();
    drop(rx);
    thread::sleep(SETTLE);
    // One consumer handle is left: producers must still be waiting.
    assert_eq!(tx.try_push(3), Err(QueueError::Full), "{}: closed while a consumer remained", imp.name());
    drop(rx2);
    for r in join_all("producers", producers).unwrap() {
        assert_eq!(r, Err(QueueError::Closed), "{}: a blocked producer after the consumers left", imp.name());
    }
    assert_eq!(tx.push(4), Err(QueueError::Closed));
    assert_eq!(tx.try_push(4), Err(QueueError::Closed));
}

// ---------------------------------------------------------------------------------------------
// timeouts

fn timeouts<I: Impl>(imp: &'static I) {
    let t = Duration::from_millis(30);
    let (tx, rx) = imp.bounded(1).unwrap();
    let start = Instant::now();
    assert_eq!(rx.pop_timeout(t), Err(QueueError::Timeout));
    assert!(start.elapsed() >= t, "{}: pop_timeout returned after {:?} < {t:?}", imp.name(), start.elapsed());

    tx.push(1).unwrap();
    let start = Instant::now();
    assert_eq!(tx.push_timeout(2, t), Err(QueueError::Timeout));
    assert!(start.elapsed() >= t, "{}: push_timeout returned after {:?} < {t:?}", imp.name(), start.elapsed());
    assert_eq!(rx.pop(), Ok(1));

    // Returns early, with the item, when one arrives during the wait.
    let long = Duration::from_secs(30);
    let late = {
        let tx = tx.clone();
        thread::spawn(move || {
            thread::sleep(SETTLE);
            tx.push(3).unwrap();
        })
    };
    let start = Instant::now();
    assert_eq!(rx.pop_timeout(long), Ok(3));
    assert!(start.elapsed() < long, "{}: pop_timeout did not return early", imp.name());
    late.join().unwrap();

    tx.push(4).unwrap();
    let early = {
        let rx = rx.clone();
        thread::spawn(move || {
            thread::sleep(SETTLE);
            rx.pop().unwrap()
        })
    };
    let start = Instant::now();
    assert_eq!(tx.push_timeout(5, long), Ok(()));
    assert!(start.elapsed() < long, "{}: push_timeout did not return early", imp.name());
    assert_eq!(early.join().unwrap(), 4);
    assert_eq!(rx.pop(), Ok(5));
}

/// The edges of every argument: timeouts of 0, 1 ns and the largest `Duration` (a wait that
/// must neither overflow a deadline nor end early), items 0 and [`MAX_ITEM`], capacity 1 and the
/// largest the harness accepts.
fn extreme_arguments<I: Impl>(imp: &'static I) {
    let (tx, rx) = imp.bounded(1).unwrap();
    for t in [Duration::ZERO, Duration::from_nanos(1)] {
        assert_eq!(rx.pop_timeout(t), Err(QueueError::Timeout), "{}: pop_timeout({t:?}) on an empty queue", imp.name());
    }
    tx.push(0).unwrap();
    for t in [Duration::ZERO, Duration::from_nanos(1)] {
        assert_eq!(
            tx.push_timeout(1, t),
            Err(QueueError::Timeout),
            "{}: push_timeout({t:?}) on a full queue",
            imp.name()
        );
    }
    assert_eq!(rx.pop_timeout(Duration::ZERO), Ok(0), "{}: pop_timeout(0) with an item buffered", imp.name());
    assert_eq!(tx.push_timeout(MAX_ITEM, Duration::ZERO), Ok(()), "{}: push_timeout(0) with room", imp.name());
    assert_eq!(rx.pop(), Ok(MAX_ITEM), "{}: the largest item", imp.name());

    // Duration::MAX: waits (no overflow, no early answer) until the other side acts.
    let waiter = {
        let rx = rx.clone();
        thread::spawn(move || rx.pop_timeout(Duration::MAX))
    };
    thread::sleep(SETTLE);
    assert!(!waiter.is_finished(), "{}: pop_timeout(Duration::MAX) returned at once", imp.name());
    tx.push(7).unwrap();
    assert_eq!(waiter.join().unwrap(), Ok(7), "{}: pop_timeout(Duration::MAX)", imp.name());
    tx.push(8).unwrap();
    let pusher = {
        let tx = tx.clone();
        thread::spawn(move || tx.push_timeout(9, Duration::MAX))
    };
    thread::sleep(SETTLE);
    assert!(!pusher.is_finished(), "{}: push_timeout(Duration::MAX) returned at once", imp.name());
    assert_eq!(rx.pop(), Ok(8));
    assert_eq!(pusher.join().unwrap(), Ok(()), "{}: push_timeout(Duration::MAX)", imp.name());
    assert_eq!(rx.pop(), Ok(9));

    // The largest capacity accepted: made, usable, and full only after that many items (the
    // fill is skipped: 2^24 pushes through OCaml take seconds; a few show it is not 1).
    let (tx, rx) = imp.bounded(MAX_CAPACITY).unwrap();
    for i in 0..100 {
        assert_eq!(tx.try_push(i), Ok(()), "{}: try_push {i} at capacity {MAX_CAPACITY}", imp.name());
    }
    assert_eq!(rx.try_pop(), Ok(0));
}

// ---------------------------------------------------------------------------------------------
// capacity 0 and absurd capacities

fn capacity_zero<I: Impl>(imp: &'static I) {
    if !imp.traits().rendezvous {
        match imp.bounded(0) {
            Err(e @ NewError::ZeroCapacity { .. }) => {
                assert!(e.to_string().contains(imp.name()), "the error should name the implementation: {e}")
            }
            Err(e) => panic!("{}: capacity 0 gave the wrong error: {e}", imp.name()),
            Ok(_) => panic!("{}: capacity 0 accepted by a queue without a rendezvous mode", imp.name()),
        }
        return;
    }
    // A rendezvous channel: no buffer; a push completes only when a pop takes the item.
    let (tx, rx) = imp.bounded(0).unwrap();
    assert_eq!(tx.try_push(1), Err(QueueError::Full), "{}: rendezvous try_push with no consumer", imp.name());
    assert_eq!(rx.try_pop(), Err(QueueError::Empty));
    let done = Arc::new(AtomicBool::new(false));
    let pusher = {
        let (tx, done) = (tx.clone(), done.clone());
        thread::spawn(move || {
            tx.push(7).unwrap();
            done.store(true, Ordering::SeqCst);
        })
    };
    thread::sleep(SETTLE);
    assert!(!done.load(Ordering::SeqCst), "{}: rendezvous push returned with no consumer", imp.name());
    assert_eq!(rx.pop(), Ok(7));
    pusher.join().unwrap();
    let n = 1_000;
    let producer = thread::spawn(move || (0..n).for_each(|i| tx.push(i).unwrap()));
    assert!(std::iter::from_fn(|| rx.pop().ok()).eq(0..n), "{}: rendezvous order", imp.name());
    producer.join().unwrap();
}

fn absurd_capacity<I: Impl>(imp: &'static I) {
    match imp.bounded(usize::MAX) {
        Err(NewError::TooLarge { .. }) => {}
        Err(e) => panic!("{}: wrong error for usize::MAX: {e}", imp.name()),
        Ok(_) => panic!("{}: accepted capacity usize::MAX", imp.name()),
    }
}

// ---------------------------------------------------------------------------------------------
// stress: more threads than cores, capacity 1, every kind of operation

/// A round of `bqh validate`'s stress check (one implementation for both): loss, duplication,
/// per-producer order, `closed` before the last producer finished, `len() <= 1`, and a round in
/// which no item moves for 5 s fails as a deadlock naming who was blocked where.
fn stress<I: Impl>(imp: &'static I) {
    let round = Round { producers: 8, consumers: 8, per_producer: 2_000, mixed: true };
    if let Err((kind, what)) = run_round(imp, round, 1) {
        panic!("{}: stress [{}]: {what}", imp.name(), kind_name(kind));
    }
}

// ---------------------------------------------------------------------------------------------
// failures inside producers and consumers

/// A producer that panics surfaces as an error naming it, and its dropped handle closes the
/// queue so the waiting consumer wakes instead of hanging.
fn panicking_producer_is_an_error<I: Impl>(imp: &'static I) {
    let (tx, rx) = imp.bounded(2).unwrap();
    let producer = thread::Builder::new()
        .name("producer 0".into())
        .spawn(move || {
            tx.push(1).unwrap();
            panic!("boom in producer");
        })
        .unwrap();
    let consumer = thread::spawn(move || std::iter::from_fn(|| rx.pop().ok()).collect::<Vec<_>>());
    match join_all("run", vec![producer]) {
        Err(WatchdogError::Panicked { what, message }) => {
            assert!(what.contains("producer 0") && message.contains("boom in producer"), "{what}: {message}")
        }
        other => panic!("{}: a panicking producer gave {other:?}", imp.name()),
    }
    assert_eq!(consumer.join().unwrap(), vec![1]);
}

/// A consumer that panics surfaces as an error; the producer blocked on it wakes.
fn panicking_consumer_is_an_error<I: Impl>(imp: &'static I) {
    let (tx, rx) = imp.bounded(1).unwrap();
    let consumer = thread::Builder::new()
        .name("consumer 0".into())
        .spawn(move || {
            let _ = rx.pop();
            panic!("boom in consumer");
        })
        .unwrap();
    let producer = thread::spawn(move || (0..).map(|i| tx.push(i)).take_while(Result::is_ok).count());
    assert!(matches!(join_all("run", vec![consumer]), Err(WatchdogError::Panicked { .. })));
    assert!(producer.join().unwrap() >= 1);
}

macro_rules! contract_suite {
    ($module:ident, $imp:expr) => {
        mod $module {
            use super::*;
            macro_rules! case {
                ($name:ident) => {
                    #[test]
                    fn $name() {
                        run($imp, stringify!($name), super::$name);
                    }
                };
            }
            case!(full_queue);
            case!(empty_queue);
            case!(len_never_exceeds_capacity);
            case!(fifo_one_producer);
            case!(many_producers_and_consumers);
            case!(wrap_around);
            case!(pop_many);
            case!(pop_many_leaves_the_rest);
            case!(close_drains_in_order);
            case!(close_wakes_waiting_consumers);
            case!(close_wakes_waiting_producers);
            case!(consumers_leaving_wake_producers);
            case!(timeouts);
            case!(extreme_arguments);
            case!(capacity_zero);
            case!(absurd_capacity);
            case!(stress);
            case!(panicking_producer_is_an_error);
            case!(panicking_consumer_is_an_error);
        }
    };
}

contract_suite!(rust_sync_channel, &bq_engine::impls::RustSyncChannel);
contract_suite!(crossbeam, &bq_engine::impls::Crossbeam);
contract_suite!(c_pthread, &bq_engine::impls::CPthread);
contract_suite!(c_vyukov, &bq_engine::impls::CVyukov);
contract_suite!(ocaml, &bq_engine::impls::Ocaml);
contract_suite!(rust_port, &bq_engine::impls::RustPort);
contract_suite!(tokio, &bq_engine::impls::Tokio);
contract_suite!(c_swap, &bq_engine::impls::CSwap);
contract_suite!(ocaml_swap, &bq_engine::impls::OcamlSwap);
contract_suite!(rust_swap, &bq_engine::impls::RustSwap);

/// An OCaml exception raised inside a worker surfaces as an error with its message.
#[test]
fn ocaml_exception_is_an_error() {
    let r = within("ocaml exception", LIMIT, || bq_engine::impls::ocaml::raise_in_ocaml("boom in OCaml"));
    match r {
        Err(WatchdogError::Panicked { message, .. }) => assert!(message.contains("boom in OCaml"), "{message}"),
        other => panic!("an OCaml exception gave {other:?}"),
    }
    // The runtime is still usable afterwards.
    run(&bq_engine::impls::Ocaml, "after an exception", fifo_one_producer);
}
