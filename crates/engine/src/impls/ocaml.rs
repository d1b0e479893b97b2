//! Rust's view of OCaml, all of it: `ocaml`, the OCaml 5 queue of `ocaml/bqueue.ml`, and
//! `ocaml-swap`, the swap buffer of `ocaml/bq_swap.ml`, called through `ocaml-interop`; the native runner of `ocaml/bq_native.ml` ([`native`]); an OCaml-native run of counted payloads with the process and the GC sampled, `ocaml/bq_memory.ml` ([`memory`]); and the
//! probes the boundary's benches and tests call ([`probe`]).
//!
//! The OCaml side is `ocaml/bq_ffi.ml`, `ocaml/bq_native.ml` and `ocaml/bq_memory.ml`; all conversions happen in
//! these files. Queue items and status codes (c/bq.h's, from `c_abi.rs`) cross as immediate
//! OCaml ints; the native runner's spec and result cross as OCaml records.
//!
//! Locks: every call runs inside `OCamlRuntime::with_domain_lock`, which registers the calling
//! Rust thread with the OCaml runtime (as a systhread of domain 0) and holds the domain lock
//! for the call. A call that blocks in `Condition.wait` releases both the queue's mutex and
//! the domain lock while it waits, so a blocked producer never stops a consumer from running.
//! The harness never holds a Rust lock across these calls. A `pop_many` is one call: OCaml
//! takes the batch (under one queue lock for `ocaml-swap`) and returns it as an `int array`.

use super::closing::explicit_close_adapter;
use std::mem::ManuallyDrop;
use std::sync::OnceLock;
use std::time::Duration;

use ocaml_interop::internal::OCamlClosure;
use ocaml_interop::{BoxRoot, OCaml, OCamlInt, OCamlRuntime, OCamlUniformArray, ToOCaml};

use super::c_abi::{BQ_CLOSED, BQ_EMPTY, BQ_FULL, BQ_OK, BQ_TIMEOUT};
use super::closing::ExplicitQueue;
use crate::queue::{timeout_ns, NewError, QueueError, MAX_ITEM};

/// The OCaml version the harness was built against.
pub const OCAML_VERSION: &str = env!("BQ_OCAML_VERSION");

/// Starts the OCaml runtime once per process. The thread that starts it keeps the startup
/// guard for the life of the process (dropping it would shut OCaml down under other threads)
/// and then parks; it holds no OCaml lock while parked.
pub fn ensure_runtime() {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("ocaml-runtime".into())
            .spawn(move || match OCamlRuntime::init() {
                Ok(_guard) => {
                    ready_tx.send(Ok(())).ok();
                    loop {
                        std::thread::park();
                    }
                }
                Err(e) => drop(ready_tx.send(Err(e))),
            })
            .expect("cannot spawn the OCaml runtime thread");
        if let Err(e) = ready_rx.recv().expect("the OCaml runtime thread died while starting") {
            panic!("cannot start the OCaml runtime: {e}");
        }
    });
}

/// Which OCaml queue module: `ocaml/bq_ffi.ml` registers each one's operations under its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Module {
    /// `bqueue.ml`, prefix `bqueue_`
    Bqueue,
    /// `bq_swap.ml`, prefix `bq_swap_`
    BqSwap,
}

/// One queue module's operations, as `ocaml/bq_ffi.ml` registers them, looked up once.
struct Ops {
    create: OCamlClosure,
    push: OCamlClosure,
    try_push: OCamlClosure,
    push_timeout: OCamlClosure,
    pop: OCamlClosure,
    try_pop: OCamlClosure,
    pop_timeout: OCamlClosure,
    pop_many: OCamlClosure,
    close: OCamlClosure,
    length: OCamlClosure,
}

/// The functions that are not a queue's operations (Bqueue's batched push, the probes).
struct Closures {
    push_many: OCamlClosure,
    noop: OCamlClosure,
    raise: OCamlClosure,
}

// SAFETY: each closure points to a value registered with Callback.register, which the runtime
// keeps rooted and never frees; it is only called with the domain lock held.
unsafe impl Send for Ops {}
unsafe impl Sync for Ops {}
unsafe impl Send for Closures {}
unsafe impl Sync for Closures {}

/// A function `ocaml/bq_ffi.ml` registered; call with the domain lock held.
fn named(name: &str) -> OCamlClosure {
    OCamlClosure::named(name)
        .unwrap_or_else(|| panic!("OCaml function {name} is not registered: is ocaml/bq_ffi.ml linked?"))
}

fn ops(module: Module) -> &'static Ops {
    static BQUEUE: OnceLock<Ops> = OnceLock::new();
    static BQSWAP: OnceLock<Ops> = OnceLock::new();
    let (cell, prefix) = match module {
        Module::Bqueue => (&BQUEUE, "bqueue"),
        Module::BqSwap => (&BQSWAP, "bq_swap"),
    };
    cell.get_or_init(|| {
        ensure_runtime();
        OCamlRuntime::with_domain_lock(|_| {
            let get = |op: &str| named(&format!("{prefix}_{op}"));
            Ops {
                create: get("create"),
                push: get("push"),
                try_push: get("try_push"),
                push_timeout: get("push_timeout"),
                pop: get("pop"),
                try_pop: get("try_pop"),
                pop_timeout: get("pop_timeout"),
                pop_many: get("pop_many"),
                close: get("close"),
                length: get("length"),
            }
        })
    })
}

fn closures() -> &'static Closures {
    static CLOSURES: OnceLock<Closures> = OnceLock::new();
    CLOSURES.get_or_init(|| {
        ensure_runtime();
        OCamlRuntime::with_domain_lock(|_| Closures {
            push_many: named("bqueue_push_many"),
            noop: named("bqueue_noop"),
            raise: named("bqueue_raise"),
        })
    })
}

/// The OCaml type `int Bqueue.t` or `int Bq_swap.t`, opaque to Rust.
pub enum OcamlBqueue {}

fn int(n: u64) -> OCaml<'static, OCamlInt> {
    assert!(n <= MAX_ITEM, "item {n} does not fit an OCaml int: the harness keeps items below 2^62");
    OCaml::of_i64(n as i64).expect("checked above")
}

fn push_status(code: i64) -> Result<(), QueueError> {
    if code == BQ_OK as i64 {
        Ok(())
    } else {
        Err(error(-code))
    }
}

fn pop_status(code: i64) -> Result<u64, QueueError> {
    if code >= 0 {
        Ok(code as u64)
    } else {
        Err(error(code))
    }
}

/// `code` is a negated status code of `ocaml/bq_ffi.ml`.
fn error(code: i64) -> QueueError {
    match i32::try_from(-code) {
        Ok(BQ_CLOSED) => QueueError::Closed,
        Ok(BQ_FULL) => QueueError::Full,
        Ok(BQ_EMPTY) => QueueError::Empty,
        Ok(BQ_TIMEOUT) => QueueError::Timeout,
        _ => panic!("ocaml/bq_ffi.ml returned status {}, which c/bq.h does not define", -code),
    }
}

/// One `int Bqueue.t` (or `int Bq_swap.t`), rooted for as long as Rust holds it.
pub struct OcamlQueue {
    root: ManuallyDrop<BoxRoot<OcamlBqueue>>,
    ops: &'static Ops,
    capacity: usize,
}

// SAFETY: the root is only read or dropped with the domain lock held (every method below runs
// inside with_domain_lock), and every Rust thread that calls OCaml joins the same domain.
unsafe impl Send for OcamlQueue {}
unsafe impl Sync for OcamlQueue {}

impl OcamlQueue {
    pub fn new(module: Module, capacity: usize) -> Option<Self> {
        let ops = self::ops(module);
        let n = int(capacity as u64);
        OCamlRuntime::with_domain_lock(|cr| {
            let q: OCaml<Option<OcamlBqueue>> = ops.create.call(cr, &n);
            q.to_option().map(|q| OcamlQueue { root: ManuallyDrop::new(BoxRoot::new(q)), ops, capacity })
        })
    }

    fn call1(&self, f: &OCamlClosure) -> i64 {
        OCamlRuntime::with_domain_lock(|cr| {
            let r: OCaml<OCamlInt> = f.call(cr, &self.root);
            r.to_rust()
        })
    }

    // ANCHOR: call
    fn call2(&self, f: &OCamlClosure, a: u64) -> i64 {
        let a = int(a);
        OCamlRuntime::with_domain_lock(|cr| {
            let r: OCaml<OCamlInt> = f.call2(cr, &self.root, &a);
            r.to_rust()
        })
    }
    // ANCHOR_END: call

    fn call3(&self, f: &OCamlClosure, a: u64, b: u64) -> i64 {
        let (a, b) = (int(a), int(b));
        OCamlRuntime::with_domain_lock(|cr| {
            let r: OCaml<OCamlInt> = f.call3(cr, &self.root, &a, &b);
            r.to_rust()
        })
    }
}

/// The batched push: one boundary crossing (one domain-lock round trip) per batch instead of
/// per item. Not part of the interface; `benches/ocaml_batched.rs` measures what batching buys
/// (with the interface's `pop_many` on the other side). Items cross as an OCaml `int array`.
impl OcamlQueue {
    /// Pushes `items` in order, waiting while the queue is full as `push` does; returns how
    /// many went in (fewer only once the queue is closed). A `Bqueue` only.
    pub fn push_many(&self, items: &[u64]) -> usize {
        assert!(std::ptr::eq(self.ops, ops(Module::Bqueue)), "push_many exists for ocaml/bqueue.ml only");
        let items: Vec<i64> = items.iter().map(|&x| int(x).to_i64()).collect();
        let f = &closures().push_many;
        OCamlRuntime::with_domain_lock(|cr| {
            let items: BoxRoot<OCamlUniformArray<OCamlInt>> = items.to_boxroot(cr);
            let r: OCaml<OCamlInt> = f.call2(cr, &self.root, &items);
            r.to_rust::<i64>() as usize
        })
    }
}

impl Drop for OcamlQueue {
    fn drop(&mut self) {
        // SAFETY: the root is not used after this; it must be released under the domain lock.
        let root = unsafe { ManuallyDrop::take(&mut self.root) };
        OCamlRuntime::with_domain_lock(|_| drop(root));
    }
}

/// Timeouts cross as OCaml ints of nanoseconds; longer than ~146 years is clamped.
fn ocaml_timeout(timeout: Duration) -> u64 {
    timeout_ns(timeout).min(MAX_ITEM)
}

impl ExplicitQueue for OcamlQueue {
    fn push(&self, item: u64) -> Result<(), QueueError> {
        push_status(self.call2(&self.ops.push, item))
    }
    fn try_push(&self, item: u64) -> Result<(), QueueError> {
        push_status(self.call2(&self.ops.try_push, item))
    }
    fn push_timeout(&self, item: u64, timeout: Duration) -> Result<(), QueueError> {
        push_status(self.call3(&self.ops.push_timeout, item, ocaml_timeout(timeout)))
    }
    fn pop(&self) -> Result<u64, QueueError> {
        pop_status(self.call1(&self.ops.pop))
    }
    fn try_pop(&self) -> Result<u64, QueueError> {
        pop_status(self.call1(&self.ops.try_pop))
    }
    fn pop_timeout(&self, timeout: Duration) -> Result<u64, QueueError> {
        pop_status(self.call2(&self.ops.pop_timeout, ocaml_timeout(timeout)))
    }
    /// One crossing for the batch. The empty array means closed and drained; `max` 0 does not
    /// cross, and no pop takes more than the capacity (so the request fits an OCaml int).
    fn pop_many(&self, max: usize, out: &mut Vec<u64>) -> Result<usize, QueueError> {
        if max == 0 {
            return Ok(0);
        }
        let max = int(max.min(self.capacity) as u64);
        let got: Vec<i64> = OCamlRuntime::with_domain_lock(|cr| {
            let r: OCaml<OCamlUniformArray<OCamlInt>> = self.ops.pop_many.call2(cr, &self.root, &max);
            r.to_rust()
        });
        if got.is_empty() {
            return Err(QueueError::Closed);
        }
        out.extend(got.iter().map(|&x| x as u64));
        Ok(got.len())
    }
    fn close(&self) {
        OCamlRuntime::with_domain_lock(|cr| {
            let _: OCaml<()> = self.ops.close.call(cr, &self.root);
        })
    }
    fn len(&self) -> usize {
        self.call1(&self.ops.length) as usize
    }
}

/// Calls an OCaml function that raises `Failure msg`, for the test that an OCaml exception
/// surfaces in Rust (as a panic of the calling thread, which the harness reports as an error).
pub fn raise_in_ocaml(msg: &str) {
    let f = closures();
    OCamlRuntime::with_domain_lock(|cr| {
        let msg: BoxRoot<String> = msg.to_boxroot(cr);
        let _: OCaml<()> = f.raise.call(cr, &msg);
    })
}

/// The native runner of `ocaml/bq_native.ml`: OCaml domains or systhreads run the workload
/// and hand back their figures once per run. The Rust thread that calls it holds the domain
/// lock; `Domain.join` and `Thread.join` release it while the OCaml threads run.
pub mod native {
    use ocaml_interop::{impl_from_ocaml_record, impl_to_ocaml_record, OCamlUniformArray};

    use super::*;
    use crate::measure::SideStats;
    use crate::measure::Tally;
    use crate::workloads::{RunSpec, Workload};

    /// `spec` of bq_native.ml, field for field in its order.
    pub struct Spec {
        producers: i64,
        consumers: i64,
        per_producer: i64,
        capacity: i64,
        work_ns: i64,
        burst_items: i64,
        burst_pause_ns: i64,
        seq: bool,
        latency_shift: i64,
        occupancy_shift: i64,
        observe: bool,
        domains: bool,
        producer_cpu: i64,
        consumer_cpu: i64,
    }

    impl_to_ocaml_record! {
        Spec {
            producers: OCamlInt,
            consumers: OCamlInt,
            per_producer: OCamlInt,
            capacity: OCamlInt,
            work_ns: OCamlInt,
            burst_items: OCamlInt,
            burst_pause_ns: OCamlInt,
            seq: bool,
            latency_shift: OCamlInt,
            occupancy_shift: OCamlInt,
            observe: bool,
            domains: bool,
            producer_cpu: OCamlInt,
            consumer_cpu: OCamlInt,
        }
    }

    /// `result` of bq_native.ml, field for field in its order.
    pub struct Output {
        elapsed_ns: i64,
        threads_cpu_ns: i64,
        pushes: i64,
        push_waits: i64,
        pops: i64,
        pop_waits: i64,
        producer_blocked_ns: i64,
        consumer_blocked_ns: i64,
        max_len: i64,
        latencies: Vec<i64>,
        error: Option<String>,
    }

    impl_from_ocaml_record! {
        Output {
            elapsed_ns: OCamlInt,
            threads_cpu_ns: OCamlInt,
            pushes: OCamlInt,
            push_waits: OCamlInt,
            pops: OCamlInt,
            pop_waits: OCamlInt,
            producer_blocked_ns: OCamlInt,
            consumer_blocked_ns: OCamlInt,
            max_len: OCamlInt,
            latencies: OCamlUniformArray<OCamlInt>,
            error: Option<String>,
        }
    }

    struct RunClosure(OCamlClosure);
    // SAFETY: a Callback-registered value stays rooted forever; called only under the domain lock.
    unsafe impl Send for RunClosure {}
    unsafe impl Sync for RunClosure {}

    /// OCaml ints are signed; counts and times are never negative.
    fn ns(x: i64) -> u64 {
        x.max(0) as u64
    }

    /// OCaml's `Domain.recommended_domain_count ()`: how many domains it advises running at
    /// once on this machine.
    pub fn recommended_domains() -> usize {
        static N: OnceLock<usize> = OnceLock::new();
        *N.get_or_init(|| {
            ensure_runtime();
            OCamlRuntime::with_domain_lock(|cr| {
                let f = OCamlClosure::named("bqueue_recommended_domains").expect("ocaml/bq_native.ml is not linked");
                let r: OCaml<OCamlInt> = f.call(cr, &OCaml::unit());
                r.to_rust::<i64>().max(1) as usize
            })
        })
    }

    /// Runs `spec` once on OCaml domains (`domains`) or systhreads. The caller measures CPU
    /// time and sets a deadline.
    pub fn run(spec: &RunSpec, domains: bool) -> anyhow::Result<Tally> {
        static RUN: OnceLock<RunClosure> = OnceLock::new();
        let f = RUN.get_or_init(|| {
            ensure_runtime();
            OCamlRuntime::with_domain_lock(|_| {
                RunClosure(OCamlClosure::named("bqueue_native_run").expect("ocaml/bq_native.ml is not linked"))
            })
        });
        let (burst_items, burst_pause_ns) = spec.workload.burst_ns();
        let (producer_cpu, consumer_cpu) = spec.placement.sides();
        let s = Spec {
            producers: spec.producers as i64,
            consumers: spec.consumers as i64,
            per_producer: spec.per_producer() as i64,
            capacity: spec.capacity as i64,
            work_ns: spec.consumer_work_ns() as i64,
            burst_items: burst_items as i64,
            burst_pause_ns: burst_pause_ns as i64,
            seq: spec.workload == Workload::Seq,
            latency_shift: spec.sampling.latency_shift as i64,
            occupancy_shift: spec.sampling.occupancy_shift as i64,
            observe: spec.sampling.observe,
            domains,
            producer_cpu: producer_cpu.map_or(-1, |c| c as i64),
            consumer_cpu: consumer_cpu.map_or(-1, |c| c as i64),
        };
        let r: Output = OCamlRuntime::with_domain_lock(|cr| {
            let s: BoxRoot<Spec> = s.to_boxroot(cr);
            let r: OCaml<Output> = f.0.call(cr, &s);
            r.to_rust()
        });
        Ok(Tally {
            seconds: Duration::from_nanos(ns(r.elapsed_ns)).as_secs_f64(),
            cpu: Default::default(),
            threads_cpu: Some(Duration::from_nanos(ns(r.threads_cpu_ns))),
            push: SideStats::from_ns(ns(r.pushes), ns(r.push_waits), ns(r.producer_blocked_ns)),
            pop: SideStats::from_ns(ns(r.pops), ns(r.pop_waits), ns(r.consumer_blocked_ns)),
            max_occupancy: spec.sampling.observe.then_some(ns(r.max_len) as usize),
            latencies_ns: r.latencies.into_iter().map(ns).collect(),
            delivery: r.error.map_or(Ok(()), Err),
        })
    }
}

/// An OCaml-native run of counted payloads, `ocaml/bq_memory.ml`: OCaml domains make `Bytes`
/// payloads, pass them through `Bqueue` and sample the process and the GC, as
/// `crate::memory`'s payloads and sampler do for queues driven from Rust; the samples come back
/// as columns. The Rust thread that calls
/// holds the domain lock; `Domain.join` and `Unix.sleepf` release it while the domains run.
pub mod memory {
    use ocaml_interop::{impl_from_ocaml_record, impl_to_ocaml_record, OCamlUniformArray};

    use super::*;

    /// `spec` of bq_memory.ml, field for field in its order.
    pub struct Spec {
        pub capacity: i64,
        pub payload_bytes: i64,
        pub items: i64,
        pub spin_ns: i64,
        pub max_send_ns: i64,
        pub hold_ns: i64,
        pub interval_ns: i64,
        pub page_bytes: i64,
    }

    impl_to_ocaml_record! {
        Spec {
            capacity: OCamlInt,
            payload_bytes: OCamlInt,
            items: OCamlInt,
            spin_ns: OCamlInt,
            max_send_ns: OCamlInt,
            hold_ns: OCamlInt,
            interval_ns: OCamlInt,
            page_bytes: OCamlInt,
        }
    }

    /// `result` of bq_memory.ml, field for field in its order: the samples as columns.
    pub struct Output {
        pub sent: i64,
        pub delivered: i64,
        pub peak_live_bytes: i64,
        pub send_ns: i64,
        pub receive_ns: i64,
        pub t_ns: Vec<i64>,
        pub rss_bytes: Vec<i64>,
        pub live_bytes: Vec<i64>,
        pub gc_heap_bytes: Vec<i64>,
        /// -1 once the queue is dropped.
        pub buffered: Vec<i64>,
        /// The index of the phase in `memory::Phase::ALL`.
        pub phase: Vec<i64>,
        pub error: Option<String>,
    }

    impl_from_ocaml_record! {
        Output {
            sent: OCamlInt,
            delivered: OCamlInt,
            peak_live_bytes: OCamlInt,
            send_ns: OCamlInt,
            receive_ns: OCamlInt,
            t_ns: OCamlUniformArray<OCamlInt>,
            rss_bytes: OCamlUniformArray<OCamlInt>,
            live_bytes: OCamlUniformArray<OCamlInt>,
            gc_heap_bytes: OCamlUniformArray<OCamlInt>,
            buffered: OCamlUniformArray<OCamlInt>,
            phase: OCamlUniformArray<OCamlInt>,
            error: Option<String>,
        }
    }

    struct Closures {
        calibrate: OCamlClosure,
        run: OCamlClosure,
    }
    // SAFETY: Callback-registered values stay rooted forever; called only under the domain lock.
    unsafe impl Send for Closures {}
    unsafe impl Sync for Closures {}

    fn closures() -> &'static Closures {
        static C: OnceLock<Closures> = OnceLock::new();
        C.get_or_init(|| {
            ensure_runtime();
            OCamlRuntime::with_domain_lock(|_| Closures {
                calibrate: named("bqueue_memory_calibrate"),
                run: named("bqueue_memory_run"),
            })
        })
    }

    /// Nanoseconds one item costs on one domain (make, push, pop, touch); `spec.spin_ns` is unused.
    pub fn calibrate(spec: Spec) -> u64 {
        let f = closures();
        OCamlRuntime::with_domain_lock(|cr| {
            let s: BoxRoot<Spec> = spec.to_boxroot(cr);
            let r: OCaml<OCamlInt> = f.calibrate.call(cr, &s);
            r.to_rust::<i64>().max(0) as u64
        })
    }

    /// One run: the domains start and are joined inside this call.
    pub fn run(spec: Spec) -> Output {
        let f = closures();
        OCamlRuntime::with_domain_lock(|cr| {
            let s: BoxRoot<Spec> = spec.to_boxroot(cr);
            let r: OCaml<Output> = f.run.call(cr, &s);
            r.to_rust()
        })
    }
}

/// The bare boundary, for `benches/boundary.rs` and the tests below: the empty OCaml
/// function `bqueue_noop`, the domain lock alone, and bq_ffi.ml's status codes.
pub mod probe {
    use super::*;

    /// c/bq.h's status codes as `ocaml/bq_ffi.ml` defines them: ok, closed, full, empty, timeout.
    pub fn status_codes() -> Vec<i64> {
        ensure_runtime();
        OCamlRuntime::with_domain_lock(|cr| {
            let f = OCamlClosure::named("bqueue_status_codes").expect("ocaml/bq_ffi.ml is not linked");
            let r: OCaml<OCamlUniformArray<OCamlInt>> = f.call(cr, &OCaml::unit());
            r.to_rust()
        })
    }

    /// One call, taking and releasing the domain lock around it, as every queue call does.
    pub fn call(x: u64) -> u64 {
        let (f, x) = (&closures().noop, int(x));
        OCamlRuntime::with_domain_lock(|cr| {
            let r: OCaml<OCamlInt> = f.call(cr, &x);
            r.to_rust::<i64>() as u64
        })
    }

    /// Takes and releases the domain lock, calling nothing: the lock's share of `call`.
    pub fn lock_round_trip() {
        ensure_runtime();
        OCamlRuntime::with_domain_lock(|_| ())
    }

    /// `n` calls under one domain lock: the call alone, without the lock's cost.
    pub fn calls_holding_lock(n: u64) -> u64 {
        let f = &closures().noop;
        OCamlRuntime::with_domain_lock(|cr| {
            (0..n).fold(0, |acc, i| {
                let r: OCaml<OCamlInt> = f.call(cr, &int(i));
                acc ^ r.to_rust::<i64>() as u64
            })
        })
    }
}

explicit_close_adapter!(
    /// `ocaml`: `ocaml/bqueue.ml`.
    Ocaml: OcamlQueue, |name, capacity| {
    OcamlQueue::new(Module::Bqueue, capacity).ok_or_else(|| NewError::ZeroCapacity { name: name.into() })
});

explicit_close_adapter!(
    /// `ocaml-swap`: `ocaml/bq_swap.ml`, the swap buffer. Driven only: `ocaml/bq_native.ml` runs
    /// `bqueue.ml`.
    OcamlSwap: OcamlQueue, |name, capacity| {
    OcamlQueue::new(Module::BqSwap, capacity).ok_or_else(|| NewError::ZeroCapacity { name: name.into() })
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_agree_with_c() {
        let rust: Vec<i64> = [BQ_OK, BQ_CLOSED, BQ_FULL, BQ_EMPTY, BQ_TIMEOUT].map(i64::from).to_vec();
        assert_eq!(probe::status_codes(), rust, "ocaml/bq_ffi.ml and c/bq.h (as c_abi.rs has them) disagree");
    }
}
