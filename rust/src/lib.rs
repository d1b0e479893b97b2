//! A bounded blocking queue: one `Mutex`, two `Condvar`s (`not_empty`, `not_full`), a
//! `VecDeque` and a closed flag.
//!
//! This is a line-by-line port of `ocaml/bqueue.ml`, the worked example of an OCaml-to-Rust
//! port that `make validate` checks against the original. The operations appear in the same
//! order as in the OCaml file and in `c/bq.c`. How the OCaml maps onto Rust:
//!
// ANCHOR: mapping
//! | OCaml                              | Rust                                              |
//! |------------------------------------|---------------------------------------------------|
//! | `'a t` record, `mutable closed`    | `Queue<T>`; mutable fields live inside the mutex  |
//! | `Mutex.protect q.mutex (fun () ..)`| `let mut s = self.lock();` (unlocked on drop)     |
//! | `Condition.wait c q.mutex` in a `while` | `c.wait_while(guard, ..)`                    |
//! | `('a, error) result`               | `Result<T, Error>`                                |
//! | `invalid_arg` in `create`          | `Queue::new` returns `None`                       |
//! | timer thread + `Condition.broadcast` | `Condvar::wait_timeout_while`                   |
// ANCHOR_END: mapping
//!
//! The one place the port is not line-by-line is the timed wait: OCaml's `Condition` has no
//! timed wait, so `bqueue.ml` starts a timer thread that broadcasts at the deadline. Rust's
//! `Condvar` has one, so the port uses it; the observable behaviour (wait at least the timeout,
//! return early when the predicate holds) is the same.
//!
//! A panic while the lock is held poisons the mutex; the port treats a poisoned lock as still
//! usable (`into_inner`), because every critical section leaves the state consistent, like the
//! OCaml version, whose `Mutex.protect` unlocks on an exception.
//!
//! The `ANCHOR` comments mark the listings that the book (`book/src`) includes.

pub mod swap;

use std::collections::VecDeque;
#[cfg(not(feature = "shuttle"))]
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

// Model checking (tests/model_check.rs) swaps in shuttle's versions of the same types.
#[cfg(feature = "shuttle")]
use shuttle::sync::{Condvar, Mutex, MutexGuard, PoisonError};

// ANCHOR: error
/// Why an operation did not complete; the same cases as OCaml's `Bqueue.error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    Closed,
    Full,
    Empty,
    Timeout,
}
// ANCHOR_END: error

// ANCHOR: struct
#[derive(Debug)]
struct State<T> {
    items: VecDeque<T>,
    closed: bool,
}
// ANCHOR_END: struct

// ANCHOR: queue_struct
/// A bounded blocking queue. Share it between threads with `Arc`.
#[cfg_attr(not(feature = "shuttle"), derive(Debug))] // shuttle's Condvar has no Debug
pub struct Queue<T> {
    state: Mutex<State<T>>,
    not_empty: Condvar, // signalled when an item arrives, broadcast on close
    not_full: Condvar,  // signalled when a slot frees up, broadcast on close
    capacity: usize,
}
// ANCHOR_END: queue_struct

impl<T> Queue<T> {
// ANCHOR: lock
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
// ANCHOR_END: lock

// ANCHOR: wait_until
    /// `Condition.wait` in a loop, with a deadline (see the module comment). No deadline: the
    /// timeout is too long for an `Instant` (like OCaml's saturated one, it never comes).
    fn wait_until<'a>(
        &self,
        cond: &Condvar,
        guard: MutexGuard<'a, State<T>>,
        deadline: Option<Instant>,
        mut ready: impl FnMut(&State<T>) -> bool,
    ) -> MutexGuard<'a, State<T>> {
        match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                cond.wait_timeout_while(guard, left, |s| !ready(s)).unwrap_or_else(PoisonError::into_inner).0
            }
            None => cond.wait_while(guard, |s| !ready(s)).unwrap_or_else(PoisonError::into_inner),
        }
    }
// ANCHOR_END: wait_until

// ANCHOR: enqueue
    // Caller holds the lock.
    fn enqueue(&self, s: &mut State<T>, x: T) {
        s.items.push_back(x);
        self.not_empty.notify_one();
    }
// ANCHOR_END: enqueue

// ANCHOR: dequeue
    // Caller holds the lock.
    fn dequeue(&self, s: &mut State<T>) -> T {
        let x = s.items.pop_front().expect("dequeue on an empty queue");
        self.not_full.notify_one();
        x
    }
// ANCHOR_END: dequeue

// ANCHOR: create
    /// A queue holding at most `capacity` items; `None` when `capacity` is 0 (there is no
    /// rendezvous mode, as in the OCaml original, which raises `Invalid_argument`).
    pub fn new(capacity: usize) -> Option<Self> {
        if capacity == 0 {
            return None;
        }
        Some(Queue {
            state: Mutex::new(State { items: VecDeque::with_capacity(capacity), closed: false }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            capacity,
        })
    }
// ANCHOR_END: create

    fn is_full(&self, s: &State<T>) -> bool {
        s.items.len() >= self.capacity
    }

// ANCHOR: push
    /// Waits while the queue is full and open.
    pub fn push(&self, x: T) -> Result<(), Error> {
        let s = self.lock();
        let mut s = self.not_full.wait_while(s, |s| self.is_full(s) && !s.closed)
            .unwrap_or_else(PoisonError::into_inner);
        if s.closed { Err(Error::Closed) } else { self.enqueue(&mut s, x); Ok(()) }
    }
// ANCHOR_END: push

// ANCHOR: try_push
    pub fn try_push(&self, x: T) -> Result<(), Error> {
        let mut s = self.lock();
        if s.closed {
            Err(Error::Closed)
        } else if self.is_full(&s) {
            Err(Error::Full)
        } else {
            self.enqueue(&mut s, x);
            Ok(())
        }
    }
// ANCHOR_END: try_push

// ANCHOR: push_timeout
    pub fn push_timeout(&self, x: T, timeout: Duration) -> Result<(), Error> {
        let deadline = Instant::now().checked_add(timeout);
        let s = self.lock();
        let mut s = self.wait_until(&self.not_full, s, deadline, |s| !self.is_full(s) || s.closed);
        if s.closed {
            Err(Error::Closed)
        } else if self.is_full(&s) {
            Err(Error::Timeout)
        } else {
            self.enqueue(&mut s, x);
            Ok(())
        }
    }
// ANCHOR_END: push_timeout

// ANCHOR: pop
    /// Waits while the queue is empty and open; after close, drains what is buffered.
    pub fn pop(&self) -> Result<T, Error> {
        let s = self.lock();
        let mut s = self.not_empty.wait_while(s, |s| s.items.is_empty() && !s.closed)
            .unwrap_or_else(PoisonError::into_inner);
        // closed and drained
        if s.items.is_empty() { Err(Error::Closed) } else { Ok(self.dequeue(&mut s)) }
    }
// ANCHOR_END: pop

// ANCHOR: try_pop
    pub fn try_pop(&self) -> Result<T, Error> {
        let mut s = self.lock();
        if !s.items.is_empty() {
            Ok(self.dequeue(&mut s))
        } else if s.closed {
            Err(Error::Closed)
        } else {
            Err(Error::Empty)
        }
    }
// ANCHOR_END: try_pop

// ANCHOR: pop_timeout
    pub fn pop_timeout(&self, timeout: Duration) -> Result<T, Error> {
        let deadline = Instant::now().checked_add(timeout);
        let s = self.lock();
        let mut s = self.wait_until(&self.not_empty, s, deadline, |s| !s.items.is_empty() || s.closed);
        if !s.items.is_empty() {
            Ok(self.dequeue(&mut s))
        } else if s.closed {
            Err(Error::Closed)
        } else {
            Err(Error::Timeout)
        }
    }
// ANCHOR_END: pop_timeout

// ANCHOR: close
    /// Idempotent; wakes every waiter.
    pub fn close(&self) {
        let mut s = self.lock();
        s.closed = true;
        // Broadcast, not signal: every waiter must see the flag, not just one.
        self.not_empty.notify_all();
        self.not_full.notify_all();
    }
// ANCHOR_END: close

// ANCHOR: len
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }
// ANCHOR_END: len

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_zero_is_rejected() {
        assert!(Queue::<u8>::new(0).is_none());
    }

    #[test]
    fn close_drains_then_reports_closed() {
        let q = Queue::new(2).unwrap();
        q.push(1).unwrap();
        q.push(2).unwrap();
        q.close();
        assert_eq!(q.push(3), Err(Error::Closed));
        assert_eq!(q.pop(), Ok(1));
        assert_eq!(q.try_pop(), Ok(2));
        assert_eq!(q.pop(), Err(Error::Closed));
    }

    #[test]
    fn timeouts_wait_at_least_their_duration() {
        let q = Queue::new(1).unwrap();
        let t = Instant::now();
        assert_eq!(q.pop_timeout(Duration::from_millis(20)), Err(Error::Timeout));
        assert!(t.elapsed() >= Duration::from_millis(20));
        q.push(7).unwrap();
        let t = Instant::now();
        assert_eq!(q.push_timeout(8, Duration::from_millis(20)), Err(Error::Timeout));
        assert!(t.elapsed() >= Duration::from_millis(20));
    }
}
