//! The one interface every implementation presents to the harness.
//!
//! The model is Rust's channel model: a queue is a pair of cloneable handles, producers
//! ([`Producer`]) and consumers ([`Consumer`]). The queue closes when the last producer handle
//! drops ("no more items": consumers drain what is buffered, then see [`QueueError::Closed`]),
//! and when the last consumer handle drops (pushes fail with `Closed`, blocked producers wake).
//!
//! Rust's channels behave like that natively. The C, OCaml and port queues close explicitly
//! with a flag and a broadcast; `impls::closing` maps them onto this model by closing the
//! queue when either side's last handle drops. Their explicit close stays reachable through
//! `close()` on either handle; Rust's channels have none and answer [`Unsupported`].
//!
//! Items are `u64` below 2^62 ([`MAX_ITEM`]): the OCaml queue holds them as native `int`s.

use std::fmt;
use std::time::Duration;

/// Largest item every implementation can carry (OCaml's `int` is 63-bit signed).
pub const MAX_ITEM: u64 = (1 << 62) - 1;

/// Largest capacity the harness accepts: 2^24 items (128 MiB of `u64`). The Rust channels
/// allocate their whole buffer up front, so an absurd capacity would abort the process.
pub const MAX_CAPACITY: usize = 1 << 24;

/// Why an operation did not deliver. The same cases and meanings as the codes in `c/bq.h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueueError {
    /// Closed (or, for a push, every consumer has gone); for a pop: closed and drained.
    Closed,
    /// `try_push` on a full queue.
    Full,
    /// `try_pop` on an empty, open queue.
    Empty,
    /// A timed operation's deadline passed.
    Timeout,
}

impl fmt::Display for QueueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QueueError::Closed => "closed",
            QueueError::Full => "full",
            QueueError::Empty => "empty",
            QueueError::Timeout => "timed out",
        })
    }
}

impl std::error::Error for QueueError {}

/// The implementation has no such operation (for example an explicit close on a Rust channel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsupported;

/// A producer handle. Clone it for each producer thread; dropping the last one closes the queue.
#[allow(clippy::len_without_is_empty)] // `len` is an observation (None: not offered), not a collection's size
pub trait Producer: Clone + Send + 'static {
    /// Waits while the queue is full; `Err(Closed)` once it is closed or every consumer left.
    fn push(&self, item: u64) -> Result<(), QueueError>;
    /// Never waits: `Err(Full)` or `Err(Closed)`.
    fn try_push(&self, item: u64) -> Result<(), QueueError>;
    /// Waits at most `timeout`: `Err(Timeout)` or `Err(Closed)`.
    fn push_timeout(&self, item: u64, timeout: Duration) -> Result<(), QueueError>;
    /// The explicit close, where the implementation has one.
    fn close(&self) -> Result<(), Unsupported>;
    /// Items buffered now, where the implementation can tell.
    fn len(&self) -> Option<usize>;
}

/// A consumer handle. Clone it for each consumer thread; dropping the last one closes the queue.
#[allow(clippy::len_without_is_empty)] // as Producer's
pub trait Consumer: Clone + Send + 'static {
    /// Waits while the queue is empty and open; `Err(Closed)` once closed and drained.
    fn pop(&self) -> Result<u64, QueueError>;
    /// Never waits: `Err(Empty)` or `Err(Closed)`.
    fn try_pop(&self) -> Result<u64, QueueError>;
    /// Waits at most `timeout`: `Err(Timeout)` or `Err(Closed)`.
    fn pop_timeout(&self, timeout: Duration) -> Result<u64, QueueError>;
    /// Waits like [`pop`](Consumer::pop) for one item, then takes what else is buffered, up to
    /// `max` items in all, without waiting again (tokio's `recv_many`). Appends them to `out` in
    /// queue order and returns how many; `Ok(0)` at once when `max` is 0; `Err(Closed)` once
    /// closed and drained. This default is `pop` then `try_pop`s; a queue that can take a batch
    /// under one lock (the swap buffers) overrides it.
    fn pop_many(&self, max: usize, out: &mut Vec<u64>) -> Result<usize, QueueError> {
        pop_many_one_by_one(max, out, || self.pop(), || self.try_pop())
    }
    /// The explicit close, where the implementation has one.
    fn close(&self) -> Result<(), Unsupported>;
    /// Items buffered now, where the implementation can tell.
    fn len(&self) -> Option<usize>;
}

/// What an implementation natively has; the contract suite and the reports read these
/// instead of special-casing names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Traits {
    /// Has an explicit close (flag + broadcast) besides "last handle dropped".
    pub explicit_close: bool,
    /// Capacity 0 is a rendezvous channel (a push waits for a pop) instead of an error.
    pub rendezvous: bool,
    /// `len()` answers.
    pub has_len: bool,
    /// `push_timeout` is native; when false the adapter emulates it (see the implementation).
    pub native_push_timeout: bool,
    /// `try_pop` says `Empty` only when the queue is empty, also with several consumers
    /// (false for rust-sync-channel, whose consumers share one receiver behind a mutex).
    pub exact_try_pop: bool,
}

/// Which closing the harness adapter supplies rather than the implementation's own API; the
/// shutdown matrix marks those cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdapterClose {
    /// None: the implementation closes in every way the interface asks by itself.
    Nothing,
    /// Closing when either side's last handle drops (`impls::closing`, explicit-close queues).
    OnDrop,
    /// The explicit close from a producer, and its reaching a waiting consumer (`impls::tokio`).
    Explicit,
}

/// Why a queue could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NewError {
    #[error(
        "{name} has no rendezvous mode: capacity must be at least 1 (only rust-sync-channel and crossbeam accept 0)"
    )]
    ZeroCapacity { name: String },
    #[error("capacity {capacity} is larger than the harness allows ({MAX_CAPACITY}); choose a smaller --capacity")]
    TooLarge { capacity: usize },
    #[error("{name} could not make a queue of capacity {capacity}: {reason}")]
    Failed { name: String, capacity: usize, reason: String },
}

/// One implementation of the bounded queue.
pub trait Impl: Send + Sync + 'static {
    type Tx: Producer;
    type Rx: Consumer;

    /// The name used on the command line and in reports, e.g. `c-pthread`.
    fn name(&self) -> &str;
    fn traits(&self) -> Traits;
    /// What the harness adapter adds to the implementation's own closing: by default the
    /// close-on-drop of `impls::closing` for an explicit-close queue.
    fn adapter_close(&self) -> AdapterClose {
        if self.traits().explicit_close {
            AdapterClose::OnDrop
        } else {
            AdapterClose::Nothing
        }
    }
    /// Makes a queue; `capacity` has been checked by [`Impl::bounded`].
    fn make(&self, capacity: usize) -> Result<(Self::Tx, Self::Rx), NewError>;

    /// A queue holding at most `capacity` items, as a producer and a consumer handle.
    fn bounded(&self, capacity: usize) -> Result<(Self::Tx, Self::Rx), NewError> {
        if capacity == 0 && !self.traits().rendezvous {
            return Err(NewError::ZeroCapacity { name: self.name().to_string() });
        }
        if capacity > MAX_CAPACITY {
            return Err(NewError::TooLarge { capacity });
        }
        self.make(capacity)
    }
}

/// The default [`Consumer::pop_many`]: `pop`, then `try_pop` until `max` items or an error.
/// Also the fallback of the explicit-close queues that have no batch operation of their own.
pub fn pop_many_one_by_one(
    max: usize,
    out: &mut Vec<u64>,
    pop: impl FnOnce() -> Result<u64, QueueError>,
    mut try_pop: impl FnMut() -> Result<u64, QueueError>,
) -> Result<usize, QueueError> {
    if max == 0 {
        return Ok(0);
    }
    out.push(pop()?);
    let mut taken = 1;
    while taken < max {
        match try_pop() {
            Ok(item) => out.push(item),
            Err(_) => break,
        }
        taken += 1;
    }
    Ok(taken)
}

/// A timeout as whole nanoseconds, saturating (for the C and OCaml ABIs).
pub fn timeout_ns(timeout: Duration) -> u64 {
    u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX)
}
