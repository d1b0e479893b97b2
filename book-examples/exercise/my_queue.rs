//! The exercise at the end of chapter 2: write the bounded queue. Every body is left out
//! (`todo!()`); the types and signatures are the ones step 5 built. Fill them in, then check
//! your answer from the repository's root:
//!
//!     cargo run --release -p check-my-queue
//!
//! The check runs contract tests on this file: full and empty queues, several sleepers on
//! each side, close while they sleep, timeouts and many threads; then the same tests with a
//! `Condvar` that wakes up spuriously (the standard library allows it); then the shuttle model
//! checker. It compiles this file with its own `Condvar` and with shuttle's by replacing
//! `std::sync::`, so keep that path in your `use` lines. `git checkout
//! book-examples/exercise/my_queue.rs` brings the skeleton back (`make test` checks what the
//! skeleton prints).
// ANCHOR: skeleton
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
        todo!()
    }

    /// Waits while full and open. Closed: the item
    /// comes back in the `Err`.
    pub fn push(&self, x: T) -> Result<(), T> {
        todo!()
    }

    /// Waits while empty and open. `None`: closed,
    /// and every item taken.
    pub fn pop(&self) -> Option<T> {
        todo!()
    }

    /// `push`, giving up at a deadline set once.
    pub fn push_timeout(
        &self,
        x: T,
        timeout: Duration,
    ) -> Result<(), PushError<T>> {
        todo!()
    }

    /// `pop`, giving up at a deadline set once.
    pub fn pop_timeout(
        &self,
        timeout: Duration,
    ) -> Result<T, PopError> {
        todo!()
    }

    /// Wakes every sleeper, on both sides.
    pub fn close(&self) {
        todo!()
    }

    pub fn len(&self) -> usize {
        todo!()
    }
}
// ANCHOR_END: skeleton
