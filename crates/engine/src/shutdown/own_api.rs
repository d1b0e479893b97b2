//! Shutdown in each language's own terms. The matrix of `mod.rs` goes through the harness
//! interface, whose adapter (`impls/closing.rs`) closes an explicit-close queue when either
//! side's last handle drops, so nearly every cell there is "yes". These probes use each
//! implementation's own API instead: std's and crossbeam's channels, the port's
//! `bq_port::Queue`, C's `c/bq.h` (through `impls/c_abi.rs`) and OCaml's `Bqueue` (through
//! `impls/ocaml.rs`), and show where the languages differ: who closes a queue when a thread
//! dies, whether a refused push gives the item back, what becomes of buffered items.
//!
//! Every probe runs under the watchdog. A probe that expects blocked threads to be released
//! waits [`GRACE`] for them; when they are not, that is the finding, and the probe releases
//! them with the explicit close, so no thread is left blocked. Built-ins only: a plugin
//! exports `c/bq.h`, whose answers are C's.

use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Once};
use std::thread;
use std::time::{Duration, Instant};

use super::{NativeObservation, NativeQuestion, Verdict};
use crate::impls::c_abi::{CQueue, BUILTIN_ABI, SWAP_ABI, VYUKOV_ABI};
use crate::impls::closing::ExplicitQueue;
use crate::impls::ocaml::{raise_in_ocaml, Module, OcamlQueue};
use crate::impls::Builtin;
use crate::queue::QueueError;
use crate::watchdog::within;

/// How long blocked threads get to be released before the probe says they were not.
pub const GRACE: Duration = Duration::from_millis(300);
/// How long one probe may take before it is reported as a hang.
pub const PROBE_LIMIT: Duration = Duration::from_secs(10);
/// Pause that lets waiters reach their blocking call before the probe acts.
const SETTLE: Duration = Duration::from_millis(20);
/// Producers a probe parks on a full queue.
const WAITERS: usize = 2;
/// The name of a probe thread that is meant to die: its panic is the point, not a bug to print.
const DYING: &str = "native-probe: dies";

/// The panic hook stays quiet for the threads a probe kills on purpose and only for them.
fn quiet_dying_threads() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if thread::current().name() != Some(DYING) {
                previous(info)
            }
        }));
    });
}

/// A push the API refused: its own words for why, and the item if it came back.
struct Refused {
    why: String,
    back: Option<u64>,
}

// ANCHOR: tracked
/// An item of a Rust queue that counts its own drops, so a probe sees when the queue (not the
/// caller) dropped it.
struct Tracked {
    n: u64,
    drops: Arc<AtomicUsize>,
}
// ANCHOR_END: tracked

impl Tracked {
    fn new(n: u64, drops: &Arc<AtomicUsize>) -> Tracked {
        Tracked { n, drops: drops.clone() }
    }
    /// The caller has it back: not a drop by the queue.
    fn back(self) -> u64 {
        let me = ManuallyDrop::new(self);
        // SAFETY: `me` is never used or dropped again; its Arc is moved out exactly once.
        drop(unsafe { std::ptr::read(&me.drops) });
        me.n
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// As much of one implementation's own API as the probes need. Explicit-close queues are
/// shared as `Arc`s: every holder can push, pop and close.
trait Native: Sync + 'static {
    type Tx: Send + 'static;
    type Rx: Send + 'static;
    /// The API as its language names it.
    fn api(&self) -> &'static str;
    /// A queue, and the count of items the queue itself dropped (`None`: plain values).
    fn make(&self, capacity: usize) -> (Self::Tx, Self::Rx, Option<Arc<AtomicUsize>>);
    fn clone_tx(&self, tx: &Self::Tx) -> Self::Tx;
    fn push(&self, tx: &Self::Tx, item: u64) -> Result<(), Refused>;
    fn try_push(&self, tx: &Self::Tx, item: u64) -> Result<(), Refused>;
    fn pop(&self, rx: &Self::Rx) -> Result<u64, String>;
    /// `Ok(None)`: empty and open; `Err`: closed, in the API's words.
    fn try_pop(&self, rx: &Self::Rx) -> Result<Option<u64>, String>;
    /// A handle that can close the queue without keeping a channel open: explicit-close
    /// queues only (a channel's sender would keep it open).
    fn closer(&self, tx: &Self::Tx) -> Option<Self::Tx>;
    /// The explicit close; `false` where the API has none.
    fn close(&self, tx: &Self::Tx) -> bool;
    /// Items buffered, where the API can tell.
    fn buffered(&self, tx: &Self::Tx) -> Option<usize>;
    /// What holds for an item passed to a refused push, where the API does not hand it back.
    fn item_note(&self) -> &'static str;
    /// How a thread of this language dies in the middle of its work: "panicked", "raised".
    fn dies(&self) -> &'static str;
    fn die(&self, who: &str) -> !;
}

/// std's and crossbeam's bounded channels have the same shape: one macro, two implementations.
macro_rules! channel {
    ($ty:ident, $api:expr, $new:path, $tx:ty, $rx:ty, $trysend:ident, $tryrecv:ident) => {
        struct $ty;
        impl Native for $ty {
            type Tx = ($tx, Arc<AtomicUsize>);
            type Rx = $rx;
            fn api(&self) -> &'static str {
                $api
            }
            fn make(&self, capacity: usize) -> (Self::Tx, Self::Rx, Option<Arc<AtomicUsize>>) {
                let (tx, rx) = $new(capacity);
                let drops = Arc::new(AtomicUsize::new(0));
                ((tx, drops.clone()), rx, Some(drops))
            }
            fn clone_tx(&self, tx: &Self::Tx) -> Self::Tx {
                (tx.0.clone(), tx.1.clone())
            }
            fn push(&self, tx: &Self::Tx, item: u64) -> Result<(), Refused> {
                tx.0.send(Tracked::new(item, &tx.1))
                    .map_err(|e| Refused { why: "SendError(item)".into(), back: Some(e.0.back()) })
            }
            fn try_push(&self, tx: &Self::Tx, item: u64) -> Result<(), Refused> {
                tx.0.try_send(Tracked::new(item, &tx.1)).map_err(|e| match e {
                    $trysend::Full(t) => Refused { why: "TrySendError::Full(item)".into(), back: Some(t.back()) },
                    $trysend::Disconnected(t) => {
                        Refused { why: "TrySendError::Disconnected(item)".into(), back: Some(t.back()) }
                    }
                })
            }
            fn pop(&self, rx: &Self::Rx) -> Result<u64, String> {
                rx.recv().map(Tracked::back).map_err(|_| "RecvError".into())
            }
            fn try_pop(&self, rx: &Self::Rx) -> Result<Option<u64>, String> {
                match rx.try_recv() {
                    Ok(t) => Ok(Some(t.back())),
                    Err($tryrecv::Empty) => Ok(None),
                    Err($tryrecv::Disconnected) => Err("TryRecvError::Disconnected".into()),
                }
            }
            fn closer(&self, _: &Self::Tx) -> Option<Self::Tx> {
                None
            }
            fn close(&self, _: &Self::Tx) -> bool {
                false
            }
            fn buffered(&self, _: &Self::Tx) -> Option<usize> {
                None
            }
            fn item_note(&self) -> &'static str {
                ""
            }
            fn dies(&self) -> &'static str {
                "panicked"
            }
            fn die(&self, who: &str) -> ! {
                panic!("{who} failed (a probe's deliberate panic)")
            }
        }
    };
}

use crossbeam_channel::{TryRecvError as CbTryRecvError, TrySendError as CbTrySendError};
use std::sync::mpsc::{TryRecvError as StdTryRecvError, TrySendError as StdTrySendError};

channel!(
    StdChannel,
    "std::sync::mpsc::sync_channel",
    mpsc::sync_channel,
    mpsc::SyncSender<Tracked>,
    mpsc::Receiver<Tracked>,
    StdTrySendError,
    StdTryRecvError
);
channel!(
    CrossbeamChannel,
    "crossbeam_channel::bounded",
    crossbeam_channel::bounded,
    crossbeam_channel::Sender<Tracked>,
    crossbeam_channel::Receiver<Tracked>,
    CbTrySendError,
    CbTryRecvError
);

/// The port's queues (`bq_port::Queue<T>` and `bq_port::swap::Queue<T>`), shared with `Arc`,
/// holding items that count their drops: one macro, two implementations.
fn port_error(e: bq_port::Error) -> String {
    format!("Err({e:?})")
}

macro_rules! port {
    ($ty:ident, $api:expr, $queue:ty) => {
        struct $ty;
        impl Native for $ty {
            type Tx = (Arc<$queue>, Arc<AtomicUsize>);
            type Rx = Self::Tx;
            fn api(&self) -> &'static str {
                $api
            }
            fn make(&self, capacity: usize) -> (Self::Tx, Self::Rx, Option<Arc<AtomicUsize>>) {
                let q = Arc::new(<$queue>::new(capacity).expect("capacity at least 1"));
                let drops = Arc::new(AtomicUsize::new(0));
                ((q.clone(), drops.clone()), (q, drops.clone()), Some(drops))
            }
            fn clone_tx(&self, tx: &Self::Tx) -> Self::Tx {
                (tx.0.clone(), tx.1.clone())
            }
            fn push(&self, tx: &Self::Tx, item: u64) -> Result<(), Refused> {
                tx.0.push(Tracked::new(item, &tx.1)).map_err(|e| Refused { why: port_error(e), back: None })
            }
            fn try_push(&self, tx: &Self::Tx, item: u64) -> Result<(), Refused> {
                tx.0.try_push(Tracked::new(item, &tx.1)).map_err(|e| Refused { why: port_error(e), back: None })
            }
            fn pop(&self, rx: &Self::Rx) -> Result<u64, String> {
                rx.0.pop().map(Tracked::back).map_err(port_error)
            }
            fn try_pop(&self, rx: &Self::Rx) -> Result<Option<u64>, String> {
                match rx.0.try_pop() {
                    Ok(t) => Ok(Some(t.back())),
                    Err(bq_port::Error::Empty) => Ok(None),
                    Err(e) => Err(port_error(e)),
                }
            }
            fn closer(&self, tx: &Self::Tx) -> Option<Self::Tx> {
                Some(self.clone_tx(tx))
            }
            fn close(&self, tx: &Self::Tx) -> bool {
                tx.0.close();
                true
            }
            fn buffered(&self, tx: &Self::Tx) -> Option<usize> {
                Some(tx.0.len())
            }
            fn item_note(&self) -> &'static str {
                "the item was moved into push and dropped there"
            }
            fn dies(&self) -> &'static str {
                "panicked"
            }
            fn die(&self, who: &str) -> ! {
                panic!("{who} failed (a probe's deliberate panic)")
            }
        }
    };
}

port!(Port, "bq_port::Queue<T> in an Arc", bq_port::Queue<Tracked>);
port!(SwapPort, "bq_port::swap::Queue<T> in an Arc", bq_port::swap::Queue<Tracked>);

/// tokio's bounded channel through its blocking calls (the probes' threads are plain threads,
/// outside any runtime). The receiver is behind a mutex: its receive takes `&mut self`.
struct TokioChannel;

impl Native for TokioChannel {
    type Tx = (tokio::sync::mpsc::Sender<Tracked>, Arc<AtomicUsize>);
    type Rx = std::sync::Mutex<tokio::sync::mpsc::Receiver<Tracked>>;
    fn api(&self) -> &'static str {
        "tokio::sync::mpsc::channel"
    }
    fn make(&self, capacity: usize) -> (Self::Tx, Self::Rx, Option<Arc<AtomicUsize>>) {
        let (tx, rx) = tokio::sync::mpsc::channel(capacity);
        let drops = Arc::new(AtomicUsize::new(0));
        ((tx, drops.clone()), std::sync::Mutex::new(rx), Some(drops))
    }
    fn clone_tx(&self, tx: &Self::Tx) -> Self::Tx {
        (tx.0.clone(), tx.1.clone())
    }
    fn push(&self, tx: &Self::Tx, item: u64) -> Result<(), Refused> {
        tx.0.blocking_send(Tracked::new(item, &tx.1))
            .map_err(|e| Refused { why: "SendError(item)".into(), back: Some(e.0.back()) })
    }
    fn try_push(&self, tx: &Self::Tx, item: u64) -> Result<(), Refused> {
        use tokio::sync::mpsc::error::TrySendError;
        tx.0.try_send(Tracked::new(item, &tx.1)).map_err(|e| match e {
            TrySendError::Full(t) => Refused { why: "TrySendError::Full(item)".into(), back: Some(t.back()) },
            TrySendError::Closed(t) => Refused { why: "TrySendError::Closed(item)".into(), back: Some(t.back()) },
        })
    }
    fn pop(&self, rx: &Self::Rx) -> Result<u64, String> {
        let mut rx = rx.lock().unwrap_or_else(|p| p.into_inner());
        rx.blocking_recv().map(Tracked::back).ok_or_else(|| "None (closed)".into())
    }
    fn try_pop(&self, rx: &Self::Rx) -> Result<Option<u64>, String> {
        use tokio::sync::mpsc::error::TryRecvError;
        match rx.lock().unwrap_or_else(|p| p.into_inner()).try_recv() {
            Ok(t) => Ok(Some(t.back())),
            Err(TryRecvError::Empty) => Ok(None),
            Err(TryRecvError::Disconnected) => Err("TryRecvError::Disconnected".into()),
        }
    }
    // `Receiver::close` exists, but only the receiver's one holder can call it: no sender can.
    fn closer(&self, _: &Self::Tx) -> Option<Self::Tx> {
        None
    }
    fn close(&self, _: &Self::Tx) -> bool {
        false
    }
    fn buffered(&self, tx: &Self::Tx) -> Option<usize> {
        Some(tx.0.max_capacity() - tx.0.capacity())
    }
    fn item_note(&self) -> &'static str {
        ""
    }
    fn dies(&self) -> &'static str {
        "panicked"
    }
    fn die(&self, who: &str) -> ! {
        panic!("{who} failed (a probe's deliberate panic)")
    }
}

/// A C or OCaml queue through its own operations (`ExplicitQueue`: `c/bq.h` or `Bqueue`,
/// without the adapter), shared with `Arc`. Items are plain values.
struct Values<Q> {
    api: &'static str,
    new: fn(usize) -> Option<Q>,
    /// Its status as its language spells it.
    status: fn(QueueError) -> &'static str,
    item_note: &'static str,
    /// An OCaml thread dies by an exception; a C queue's caller here is a Rust thread.
    raises: bool,
}

impl<Q: ExplicitQueue> Native for Values<Q> {
    type Tx = Arc<Q>;
    type Rx = Arc<Q>;
    fn api(&self) -> &'static str {
        self.api
    }
    fn make(&self, capacity: usize) -> (Self::Tx, Self::Rx, Option<Arc<AtomicUsize>>) {
        let q = Arc::new((self.new)(capacity).expect("capacity at least 1"));
        (q.clone(), q, None)
    }
    fn clone_tx(&self, tx: &Self::Tx) -> Self::Tx {
        tx.clone()
    }
    fn push(&self, tx: &Self::Tx, item: u64) -> Result<(), Refused> {
        tx.push(item).map_err(|e| Refused { why: (self.status)(e).into(), back: Some(item) })
    }
    fn try_push(&self, tx: &Self::Tx, item: u64) -> Result<(), Refused> {
        tx.try_push(item).map_err(|e| Refused { why: (self.status)(e).into(), back: Some(item) })
    }
    fn pop(&self, rx: &Self::Rx) -> Result<u64, String> {
        rx.pop().map_err(|e| (self.status)(e).into())
    }
    fn try_pop(&self, rx: &Self::Rx) -> Result<Option<u64>, String> {
        match rx.try_pop() {
            Ok(x) => Ok(Some(x)),
            Err(QueueError::Empty) => Ok(None),
            Err(e) => Err((self.status)(e).into()),
        }
    }
    fn closer(&self, tx: &Self::Tx) -> Option<Self::Tx> {
        Some(tx.clone())
    }
    fn close(&self, tx: &Self::Tx) -> bool {
        tx.close();
        true
    }
    fn buffered(&self, tx: &Self::Tx) -> Option<usize> {
        Some(tx.len())
    }
    fn item_note(&self) -> &'static str {
        self.item_note
    }
    fn dies(&self) -> &'static str {
        if self.raises {
            "raised"
        } else {
            "panicked"
        }
    }
    fn die(&self, who: &str) -> ! {
        if self.raises {
            raise_in_ocaml(&format!("{who} failed (a probe's deliberate exception)"));
        }
        panic!("{who} failed (a probe's deliberate panic)")
    }
}

fn c_status(e: QueueError) -> &'static str {
    match e {
        QueueError::Closed => "BQ_CLOSED",
        QueueError::Full => "BQ_FULL",
        QueueError::Empty => "BQ_EMPTY",
        QueueError::Timeout => "BQ_TIMEOUT",
    }
}

fn ocaml_status(e: QueueError) -> &'static str {
    match e {
        QueueError::Closed => "Error Closed",
        QueueError::Full => "Error Full",
        QueueError::Empty => "Error Empty",
        QueueError::Timeout => "Error Timeout",
    }
}

const C_NOTE: &str = "passed by value: the caller's copy is untouched (a pointer would still be the caller's to free)";

static C_PTHREAD: Values<CQueue> = Values {
    api: "c/bq.h (c/bq.c)",
    new: |c| CQueue::new(BUILTIN_ABI, c),
    status: c_status,
    item_note: C_NOTE,
    raises: false,
};
static C_VYUKOV: Values<CQueue> = Values {
    api: "c/bq.h (c/bq_vyukov.c)",
    new: |c| CQueue::new(VYUKOV_ABI, c),
    status: c_status,
    item_note: C_NOTE,
    raises: false,
};
static C_SWAP: Values<CQueue> = Values {
    api: "c/bq.h (c/bq_swap.c)",
    new: |c| CQueue::new(SWAP_ABI, c),
    status: c_status,
    item_note: C_NOTE,
    raises: false,
};
static OCAML: Values<OcamlQueue> = Values {
    api: "Bqueue (ocaml/bqueue.ml)",
    new: |c| OcamlQueue::new(Module::Bqueue, c),
    status: ocaml_status,
    item_note: "values are shared, not moved: the caller still holds it",
    raises: true,
};
static OCAML_SWAP: Values<OcamlQueue> = Values {
    api: "Bq_swap (ocaml/bq_swap.ml)",
    new: |c| OcamlQueue::new(Module::BqSwap, c),
    status: ocaml_status,
    item_note: "values are shared, not moved: the caller still holds it",
    raises: true,
};

type Answer = (Verdict, String);

/// Waits until `n` threads reported on `done` or `deadline` passed; what they reported.
fn gather<T>(done: &mpsc::Receiver<T>, n: usize, deadline: Instant) -> Vec<T> {
    let mut got = Vec::with_capacity(n);
    while got.len() < n {
        match done.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(x) => got.push(x),
            Err(_) => break,
        }
    }
    got
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

// ANCHOR: consumer_dies
/// Parks [`WAITERS`] producers on a full queue, then the only consumer dies.
fn producers_released_when_consumer_dies<N: Native>(n: &'static N) -> Answer {
    let (tx, rx, _) = n.make(1);
    n.push(&tx, 0).map_err(|r| r.why).expect("push into an empty queue");
    let (report, done) = mpsc::channel();
    let producers: Vec<_> = (0..WAITERS as u64)
        .map(|i| {
            let (tx, report) = (n.clone_tx(&tx), report.clone());
            thread::spawn(move || {
                let r = n.push(&tx, 1 + i);
                drop(tx);
                let _ = report.send((Instant::now(), r.err().map(|r| r.why)));
            })
        })
        .collect();
    thread::sleep(SETTLE);
    let consumer = thread::Builder::new().name(DYING.into()).spawn(move || {
        let _rx = rx; // dropped while the thread unwinds
        n.die("the consumer")
    });
    let died = Instant::now();
    let _ = consumer.expect("cannot spawn a thread").join(); // an Err: it died, as meant
    let released = gather(&done, WAITERS, died + GRACE);
    let answer = if released.len() == WAITERS {
        let slowest = released.iter().map(|(t, _)| t.saturating_duration_since(died)).max().unwrap_or_default();
        let why = released.iter().find_map(|(_, w)| w.clone()).unwrap_or_else(|| "Ok".into());
        (
            Verdict::Yes,
            format!("{WAITERS} of {WAITERS} released with {why} {} after the consumer {}", ms(slowest), n.dies()),
        )
    } else if n.close(&tx) {
        let rest = gather(&done, WAITERS - released.len(), Instant::now() + PROBE_LIMIT / 2);
        let why = rest.iter().find_map(|(_, w)| w.clone()).unwrap_or_else(|| "?".into());
        (
            Verdict::No,
            format!(
                "{} of {WAITERS} released {} after the consumer {}: nothing closes the queue when a thread dies; \
                 still blocked until the probe's close ({why})",
                released.len(),
                ms(GRACE),
                n.dies()
            ),
        )
    } else {
        (Verdict::Failed, format!("{} of {WAITERS} released and the API has no close", released.len()))
    };
    drop(tx);
    producers.into_iter().for_each(|p| p.join().expect("a producer panicked"));
    answer
}
// ANCHOR_END: consumer_dies

/// Parks the consumer on an empty queue, then the only producer dies.
fn consumer_released_when_producer_dies<N: Native>(n: &'static N) -> Answer {
    let (tx, rx, _) = n.make(1);
    let closer = n.closer(&tx);
    let (report, done) = mpsc::channel();
    let consumer = thread::spawn(move || {
        let r = n.pop(&rx);
        drop(rx);
        let _ = report.send((Instant::now(), r.err()));
    });
    thread::sleep(SETTLE);
    let producer = thread::Builder::new().name(DYING.into()).spawn(move || {
        let _tx = tx;
        n.die("the producer")
    });
    let died = Instant::now();
    let _ = producer.expect("cannot spawn a thread").join();
    let answer = match (gather(&done, 1, died + GRACE).pop(), &closer) {
        (Some((t, why)), _) => (
            Verdict::Yes,
            format!(
                "released with {} {} after the producer {}",
                why.unwrap_or_else(|| "an item".into()),
                ms(t.saturating_duration_since(died)),
                n.dies()
            ),
        ),
        (None, Some(c)) => {
            n.close(c);
            let why = gather(&done, 1, Instant::now() + PROBE_LIMIT / 2)
                .pop()
                .and_then(|(_, w)| w)
                .unwrap_or_else(|| "?".into());
            (
                Verdict::No,
                format!(
                    "still blocked {} after the producer {}: nothing closes the queue when a thread dies; \
                     released by the probe's close ({why})",
                    ms(GRACE),
                    n.dies()
                ),
            )
        }
        (None, None) => (Verdict::Failed, "still blocked and the API has no close".into()),
    };
    drop(closer);
    consumer.join().expect("the consumer panicked");
    answer
}

// ANCHOR: refused
/// A non-blocking push into a full queue, then a push into a closed one.
fn refused_push_returns_item<N: Native>(n: &'static N) -> Answer {
    let (tx, rx, drops) = n.make(1);
    n.push(&tx, 1).map_err(|r| r.why).expect("push into an empty queue");
    let dropped = || drops.as_ref().map(|d| d.load(Ordering::SeqCst));
    let before = dropped();
    let full = n.try_push(&tx, 2);
    let after_full = dropped();
    let rx = if n.close(&tx) {
        Some(rx)
    } else {
        drop(rx) /* a channel closes when its receiver goes */;
        None
    };
    let before_closed = dropped();
    let closed = n.push(&tx, 3);
    let after_closed = dropped();
    drop((tx, rx));
    let say = |r: &Result<(), Refused>, item: u64, d0: Option<usize>, d1: Option<usize>| -> (bool, String) {
        match r {
            Ok(()) => (false, "accepted".into()),
            Err(Refused { why, back: Some(b) }) if *b == item && n.item_note().is_empty() => {
                (true, format!("{why}, the item handed back"))
            }
            Err(Refused { why, back: Some(b) }) if *b == item => (true, format!("{why}; {}", n.item_note())),
            Err(Refused { why, .. }) => {
                let gone = match (d0, d1) {
                    (Some(a), Some(b)) if b > a => format!("; {}", n.item_note()),
                    _ => "; the item is gone".into(),
                };
                (false, format!("{why}{gone}"))
            }
        }
    };
    let (full_back, full_said) = say(&full, 2, before, after_full);
    let (closed_back, closed_said) = say(&closed, 3, before_closed, after_closed);
    let verdict = if full_back && closed_back { Verdict::Yes } else { Verdict::No };
    (verdict, format!("full: {full_said}. closed: {closed_said}"))
}
// ANCHOR_END: refused

/// Three items buffered, then the only consumer leaves (its thread ends normally).
fn buffer_dropped_when_consumers_leave<N: Native>(n: &'static N) -> Answer {
    let (tx, rx, drops) = n.make(4);
    for i in 1..=3 {
        n.push(&tx, i).map_err(|r| r.why).expect("push into a queue with room");
    }
    thread::spawn(move || drop(rx)).join().expect("the consumer panicked");
    let dropped = drops.as_ref().map(|d| d.load(Ordering::SeqCst));
    let still = n.buffered(&tx);
    let next = match n.try_push(&tx, 4) {
        Ok(()) => "the next push is accepted: nothing tells the producer that no consumer is left".to_string(),
        Err(r) => format!("the next push: {}", r.why),
    };
    n.close(&tx);
    match (dropped, still) {
        (Some(3), _) => (Verdict::Yes, format!("3 of 3 dropped as the receiver went; {next}")),
        (_, Some(s)) => (
            Verdict::No,
            format!("{s} still buffered (they live as long as the queue: its last holder frees them); {next}"),
        ),
        (d, None) => (Verdict::No, format!("{} of 3 dropped; {next}", d.unwrap_or(0))),
    }
}

/// Two holders; one drops its handle, then one closes (where the API can).
fn one_holder_closes_for_all<N: Native>(n: &'static N) -> Answer {
    let (tx, rx, _) = n.make(4);
    let other = n.clone_tx(&tx);
    drop(other);
    let after_drop = match n.try_pop(&rx) {
        Ok(None) => "dropping one of two holders left it open".to_string(),
        Ok(Some(_)) => "an item appeared from nowhere".into(),
        Err(e) => format!("dropping one of two holders closed it ({e})"),
    };
    if n.close(&tx) {
        let push = n.try_push(&tx, 1).err().map_or("accepted".into(), |r| r.why);
        let pop = n.try_pop(&rx).err().unwrap_or_else(|| "open".into());
        let yes = push != "accepted" && pop != "open";
        let verdict = if yes { Verdict::Yes } else { Verdict::No };
        (verdict, format!("close by one holder: the other's push says {push}, its pop {pop}; {after_drop}"))
    } else {
        drop(tx);
        let last = match n.try_pop(&rx) {
            Err(e) => format!("it closes when the last sender drops ({e})"),
            Ok(_) => "still open after the last sender dropped".into(),
        };
        (Verdict::No, format!("no close in the API; {after_drop}; {last}"))
    }
}

fn run<N: Native>(name: &str, n: &'static N) -> Vec<NativeObservation> {
    quiet_dying_threads();
    NativeQuestion::ALL
        .iter()
        .map(|&q| {
            let what = format!("{name}: native shutdown probe '{}'", q.text());
            let answer = within(&what, PROBE_LIMIT, move || match q {
                NativeQuestion::ProducersReleasedWhenConsumerDies => producers_released_when_consumer_dies(n),
                NativeQuestion::ConsumerReleasedWhenProducerDies => consumer_released_when_producer_dies(n),
                NativeQuestion::RefusedPushReturnsItem => refused_push_returns_item(n),
                NativeQuestion::BufferDroppedWhenConsumersLeave => buffer_dropped_when_consumers_leave(n),
                NativeQuestion::OneHolderClosesForAll => one_holder_closes_for_all(n),
            });
            let (verdict, detail) = answer.unwrap_or_else(|e| (Verdict::Failed, e.to_string()));
            NativeObservation { implementation: name.into(), api: n.api().into(), question: q, verdict, detail }
        })
        .collect()
}

/// Every native probe on one built-in, in [`NativeQuestion::ALL`]'s order.
pub fn probe_all(b: Builtin) -> Vec<NativeObservation> {
    with_native_api!(b, |n| run(b.name(), n))
}
