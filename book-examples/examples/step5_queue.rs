//! Step 5: the whole queue. Steps 2 to 4 put together: a bound, close, and a timed form of
//! both waits, each with one deadline. Then a run that checks what it claims:
//!
//!     cargo run --example step5_queue
//!
//! The exercise at the end of the chapter hands you this queue with its bodies left out
//! (`book-examples/exercise/my_queue.rs`); this file is the answer, and the check
//! (`cargo run --release --example check_my_queue`) accepts it.
// A teaching example: `Default` and `is_empty` would be noise beside what it shows.
#![allow(clippy::new_without_default, clippy::len_without_is_empty)]
// ANCHOR: queue
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

struct State<T> {
    items: VecDeque<T>,
    closed: bool,
}

/// A bounded blocking queue; share it with `Arc`.
pub struct Queue<T> {
    state: Mutex<State<T>>, // items and flag: one lock
    not_empty: Condvar,     // consumers sleep here
    not_full: Condvar,      // producers sleep here
    capacity: usize,
}

/// Why `push_timeout` gave up. The item comes back.
#[derive(Debug, PartialEq, Eq)]
pub enum PushError<T> {
    Closed(T),
    Timeout(T),
}

/// Why `pop_timeout` returned no item.
#[derive(Debug, PartialEq, Eq)]
pub enum PopError {
    Closed,
    Timeout,
}

impl<T> Queue<T> {
    /// Panics on 0: no item could ever get in.
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "capacity 0");
        let items = VecDeque::with_capacity(capacity);
        Queue {
            state: Mutex::new(State { items, closed: false }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            capacity,
        }
    }

    /// Waits while full and open. Closed: the item
    /// comes back in the `Err`.
    pub fn push(&self, x: T) -> Result<(), T> {
        let s = self.state.lock().unwrap();
        let full = |s: &mut State<T>| {
            s.items.len() == self.capacity && !s.closed
        };
        let mut s = self.not_full.wait_while(s, full).unwrap();
        if s.closed {
            return Err(x);
        }
        s.items.push_back(x);
        self.not_empty.notify_one();
        Ok(())
    }

    /// Waits while empty and open. `None`: closed,
    /// and every item taken.
    pub fn pop(&self) -> Option<T> {
        let s = self.state.lock().unwrap();
        let empty = |s: &mut State<T>| {
            s.items.is_empty() && !s.closed
        };
        let mut s = self.not_empty.wait_while(s, empty).unwrap();
        let x = s.items.pop_front()?; // closed and drained
        self.not_full.notify_one();
        Some(x)
    }

    /// `push`, giving up at a deadline set once.
    pub fn push_timeout(
        &self,
        x: T,
        timeout: Duration,
    ) -> Result<(), PushError<T>> {
        // None: too far to represent, so never.
        let deadline = Instant::now().checked_add(timeout);
        let s = self.state.lock().unwrap();
        let full = |s: &mut State<T>| {
            s.items.len() == self.capacity && !s.closed
        };
        let mut s = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                let cv = &self.not_full;
                cv.wait_timeout_while(s, left, full).unwrap().0
            }
            None => self.not_full.wait_while(s, full).unwrap(),
        };
        if s.closed {
            Err(PushError::Closed(x))
        } else if s.items.len() == self.capacity {
            Err(PushError::Timeout(x))
        } else {
            s.items.push_back(x);
            self.not_empty.notify_one();
            Ok(())
        }
    }

    /// `pop`, giving up at a deadline set once.
    pub fn pop_timeout(
        &self,
        timeout: Duration,
    ) -> Result<T, PopError> {
        let deadline = Instant::now().checked_add(timeout);
        let s = self.state.lock().unwrap();
        let empty = |s: &mut State<T>| {
            s.items.is_empty() && !s.closed
        };
        let mut s = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                let cv = &self.not_empty;
                cv.wait_timeout_while(s, left, empty).unwrap().0
            }
            None => self.not_empty.wait_while(s, empty).unwrap(),
        };
        match s.items.pop_front() {
            Some(x) => {
                self.not_full.notify_one();
                Ok(x)
            }
            None if s.closed => Err(PopError::Closed),
            None => Err(PopError::Timeout),
        }
    }

    /// Wakes every sleeper, on both sides.
    pub fn close(&self) {
        let mut s = self.state.lock().unwrap();
        s.closed = true;
        self.not_empty.notify_all();
        self.not_full.notify_all();
    }

    pub fn len(&self) -> usize {
        self.state.lock().unwrap().items.len()
    }
}
// ANCHOR_END: queue

// ANCHOR: main
use std::sync::Arc;
use std::thread;

const PRODUCERS: u64 = 4;
const CONSUMERS: usize = 4;
const EACH: u64 = 10_000; // items per producer

fn main() {
    let q = Arc::new(Queue::new(2));
    // Item p * EACH + i is producer p's i-th item.
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                for i in 0..EACH {
                    q.push(p * EACH + i).unwrap();
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                let mut got = Vec::new();
                while let Some(x) = q.pop() {
                    got.push(x);
                }
                got // every item this consumer took, in order
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    q.close(); // the consumers drain what is left, then stop
    let got: Vec<Vec<u64>> =
        consumers.into_iter().map(|c| c.join().unwrap()).collect();

    // What each consumer took from one producer came in that
    // producer's order; all of them together are every item.
    let in_order = got.iter().all(|mine| {
        (0..PRODUCERS).all(|p| {
            let from_p = mine.iter().filter(|&&x| x / EACH == p);
            from_p.clone().zip(from_p.skip(1)).all(|(a, b)| a < b)
        })
    });
    let mut all: Vec<u64> = got.concat();
    all.sort_unstable();
    let each_once = all == (0..PRODUCERS * EACH).collect::<Vec<_>>();
    println!("{PRODUCERS} producers, {CONSUMERS} consumers, capacity 2");
    println!("every item popped exactly once: {each_once}");
    println!("in each producer's order: {in_order}");

    // A full queue: push_timeout gives up, and hands 9 back.
    let full = Queue::new(1);
    full.push(8).unwrap();
    let start = Instant::now();
    let r = full.push_timeout(9, Duration::from_millis(100));
    let waited = start.elapsed() >= Duration::from_millis(100);
    println!("push_timeout(9, 100 ms), full: {r:?}, waited: {waited}");
    full.close();
    println!("after close: push(10): {:?}", full.push(10));
    println!("pop: {:?}, pop: {:?}", full.pop(), full.pop());
}
// ANCHOR_END: main
