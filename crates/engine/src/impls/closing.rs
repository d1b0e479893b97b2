//! Maps an explicit-close queue (C, OCaml, the port, plugins) onto the channel model of
//! [`crate::queue`]: the queue is closed when the last producer handle drops, and also when
//! the last consumer handle drops, so that blocked producers wake with `Closed` as they do on
//! a Rust channel whose receivers are gone. This is the one behaviour the adapter adds; the
//! queues' own operations are passed through untouched.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::queue::{pop_many_one_by_one, Consumer, Producer, QueueError, Traits, Unsupported};

/// What every explicit-close queue offers through the adapter.
pub const TRAITS: Traits =
    Traits { explicit_close: true, rendezvous: false, has_len: true, native_push_timeout: true, exact_try_pop: true };

/// Declares the adapter of one explicit-close built-in: its `Impl` over [`handles`], named by
/// the built-ins' table (`$adapter` is its variant there). C's, OCaml's and the port's queues
/// differ only in the queue's type and how it is made: `$new`, with `$name` and `$capacity`
/// bound, gives the queue or the `NewError` that says why not.
macro_rules! explicit_close_adapter {
    ($(#[doc = $doc:expr])* $adapter:ident: $queue:ty, |$name:ident, $capacity:ident| $new:expr) => {
        $(#[doc = $doc])*
        pub struct $adapter;

        impl $crate::queue::Impl for $adapter {
            type Tx = $crate::impls::closing::Tx<$queue>;
            type Rx = $crate::impls::closing::Rx<$queue>;

            fn name(&self) -> &str {
                $crate::impls::Builtin::$adapter.name()
            }
            fn traits(&self) -> $crate::queue::Traits {
                $crate::impls::closing::TRAITS
            }
            fn make(&self, $capacity: usize) -> Result<(Self::Tx, Self::Rx), $crate::queue::NewError> {
                let $name: &str = self.name();
                let queue: Result<$queue, $crate::queue::NewError> = $new;
                Ok($crate::impls::closing::handles(queue?))
            }
        }
    };
}
pub(crate) use explicit_close_adapter;

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
