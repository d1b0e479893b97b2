//! Maps an explicit-close queue (C, OCaml, the port, plugins) onto the channel model of
//! [`crate::queue`]: the queue is closed when the last producer handle drops, and also when
//! the last consumer handle drops, so that blocked producers wake with `Closed` as they do on
//! a Rust channel whose receivers are gone. This is the one behaviour the adapter adds; the
//! queues' own operations are passed through untouched.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::queue::{pop_many_one_by_one, Consumer, Producer, QueueError, Unsupported};

/// The operations of an explicit-close queue, as its language presents them.
#[allow(clippy::len_without_is_empty)] // c/bq.h and the OCaml queue have a length only
pub trait ExplicitQueue: Send + Sync + 'static {
    fn push(&self, item: u64) -> Result<(), QueueError>;
    fn try_push(&self, item: u64) -> Result<(), QueueError>;
    fn push_timeout(&self, item: u64, timeout: Duration) -> Result<(), QueueError>;
    fn pop(&self) -> Result<u64, QueueError>;
    fn try_pop(&self) -> Result<u64, QueueError>;
    fn pop_timeout(&self, timeout: Duration) -> Result<u64, QueueError>;
    /// [`Consumer::pop_many`]; a queue with a batch operation of its own overrides this.
    fn pop_many(&self, max: usize, out: &mut Vec<u64>) -> Result<usize, QueueError> {
        pop_many_one_by_one(max, out, || self.pop(), || self.try_pop())
    }
    fn close(&self);
    fn len(&self) -> usize;
}

struct Shared<Q> {
    queue: Q,
    producers: AtomicUsize,
    consumers: AtomicUsize,
}

/// Wraps `queue` into a producer and a consumer handle.
pub fn handles<Q: ExplicitQueue>(queue: Q) -> (Tx<Q>, Rx<Q>) {
    let shared = Arc::new(Shared { queue, producers: AtomicUsize::new(1), consumers: AtomicUsize::new(1) });
    (Tx(shared.clone()), Rx(shared))
}

pub struct Tx<Q: ExplicitQueue>(Arc<Shared<Q>>);
pub struct Rx<Q: ExplicitQueue>(Arc<Shared<Q>>);

impl<Q: ExplicitQueue> Clone for Tx<Q> {
    fn clone(&self) -> Self {
        self.0.producers.fetch_add(1, Ordering::Relaxed);
        Tx(self.0.clone())
    }
}

impl<Q: ExplicitQueue> Drop for Tx<Q> {
    fn drop(&mut self) {
        if self.0.producers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.queue.close(); // last producer gone: "no more items"
        }
    }
}

impl<Q: ExplicitQueue> Clone for Rx<Q> {
    fn clone(&self) -> Self {
        self.0.consumers.fetch_add(1, Ordering::Relaxed);
        Rx(self.0.clone())
    }
}

// ANCHOR: rx_drop
impl<Q: ExplicitQueue> Drop for Rx<Q> {
    fn drop(&mut self) {
        if self.0.consumers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.queue.close(); // last consumer gone: wake blocked producers
        }
    }
}
// ANCHOR_END: rx_drop

impl<Q: ExplicitQueue> Producer for Tx<Q> {
    #[inline]
    fn push(&self, item: u64) -> Result<(), QueueError> {
        self.0.queue.push(item)
    }
    #[inline]
    fn try_push(&self, item: u64) -> Result<(), QueueError> {
        self.0.queue.try_push(item)
    }
    #[inline]
    fn push_timeout(&self, item: u64, timeout: Duration) -> Result<(), QueueError> {
        self.0.queue.push_timeout(item, timeout)
    }
    fn close(&self) -> Result<(), Unsupported> {
        self.0.queue.close();
        Ok(())
    }
    fn len(&self) -> Option<usize> {
        Some(self.0.queue.len())
    }
}

impl<Q: ExplicitQueue> Consumer for Rx<Q> {
    #[inline]
    fn pop(&self) -> Result<u64, QueueError> {
        self.0.queue.pop()
    }
    #[inline]
    fn try_pop(&self) -> Result<u64, QueueError> {
        self.0.queue.try_pop()
    }
    #[inline]
    fn pop_timeout(&self, timeout: Duration) -> Result<u64, QueueError> {
        self.0.queue.pop_timeout(timeout)
    }
    #[inline]
    fn pop_many(&self, max: usize, out: &mut Vec<u64>) -> Result<usize, QueueError> {
        self.0.queue.pop_many(max, out)
    }
    fn close(&self) -> Result<(), Unsupported> {
        self.0.queue.close();
        Ok(())
    }
    fn len(&self) -> Option<usize> {
        Some(self.0.queue.len())
    }
}
