//! The C ABI of `c/bq.h`, and `c-pthread`, the C queue linked into the harness.
//!
//! The ABI is held as a table of function pointers ([`BqAbi`]) so that the same adapter serves
//! the built-in C queue (linked statically) and external libraries loaded at run time
//! (`plugin.rs`). This file is the Rust side of the C boundary: status codes become
//! [`QueueError`]s here and nowhere else. Locks: the C queue takes its own mutex inside each
//! call; the harness holds no lock across the boundary.

use std::ffi::c_int;
use std::time::Duration;

use super::closing::{self, ExplicitQueue};
use crate::queue::{timeout_ns, Impl, NewError, QueueError, Traits};

/// Opaque `bq` from `c/bq.h`.
#[repr(C)]
pub struct RawBq {
    _private: [u8; 0],
}

pub const BQ_OK: c_int = 0;
pub const BQ_CLOSED: c_int = 1;
pub const BQ_FULL: c_int = 2;
pub const BQ_EMPTY: c_int = 3;
pub const BQ_TIMEOUT: c_int = 4;

/// The functions of `c/bq.h`, in the header's order.
#[derive(Clone, Copy)]
pub struct BqAbi {
    pub new: unsafe extern "C" fn(usize) -> *mut RawBq,
    pub push: unsafe extern "C" fn(*mut RawBq, u64) -> c_int,
    pub try_push: unsafe extern "C" fn(*mut RawBq, u64) -> c_int,
    pub push_timeout: unsafe extern "C" fn(*mut RawBq, u64, u64) -> c_int,
    pub pop: unsafe extern "C" fn(*mut RawBq, *mut u64) -> c_int,
    pub try_pop: unsafe extern "C" fn(*mut RawBq, *mut u64) -> c_int,
    pub pop_timeout: unsafe extern "C" fn(*mut RawBq, *mut u64, u64) -> c_int,
    pub close: unsafe extern "C" fn(*mut RawBq),
    pub len: unsafe extern "C" fn(*mut RawBq) -> usize,
    pub capacity: unsafe extern "C" fn(*mut RawBq) -> usize,
    pub free: unsafe extern "C" fn(*mut RawBq),
}

extern "C" {
    fn bq_new(capacity: usize) -> *mut RawBq;
    fn bq_push(q: *mut RawBq, item: u64) -> c_int;
    fn bq_try_push(q: *mut RawBq, item: u64) -> c_int;
    fn bq_push_timeout(q: *mut RawBq, item: u64, timeout_ns: u64) -> c_int;
    fn bq_pop(q: *mut RawBq, item: *mut u64) -> c_int;
    fn bq_try_pop(q: *mut RawBq, item: *mut u64) -> c_int;
    fn bq_pop_timeout(q: *mut RawBq, item: *mut u64, timeout_ns: u64) -> c_int;
    fn bq_close(q: *mut RawBq);
    fn bq_len(q: *mut RawBq) -> usize;
    fn bq_capacity(q: *mut RawBq) -> usize;
    fn bq_free(q: *mut RawBq);
}

/// The C queue in `c/bq.c`, linked into the harness.
pub const BUILTIN_ABI: BqAbi = BqAbi {
    new: bq_new,
    push: bq_push,
    try_push: bq_try_push,
    push_timeout: bq_push_timeout,
    pop: bq_pop,
    try_pop: bq_try_pop,
    pop_timeout: bq_pop_timeout,
    close: bq_close,
    len: bq_len,
    capacity: bq_capacity,
    free: bq_free,
};

/// An unexpected status code is a broken implementation, never a queue state: say which.
fn status(code: c_int, op: &str) -> Result<(), QueueError> {
    match code {
        BQ_OK => Ok(()),
        BQ_CLOSED => Err(QueueError::Closed),
        BQ_FULL => Err(QueueError::Full),
        BQ_EMPTY => Err(QueueError::Empty),
        BQ_TIMEOUT => Err(QueueError::Timeout),
        other => panic!("{op} returned {other}, which is not a status code of c/bq.h"),
    }
}

/// One `bq*` and the ABI that made it.
pub struct CQueue {
    abi: BqAbi,
    q: *mut RawBq,
}

// SAFETY: c/bq.h makes every function but bq_free thread-safe, and bq_free runs in Drop,
// after every handle (and so every caller) is gone.
unsafe impl Send for CQueue {}
unsafe impl Sync for CQueue {}

impl CQueue {
    /// `None` when `bq_new` returns NULL.
    pub fn new(abi: BqAbi, capacity: usize) -> Option<Self> {
        let q = unsafe { (abi.new)(capacity) };
        (!q.is_null()).then_some(CQueue { abi, q })
    }

    pub fn capacity(&self) -> usize {
        unsafe { (self.abi.capacity)(self.q) }
    }
}

impl Drop for CQueue {
    fn drop(&mut self) {
        unsafe { (self.abi.free)(self.q) }
    }
}

impl ExplicitQueue for CQueue {
    #[inline]
    fn push(&self, item: u64) -> Result<(), QueueError> {
        status(unsafe { (self.abi.push)(self.q, item) }, "bq_push")
    }
    #[inline]
    fn try_push(&self, item: u64) -> Result<(), QueueError> {
        status(unsafe { (self.abi.try_push)(self.q, item) }, "bq_try_push")
    }
    #[inline]
    fn push_timeout(&self, item: u64, timeout: Duration) -> Result<(), QueueError> {
        status(unsafe { (self.abi.push_timeout)(self.q, item, timeout_ns(timeout)) }, "bq_push_timeout")
    }
    #[inline]
    fn pop(&self) -> Result<u64, QueueError> {
        let mut item = 0;
        status(unsafe { (self.abi.pop)(self.q, &mut item) }, "bq_pop").map(|()| item)
    }
    #[inline]
    fn try_pop(&self) -> Result<u64, QueueError> {
        let mut item = 0;
        status(unsafe { (self.abi.try_pop)(self.q, &mut item) }, "bq_try_pop").map(|()| item)
    }
    #[inline]
    fn pop_timeout(&self, timeout: Duration) -> Result<u64, QueueError> {
        let mut item = 0;
        status(unsafe { (self.abi.pop_timeout)(self.q, &mut item, timeout_ns(timeout)) }, "bq_pop_timeout")
            .map(|()| item)
    }
    fn close(&self) {
        unsafe { (self.abi.close)(self.q) }
    }
    fn len(&self) -> usize {
        unsafe { (self.abi.len)(self.q) }
    }
}

/// `c-pthread`: `c/bq.c`.
pub struct CPthread;

impl Impl for CPthread {
    type Tx = closing::Tx<CQueue>;
    type Rx = closing::Rx<CQueue>;

    fn name(&self) -> &str {
        "c-pthread"
    }
    fn traits(&self) -> Traits {
        Traits { explicit_close: true, rendezvous: false, has_len: true, native_push_timeout: true, exact_try_pop: true }
    }
    fn make(&self, capacity: usize) -> Result<(Self::Tx, Self::Rx), NewError> {
        let q = CQueue::new(BUILTIN_ABI, capacity).ok_or_else(|| NewError::Failed {
            name: self.name().into(),
            capacity,
            reason: "bq_new returned NULL (out of memory?)".into(),
        })?;
        Ok(closing::handles(q))
    }
}
