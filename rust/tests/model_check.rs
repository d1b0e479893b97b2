//! Model checking of the port with shuttle: each test runs a small concurrent scenario under
//! thousands of schedules (PCT with a bounded number of preemptions, then random), and shuttle
//! fails the test on a deadlock (every thread blocked) or a failed assertion.
//!
//! Run: `cargo test --release -p bq-port --features shuttle --test model_check` (the harness's
//! validate tests run it). Shuttle does not model time: timed waits never time out here, so the
//! scenarios use the blocking and try_ operations only.

use std::sync::Arc;

use bq_port::{Error, Queue};
use shuttle::thread;

const ITERATIONS: usize = 10_000;
/// PCT preemption bound: bugs in this queue need one or two badly placed preemptions.
const DEPTH: usize = 3;

fn explore(scenario: fn()) {
    shuttle::check_pct(scenario, ITERATIONS, DEPTH);
    shuttle::check_random(scenario, ITERATIONS);
}

/// Two producers and two consumers at capacity 1; the items are exactly what was pushed, and
/// each producer's items come out in order.
fn deliver_everything() {
    let q = Arc::new(Queue::new(1).unwrap());
    let producers: Vec<_> = (0..2u64)
        .map(|p| {
            let q = q.clone();
            thread::spawn(move || {
                for s in 0..2 {
                    q.push(p * 10 + s).unwrap();
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let q = q.clone();
            thread::spawn(move || std::iter::from_fn(|| q.pop().ok()).collect::<Vec<u64>>())
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
    all.sort();
    assert_eq!(all, vec![0, 1, 10, 11]);
}

/// Blocked producers and consumers at once, no close: a lost wake-up is a deadlock.
fn mixed_waiters_never_deadlock() {
    let q = Arc::new(Queue::new(1).unwrap());
    let mut handles = Vec::new();
    for p in 0..2u64 {
        let q = q.clone();
        handles.push(thread::spawn(move || {
            q.push(p).unwrap();
            q.push(p + 10).unwrap();
        }));
    }
    for _ in 0..2 {
        let q = q.clone();
        handles.push(thread::spawn(move || {
            q.pop().unwrap();
            q.pop().unwrap();
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(q.try_pop(), Err(Error::Empty));
}

/// Close wakes every consumer blocked on an empty queue.
fn close_wakes_consumers() {
    let q = Arc::new(Queue::<u64>::new(1).unwrap());
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let q = q.clone();
            thread::spawn(move || q.pop())
        })
        .collect();
    q.close();
    for w in waiters {
        assert_eq!(w.join().unwrap(), Err(Error::Closed));
    }
}

/// Close wakes every producer blocked on a full queue; nothing gets in after it, and the item
/// buffered before it is still delivered.
fn close_wakes_producers() {
    let q = Arc::new(Queue::new(1).unwrap());
    q.push(1).unwrap();
    let waiters: Vec<_> = (0..2)
        .map(|i| {
            let q = q.clone();
            thread::spawn(move || q.push(2 + i))
        })
        .collect();
    q.close();
    for w in waiters {
        assert_eq!(w.join().unwrap(), Err(Error::Closed));
    }
    assert_eq!(q.pop(), Ok(1));
    assert_eq!(q.pop(), Err(Error::Closed));
}

/// A consumer whose wake-up is stolen by a try_pop must go back to waiting, not report Closed.
fn stolen_wakeup_is_not_a_close() {
    let q = Arc::new(Queue::new(1).unwrap());
    let waiter = {
        let q = q.clone();
        thread::spawn(move || q.pop())
    };
    q.push(1).unwrap();
    let stolen = q.try_pop();
    q.push(2).unwrap_or(());
    let got = waiter.join().unwrap();
    match stolen {
        Ok(1) => assert_eq!(got, Ok(2)),
        Err(Error::Empty) => assert_eq!(got, Ok(1)),
        other => panic!("try_pop returned {other:?}"),
    }
}

#[test]
fn producers_and_consumers_deliver_everything() {
    explore(deliver_everything);
}

#[test]
fn blocked_producers_and_consumers_never_deadlock() {
    explore(mixed_waiters_never_deadlock);
}

#[test]
fn close_wakes_every_blocked_consumer() {
    explore(close_wakes_consumers);
}

#[test]
fn close_wakes_every_blocked_producer() {
    explore(close_wakes_producers);
}

#[test]
fn a_stolen_wakeup_is_not_a_close() {
    explore(stolen_wakeup_is_not_a_close);
}
