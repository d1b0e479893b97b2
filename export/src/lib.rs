//! Exports a Rust queue as the C ABI of `c/bq.h`, so that `bqh validate --candidate lib.so`
//! can load it: implement [`BoundedQueue`] for your queue (or a newtype around it), then
//! `bq_export::export_bq!(YourQueue);` in a crate with `crate-type = ["cdylib"]`.
//!
//! ```ignore
//! struct Port(my_port::Queue<u64>);
//! impl bq_export::BoundedQueue for Port { /* the ten operations, errors mapped to bq_export::Error */ }
//! bq_export::export_bq!(Port);
//! ```
//!
//! The status codes live here once ([`BQ_OK`] ... [`BQ_TIMEOUT`], copied from `c/bq.h`, which is
//! the source of truth; the harness's boundary test compares them with C's and OCaml's). The
//! generic functions in [`abi`] hold all the unsafe code; the macro only names them.

use std::os::raw::c_int;
use std::time::Duration;

pub const BQ_OK: c_int = 0;
pub const BQ_CLOSED: c_int = 1;
pub const BQ_FULL: c_int = 2;
pub const BQ_EMPTY: c_int = 3;
pub const BQ_TIMEOUT: c_int = 4;

/// Why an operation did not deliver: the non-zero codes of `c/bq.h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// Closed; for a pop: closed and drained.
    Closed,
    /// `try_push` on a full queue.
    Full,
    /// `try_pop` on an empty, open queue.
    Empty,
    /// A timed operation's deadline passed.
    Timeout,
}

impl Error {
    /// The status code of `c/bq.h`.
    pub fn code(self) -> c_int {
        match self {
            Error::Closed => BQ_CLOSED,
            Error::Full => BQ_FULL,
            Error::Empty => BQ_EMPTY,
            Error::Timeout => BQ_TIMEOUT,
        }
    }
}

/// A bounded blocking FIFO of `u64` items with an explicit close, in the order of `c/bq.h`.
/// Every method but `new` is called from many threads at once.
#[allow(clippy::len_without_is_empty)] // c/bq.h has bq_len only
pub trait BoundedQueue: Send + Sync + Sized {
    /// `None` when `capacity` is 0 (or the queue cannot be made).
    fn new(capacity: usize) -> Option<Self>;
    /// Waits while full and open: `Ok` or `Closed`.
    fn push(&self, item: u64) -> Result<(), Error>;
    /// `Ok`, `Full` or `Closed`.
    fn try_push(&self, item: u64) -> Result<(), Error>;
    /// `Ok`, `Timeout` or `Closed`. The timeout may be as long as `u64::MAX` nanoseconds: it
    /// must neither overflow nor end the wait early.
    fn push_timeout(&self, item: u64, timeout: Duration) -> Result<(), Error>;
    /// Waits while empty and open: an item, or `Closed` once closed and drained.
    fn pop(&self) -> Result<u64, Error>;
    /// An item, `Empty` or `Closed`.
    fn try_pop(&self) -> Result<u64, Error>;
    /// An item, `Timeout` or `Closed`.
    fn pop_timeout(&self, timeout: Duration) -> Result<u64, Error>;
    /// Idempotent; wakes every waiter.
    fn close(&self);
    fn len(&self) -> usize;
    fn capacity(&self) -> usize;
}

/// The functions `export_bq!` exports, generic over the queue.
pub mod abi {
    use super::*;

    fn unit(r: Result<(), Error>) -> c_int {
        r.map_or_else(Error::code, |()| BQ_OK)
    }

    /// # Safety
    /// `item` is writable.
    unsafe fn item(r: Result<u64, Error>, item: *mut u64) -> c_int {
        match r {
            Ok(x) => {
                *item = x;
                BQ_OK
            }
            Err(e) => e.code(),
        }
    }

    pub fn new<Q: BoundedQueue>(capacity: usize) -> *mut Q {
        if capacity == 0 {
            return std::ptr::null_mut();
        }
        Q::new(capacity).map_or(std::ptr::null_mut(), |q| Box::into_raw(Box::new(q)))
    }

    /// # Safety
    /// `q` comes from [`new`] and has not been freed (so for every function below; `out`, where
    /// there is one, is writable).
    pub unsafe fn push<Q: BoundedQueue>(q: *mut Q, x: u64) -> c_int {
        unit((*q).push(x))
    }
    /// # Safety
    /// As [`push`].
    pub unsafe fn try_push<Q: BoundedQueue>(q: *mut Q, x: u64) -> c_int {
        unit((*q).try_push(x))
    }
    /// # Safety
    /// As [`push`].
    pub unsafe fn push_timeout<Q: BoundedQueue>(q: *mut Q, x: u64, timeout_ns: u64) -> c_int {
        unit((*q).push_timeout(x, Duration::from_nanos(timeout_ns)))
    }
    /// # Safety
    /// As [`push`].
    pub unsafe fn pop<Q: BoundedQueue>(q: *mut Q, out: *mut u64) -> c_int {
        item((*q).pop(), out)
    }
    /// # Safety
    /// As [`push`].
    pub unsafe fn try_pop<Q: BoundedQueue>(q: *mut Q, out: *mut u64) -> c_int {
        item((*q).try_pop(), out)
    }
    /// # Safety
    /// As [`push`].
    pub unsafe fn pop_timeout<Q: BoundedQueue>(q: *mut Q, out: *mut u64, timeout_ns: u64) -> c_int {
        item((*q).pop_timeout(Duration::from_nanos(timeout_ns)), out)
    }
    /// # Safety
    /// As [`push`].
    pub unsafe fn close<Q: BoundedQueue>(q: *mut Q) {
        (*q).close()
    }
    /// # Safety
    /// As [`push`].
    pub unsafe fn len<Q: BoundedQueue>(q: *mut Q) -> usize {
        (*q).len()
    }
    /// # Safety
    /// As [`push`].
    pub unsafe fn capacity<Q: BoundedQueue>(q: *mut Q) -> usize {
        (*q).capacity()
    }
    /// # Safety
    /// After every other caller has returned (c/bq.h); NULL is ignored.
    pub unsafe fn free<Q: BoundedQueue>(q: *mut Q) {
        if !q.is_null() {
            drop(Box::from_raw(q));
        }
    }
}

/// Exports `$queue` (a type implementing [`BoundedQueue`]) as the eleven functions of `c/bq.h`.
/// Use it once per `cdylib`.
#[macro_export]
macro_rules! export_bq {
    ($queue:ty) => {
        const _: () = {
            use ::std::os::raw::c_int;
            use $crate::abi;
            type Q = $queue;

            #[no_mangle]
            pub extern "C" fn bq_new(capacity: usize) -> *mut Q {
                abi::new::<Q>(capacity)
            }
            /// # Safety
            /// As `c/bq.h`: `q` from bq_new, not freed.
            #[no_mangle]
            pub unsafe extern "C" fn bq_push(q: *mut Q, item: u64) -> c_int {
                abi::push(q, item)
            }
            /// # Safety
            /// As bq_push.
            #[no_mangle]
            pub unsafe extern "C" fn bq_try_push(q: *mut Q, item: u64) -> c_int {
                abi::try_push(q, item)
            }
            /// # Safety
            /// As bq_push.
            #[no_mangle]
            pub unsafe extern "C" fn bq_push_timeout(q: *mut Q, item: u64, timeout_ns: u64) -> c_int {
                abi::push_timeout(q, item, timeout_ns)
            }
            /// # Safety
            /// As bq_push; `item` writable.
            #[no_mangle]
            pub unsafe extern "C" fn bq_pop(q: *mut Q, item: *mut u64) -> c_int {
                abi::pop(q, item)
            }
            /// # Safety
            /// As bq_pop.
            #[no_mangle]
            pub unsafe extern "C" fn bq_try_pop(q: *mut Q, item: *mut u64) -> c_int {
                abi::try_pop(q, item)
            }
            /// # Safety
            /// As bq_pop.
            #[no_mangle]
            pub unsafe extern "C" fn bq_pop_timeout(q: *mut Q, item: *mut u64, timeout_ns: u64) -> c_int {
                abi::pop_timeout(q, item, timeout_ns)
            }
            /// # Safety
            /// As bq_push.
            #[no_mangle]
            pub unsafe extern "C" fn bq_close(q: *mut Q) {
                abi::close(q)
            }
            /// # Safety
            /// As bq_push.
            #[no_mangle]
            pub unsafe extern "C" fn bq_len(q: *mut Q) -> usize {
                abi::len(q)
            }
            /// # Safety
            /// As bq_push.
            #[no_mangle]
            pub unsafe extern "C" fn bq_capacity(q: *mut Q) -> usize {
                abi::capacity(q)
            }
            /// # Safety
            /// After every other caller has returned.
            #[no_mangle]
            pub unsafe extern "C" fn bq_free(q: *mut Q) {
                abi::free(q)
            }
        };
    };
}
