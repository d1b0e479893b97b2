//! crossbeam's channel with a known fault or a known speed: the queues the tests drive when
//! they need a run to lose an item, refuse one, lie, die or take a set time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bq_engine::impls::rust_channels::{CrossbeamRx, CrossbeamTx};
use bq_engine::impls::Crossbeam;
use bq_engine::{Consumer, Impl, NewError, Producer, QueueError, Traits, Unsupported};

/// What the n-th `try_push` (from 0, over all producers) answers instead of crossbeam, given
/// the item and crossbeam's producer; `None`: crossbeam's own answer. The runners try every
/// item first, so call n is item n of the one producer (spsc, seq).
pub type TryPush = fn(n: u64, item: u64, inner: &CrossbeamTx) -> Option<Result<(), QueueError>>;

/// crossbeam, rigged. Start from [`Rigged::CROSSBEAM`] and change what the test needs.
pub struct Rigged {
    pub name: &'static str,
    /// Spun before every push and try_push (to a deadline, so a preemption shorter than it
    /// costs nothing): a queue whose speed is known.
    pub spin_ns: u64,
    pub try_push: Option<TryPush>,
    /// The consumer's `pop` panics at this call (from 0): a side that dies.
    pub pop_panics_at: Option<u64>,
}

impl Rigged {
    pub const CROSSBEAM: Rigged = Rigged { name: "rigged", spin_ns: 0, try_push: None, pop_panics_at: None };
}

#[derive(Clone)]
pub struct RiggedTx {
    inner: CrossbeamTx,
    calls: Arc<AtomicU64>,
    spin_ns: u64,
    try_push: Option<TryPush>,
}

#[derive(Clone)]
pub struct RiggedRx {
    inner: CrossbeamRx,
    calls: Arc<AtomicU64>,
    panics_at: Option<u64>,
}

impl RiggedTx {
    fn spin(&self) {
        if self.spin_ns > 0 {
            bq_engine::measure::spin_work(self.spin_ns);
        }
    }
}

impl Producer for RiggedTx {
    fn push(&self, item: u64) -> Result<(), QueueError> {
        self.spin();
        self.inner.push(item)
    }
    fn try_push(&self, item: u64) -> Result<(), QueueError> {
        self.spin();
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        self.try_push.and_then(|f| f(n, item, &self.inner)).unwrap_or_else(|| self.inner.try_push(item))
    }
    fn push_timeout(&self, item: u64, t: Duration) -> Result<(), QueueError> {
        self.inner.push_timeout(item, t)
    }
    fn close(&self) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn len(&self) -> Option<usize> {
        self.inner.len()
    }
}

impl Consumer for RiggedRx {
    fn pop(&self) -> Result<u64, QueueError> {
        if Some(self.calls.fetch_add(1, Ordering::Relaxed)) == self.panics_at {
            panic!("the consumer died");
        }
        self.inner.pop()
    }
    fn try_pop(&self) -> Result<u64, QueueError> {
        self.inner.try_pop()
    }
    fn pop_timeout(&self, t: Duration) -> Result<u64, QueueError> {
        self.inner.pop_timeout(t)
    }
    fn close(&self) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn len(&self) -> Option<usize> {
        self.inner.len()
    }
}

impl Impl for Rigged {
    type Tx = RiggedTx;
    type Rx = RiggedRx;
    fn name(&self) -> &str {
        self.name
    }
    fn traits(&self) -> Traits {
        Crossbeam.traits()
    }
    fn make(&self, capacity: usize) -> Result<(RiggedTx, RiggedRx), NewError> {
        let (tx, rx) = Crossbeam.make(capacity)?;
        Ok((
            RiggedTx { inner: tx, calls: Arc::new(AtomicU64::new(0)), spin_ns: self.spin_ns, try_push: self.try_push },
            RiggedRx { inner: rx, calls: Arc::new(AtomicU64::new(0)), panics_at: self.pop_panics_at },
        ))
    }
}
