//! Rust's view of C, all of it: the ABI of `c/bq.h` and the three C queues linked into the
//! harness, `c-pthread`, `c-vyukov` and `c-swap`; the native runner of `c/bq_native.h` ([`native`]); and
//! the probes the boundary's benches and tests call ([`probe`]). Status codes become
//! [`QueueError`]s here and C's structs become a [`crate::measure::Tally`] here, nowhere else.
//!
//! The ABI is held as a table of function pointers ([`BqAbi`]) so that the same adapter serves
//! the built-in C queues (linked statically) and external libraries loaded at run time
//! (`plugin.rs`). Locks: `c-pthread` and `c-swap` take their own mutex inside each call (a
//! `bq_pop_many` of `c-swap` takes it once for the whole batch, which C copies into the Rust
//! caller's buffer before it returns); `c-vyukov` takes none on its fast path and its own mutex
//! only to sleep or to wake a sleeper; the native runner
//! takes its queue's and its start gate's; the harness holds no lock across the boundary.

use super::closing::explicit_close_adapter;
use std::ffi::c_int;
use std::time::Duration;

use super::closing::ExplicitQueue;
use crate::queue::{pop_many_one_by_one, timeout_ns, NewError, QueueError};

/// The symbols a plugin must export, in the order of `c/bq.h` (`crates/engine/build.rs` lists
/// them too, to rename them in `c/bq_vyukov.c`: a build script cannot use the crate's constants).
pub const SYMBOLS: [&str; 11] = [
    "bq_new",
    "bq_push",
    "bq_try_push",
    "bq_push_timeout",
    "bq_pop",
    "bq_try_pop",
    "bq_pop_timeout",
    "bq_close",
    "bq_len",
    "bq_capacity",
    "bq_free",
];

/// Opaque `bq` from `c/bq.h`.
#[repr(C)]
pub struct RawBq {
    _private: [u8; 0],
}

// c/bq.h's status codes; `status_codes_agree` below checks them against C's and OCaml's.
pub const BQ_OK: c_int = 0;
pub const BQ_CLOSED: c_int = 1;
pub const BQ_FULL: c_int = 2;
pub const BQ_EMPTY: c_int = 3;
pub const BQ_TIMEOUT: c_int = 4;

/// `bq_pop_many`, the one optional function of `c/bq.h`.
pub type PopManyFn = unsafe extern "C" fn(*mut RawBq, *mut u64, usize, *mut usize) -> c_int;

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
    /// Optional: `None` builds `pop_many` from `pop` and `try_pop`.
    pub pop_many: Option<PopManyFn>,
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
    pop_many: None,
    close: bq_close,
    len: bq_len,
    capacity: bq_capacity,
    free: bq_free,
};

// `c/bq_vyukov.c`, built with every function renamed `bqv_*` (see build.rs) so that it links
// next to `c/bq.c`.
extern "C" {
    fn bqv_new(capacity: usize) -> *mut RawBq;
    fn bqv_push(q: *mut RawBq, item: u64) -> c_int;
    fn bqv_try_push(q: *mut RawBq, item: u64) -> c_int;
    fn bqv_push_timeout(q: *mut RawBq, item: u64, timeout_ns: u64) -> c_int;
    fn bqv_pop(q: *mut RawBq, item: *mut u64) -> c_int;
    fn bqv_try_pop(q: *mut RawBq, item: *mut u64) -> c_int;
    fn bqv_pop_timeout(q: *mut RawBq, item: *mut u64, timeout_ns: u64) -> c_int;
    fn bqv_close(q: *mut RawBq);
    fn bqv_len(q: *mut RawBq) -> usize;
    fn bqv_capacity(q: *mut RawBq) -> usize;
    fn bqv_free(q: *mut RawBq);
}

/// The lock-free C queue in `c/bq_vyukov.c`, linked into the harness.
pub const VYUKOV_ABI: BqAbi = BqAbi {
    new: bqv_new,
    push: bqv_push,
    try_push: bqv_try_push,
    push_timeout: bqv_push_timeout,
    pop: bqv_pop,
    try_pop: bqv_try_pop,
    pop_timeout: bqv_pop_timeout,
    pop_many: None,
    close: bqv_close,
    len: bqv_len,
    capacity: bqv_capacity,
    free: bqv_free,
};

// `c/bq_swap.c`, built with every function renamed `bqs_*` (see build.rs).
extern "C" {
    fn bqs_new(capacity: usize) -> *mut RawBq;
    fn bqs_push(q: *mut RawBq, item: u64) -> c_int;
    fn bqs_try_push(q: *mut RawBq, item: u64) -> c_int;
    fn bqs_push_timeout(q: *mut RawBq, item: u64, timeout_ns: u64) -> c_int;
    fn bqs_pop(q: *mut RawBq, item: *mut u64) -> c_int;
    fn bqs_try_pop(q: *mut RawBq, item: *mut u64) -> c_int;
    fn bqs_pop_timeout(q: *mut RawBq, item: *mut u64, timeout_ns: u64) -> c_int;
    fn bqs_pop_many(q: *mut RawBq, items: *mut u64, max: usize, taken: *mut usize) -> c_int;
    fn bqs_close(q: *mut RawBq);
    fn bqs_len(q: *mut RawBq) -> usize;
    fn bqs_capacity(q: *mut RawBq) -> usize;
    fn bqs_free(q: *mut RawBq);
}

/// The C swap buffer in `c/bq_swap.c`, linked into the harness.
pub const SWAP_ABI: BqAbi = BqAbi {
    new: bqs_new,
    push: bqs_push,
    try_push: bqs_try_push,
    push_timeout: bqs_push_timeout,
    pop: bqs_pop,
    try_pop: bqs_try_pop,
    pop_timeout: bqs_pop_timeout,
    pop_many: Some(bqs_pop_many),
    close: bqs_close,
    len: bqs_len,
    capacity: bqs_capacity,
    free: bqs_free,
};

// ANCHOR: status
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
// ANCHOR_END: status

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
    // ANCHOR: push
    fn push(&self, item: u64) -> Result<(), QueueError> {
        status(unsafe { (self.abi.push)(self.q, item) }, "bq_push")
    }
    // ANCHOR_END: push
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
    fn pop_many(&self, max: usize, out: &mut Vec<u64>) -> Result<usize, QueueError> {
        let Some(pop_many) = self.abi.pop_many else {
            return pop_many_one_by_one(max, out, || self.pop(), || self.try_pop());
        };
        // No pop takes more than the queue holds: that bounds the buffer C writes into.
        let max = max.min(self.capacity());
        out.reserve(max);
        let mut taken = 0;
        // SAFETY: C writes at most `max` items into the spare capacity reserved above and says
        // how many in `taken`, which is checked before they become part of `out`.
        let code = unsafe { pop_many(self.q, out.as_mut_ptr().add(out.len()), max, &mut taken) };
        status(code, "bq_pop_many")?;
        assert!(taken <= max, "bq_pop_many took {taken} items when asked for at most {max}");
        unsafe { out.set_len(out.len() + taken) };
        Ok(taken)
    }
    fn close(&self) {
        unsafe { (self.abi.close)(self.q) }
    }
    fn len(&self) -> usize {
        unsafe { (self.abi.len)(self.q) }
    }
}

/// Makes one of the C queues, or says why not.
fn c_queue(abi: BqAbi, name: &str, capacity: usize) -> Result<CQueue, NewError> {
    CQueue::new(abi, capacity).ok_or_else(|| NewError::Failed {
        name: name.into(),
        capacity,
        reason: "bq_new returned NULL (out of memory?)".into(),
    })
}

explicit_close_adapter!(
    /// `c-pthread`: `c/bq.c`.
    CPthread: CQueue, |name, capacity| c_queue(BUILTIN_ABI, name, capacity)
);

explicit_close_adapter!(
    /// `c-vyukov`: `c/bq_vyukov.c`, Vyukov's bounded MPMC ring buffer, blocking (it spins briefly,
    /// then sleeps on a condition variable). Driven only: `c/bq_native.c` runs `c/bq.c`.
    CVyukov: CQueue, |name, capacity| c_queue(VYUKOV_ABI, name, capacity)
);

explicit_close_adapter!(
    /// `c-swap`: `c/bq_swap.c`, the swap buffer (`bq_pop_many` takes a batch in one lock).
    /// Driven only: `c/bq_native.c` runs `c/bq.c`.
    CSwap: CQueue, |name, capacity| c_queue(SWAP_ABI, name, capacity)
);

/// The native runner of `c/bq_native.h`: pthreads inside C run the workload and hand back
/// their figures once per run.
pub mod native {
    use std::ffi::{c_char, c_int, CStr};
    use std::time::Duration;

    use crate::measure::SideStats;
    use crate::measure::Tally;
    use crate::workloads::{RunSpec, Workload};

    /// `bq_native_spec`, field for field (`layout_matches_c` checks it).
    #[repr(C)]
    pub struct NativeSpec {
        pub producers: u32,
        pub consumers: u32,
        pub per_producer: u64,
        pub capacity: usize,
        pub consumer_work_ns: u64,
        pub burst_items: u64,
        pub burst_pause_ns: u64,
        pub seq: c_int,
        pub latency_shift: u32,
        pub occupancy_shift: u32,
        pub observe: u32,
        pub producer_cpu: i32,
        pub consumer_cpu: i32,
        pub latency_ns: *mut u64,
        pub latency_cap: usize,
    }

    /// `bq_native_result`, field for field.
    #[repr(C)]
    pub struct NativeResult {
        pub elapsed_ns: u64,
        pub threads_cpu_ns: u64,
        pub pushes: u64,
        pub push_waits: u64,
        pub pops: u64,
        pub pop_waits: u64,
        pub producer_blocked_ns: u64,
        pub consumer_blocked_ns: u64,
        pub max_len: u64,
        pub latency_len: usize,
        pub delivery_ok: c_int,
        pub error: [c_char; 200],
    }

    /// `bq_native_run`'s signature: C's runner, and a user's OCaml module's runners
    /// (`ocaml_module::NATIVE_SYMBOLS`).
    pub type RunFn = unsafe extern "C" fn(spec: *const NativeSpec, out: *mut NativeResult) -> c_int;

    extern "C" {
        fn bq_native_run(spec: *const NativeSpec, out: *mut NativeResult) -> c_int;
        #[cfg_attr(not(test), allow(dead_code))] // the layout test's
        pub(super) fn bq_native_layout(out: *mut usize, n: usize) -> usize;
    }

    /// Runs `spec` once on C's own threads. The caller measures CPU time and sets a deadline.
    pub fn run(spec: &RunSpec) -> anyhow::Result<Tally> {
        run_with(bq_native_run, "the C native runner", spec)
    }

    /// Runs `spec` once through a runner with `bq_native_run`'s contract (`what` names it).
    pub fn run_with(f: RunFn, what: &str, spec: &RunSpec) -> anyhow::Result<Tally> {
        let (burst_items, burst_pause_ns) = spec.workload.burst_ns();
        let mut latencies = vec![0u64; spec.producers as usize * spec.sampling.latency_slots(spec.per_producer())];
        let (producer_cpu, consumer_cpu) = spec.placement.sides();
        let s = NativeSpec {
            producers: spec.producers as u32,
            consumers: spec.consumers as u32,
            per_producer: spec.per_producer(),
            capacity: spec.capacity,
            consumer_work_ns: spec.consumer_work_ns(),
            burst_items,
            burst_pause_ns,
            seq: (spec.workload == Workload::Seq) as c_int,
            latency_shift: spec.sampling.latency_shift,
            occupancy_shift: spec.sampling.occupancy_shift,
            observe: spec.sampling.observe as u32,
            producer_cpu: producer_cpu.map_or(-1, |c| c as i32),
            consumer_cpu: consumer_cpu.map_or(-1, |c| c as i32),
            latency_ns: latencies.as_mut_ptr(),
            latency_cap: latencies.len(),
        };
        // SAFETY: zeroed is a valid NativeResult; bq_native_run fills it and returns, and
        // writes at most latency_cap latencies into the buffer, which outlives the call.
        let mut r: NativeResult = unsafe { std::mem::zeroed() };
        let rc = unsafe { f(&s, &mut r) };
        let error = unsafe { CStr::from_ptr(r.error.as_ptr()) }.to_string_lossy().into_owned();
        if rc != 0 {
            anyhow::bail!("{what} could not start: {error}");
        }
        latencies.truncate(r.latency_len.min(latencies.len()));
        Ok(Tally {
            seconds: Duration::from_nanos(r.elapsed_ns).as_secs_f64(),
            cpu: Default::default(),
            threads_cpu: Some(Duration::from_nanos(r.threads_cpu_ns)),
            push: SideStats::from_ns(r.pushes, r.push_waits, r.producer_blocked_ns),
            pop: SideStats::from_ns(r.pops, r.pop_waits, r.consumer_blocked_ns),
            max_occupancy: spec.sampling.observe.then_some(r.max_len as usize),
            latencies_ns: latencies,
            delivery: if r.delivery_ok != 0 { Ok(()) } else { Err(error) },
        })
    }
}

/// The bare boundary, for `benches/boundary.rs` and the tests below (`c/boundary_probes.c`).
pub mod probe {
    use std::ffi::c_int;

    extern "C" {
        fn bq_bench_noop(x: u64) -> u64;
        #[cfg_attr(not(test), allow(dead_code))] // the status code test's
        pub(super) fn bq_status_codes(out: *mut c_int);
    }

    /// The empty C function: what a call from Rust into C costs with nothing in it.
    #[inline]
    pub fn noop(x: u64) -> u64 {
        // SAFETY: a pure function of its argument.
        unsafe { bq_bench_noop(x) }
    }
}

#[cfg(test)]
mod tests {
    use std::mem::{offset_of, size_of};

    use super::native::{bq_native_layout, NativeResult, NativeSpec};
    use super::*;

    #[test]
    fn status_codes_agree_with_c() {
        let mut c = [-1 as c_int; 5];
        unsafe { probe::bq_status_codes(c.as_mut_ptr()) };
        assert_eq!(c, [BQ_OK, BQ_CLOSED, BQ_FULL, BQ_EMPTY, BQ_TIMEOUT], "c/bq.h and c_abi.rs disagree");
        use bq_export as x;
        let export = [x::BQ_OK, x::BQ_CLOSED, x::BQ_FULL, x::BQ_EMPTY, x::BQ_TIMEOUT];
        assert_eq!(c, export, "c/bq.h and export/src/lib.rs (bq-export) disagree");
        let errors = [x::Error::Closed, x::Error::Full, x::Error::Empty, x::Error::Timeout].map(x::Error::code);
        assert_eq!(errors, c[1..], "bq_export::Error::code and c/bq.h disagree");
    }

    #[test]
    fn layout_matches_c() {
        let rust = [
            size_of::<NativeSpec>(),
            offset_of!(NativeSpec, producers),
            offset_of!(NativeSpec, consumers),
            offset_of!(NativeSpec, per_producer),
            offset_of!(NativeSpec, capacity),
            offset_of!(NativeSpec, consumer_work_ns),
            offset_of!(NativeSpec, burst_items),
            offset_of!(NativeSpec, burst_pause_ns),
            offset_of!(NativeSpec, seq),
            offset_of!(NativeSpec, latency_shift),
            offset_of!(NativeSpec, occupancy_shift),
            offset_of!(NativeSpec, observe),
            offset_of!(NativeSpec, producer_cpu),
            offset_of!(NativeSpec, consumer_cpu),
            offset_of!(NativeSpec, latency_ns),
            offset_of!(NativeSpec, latency_cap),
            size_of::<NativeResult>(),
            offset_of!(NativeResult, elapsed_ns),
            offset_of!(NativeResult, threads_cpu_ns),
            offset_of!(NativeResult, pushes),
            offset_of!(NativeResult, push_waits),
            offset_of!(NativeResult, pops),
            offset_of!(NativeResult, pop_waits),
            offset_of!(NativeResult, producer_blocked_ns),
            offset_of!(NativeResult, consumer_blocked_ns),
            offset_of!(NativeResult, max_len),
            offset_of!(NativeResult, latency_len),
            offset_of!(NativeResult, delivery_ok),
            offset_of!(NativeResult, error),
        ];
        let mut c = [0usize; 64];
        let n = unsafe { bq_native_layout(c.as_mut_ptr(), c.len()) };
        assert_eq!(n, rust.len(), "bq_native.h has {n} sizes and offsets, c_abi.rs mirrors {}", rust.len());
        assert_eq!(
            &c[..n],
            &rust[..],
            "bq_native.h's structs and their mirror in c_abi.rs differ (sizes, then offsets)"
        );
    }
}
