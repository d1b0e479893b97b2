//! The two Rust channels. They close natively when the last sender or the last receiver
//! drops, so they need no adapter for that; neither has an explicit close.
//!
//! - `rust-sync-channel`: `std::sync::mpsc::sync_channel`. Its `Receiver` is single-consumer.
//!   A sole consumer handle calls it directly, as a single-consumer program would; once the
//!   handle is cloned, consumers share it behind a mutex, the idiomatic std pattern
//!   (`Arc<Mutex<Receiver>>`). Consequences with several consumers, kept as they are because
//!   they are how std behaves when used this way: a blocked `pop` holds the mutex, so other
//!   consumers queue behind it; `try_pop` answers `Empty` when another consumer holds the
//!   receiver (it must not wait; see `Traits::exact_try_pop`); `pop_timeout` may wait for the
//!   mutex longer than its timeout. `SyncSender` has no stable `send_timeout`, so `push_timeout` is
//!   emulated by polling `try_send` with a capped backoff (see `Traits::native_push_timeout`).
//!   `len` is not available. Capacity 0 is a rendezvous channel.
//! - `crossbeam`: `crossbeam_channel::bounded`, a true MPMC channel with every operation
//!   native, the Rust reference. Capacity 0 is a rendezvous channel.

use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::atomic::{fence, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex, PoisonError, TryLockError};
use std::time::{Duration, Instant};

use crate::queue::{Consumer, Impl, NewError, Producer, QueueError, Traits, Unsupported};

pub struct RustSyncChannel;

#[derive(Clone)]
pub struct SyncTx(SyncSender<u64>);

pub struct SyncRx {
    shared: Arc<SharedRx>,
    /// Handles move between threads but are never shared by reference (`!Sync`), so only the
    /// thread holding a handle can clone it: "this is the only handle" cannot change under it.
    _not_sync: PhantomData<Cell<()>>,
}

struct SharedRx {
    lock: Mutex<()>,
    rx: Receiver<u64>,
}

// SAFETY: `rx` (Send, not Sync) is used by one thread at a time: under `lock`, or by the sole
// handle (`SyncRx::with_rx`).
unsafe impl Sync for SharedRx {}

impl Clone for SyncRx {
    fn clone(&self) -> Self {
        SyncRx { shared: self.shared.clone(), _not_sync: PhantomData }
    }
}

impl Producer for SyncTx {
    #[inline]
    fn push(&self, item: u64) -> Result<(), QueueError> {
        self.0.send(item).map_err(|_| QueueError::Closed)
    }
    #[inline]
    fn try_push(&self, item: u64) -> Result<(), QueueError> {
        self.0.try_send(item).map_err(|e| match e {
            TrySendError::Full(_) => QueueError::Full,
            TrySendError::Disconnected(_) => QueueError::Closed,
        })
    }
    fn push_timeout(&self, item: u64, timeout: Duration) -> Result<(), QueueError> {
        // None: a timeout too long for an Instant, which never comes.
        let deadline = Instant::now().checked_add(timeout);
        let mut backoff = Duration::from_micros(1);
        loop {
            match self.try_push(item) {
                Err(QueueError::Full) => {}
                done => return done,
            }
            let left = deadline.map_or(Duration::MAX, |d| d.saturating_duration_since(Instant::now()));
            if left.is_zero() {
                return Err(QueueError::Timeout);
            }
            std::thread::sleep(backoff.min(left));
            backoff = (backoff * 2).min(Duration::from_millis(1));
        }
    }
    fn close(&self) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn len(&self) -> Option<usize> {
        None
    }
}

impl SyncRx {
    /// Runs `f` on the receiver: directly when this is the only handle, else under the mutex
    /// (waiting for it, or `None` when `wait` is false and another consumer holds it).
    #[inline]
    fn with_rx<R>(&self, wait: bool, f: impl FnOnce(&Receiver<u64>) -> R) -> Option<R> {
        if Arc::strong_count(&self.shared) == 1 {
            // Pairs with the Release decrement of the last other handle's drop: its uses of
            // `rx` happen before ours.
            fence(Ordering::Acquire);
            return Some(f(&self.shared.rx));
        }
        let _guard = if wait {
            self.shared.lock.lock().unwrap_or_else(PoisonError::into_inner)
        } else {
            match self.shared.lock.try_lock() {
                Ok(g) => g,
                Err(TryLockError::Poisoned(p)) => p.into_inner(),
                Err(TryLockError::WouldBlock) => return None,
            }
        };
        Some(f(&self.shared.rx))
    }
}

impl Consumer for SyncRx {
    #[inline]
    fn pop(&self) -> Result<u64, QueueError> {
        self.with_rx(true, |rx| rx.recv().map_err(|_| QueueError::Closed)).expect("waited for the lock")
    }
    #[inline]
    fn try_pop(&self) -> Result<u64, QueueError> {
        // Another consumer holds the receiver: from here nothing can be taken now.
        self.with_rx(false, |rx| {
            rx.try_recv().map_err(|e| match e {
                TryRecvError::Empty => QueueError::Empty,
                TryRecvError::Disconnected => QueueError::Closed,
            })
        })
        .unwrap_or(Err(QueueError::Empty))
    }
    fn pop_timeout(&self, timeout: Duration) -> Result<u64, QueueError> {
        // None: a timeout too long for an Instant; std's recv_timeout then waits for good.
        let deadline = Instant::now().checked_add(timeout);
        self.with_rx(true, |rx| {
            let left = deadline.map_or(Duration::MAX, |d| d.saturating_duration_since(Instant::now()));
            rx.recv_timeout(left).map_err(|e| match e {
                RecvTimeoutError::Timeout => QueueError::Timeout,
                RecvTimeoutError::Disconnected => QueueError::Closed,
            })
        })
        .expect("waited for the lock")
    }
    fn close(&self) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn len(&self) -> Option<usize> {
        None
    }
}

impl Impl for RustSyncChannel {
    type Tx = SyncTx;
    type Rx = SyncRx;

    fn name(&self) -> &str {
        super::Builtin::RustSyncChannel.name()
    }
    fn traits(&self) -> Traits {
        Traits {
            explicit_close: false,
            rendezvous: true,
            has_len: false,
            native_push_timeout: false,
            exact_try_pop: false,
        }
    }
    fn make(&self, capacity: usize) -> Result<(SyncTx, SyncRx), NewError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(capacity);
        let shared = Arc::new(SharedRx { lock: Mutex::new(()), rx });
        Ok((SyncTx(tx), SyncRx { shared, _not_sync: PhantomData }))
    }
}

pub struct Crossbeam;

#[derive(Clone)]
pub struct CrossbeamTx(crossbeam_channel::Sender<u64>);

#[derive(Clone)]
pub struct CrossbeamRx(crossbeam_channel::Receiver<u64>);

impl Producer for CrossbeamTx {
    #[inline]
    fn push(&self, item: u64) -> Result<(), QueueError> {
        self.0.send(item).map_err(|_| QueueError::Closed)
    }
    #[inline]
    fn try_push(&self, item: u64) -> Result<(), QueueError> {
        self.0.try_send(item).map_err(|e| match e {
            crossbeam_channel::TrySendError::Full(_) => QueueError::Full,
            crossbeam_channel::TrySendError::Disconnected(_) => QueueError::Closed,
        })
    }
    fn push_timeout(&self, item: u64, timeout: Duration) -> Result<(), QueueError> {
        self.0.send_timeout(item, timeout).map_err(|e| match e {
            crossbeam_channel::SendTimeoutError::Timeout(_) => QueueError::Timeout,
            crossbeam_channel::SendTimeoutError::Disconnected(_) => QueueError::Closed,
        })
    }
    fn close(&self) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn len(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

impl Consumer for CrossbeamRx {
    #[inline]
    fn pop(&self) -> Result<u64, QueueError> {
        self.0.recv().map_err(|_| QueueError::Closed)
    }
    #[inline]
    fn try_pop(&self) -> Result<u64, QueueError> {
        self.0.try_recv().map_err(|e| match e {
            crossbeam_channel::TryRecvError::Empty => QueueError::Empty,
            crossbeam_channel::TryRecvError::Disconnected => QueueError::Closed,
        })
    }
    fn pop_timeout(&self, timeout: Duration) -> Result<u64, QueueError> {
        self.0.recv_timeout(timeout).map_err(|e| match e {
            crossbeam_channel::RecvTimeoutError::Timeout => QueueError::Timeout,
            crossbeam_channel::RecvTimeoutError::Disconnected => QueueError::Closed,
        })
    }
    fn close(&self) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn len(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

impl Impl for Crossbeam {
    type Tx = CrossbeamTx;
    type Rx = CrossbeamRx;

    fn name(&self) -> &str {
        super::Builtin::Crossbeam.name()
    }
    fn traits(&self) -> Traits {
        Traits {
            explicit_close: false,
            rendezvous: true,
            has_len: true,
            native_push_timeout: true,
            exact_try_pop: true,
        }
    }
    fn make(&self, capacity: usize) -> Result<(CrossbeamTx, CrossbeamRx), NewError> {
        let (tx, rx) = crossbeam_channel::bounded(capacity);
        Ok((CrossbeamTx(tx), CrossbeamRx(rx)))
    }
}

/// The Rust channels' own unbounded flavours, for the memory study's "unbounded" capacity:
/// `std::sync::mpsc::channel` and `crossbeam_channel::unbounded`. Not in `Builtin::ALL` (the
/// comparison is about bounded queues); `make` ignores the capacity it is given.
pub struct RustChannel;

#[derive(Clone)]
pub struct ChannelTx(std::sync::mpsc::Sender<u64>);

/// `Receiver` is single-consumer: handles share it behind a mutex, as `SyncRx` does when cloned.
#[derive(Clone)]
pub struct ChannelRx(Arc<Mutex<Receiver<u64>>>);

impl Producer for ChannelTx {
    fn push(&self, item: u64) -> Result<(), QueueError> {
        self.0.send(item).map_err(|_| QueueError::Closed)
    }
    fn try_push(&self, item: u64) -> Result<(), QueueError> {
        self.push(item)
    }
    fn push_timeout(&self, item: u64, _timeout: Duration) -> Result<(), QueueError> {
        self.push(item)
    }
    fn close(&self) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn len(&self) -> Option<usize> {
        None
    }
}

impl Consumer for ChannelRx {
    fn pop(&self) -> Result<u64, QueueError> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).recv().map_err(|_| QueueError::Closed)
    }
    fn try_pop(&self) -> Result<u64, QueueError> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).try_recv().map_err(|e| match e {
            TryRecvError::Empty => QueueError::Empty,
            TryRecvError::Disconnected => QueueError::Closed,
        })
    }
    fn pop_timeout(&self, timeout: Duration) -> Result<u64, QueueError> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).recv_timeout(timeout).map_err(|e| match e {
            RecvTimeoutError::Timeout => QueueError::Timeout,
            RecvTimeoutError::Disconnected => QueueError::Closed,
        })
    }
    fn close(&self) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn len(&self) -> Option<usize> {
        None
    }
}

impl Impl for RustChannel {
    type Tx = ChannelTx;
    type Rx = ChannelRx;

    fn name(&self) -> &str {
        "rust-channel"
    }
    fn traits(&self) -> Traits {
        Traits {
            explicit_close: false,
            rendezvous: false,
            has_len: false,
            native_push_timeout: true,
            exact_try_pop: false,
        }
    }
    fn make(&self, _capacity: usize) -> Result<(ChannelTx, ChannelRx), NewError> {
        let (tx, rx) = std::sync::mpsc::channel();
        Ok((ChannelTx(tx), ChannelRx(Arc::new(Mutex::new(rx)))))
    }
}

pub struct CrossbeamUnbounded;

impl Impl for CrossbeamUnbounded {
    type Tx = CrossbeamTx;
    type Rx = CrossbeamRx;

    fn name(&self) -> &str {
        "crossbeam-unbounded"
    }
    fn traits(&self) -> Traits {
        Traits {
            explicit_close: false,
            rendezvous: false,
            has_len: true,
            native_push_timeout: true,
            exact_try_pop: true,
        }
    }
    fn make(&self, _capacity: usize) -> Result<(CrossbeamTx, CrossbeamRx), NewError> {
        let (tx, rx) = crossbeam_channel::unbounded();
        Ok((CrossbeamTx(tx), CrossbeamRx(rx)))
    }
}
