//! `tokio`: `tokio::sync::mpsc::channel`, the async runtime's bounded channel, driven from Rust
//! threads through its blocking calls. (Its tasks on a runtime are the native mode: `native`
//! below.) It closes natively when the last `Sender` or the `Receiver` drops.
//!
//! - Several consumers share the one `Receiver` behind a mutex, as `rust-sync-channel` shares
//!   std's: a blocked `pop` holds the mutex, other consumers queue behind it, and `try_pop`
//!   answers `Empty` when another consumer holds the receiver (`Traits::exact_try_pop` false).
//!   tokio hands a freed slot to a waiting sender as a permit before that sender has written
//!   its item, so for a moment the channel is full to `try_send` and empty to `try_recv`
//!   (`bqh validate` found it as a non-linearizable history); `try_pop` waits out that moment.
//!   Unlike std's adapter there is no lock-free path for a sole handle, because a producer's
//!   `close` also takes the receiver (below).
//! - `push` is `blocking_send`, `try_push` is `try_send`, `push_timeout` is tokio's own
//!   `send_timeout`. tokio has no blocking call with a timeout, so the timed calls and the
//!   waiting pops run on a small current-thread runtime of the handle's own (built at its first
//!   use, with the timer only): the timeout then is tokio's timer (1 ms ticks, rounded up), not
//!   a polling loop like std's emulated `push_timeout`, so a waiter sleeps until woken.
//! - The explicit close is tokio's `Receiver::close`: later sends fail, blocked senders wake
//!   with an error, consumers drain what is buffered and then see `Closed`. It takes `&mut
//!   Receiver`, so nothing can be waiting in `recv` when it is called; a waiting consumer
//!   therefore waits in `select!` on the receive and on a close request (the idiomatic tokio
//!   pattern for cancelling a receive), and whoever holds the receiver next closes it. tokio's
//!   `Sender` has no close: a producer's `close` requests the receiver's (it holds a `Weak`,
//!   so producers never keep the receiver alive). The shutdown matrix marks the explicit
//!   close of tokio as supplied by the adapter for that reason.
//! - `pop_many` is `recv_many`: it waits for one item, then takes what is buffered, up to `max`.
//! - `len` is `max_capacity() - capacity()` on the `Sender` (permits taken: buffered items and
//!   sends under way); a consumer reads it through a `WeakSender`, and `Receiver::len` once
//!   every producer is gone.
//! - Capacity 0 makes `channel` panic ("requires buffer > 0"): refused with `NewError` first.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, TryLockError, Weak};
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;
use tokio::sync::mpsc::error::{SendTimeoutError, TryRecvError, TrySendError};
use tokio::sync::mpsc::{Receiver, Sender, WeakSender};
use tokio::sync::Notify;

use crate::queue::{AdapterClose, Consumer, Impl, NewError, Producer, QueueError, Traits, Unsupported};

pub struct Tokio;

pub struct TokioTx {
    tx: Sender<u64>,
    rx: Weak<SharedRx>,
    rt: LocalRuntime,
}

pub struct TokioRx {
    shared: Arc<SharedRx>,
    /// For `len` without the receiver's mutex; weak, so consumers never keep the queue open.
    tx: WeakSender<u64>,
    rt: LocalRuntime,
}

struct SharedRx {
    rx: Mutex<Receiver<u64>>,
    /// The explicit close was asked for: the next holder of the receiver closes it.
    close_requested: AtomicBool,
    /// Wakes the consumer waiting in `recv` while holding the receiver, so that it closes it.
    close_wanted: Notify,
}

/// A handle's own current-thread runtime (timer only), built at its first use: the blocking
/// calls never need it, the timed ones and the waiting pops do.
#[derive(Default)]
struct LocalRuntime(OnceLock<Runtime>);

impl LocalRuntime {
    fn get(&self) -> &Runtime {
        self.0.get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap_or_else(|e| panic!("tokio: cannot build a current-thread runtime for a timed wait: {e}"))
        })
    }
}

impl SharedRx {
    fn lock(&self) -> MutexGuard<'_, Receiver<u64>> {
        // A consumer that panicked left the receiver as tokio keeps it: consistent.
        self.rx.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The explicit close: wakes the consumer waiting on the receiver, then closes it (the
    /// waiter may have done so already; closing twice is a no-op).
    fn close(&self) {
        self.close_requested.store(true, Ordering::SeqCst);
        self.close_wanted.notify_waiters();
        self.lock().close();
    }

    /// Waits for `recv_many(out, max)` until items come, the queue closes, or the explicit
    /// close is asked for (then closes the receiver and takes what is left). 0: closed, drained.
    async fn recv_many(&self, rx: &mut Receiver<u64>, out: &mut Vec<u64>, max: usize) -> usize {
        let wanted = self.close_wanted.notified();
        tokio::pin!(wanted);
        // Registered before the flag is read: a close between the two still wakes this wait.
        wanted.as_mut().enable();
        if !self.close_requested.load(Ordering::SeqCst) {
            tokio::select! {
                biased;
                n = rx.recv_many(out, max) => return n,
                () = &mut wanted => {}
            }
        }
        rx.close();
        rx.recv_many(out, max).await
    }
}

impl Clone for TokioTx {
    fn clone(&self) -> Self {
        TokioTx { tx: self.tx.clone(), rx: self.rx.clone(), rt: LocalRuntime::default() }
    }
}

impl Clone for TokioRx {
    fn clone(&self) -> Self {
        TokioRx { shared: self.shared.clone(), tx: self.tx.clone(), rt: LocalRuntime::default() }
    }
}

/// A deadline `timeout` from now; `None` when it is too far for an `Instant` (never comes).
fn deadline(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

fn left(deadline: Option<Instant>) -> Duration {
    deadline.map_or(Duration::MAX, |d| d.saturating_duration_since(Instant::now()))
}

impl Producer for TokioTx {
    #[inline]
    fn push(&self, item: u64) -> Result<(), QueueError> {
        self.tx.blocking_send(item).map_err(|_| QueueError::Closed)
    }
    #[inline]
    fn try_push(&self, item: u64) -> Result<(), QueueError> {
        self.tx.try_send(item).map_err(|e| match e {
            TrySendError::Full(_) => QueueError::Full,
            TrySendError::Closed(_) => QueueError::Closed,
        })
    }
    fn push_timeout(&self, item: u64, timeout: Duration) -> Result<(), QueueError> {
        match self.try_push(item) {
            Err(QueueError::Full) => {}
            done => return done,
        }
        // tokio::time::timeout takes a timeout too long for an Instant as "no deadline".
        self.rt.get().block_on(self.tx.send_timeout(item, timeout)).map_err(|e| match e {
            SendTimeoutError::Timeout(_) => QueueError::Timeout,
            SendTimeoutError::Closed(_) => QueueError::Closed,
        })
    }
    fn close(&self) -> Result<(), Unsupported> {
        // No receiver left: the queue is closed already.
        if let Some(shared) = self.rx.upgrade() {
            shared.close();
        }
        Ok(())
    }
    fn len(&self) -> Option<usize> {
        Some(self.tx.max_capacity() - self.tx.capacity())
    }
}

impl TokioRx {
    /// `recv_many` on the receiver, waiting at most `timeout` (`None`: for good) for the mutex
    /// and the first item. `Ok(0)` only for `max` 0.
    fn receive(&self, max: usize, out: &mut Vec<u64>, timeout: Option<Duration>) -> Result<usize, QueueError> {
        if max == 0 {
            return Ok(0);
        }
        let deadline = timeout.map(deadline);
        let mut rx = self.shared.lock();
        if max == 1 {
            // One item, as `pop`: try first, the runtime only when it must wait.
            match rx.try_recv() {
                Ok(item) => {
                    out.push(item);
                    return Ok(1);
                }
                Err(TryRecvError::Disconnected) => return Err(QueueError::Closed),
                Err(TryRecvError::Empty) => {}
            }
        }
        let wait = self.shared.recv_many(&mut rx, out, max);
        let n = match deadline {
            None => self.rt.get().block_on(wait),
            Some(d) => {
                let rt = self.rt.get();
                rt.block_on(async { tokio::time::timeout(left(d), wait).await }).map_err(|_| QueueError::Timeout)?
            }
        };
        if n == 0 {
            Err(QueueError::Closed)
        } else {
            Ok(n)
        }
    }
}

impl Consumer for TokioRx {
    #[inline]
    fn pop(&self) -> Result<u64, QueueError> {
        let mut got = Vec::with_capacity(1);
        self.receive(1, &mut got, None)?;
        Ok(got[0])
    }
    #[inline]
    fn try_pop(&self) -> Result<u64, QueueError> {
        let mut rx = match self.shared.rx.try_lock() {
            Ok(rx) => rx,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            // A close holds the receiver only for a moment (a waiting consumer lets go of it).
            Err(TryLockError::WouldBlock) if self.shared.close_requested.load(Ordering::SeqCst) => self.shared.lock(),
            // Another consumer holds the receiver: from here nothing can be taken now.
            Err(TryLockError::WouldBlock) => return Err(QueueError::Empty),
        };
        loop {
            match rx.try_recv() {
                Ok(item) => return Ok(item),
                Err(TryRecvError::Disconnected) => return Err(QueueError::Closed),
                // A slot freed by a pop goes straight to a waiting sender as a permit: from then
                // the channel is full to `try_send`, but the item is written only when that
                // sender's thread runs. Until then tokio says empty (also once closed); the push
                // has happened as far as every other call can tell, so wait the moment it takes.
                Err(TryRecvError::Empty) if rx.capacity() < rx.max_capacity() => std::thread::yield_now(),
                Err(TryRecvError::Empty) => return Err(QueueError::Empty),
            }
        }
    }
    fn pop_timeout(&self, timeout: Duration) -> Result<u64, QueueError> {
        let mut got = Vec::with_capacity(1);
        self.receive(1, &mut got, Some(timeout))?;
        Ok(got[0])
    }
    fn pop_many(&self, max: usize, out: &mut Vec<u64>) -> Result<usize, QueueError> {
        self.receive(max, out, None)
    }
    fn close(&self) -> Result<(), Unsupported> {
        self.shared.close();
        Ok(())
    }
    fn len(&self) -> Option<usize> {
        match self.tx.upgrade() {
            Some(tx) => Some(tx.max_capacity() - tx.capacity()),
            // Every producer is gone: nobody waits long on the receiver now (it holds items or
            // says closed), so its mutex is free soon.
            None => Some(self.shared.lock().len()),
        }
    }
}

impl Impl for Tokio {
    type Tx = TokioTx;
    type Rx = TokioRx;

    fn name(&self) -> &str {
        super::Builtin::Tokio.name()
    }
    fn traits(&self) -> Traits {
        Traits {
            explicit_close: true,
            rendezvous: false,
            has_len: true,
            native_push_timeout: true,
            exact_try_pop: false,
        }
    }
    fn adapter_close(&self) -> AdapterClose {
        AdapterClose::Explicit
    }
    fn make(&self, capacity: usize) -> Result<(TokioTx, TokioRx), NewError> {
        if capacity == 0 {
            // tokio::sync::mpsc::channel(0) panics.
            return Err(NewError::ZeroCapacity { name: self.name().into() });
        }
        let (tx, rx) = tokio::sync::mpsc::channel(capacity);
        let shared = Arc::new(SharedRx {
            rx: Mutex::new(rx),
            close_requested: AtomicBool::new(false),
            close_wanted: Notify::new(),
        });
        let rx = TokioRx { shared, tx: tx.downgrade(), rt: LocalRuntime::default() };
        Ok((TokioTx { tx, rx: Arc::downgrade(&rx.shared), rt: LocalRuntime::default() }, rx))
    }
}

/// The native mode: producers and consumers are tokio tasks on a multi-thread runtime with one
/// worker thread per core, on the same channel, running the same program as `driven.rs` and
/// the C and OCaml runners (counted push and pop, `producer`, `consumer`, `run_seq`, then the
/// run that starts them behind one gate and merges what they counted).
///
/// The known pitfall of measuring tokio: a receiver awaited inside `block_on` runs on the
/// calling thread, outside the runtime's workers, so the consumer would not be a task like the
/// others and every hand-off to it would cross threads. Here every producer and consumer is a
/// spawned task; `block_on` only waits for every task to be ready, reads the clocks, opens the
/// start gate and awaits the join handles.
///
/// Tasks are not threads: they move between the runtime's workers, so they have no CPU clock
/// of their own. The run's clock is therefore the controller's, started once every task waits at
/// the gate (before any can work) and stopped after the last one ended, and its threads' CPU
/// time is the runtime workers' over the same window.
pub mod native {
    use std::future::{poll_fn, Future};
    use std::pin::pin;
    use std::sync::Arc;
    use std::task::Poll;
    use std::time::Instant;

    use tokio::sync::mpsc::{Receiver, Sender};
    use tokio::sync::{watch, Mutex, Semaphore};

    use crate::measure::{item, now_ns, spin_work, Delivery, SideStats, Tally};
    use crate::runner::{tally, ConsumerOut, ProducerOut};
    use crate::workloads::{RunSpec, Workload};

    /// The most producers and consumers together a native run takes: tasks cost a few hundred
    /// bytes each, so the limit is the run's bookkeeping, not the runtime.
    pub const MAX_TASKS: u64 = 100_000;

    /// Awaits `op`, counting one operation, and a wait (timed until it completes) when its first
    /// poll was not ready: the async form of the other runners' try-first counting, which keeps
    /// tokio's own `send`/`recv` (and its cooperative budget: a yield it forces counts as a wait).
    async fn counted<F: Future>(op: F, st: &mut SideStats) -> F::Output {
        st.ops += 1;
        let mut op = pin!(op);
        let mut waited: Option<Instant> = None;
        let out = poll_fn(|cx| match op.as_mut().poll(cx) {
            Poll::Ready(v) => Poll::Ready(v),
            Poll::Pending => {
                waited.get_or_insert_with(Instant::now);
                Poll::Pending
            }
        })
        .await;
        if let Some(t) = waited {
            st.waits += 1;
            st.blocked += t.elapsed();
        }
        out
    }

    /// A consumer's receiver: its own when it is the only one, else shared behind tokio's
    /// mutex (the async form of the driven adapter's).
    enum Rx {
        Sole(Receiver<u64>),
        Shared(Arc<Mutex<Receiver<u64>>>),
    }

    impl Rx {
        /// The next item (`None`: closed and drained), and the length when `sample`.
        async fn recv(&mut self, sample: bool) -> (Option<u64>, Option<usize>) {
            match self {
                Rx::Sole(rx) => {
                    let x = rx.recv().await;
                    (x, sample.then(|| rx.len()))
                }
                Rx::Shared(m) => {
                    let mut rx = m.lock().await;
                    let x = rx.recv().await;
                    (x, sample.then(|| rx.len()))
                }
            }
        }
    }

    /// The start gate: each task says it is ready, then waits until the controller opens it.
    pub struct Gate {
        ready: Semaphore,
        open: watch::Receiver<bool>,
    }

    impl Gate {
        async fn wait(&self) {
            self.ready.add_permits(1);
            let mut open = self.open.clone();
            // An error means the controller is gone: the run is over anyway.
            let _ = open.wait_for(|&o| o).await;
        }
    }

    /// What every task shares: the run of `driven.rs`, behind the gate.
    type Run = crate::runner::Run<Gate>;

    /// The CPU clocks of the runtime's worker threads, registered as each starts.
    #[derive(Clone, Default)]
    struct WorkerClocks(Arc<std::sync::Mutex<Vec<libc::clockid_t>>>);

    impl WorkerClocks {
        /// In a worker thread, as it starts.
        fn register(&self) {
            let mut id: libc::clockid_t = 0;
            // SAFETY: pthread_self is this live thread; the call writes its CPU clock's id.
            if unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut id) } == 0 {
                self.0.lock().unwrap_or_else(|e| e.into_inner()).push(id);
            }
        }

        /// Every registered worker's CPU time now, in nanoseconds, by clock.
        fn read(&self) -> Vec<(libc::clockid_t, u64)> {
            let ids = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
            ids.into_iter()
                .map(|id| {
                    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
                    // SAFETY: the id is a live worker's (workers live as long as the runtime).
                    unsafe { libc::clock_gettime(id, &mut ts) };
                    (id, ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
                })
                .collect()
        }

        /// CPU time the workers used between two readings (a worker first seen in `after`
        /// counts from its start).
        fn used(before: &[(libc::clockid_t, u64)], after: &[(libc::clockid_t, u64)]) -> u64 {
            after
                .iter()
                .map(|(id, t)| t.saturating_sub(before.iter().find(|(b, _)| b == id).map_or(0, |(_, t0)| *t0)))
                .sum()
        }
    }

    async fn producer(run: Arc<Run>, tx: Sender<u64>, id: u64) -> ProducerOut {
        let s = &run.spec;
        let mut out = ProducerOut::default();
        let burst = s.workload.burst();
        run.start.wait().await;
        for seq in 0..s.per_producer() {
            run.pushing(id, seq);
            if counted(tx.send(item(id, seq)), &mut out.stats).await.is_err() {
                out.refused(id, seq, "closed");
                break;
            }
            if let Some((n, pause)) = burst {
                if (seq + 1) % n == 0 {
                    // tokio's timer: 1 ms ticks, so a 100 µs pause lasts about 1 ms.
                    tokio::time::sleep(pause).await;
                }
            }
        }
        out
    }

    async fn consumer(run: Arc<Run>, mut rx: Rx) -> ConsumerOut {
        let s = &run.spec;
        let mut out = ConsumerOut::new(s);
        let work = s.consumer_work_ns();
        let occupancy_mask = s.sampling.occupancy_mask();
        run.start.wait().await;
        loop {
            let sample = s.sampling.observe && (out.stats.ops + 1) & occupancy_mask == 0;
            let (got, len) = counted(rx.recv(sample), &mut out.stats).await;
            let Some(it) = got else { break };
            out.received(&run, it);
            out.max_len = out.max_len.max(len);
            if work > 0 {
                spin_work(work);
            }
        }
        out.stats.ops -= 1; // the final receive said closed and delivered nothing
        out
    }

    /// `seq`: one task fills the channel to capacity, then drains it, until all items went through.
    async fn run_seq(spec: RunSpec) -> Tally {
        let (tx, mut rx) = tokio::sync::mpsc::channel(spec.capacity);
        let n = spec.total_items();
        let mut delivery = Delivery::sole(1, n);
        let (mut push, mut pop) = (SideStats::default(), SideStats::default());
        let mut max_len = None;
        let mut failed = None;
        let mut next = 0;
        'run: while next < n {
            let batch = (spec.capacity as u64).min(n - next);
            for seq in next..next + batch {
                if counted(tx.send(item(0, seq)), &mut push).await.is_err() {
                    failed = Some(format!("seq: push of item {seq} returned closed while the queue was open"));
                    break 'run;
                }
            }
            if spec.sampling.observe {
                max_len = max_len.max(Some(rx.len()));
            }
            for _ in 0..batch {
                match counted(rx.recv(), &mut pop).await {
                    Some(it) => delivery.record(it),
                    None => {
                        failed = Some("seq: a pop returned closed with items buffered".to_string());
                        break 'run;
                    }
                }
            }
            next += batch;
        }
        let delivery = failed.map_or_else(|| Delivery::verdict(vec![delivery]), Err);
        // Timed by the caller, as the other runs are: the task may move between workers.
        Tally {
            seconds: f64::NAN,
            cpu: Default::default(),
            threads_cpu: None,
            push,
            pop,
            max_occupancy: max_len,
            latencies_ns: Vec::new(),
            delivery,
        }
    }

    async fn run_tasks(spec: RunSpec, clocks: WorkerClocks) -> anyhow::Result<Tally> {
        let (tx, rx) = tokio::sync::mpsc::channel(spec.capacity);
        let (open, gate) = watch::channel(false);
        let run = Arc::new(Run::new(spec, Gate { ready: Semaphore::new(0), open: gate }, ()));
        let producers: Vec<_> =
            (0..spec.producers).map(|p| tokio::spawn(producer(run.clone(), tx.clone(), p))).collect();
        drop(tx); // the producers' clones are the only ones: the last to finish closes the channel
        let consumers: Vec<_> = if spec.consumers == 1 {
            vec![tokio::spawn(consumer(run.clone(), Rx::Sole(rx)))]
        } else {
            let shared = Arc::new(Mutex::new(rx));
            (0..spec.consumers).map(|_| tokio::spawn(consumer(run.clone(), Rx::Shared(shared.clone())))).collect()
        };

        // Every task waits at the gate: nothing has started, so the clocks can.
        let tasks = (spec.producers + spec.consumers) as u32;
        run.start.ready.acquire_many(tasks).await.map_err(|e| anyhow::anyhow!("the start gate: {e}"))?.forget();
        // The wall clock outside the CPU clocks, as in measure::SpanClock.
        let t0 = now_ns();
        let cpu0 = clocks.read();
        open.send_replace(true);
        let mut produced = Vec::new();
        for (p, h) in producers.into_iter().enumerate() {
            produced.push(h.await.map_err(|e| anyhow::anyhow!("producer task {p}: {e}"))?);
        }
        let mut consumed = Vec::new();
        for (c, h) in consumers.into_iter().enumerate() {
            consumed.push(h.await.map_err(|e| anyhow::anyhow!("consumer task {c}: {e}"))?);
        }
        let cpu = WorkerClocks::used(&cpu0, &clocks.read());
        let seconds = now_ns().saturating_sub(t0).max(1) as f64 * 1e-9;

        // The caller measures the process's CPU time (`native_runners.rs`).
        let mut t = tally(&spec, Default::default(), produced, consumed);
        t.seconds = seconds;
        t.threads_cpu = Some(std::time::Duration::from_nanos(cpu));
        Ok(t)
    }

    /// Runs `spec` once as tasks on a fresh multi-thread runtime with one worker per core. The
    /// caller measures CPU time and sets a deadline.
    pub fn run(spec: &RunSpec) -> anyhow::Result<Tally> {
        if spec.capacity == 0 {
            anyhow::bail!("tokio's channel has no rendezvous mode: capacity must be at least 1");
        }
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        let clocks = WorkerClocks::default();
        let registering = clocks.clone();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .on_thread_start(move || registering.register())
            .enable_time()
            .build()
            .map_err(|e| anyhow::anyhow!("cannot build a tokio runtime with {workers} workers: {e}"))?;
        let spec = *spec;
        if spec.workload == Workload::Seq {
            // One task, not the calling thread: the same pitfall as for the consumers.
            return rt.block_on(async {
                let t0 = now_ns();
                let cpu0 = clocks.read();
                let mut t = tokio::spawn(run_seq(spec)).await.map_err(|e| anyhow::anyhow!("the seq task: {e}"))?;
                let cpu = WorkerClocks::used(&cpu0, &clocks.read());
                t.seconds = now_ns().saturating_sub(t0).max(1) as f64 * 1e-9;
                t.threads_cpu = Some(std::time::Duration::from_nanos(cpu));
                Ok(t)
            });
        }
        rt.block_on(run_tasks(spec, clocks))
    }
}
