//! The two Rust channels. They close natively when the last sender or the last receiver
//! drops, so they need no adapter for that; neither has an explicit close.
//!
//! - `rust-sync-channel`: `std::sync::mpsc::sync_channel`. Its `Receiver` is single-consumer;
//!   consumers share it behind `Arc<Mutex<..>>`, the idiomatic std pattern. Consequences, kept
//!   as they are because they are how std behaves when used this way: a blocked `pop` holds
//!   the mutex, so other consumers queue behind it; `try_pop` answers `Empty` when another
//!   consumer holds the receiver (it must not wait); `pop_timeout` may wait for the mutex
//!   longer than its timeout. `SyncSender` has no stable `send_timeout`, so `push_timeout` is
//!   emulated by polling `try_send` with a capped backoff (see `Traits::native_push_timeout`).
//!   `len` is not available. Capacity 0 is a rendezvous channel.
//! - `crossbeam`: `crossbeam_channel::bounded`, a true MPMC channel with every operation
//!   native, the Rust reference. Capacity 0 is a rendezvous channel.

use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex, PoisonError, TryLockError};
use std::time::{Duration, Instant};

use crate::queue::{Consumer, Impl, NewError, Producer, QueueError, Traits, Unsupported};

pub struct RustSyncChannel;

#[derive(Clone)]
pub struct SyncTx(SyncSender<u64>);

#[derive(Clone)]
pub struct SyncRx(Arc<Mutex<Receiver<u64>>>);

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
        let deadline = Instant::now() + timeout;
        let mut backoff = Duration::from_micros(1);
        loop {
            match self.try_push(item) {
                Err(QueueError::Full) => {}
                done => return done,
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(QueueError::Timeout);
            }
            std::thread::sleep(backoff.min(deadline - now));
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
    fn lock(&self) -> std::sync::MutexGuard<'_, Receiver<u64>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Consumer for SyncRx {
    #[inline]
    fn pop(&self) -> Result<u64, QueueError> {
        self.lock().recv().map_err(|_| QueueError::Closed)
    }
    #[inline]
    fn try_pop(&self) -> Result<u64, QueueError> {
        let rx = match self.0.try_lock() {
            Ok(rx) => rx,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => return Err(QueueError::Empty),
        };
        rx.try_recv().map_err(|e| match e {
            TryRecvError::Empty => QueueError::Empty,
            TryRecvError::Disconnected => QueueError::Closed,
        })
    }
    fn pop_timeout(&self, timeout: Duration) -> Result<u64, QueueError> {
        let deadline = Instant::now() + timeout;
        let rx = self.lock();
        rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).map_err(|e| match e {
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

impl Impl for RustSyncChannel {
    type Tx = SyncTx;
    type Rx = SyncRx;

    fn name(&self) -> &str {
        "rust-sync-channel"
    }
    fn traits(&self) -> Traits {
        Traits { explicit_close: false, rendezvous: true, has_len: false, native_push_timeout: false }
    }
    fn make(&self, capacity: usize) -> Result<(SyncTx, SyncRx), NewError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(capacity);
        Ok((SyncTx(tx), SyncRx(Arc::new(Mutex::new(rx)))))
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
        "crossbeam"
    }
    fn traits(&self) -> Traits {
        Traits { explicit_close: false, rendezvous: true, has_len: true, native_push_timeout: true }
    }
    fn make(&self, capacity: usize) -> Result<(CrossbeamTx, CrossbeamRx), NewError> {
        let (tx, rx) = crossbeam_channel::bounded(capacity);
        Ok((CrossbeamTx(tx), CrossbeamRx(rx)))
    }
}
