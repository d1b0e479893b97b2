//! `ocaml`: the OCaml 5 queue of `ocaml/bqueue.ml`, called through `ocaml-interop`.
//!
//! This file is the Rust side of the OCaml boundary (the OCaml side is `ocaml/bq_ffi.ml`); all
//! conversions happen in these two files. Items and status codes cross as immediate OCaml ints.
//!
//! Locks: every call runs inside `OCamlRuntime::with_domain_lock`, which registers the calling
//! Rust thread with the OCaml runtime (as a systhread of domain 0) and holds the domain lock
//! for the call. A call that blocks in `Condition.wait` releases both the queue's mutex and
//! the domain lock while it waits, so a blocked producer never stops a consumer from running.
//! The harness never holds a Rust lock across these calls.

use std::mem::ManuallyDrop;
use std::sync::OnceLock;
use std::time::Duration;

use ocaml_interop::internal::OCamlClosure;
use ocaml_interop::{BoxRoot, OCaml, OCamlInt, OCamlRuntime, ToOCaml};

use super::closing::{self, ExplicitQueue};
use crate::queue::{timeout_ns, Impl, NewError, QueueError, Traits, MAX_ITEM};

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

/// The OCaml functions registered by `ocaml/bq_ffi.ml`, looked up once.
struct Closures {
    create: OCamlClosure,
    push: OCamlClosure,
    try_push: OCamlClosure,
    push_timeout: OCamlClosure,
    pop: OCamlClosure,
    try_pop: OCamlClosure,
    pop_timeout: OCamlClosure,
    close: OCamlClosure,
    length: OCamlClosure,
    raise: OCamlClosure,
}

// SAFETY: each closure points to a value registered with Callback.register, which the runtime
// keeps rooted and never frees; it is only called with the domain lock held.
unsafe impl Send for Closures {}
unsafe impl Sync for Closures {}

fn closures() -> &'static Closures {
    static CLOSURES: OnceLock<Closures> = OnceLock::new();
    CLOSURES.get_or_init(|| {
        ensure_runtime();
        OCamlRuntime::with_domain_lock(|_| {
            let get = |name: &str| {
                OCamlClosure::named(name)
                    .unwrap_or_else(|| panic!("OCaml function {name} is not registered: is ocaml/bq_ffi.ml linked?"))
            };
            Closures {
                create: get("bqueue_create"),
                push: get("bqueue_push"),
                try_push: get("bqueue_try_push"),
                push_timeout: get("bqueue_push_timeout"),
                pop: get("bqueue_pop"),
                try_pop: get("bqueue_try_pop"),
                pop_timeout: get("bqueue_pop_timeout"),
                close: get("bqueue_close"),
                length: get("bqueue_length"),
                raise: get("bqueue_raise"),
            }
        })
    })
}

/// The OCaml type `int Bqueue.t`, opaque to Rust.
pub enum OcamlBqueue {}

fn int(n: u64) -> OCaml<'static, OCamlInt> {
    assert!(n <= MAX_ITEM, "item {n} does not fit an OCaml int: the harness keeps items below 2^62");
    OCaml::of_i64(n as i64).expect("checked above")
}

fn push_status(code: i64) -> Result<(), QueueError> {
    match code {
        0 => Ok(()),
        c => Err(error(-c)),
    }
}

fn pop_status(code: i64) -> Result<u64, QueueError> {
    if code >= 0 { Ok(code as u64) } else { Err(error(code)) }
}

/// `code` is a negated status code of `ocaml/bq_ffi.ml`.
fn error(code: i64) -> QueueError {
    match -code {
        1 => QueueError::Closed,
        2 => QueueError::Full,
        3 => QueueError::Empty,
        4 => QueueError::Timeout,
        other => panic!("ocaml/bq_ffi.ml returned status {other}, which it does not define"),
    }
}

/// One `int Bqueue.t`, rooted for as long as Rust holds it.
pub struct OcamlQueue {
    root: ManuallyDrop<BoxRoot<OcamlBqueue>>,
}

// SAFETY: the root is only read or dropped with the domain lock held (every method below runs
// inside with_domain_lock), and every Rust thread that calls OCaml joins the same domain.
unsafe impl Send for OcamlQueue {}
unsafe impl Sync for OcamlQueue {}

impl OcamlQueue {
    pub fn new(capacity: usize) -> Option<Self> {
        let f = closures();
        let capacity = int(capacity as u64);
        OCamlRuntime::with_domain_lock(|cr| {
            let q: OCaml<Option<OcamlBqueue>> = f.create.call(cr, &capacity);
            q.to_option().map(|q| OcamlQueue { root: ManuallyDrop::new(BoxRoot::new(q)) })
        })
    }

    fn call1(&self, f: &OCamlClosure) -> i64 {
        OCamlRuntime::with_domain_lock(|cr| {
            let r: OCaml<OCamlInt> = f.call(cr, &self.root);
            r.to_rust()
        })
    }

    fn call2(&self, f: &OCamlClosure, a: u64) -> i64 {
        let a = int(a);
        OCamlRuntime::with_domain_lock(|cr| {
            let r: OCaml<OCamlInt> = f.call2(cr, &self.root, &a);
            r.to_rust()
        })
    }

    fn call3(&self, f: &OCamlClosure, a: u64, b: u64) -> i64 {
        let (a, b) = (int(a), int(b));
        OCamlRuntime::with_domain_lock(|cr| {
            let r: OCaml<OCamlInt> = f.call3(cr, &self.root, &a, &b);
            r.to_rust()
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
        push_status(self.call2(&closures().push, item))
    }
    fn try_push(&self, item: u64) -> Result<(), QueueError> {
        push_status(self.call2(&closures().try_push, item))
    }
    fn push_timeout(&self, item: u64, timeout: Duration) -> Result<(), QueueError> {
        push_status(self.call3(&closures().push_timeout, item, ocaml_timeout(timeout)))
    }
    fn pop(&self) -> Result<u64, QueueError> {
        pop_status(self.call1(&closures().pop))
    }
    fn try_pop(&self) -> Result<u64, QueueError> {
        pop_status(self.call1(&closures().try_pop))
    }
    fn pop_timeout(&self, timeout: Duration) -> Result<u64, QueueError> {
        pop_status(self.call2(&closures().pop_timeout, ocaml_timeout(timeout)))
    }
    fn close(&self) {
        OCamlRuntime::with_domain_lock(|cr| {
            let _: OCaml<()> = closures().close.call(cr, &self.root);
        })
    }
    fn len(&self) -> usize {
        self.call1(&closures().length) as usize
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

/// `ocaml`: `ocaml/bqueue.ml`.
pub struct Ocaml;

impl Impl for Ocaml {
    type Tx = closing::Tx<OcamlQueue>;
    type Rx = closing::Rx<OcamlQueue>;

    fn name(&self) -> &str {
        "ocaml"
    }
    fn traits(&self) -> Traits {
        Traits { explicit_close: true, rendezvous: false, has_len: true, native_push_timeout: true }
    }
    fn make(&self, capacity: usize) -> Result<(Self::Tx, Self::Rx), NewError> {
        let q = OcamlQueue::new(capacity).ok_or_else(|| NewError::ZeroCapacity { name: self.name().into() })?;
        Ok(closing::handles(q))
    }
}
