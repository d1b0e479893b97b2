//! One crate, the port inline: a porter's queue written right in the crate that exports it,
//! with no port crate beside it. Copy this file to `src/lib.rs` of a crate with
//! `crate-type = ["cdylib"]` and a path dependency on `bq-export` (README, "Validating a
//! port"); in this workspace `cargo build --release -p bq-export --example inline_port` gives
//! `target/release/examples/libinline_port.so`. The trait and the queue meet in this crate, so
//! the queue implements `bq_export::BoundedQueue` itself: no newtype, no error mapping.
//!
//! The queue is the OCaml original's design: one mutex over a ring and a `closed` flag, a
//! condition for "not full" and one for "not empty", every wait in a loop, `broadcast` on close.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bq_export::{BoundedQueue, Error};

struct State {
    items: VecDeque<u64>,
    closed: bool,
}

pub struct Queue {
    capacity: usize,
    state: Mutex<State>,
    not_full: Condvar,
    not_empty: Condvar,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking caller leaves the state consistent: every change is one statement.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits on `cond` while `blocked` holds, until `deadline` (`None`: for ever). Returns the
    /// guard and whether it is still blocked (the deadline passed).
    fn wait<'a>(
        cond: &Condvar,
        mut guard: MutexGuard<'a, State>,
        deadline: Option<Instant>,
        blocked: impl Fn(&State) -> bool,
    ) -> (MutexGuard<'a, State>, bool) {
        while blocked(&guard) {
            guard = match deadline {
                None => cond.wait(guard).unwrap_or_else(PoisonError::into_inner),
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return (guard, true);
                    }
                    cond.wait_timeout(guard, left).unwrap_or_else(PoisonError::into_inner).0
                }
            };
        }
        (guard, false)
    }

    fn push_until(&self, item: u64, deadline: Option<Instant>) -> Result<(), Error> {
        let full = |s: &State| !s.closed && s.items.len() == self.capacity;
        let (mut s, timed_out) = Self::wait(&self.not_full, self.lock(), deadline, full);
        if s.closed {
            return Err(Error::Closed);
        }
        if timed_out {
            return Err(Error::Timeout);
        }
        s.items.push_back(item);
        self.not_empty.notify_one();
        Ok(())
    }

    fn pop_until(&self, deadline: Option<Instant>) -> Result<u64, Error> {
        let empty = |s: &State| !s.closed && s.items.is_empty();
        let (mut s, timed_out) = Self::wait(&self.not_empty, self.lock(), deadline, empty);
        match s.items.pop_front() {
            Some(x) => {
                self.not_full.notify_one();
                Ok(x)
            }
            None if s.closed => Err(Error::Closed),
            None => {
                debug_assert!(timed_out);
                Err(Error::Timeout)
            }
        }
    }
}

/// A timeout too long for the clock never comes (`checked_add` gives `None`: no deadline).
fn deadline(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

impl BoundedQueue for Queue {
    fn new(capacity: usize) -> Option<Self> {
        (capacity > 0).then(|| Queue {
            capacity,
            state: Mutex::new(State { items: VecDeque::with_capacity(capacity), closed: false }),
            not_full: Condvar::new(),
            not_empty: Condvar::new(),
        })
    }
    fn push(&self, item: u64) -> Result<(), Error> {
        self.push_until(item, None)
    }
    fn try_push(&self, item: u64) -> Result<(), Error> {
        let mut s = self.lock();
        if s.closed {
            return Err(Error::Closed);
        }
        if s.items.len() == self.capacity {
            return Err(Error::Full);
        }
        s.items.push_back(item);
        self.not_empty.notify_one();
        Ok(())
    }
    fn push_timeout(&self, item: u64, timeout: Duration) -> Result<(), Error> {
        match deadline(timeout) {
            Some(d) => self.push_until(item, Some(d)),
            None => self.push(item),
        }
    }
    fn pop(&self) -> Result<u64, Error> {
        self.pop_until(None)
    }
    fn try_pop(&self) -> Result<u64, Error> {
        let mut s = self.lock();
        match s.items.pop_front() {
            Some(x) => {
                self.not_full.notify_one();
                Ok(x)
            }
            None if s.closed => Err(Error::Closed),
            None => Err(Error::Empty),
        }
    }
    fn pop_timeout(&self, timeout: Duration) -> Result<u64, Error> {
        match deadline(timeout) {
            Some(d) => self.pop_until(Some(d)),
            None => self.pop(),
        }
    }
    fn close(&self) {
        self.lock().closed = true;
        // Every waiter on either side must see the flag: one wake-up each is not enough.
        self.not_full.notify_all();
        self.not_empty.notify_all();
    }
    fn len(&self) -> usize {
        self.lock().items.len()
    }
    fn capacity(&self) -> usize {
        self.capacity
    }
}

bq_export::export_bq!(Queue);
