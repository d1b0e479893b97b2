//! `rust-port`: `bq_port::Queue`, the Rust port of the OCaml queue (`rust/src/lib.rs`), and
//! `rust-swap`: `bq_port::swap::Queue`, the port of the OCaml swap buffer (`rust/src/swap.rs`).

use super::closing::explicit_close_adapter;
use std::time::Duration;

use super::closing::ExplicitQueue;
use crate::queue::{NewError, QueueError};

fn err(e: bq_port::Error) -> QueueError {
    match e {
        bq_port::Error::Closed => QueueError::Closed,
        bq_port::Error::Full => QueueError::Full,
        bq_port::Error::Empty => QueueError::Empty,
        bq_port::Error::Timeout => QueueError::Timeout,
    }
}

impl ExplicitQueue for bq_port::Queue<u64> {
    fn push(&self, item: u64) -> Result<(), QueueError> {
        bq_port::Queue::push(self, item).map_err(err)
    }
    fn try_push(&self, item: u64) -> Result<(), QueueError> {
        bq_port::Queue::try_push(self, item).map_err(err)
    }
    fn push_timeout(&self, item: u64, timeout: Duration) -> Result<(), QueueError> {
        bq_port::Queue::push_timeout(self, item, timeout).map_err(err)
    }
    fn pop(&self) -> Result<u64, QueueError> {
        bq_port::Queue::pop(self).map_err(err)
    }
    fn try_pop(&self) -> Result<u64, QueueError> {
        bq_port::Queue::try_pop(self).map_err(err)
    }
    fn pop_timeout(&self, timeout: Duration) -> Result<u64, QueueError> {
        bq_port::Queue::pop_timeout(self, timeout).map_err(err)
    }
    fn close(&self) {
        bq_port::Queue::close(self)
    }
    fn len(&self) -> usize {
        bq_port::Queue::len(self)
    }
}

explicit_close_adapter!(
    /// `rust-port`: the port of the OCaml queue.
    RustPort: bq_port::Queue<u64>,
    |name, capacity| bq_port::Queue::new(capacity).ok_or_else(|| NewError::ZeroCapacity { name: name.into() })
);

impl ExplicitQueue for bq_port::swap::Queue<u64> {
    fn push(&self, item: u64) -> Result<(), QueueError> {
        bq_port::swap::Queue::push(self, item).map_err(err)
    }
    fn try_push(&self, item: u64) -> Result<(), QueueError> {
        bq_port::swap::Queue::try_push(self, item).map_err(err)
    }
    fn push_timeout(&self, item: u64, timeout: Duration) -> Result<(), QueueError> {
        bq_port::swap::Queue::push_timeout(self, item, timeout).map_err(err)
    }
    fn pop(&self) -> Result<u64, QueueError> {
        bq_port::swap::Queue::pop(self).map_err(err)
    }
    fn try_pop(&self) -> Result<u64, QueueError> {
        bq_port::swap::Queue::try_pop(self).map_err(err)
    }
    fn pop_timeout(&self, timeout: Duration) -> Result<u64, QueueError> {
        bq_port::swap::Queue::pop_timeout(self, timeout).map_err(err)
    }
    fn pop_many(&self, max: usize, out: &mut Vec<u64>) -> Result<usize, QueueError> {
        bq_port::swap::Queue::pop_many(self, max, out).map_err(err)
    }
    fn close(&self) {
        bq_port::swap::Queue::close(self)
    }
    fn len(&self) -> usize {
        bq_port::swap::Queue::len(self)
    }
}

explicit_close_adapter!(
    /// `rust-swap`: the swap buffer.
    RustSwap: bq_port::swap::Queue<u64>,
    |name, capacity| bq_port::swap::Queue::new(capacity).ok_or_else(|| NewError::ZeroCapacity { name: name.into() })
);
