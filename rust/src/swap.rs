//! A bounded blocking swap buffer: one `Mutex`, two `Condvar`s (`not_empty`, `not_full`), two
//! `Vec`s and a closed flag.
//!
//! A port of `ocaml/bq_swap.ml`, as [`super::Queue`] is of `bqueue.ml`; the operations appear
//! in the same order as there and in `c/bq_swap.c`. Producers push onto `items`; a consumer
//! that finds the batch it swapped out last time used up swaps `items` for it (the two vectors'
//! allocations change places, so neither is reallocated) and takes what it wants from the batch,
//! so one lock moves a whole batch to a consumer ([`Queue::pop_many`]). It waits on `not_empty`
//! only when it found nothing at all.
//!
//! | OCaml                                  | Rust                                          |
//! |----------------------------------------|-----------------------------------------------|
//! | `items`, a list, newest first (cons)   | `items`, a `Vec`, newest last (`push`)        |
//! | `batch = List.rev items`, oldest first | `batch` = `items` reversed: oldest last (`pop`)|
//! | `mutable push_waiters` (and pop)       | fields of `State`, inside the mutex           |
//! | timer thread + `Condition.broadcast`   | `Condvar::wait_timeout_while`                 |
//!
//! The bound counts both vectors: producers wait while `capacity` items are buffered, swapped
//! out or not. What a consumer does not take of a batch stays in the queue (`batch`), visible to
//! every consumer, to `try_pop` and to `len`, so several consumers see one FIFO queue.
//!
//! Each side is woken only when it has sleepers (`push_waiters`, `pop_waiters`): std's
//! `Condvar::notify_one` makes a system call even when nobody waits, and a push that notified
//! every time would pay it under the lock. A consumer that frees n slots wakes n producers, or
//! all of them with one `notify_all` when n covers them.
//!
//! Poisoning: as in [`super::Queue`], a poisoned lock is still usable; every critical section
//! leaves the state consistent.

#[cfg(not(feature = "shuttle"))]
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

#[cfg(feature = "shuttle")]
use shuttle::sync::{Condvar, Mutex, MutexGuard, PoisonError};

pub use super::Error;

#[derive(Debug)]
struct State<T> {
    items: Vec<T>, // producers' side, newest last
    batch: Vec<T>, // swapped out, the oldest items, oldest last
    push_waiters: usize, // threads asleep on not_full
    pop_waiters: usize,  // threads asleep on not_empty
    closed: bool,
}

impl<T> State<T> {
    /// Items buffered, swapped out or not.
    fn buffered(&self) -> usize {
        self.items.len() + self.batch.len()
    }
}

/// Which side a waiter is on.
#[derive(Clone, Copy)]
enum Side {
    Push,
    Pop,
}

/// A bounded blocking swap buffer. Share it between threads with `Arc`.
#[cfg_attr(not(feature = "shuttle"), derive(Debug))] // shuttle's Condvar has no Debug
pub struct Queue<T> {
    state: Mutex<State<T>>,
    not_empty: Condvar, // notified when an item arrives and a consumer sleeps, broadcast on close
    not_full: Condvar,  // notified when slots free up and producers sleep, broadcast on close
    capacity: usize,
}

impl<T> Queue<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The timed wait, with the waiter counted on its side while it may sleep. No deadline:
    /// the timeout is too long for an `Instant`, and it never comes.
    fn wait_until<'a>(
        &self,
        side: Side,
        mut guard: MutexGuard<'a, State<T>>,
        deadline: Option<Instant>,
        mut ready: impl FnMut(&State<T>) -> bool,
    ) -> MutexGuard<'a, State<T>> {
        if ready(&guard) {
            return guard;
        }
        let (cond, waiters): (&Condvar, fn(&mut State<T>) -> &mut usize) = match side {
            Side::Push => (&self.not_full, |s| &mut s.push_waiters),
            Side::Pop => (&self.not_empty, |s| &mut s.pop_waiters),
        };
        *waiters(&mut guard) += 1;
        let mut guard = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                cond.wait_timeout_while(guard, left, |s| !ready(s)).unwrap_or_else(PoisonError::into_inner).0
            }
            None => cond.wait_while(guard, |s| !ready(s)).unwrap_or_else(PoisonError::into_inner),
        };
        *waiters(&mut guard) -= 1;
        guard
    }

    // Caller holds the lock.
    fn enqueue(&self, s: &mut State<T>, x: T) {
        s.items.push(x);
        if s.pop_waiters > 0 {
            self.not_empty.notify_one();
        }
    }

    // Caller holds the lock, `s.buffered() > 0` and `max >= 1`. Appends up to `max` of the
    // oldest items to `out`, oldest first; when the batch is used up, first swaps in everything
    // the producers pushed.
    fn take(&self, s: &mut State<T>, max: usize, out: &mut Vec<T>) -> usize {
        if s.batch.is_empty() {
            std::mem::swap(&mut s.items, &mut s.batch);
            s.batch.reverse();
        }
        let n = max.min(s.batch.len());
        out.extend(s.batch.drain(s.batch.len() - n..).rev());
        if n >= s.push_waiters {
            if s.push_waiters > 0 {
                self.not_full.notify_all();
            }
        } else {
            for _ in 0..n {
                self.not_full.notify_one();
            }
        }
        n
    }

    // `take` of one item.
    fn take_one(&self, s: &mut State<T>) -> T {
        let mut one = Vec::with_capacity(1);
        self.take(s, 1, &mut one);
        one.pop().expect("take of one from a non-empty queue")
    }

    /// A queue holding at most `capacity` items; `None` when `capacity` is 0 (no rendezvous
    /// mode, as in the OCaml original, which raises `Invalid_argument`).
    pub fn new(capacity: usize) -> Option<Self> {
        if capacity == 0 {
            return None;
        }
        Some(Queue {
            state: Mutex::new(State {
                items: Vec::with_capacity(capacity),
                batch: Vec::with_capacity(capacity),
                push_waiters: 0,
                pop_waiters: 0,
                closed: false,
            }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            capacity,
        })
    }

    fn is_full(&self, s: &State<T>) -> bool {
        s.buffered() >= self.capacity
    }

    /// Waits while the queue is full and open.
    pub fn push(&self, x: T) -> Result<(), Error> {
        let s = self.lock();
        let mut s = self.wait_until(Side::Push, s, None, |s| !self.is_full(s) || s.closed);
        if s.closed { Err(Error::Closed) } else { self.enqueue(&mut s, x); Ok(()) }
    }

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

    pub fn push_timeout(&self, x: T, timeout: Duration) -> Result<(), Error> {
        let deadline = Instant::now().checked_add(timeout);
        let s = self.lock();
        let mut s = self.wait_until(Side::Push, s, deadline, |s| !self.is_full(s) || s.closed);
        if s.closed {
            Err(Error::Closed)
        } else if self.is_full(&s) {
            Err(Error::Timeout)
        } else {
            self.enqueue(&mut s, x);
            Ok(())
        }
    }

    /// Waits while the queue is empty and open; after close, drains what is buffered.
    pub fn pop(&self) -> Result<T, Error> {
        let s = self.lock();
        let mut s = self.wait_until(Side::Pop, s, None, |s| s.buffered() > 0 || s.closed);
        // closed and drained
        if s.buffered() == 0 { Err(Error::Closed) } else { Ok(self.take_one(&mut s)) }
    }

    pub fn try_pop(&self) -> Result<T, Error> {
        let mut s = self.lock();
        if s.buffered() > 0 {
            Ok(self.take_one(&mut s))
        } else if s.closed {
            Err(Error::Closed)
        } else {
            Err(Error::Empty)
        }
    }

    pub fn pop_timeout(&self, timeout: Duration) -> Result<T, Error> {
        let deadline = Instant::now().checked_add(timeout);
        let s = self.lock();
        let mut s = self.wait_until(Side::Pop, s, deadline, |s| s.buffered() > 0 || s.closed);
        if s.buffered() > 0 {
            Ok(self.take_one(&mut s))
        } else if s.closed {
            Err(Error::Closed)
        } else {
            Err(Error::Timeout)
        }
    }

    /// Waits like [`pop`](Queue::pop) for one item, then takes what else is buffered, up to
    /// `max` items in all, appended to `out` oldest first; how many. `Ok(0)` at once when `max`
    /// is 0.
    pub fn pop_many(&self, max: usize, out: &mut Vec<T>) -> Result<usize, Error> {
        if max == 0 {
            return Ok(0);
        }
        let s = self.lock();
        let mut s = self.wait_until(Side::Pop, s, None, |s| s.buffered() > 0 || s.closed);
        // closed and drained
        if s.buffered() == 0 { Err(Error::Closed) } else { Ok(self.take(&mut s, max, out)) }
    }

    /// Idempotent; wakes every waiter.
    pub fn close(&self) {
        let mut s = self.lock();
        s.closed = true;
        // Broadcast, not signal: every waiter must see the flag, not just one.
        self.not_empty.notify_all();
        self.not_full.notify_all();
    }

    pub fn len(&self) -> usize {
        self.lock().buffered()
    }

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

    /// A batch larger than `max` is taken in pieces, in order, and the rest stays in the
    /// queue: counted by `len`, bounding the producers, reachable by `try_pop`.
    #[test]
    fn batch_larger_than_max() {
        let q = Queue::new(5).unwrap();
        for i in 0..5 {
            q.push(i).unwrap();
        }
        let mut out = Vec::new();
        assert_eq!(q.pop_many(2, &mut out), Ok(2));
        assert_eq!(out, [0, 1]);
        assert_eq!(q.len(), 3, "the rest of the swapped-out batch is still buffered");
        q.push(5).unwrap();
        q.push(6).unwrap();
        assert_eq!(q.try_push(7), Err(Error::Full), "the bound counts the swapped-out batch");
        assert_eq!(q.try_pop(), Ok(2));
        assert_eq!(q.pop_many(10, &mut out), Ok(2), "the batch first, without the newer items");
        assert_eq!(q.pop_many(10, &mut out), Ok(2));
        assert_eq!(out, [0, 1, 3, 4, 5, 6]);
        assert_eq!(q.try_pop(), Err(Error::Empty));
    }

    /// Capacity 1 around the swap many times: every item once, in order.
    #[test]
    fn capacity_one_wraps_around() {
        let q = Queue::new(1).unwrap();
        let mut out = Vec::new();
        for i in 0..100u32 {
            q.push(i).unwrap();
            assert_eq!(q.try_push(i), Err(Error::Full));
            if i % 2 == 0 { out.push(q.pop().unwrap()) } else { q.pop_many(usize::MAX, &mut out).unwrap(); }
        }
        assert_eq!(out, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn close_drains_then_reports_closed() {
        let q = Queue::new(3).unwrap();
        for i in 1..=3 {
            q.push(i).unwrap();
        }
        assert_eq!(q.pop(), Ok(1)); // swaps out 1, 2, 3 and takes one
        q.close();
        assert_eq!(q.push(4), Err(Error::Closed));
        let mut out = Vec::new();
        assert_eq!(q.pop_many(8, &mut out), Ok(2));
        assert_eq!(out, [2, 3]);
        assert_eq!(q.pop_many(8, &mut out), Err(Error::Closed));
        assert_eq!(q.pop_many(0, &mut out), Ok(0));
    }
}
