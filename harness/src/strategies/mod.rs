//! The strategies study (`bqh strategies`, `make strategies`): what each answer to a full queue
//! costs on the same workload. The slow-consumer, fan-in and bursty shapes run under every
//! [`Policy`] (block, drop, timeout-drop, natural-batch, semaphore) on every implementation,
//! driven from Rust threads; then the pipeline (`pipeline.rs`). Every run accounts for every
//! item (`StrategyRow::new`, `rows.rs`). Runs are sized by time and repeated by the engine's
//! scheduler (`schedule.rs`: a pilot, a warm-up, the repetitions); the report is `report.rs`.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::bail;
use serde::Serialize;

use bq_engine::impls::Builtin;
use bq_engine::measure::{cpu_since, cpu_time, item, payload_item, spin_work, take_payload, Delivery, SideStats};
use bq_engine::memory::{payload, peak_rss_bytes, reset_peak_rss};
use bq_engine::queue::{Consumer, Impl, Producer, QueueError};
use bq_engine::runner::{self, waited, ConsumerOut};
use bq_engine::schedule::{self, Length, Measurable, Outcome, Schedule, Scheduler};
use bq_engine::sizing::{self, Sizing};
use bq_engine::watchdog::{join_all, within};
use bq_engine::workloads::{RunSpec, Workload};
use bq_results::Claim;

use crate::shared_flags::{Defaults, RunArgs};
use crate::study::{self, Study};
use pipeline::run_pipeline;
use policy::{Policy, Variant};
use rows::{PipelineRow, PipelineSpec, StrategyRow, StrategyTally};

pub mod pipeline;
pub mod policy;
pub mod report;
pub mod rows;

crate::study::declare!(
    /// `bqh strategies`, one of [`crate::STUDIES`].
    Strategies,
    "strategies",
    "Backpressure strategies (block, drop, timeout-drop, natural-batch, semaphore) and a pipeline"
);

/// The largest payload per item: 1 MiB.
pub const MAX_PAYLOAD: usize = 1 << 20;

/// The shapes the study runs: a slow consumer, many producers, bursts.
pub const SHAPES: [Workload; 3] = [Workload::SlowConsumer, Workload::FanIn, Workload::Bursty];

/// The shared flags' defaults.
pub const DEFAULTS: Defaults = Defaults {
    impls: &[],
    plugins: false,
    run_ms: [60, 20],
    reps: Some([9, 3]),
    budget: Some([170, 40]),
    out: "results/latest-strategies",
};

/// What `bqh strategies --help` says after the flags: the policies, the pipeline, the defaults.
fn strategies_help() -> String {
    format!(
        "{}\n\n{}",
        "\
Policies (--policy):
  block               push: wait while the queue is full
  drop                try_push: a full queue drops the item (counted)
  timeout-drop-100us  push_timeout(100 µs), then drop
  timeout-drop-1ms    push_timeout(1 ms), then drop
  natural-batch       producers push; the consumer takes pop_many(--batch): one blocking pop,
                      then what is buffered, up to k items
  semaphore           a counting semaphore of --permits bounds the items between a producer's
                      acquire (before push) and the consumer's release (after processing)

Then the pipeline: parse -> queue -> transform -> queue -> write, both queues of one
implementation, balanced, with the write stage slowed, and with the middle queue unbounded.
Every run checks that accepted + dropped = produced and that each accepted item is delivered
exactly once; a failure is listed at the top of summary.md and the exit status is 1.",
        DEFAULTS.help()
    )
}

#[derive(Debug, Clone, clap::Args, Serialize)]
#[command(after_help = strategies_help())]
pub struct Args {
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
    /// Workload shapes, comma-separated [default: slow-consumer,fan-in,bursty]
    #[arg(long = "workload", value_enum, value_delimiter = ',')]
    pub workloads: Vec<Workload>,
    /// Policies, comma-separated [default: all]
    #[arg(long = "policy", value_enum, value_delimiter = ',')]
    pub policies: Vec<Policy>,
    /// Queue capacities, comma-separated (also the pipeline's two queues)
    #[arg(long = "capacity", value_delimiter = ',', default_values_t = [16])]
    pub capacities: Vec<usize>,
    /// natural-batch: the most items one pop_many takes (k)
    #[arg(long, value_name = "K", default_value_t = 32)]
    pub batch: usize,
    /// semaphore: the permits [default: the capacity]
    #[arg(long)]
    pub permits: Option<usize>,
    /// Bytes of each item's payload (allocated by the producer, freed by the consumer, counted
    /// as live bytes in between), 8 to 1048576
    #[arg(long, value_name = "BYTES", default_value_t = 1024)]
    pub payload: usize,
    /// Skip the pipeline
    #[arg(long)]
    pub no_pipeline: bool,
    /// Skip the policies (run the pipeline only)
    #[arg(long)]
    pub no_policies: bool,
}

/// One configuration of a policy run.
#[derive(Debug, Clone, Copy)]
pub struct StrategySpec {
    pub run: RunSpec,
    pub policy: Policy,
    /// natural-batch's k.
    pub batch: usize,
    /// semaphore's permits.
    pub permits: usize,
    /// Bytes of each item's payload (`measure::payload_item`).
    pub payload: usize,
}

impl StrategySpec {
    fn batch_column(&self) -> Option<usize> {
        (self.policy == Policy::NaturalBatch).then_some(self.batch)
    }

    fn permits_column(&self) -> Option<usize> {
        (self.policy == Policy::Semaphore).then_some(self.permits)
    }

    /// Items a consumer holds at once after a take.
    pub fn take(&self) -> usize {
        if self.policy == Policy::NaturalBatch {
            self.batch
        } else {
            1
        }
    }
}

/// A counting semaphore. std has none (and the `std-semaphore` crate is deprecated); tokio's
/// waits only in async code. `close` wakes every waiter with a refusal, so producers do not
/// wait for good on a consumer that died.
pub struct Semaphore {
    state: Mutex<(usize, bool)>, // (free permits, closed)
    freed: Condvar,
}

impl Semaphore {
    pub fn new(permits: usize) -> Semaphore {
        Semaphore { state: Mutex::new((permits, false)), freed: Condvar::new() }
    }

    /// Takes a permit if one is free, never waits.
    pub fn try_acquire(&self) -> bool {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if s.0 > 0 && !s.1 {
            s.0 -= 1;
            return true;
        }
        false
    }

    /// Waits for a permit; false once closed.
    pub fn acquire(&self) -> bool {
        let s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut s = self.freed.wait_while(s, |s| s.0 == 0 && !s.1).unwrap_or_else(PoisonError::into_inner);
        if s.1 {
            return false;
        }
        s.0 -= 1;
        true
    }

    pub fn release(&self) {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).0 += 1;
        self.freed.notify_one();
    }

    pub fn close(&self) {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).1 = true;
        self.freed.notify_all();
    }
}

/// What the threads of a policy run share beyond the runner's (`bq_engine::runner::Run`: the
/// spec, the gate, the clock, the sampled push times): the policy, and for the semaphore policy
/// the semaphore and the in-flight count that checks it.
struct Policing {
    spec: StrategySpec,
    semaphore: Option<Semaphore>,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
}

type Run = runner::Run<Barrier, Policing>;

struct ProducerOut {
    offers: SideStats,
    accepted: u64,
    dropped: u64,
    /// Bit s: this producer dropped its item s.
    dropped_bits: Vec<u64>,
    failed: Option<String>,
}

/// Closes the semaphore when the consumer ends, however it ends (a panic included).
struct CloseOnDrop<'a>(Option<&'a Semaphore>);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.0 {
            s.close();
        }
    }
}

/// One offer under the policy: `Ok(true)` accepted, `Ok(false)` dropped. Like the comparison's
/// runners, it tries first, so that only an offer that found the queue full is counted as a
/// wait and timed.
#[inline]
fn offer<P: Producer>(tx: &P, it: u64, policy: Policy, st: &mut SideStats) -> Result<bool, QueueError> {
    st.ops += 1;
    match (tx.try_push(it), policy.timeout()) {
        (Ok(()), _) => Ok(true),
        (Err(QueueError::Full), None) if policy == Policy::Drop => Ok(false),
        (Err(QueueError::Full), None) => waited(st, || tx.push(it)).map(|()| true),
        (Err(QueueError::Full), Some(d)) => match waited(st, || tx.push_timeout(it, d)) {
            Ok(()) => Ok(true),
            Err(QueueError::Timeout) => Ok(false),
            Err(e) => Err(e),
        },
        (Err(e), _) => Err(e),
    }
}

fn producer<P: Producer>(run: &Run, tx: &P, id: u64) -> ProducerOut {
    let (s, p) = (&run.spec, &run.extra);
    let per = s.per_producer();
    let mut out = ProducerOut {
        offers: SideStats::default(),
        accepted: 0,
        dropped: 0,
        dropped_bits: vec![0; per.div_ceil(64) as usize],
        failed: None,
    };
    let burst = s.workload.burst();
    run.start.wait();
    for seq in 0..per {
        run.pushing(id, seq);
        if let Some(sem) = &p.semaphore {
            if !sem.try_acquire() && !waited(&mut out.offers, || sem.acquire()) {
                out.failed =
                    Some(format!("producer {id}: the semaphore closed before item {seq}: the consumer ended early"));
                break;
            }
            let n = p.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
            p.max_in_flight.fetch_max(n, Ordering::Relaxed);
        }
        let it = payload_item(item(id, seq), p.spec.payload);
        let offered = offer(tx, it, p.spec.policy, &mut out.offers);
        if !matches!(offered, Ok(true)) {
            // SAFETY: made above and not enqueued: this producer still owns it.
            unsafe { take_payload(it, p.spec.payload) };
        }
        match offered {
            Ok(true) => out.accepted += 1,
            Ok(false) => {
                out.dropped += 1;
                out.dropped_bits[(seq / 64) as usize] |= 1 << (seq % 64);
            }
            Err(e) => {
                out.failed = Some(format!("producer {id}: push of item {seq} returned {e} while the queue was open"));
                break;
            }
        }
        if let Some((n, pause)) = burst {
            if (seq + 1) % n == 0 {
                thread::sleep(pause);
            }
        }
    }
    out
}

fn consumer<C: Consumer>(run: &Run, rx: &C, has_len: bool) -> ConsumerOut {
    let p = &run.extra;
    let _close = CloseOnDrop(p.semaphore.as_ref());
    let (spec, s) = (&p.spec, &run.spec);
    // Its `stats.ops` counts the calls to `pop` or `pop_many` that delivered.
    let mut out = ConsumerOut::new(s);
    // Drops leave gaps, which only the bitmap record tells from losses.
    out.receipt = runner::Receipt::Exact(Delivery::new(s.producers, s.per_producer()));
    let work = s.consumer_work_ns();
    let occupancy_mask = s.sampling.occupancy_mask();
    let batch = if spec.policy == Policy::NaturalBatch { spec.batch } else { 1 };
    let mut taken = Vec::with_capacity(batch);
    run.start.wait();
    loop {
        // The length the consumer finds before it takes (after a batch took all, it would be 0).
        if has_len && out.stats.ops & occupancy_mask == 0 {
            out.max_len = out.max_len.max(rx.len());
        }
        let got =
            if batch > 1 { rx.pop_many(batch, &mut taken).map(|_| ()) } else { rx.pop().map(|it| taken.push(it)) };
        if got.is_err() {
            break; // closed and drained: the only error a blocking pop returns
        }
        out.stats.ops += 1;
        for &taken_item in &taken {
            // SAFETY: every item is a payload made by a producer and taken once, here.
            let it = unsafe { take_payload(taken_item, spec.payload) };
            // Latency ends where processing starts: a batch's later items waited for the earlier ones.
            out.received(run, it);
            if work > 0 {
                spin_work(work);
            }
            if let Some(sem) = &p.semaphore {
                p.in_flight.fetch_sub(1, Ordering::Relaxed);
                sem.release();
            }
        }
        taken.clear();
    }
    out
}

fn run_threads<I: Impl>(imp: &I, spec: StrategySpec) -> anyhow::Result<StrategyTally> {
    let s = spec.run;
    let (tx, rx) = imp.bounded(s.capacity)?;
    let policing = Policing {
        spec,
        semaphore: (spec.policy == Policy::Semaphore).then(|| Semaphore::new(spec.permits)),
        in_flight: AtomicU64::new(0),
        max_in_flight: AtomicU64::new(0),
    };
    let run = Arc::new(Run::new(s, Barrier::new(runner::parties(&s)), policing));
    let producers = runner::spawn_each("producer", s.producers, |p| {
        let (run, tx) = (run.clone(), tx.clone());
        move || producer(&run, &tx, p)
    });
    drop(tx);
    let has_len = imp.traits().has_len;
    let consumers = runner::spawn_each("consumer", s.consumers, |_| {
        let (run, rx) = (run.clone(), rx.clone());
        move || consumer(&run, &rx, has_len)
    });
    drop(rx);

    let rss = reset_peak_rss();
    let live_before = payload::live_bytes();
    payload::reset_peak();
    let cpu0 = cpu_time();
    // The clock starts before the gate opens: a main thread descheduled after it would
    // otherwise start the clock after the producers and shorten the run.
    let t0 = Instant::now();
    run.start.wait();
    let produced = join_all("producers", producers)?;
    let consumed = join_all("consumers", consumers)?;
    let seconds = t0.elapsed().as_secs_f64();
    let cpu = cpu_since(cpu0);
    let peak_rss = if rss { peak_rss_bytes() } else { None };
    let peak_live = payload::peak_live_bytes().saturating_sub(live_before);

    let (mut push, mut accepted, mut dropped, mut failed, mut dropped_bits) =
        (SideStats::default(), 0, 0, None, Vec::new());
    for p in produced {
        push.add(&p.offers);
        accepted += p.accepted;
        dropped += p.dropped;
        failed = failed.or(p.failed);
        dropped_bits.push(p.dropped_bits);
    }
    // The consumers' ops are their calls to `pop` or `pop_many` that delivered.
    let runner::Consumed { pop, max_occupancy, latencies_ns, receipts, .. } = runner::merge_consumers(consumed);
    let deliveries = receipts
        .into_iter()
        .map(|r| match r {
            runner::Receipt::Exact(d) => d,
            runner::Receipt::Checksum(_) => unreachable!("the consumers above keep bitmap records"),
        })
        .collect();
    let (delivered, delivery) = match failed {
        Some(e) => (0, Err(e)),
        None => match Delivery::verdict_with_drops(deliveries, &dropped_bits) {
            Ok(n) => (n, Ok(())),
            Err(e) => (0, Err(e)),
        },
    };
    Ok(StrategyTally {
        seconds,
        cpu,
        produced: s.total_items(),
        accepted,
        dropped,
        delivered,
        push,
        pop_calls: pop.ops,
        max_occupancy,
        max_in_flight: run.extra.semaphore.as_ref().map(|_| run.extra.max_in_flight.load(Ordering::Relaxed)),
        latencies_ns,
        peak_rss_bytes: peak_rss,
        peak_live_bytes: Some(peak_live),
        delivery,
    })
}

/// Why this configuration cannot run, if it cannot.
pub fn check(spec: &StrategySpec) -> Result<(), String> {
    spec.run.check()?;
    if spec.run.workload == Workload::Seq {
        return Err("seq runs on one thread: a policy needs producers and consumers".into());
    }
    if spec.policy == Policy::NaturalBatch && spec.batch == 0 {
        return Err("--batch 0: pop_many needs k of at least 1".into());
    }
    if spec.policy == Policy::Semaphore && spec.permits == 0 {
        return Err("--permits 0: a semaphore without permits lets nothing through".into());
    }
    if !(8..=MAX_PAYLOAD).contains(&spec.payload) {
        return Err(format!(
            "--payload {}: choose between 8 (the item's number) and {MAX_PAYLOAD} bytes",
            spec.payload
        ));
    }
    Ok(())
}

/// Runs `spec` once on `imp` from Rust threads, under a watchdog of `limit`.
pub fn run_strategy<I: Impl>(imp: &'static I, spec: StrategySpec, limit: Duration) -> anyhow::Result<StrategyTally> {
    check(&spec).map_err(anyhow::Error::msg)?;
    let what = format!("{} {} {} (capacity {})", imp.name(), spec.run.workload, spec.policy, spec.run.capacity);
    within(&what, limit, move || run_threads(imp, spec))?
}

/// One repetition as a row: the generic entry tests use.
pub fn measure_strategy<I: Impl>(imp: &'static I, spec: StrategySpec, repetition: u32, limit: Duration) -> StrategyRow {
    let tally = run_strategy(imp, spec, limit);
    let mut row = StrategyRow::new(
        imp.name(),
        &spec.run,
        spec.policy,
        spec.batch_column(),
        spec.permits_column(),
        repetition,
        tally,
    );
    row.check_live_bytes(spec.payload, spec.take());
    row
}

/// What the study runs: a policy configuration or a pipeline, on a built-in.
#[derive(Debug, Clone, Copy)]
pub enum Config {
    Policy(Builtin, StrategySpec),
    Pipeline(Builtin, PipelineSpec),
}

/// One measured repetition of either kind.
#[derive(Debug, Clone)]
pub enum Measured {
    Policy(StrategyRow),
    Pipeline(PipelineRow),
}

impl Outcome for Measured {
    fn ok(&self) -> bool {
        match self {
            Measured::Policy(r) => r.ok(),
            Measured::Pipeline(r) => r.ok(),
        }
    }

    fn seconds(&self) -> f64 {
        match self {
            Measured::Policy(r) => r.seconds,
            Measured::Pipeline(r) => r.seconds,
        }
    }

    /// Items offered per second: what sizes the next run.
    fn items_per_second(&self) -> f64 {
        match self {
            Measured::Policy(r) => r.produced_per_second,
            Measured::Pipeline(r) => r.items_per_second,
        }
    }

    fn error(&self) -> &str {
        match self {
            Measured::Policy(r) => &r.error,
            Measured::Pipeline(r) => &r.error,
        }
    }
}

impl Measurable for Config {
    type Row = Measured;

    fn label(&self) -> String {
        match self {
            Config::Policy(b, s) => format!("{b} {} {} cap {}", s.run.workload, s.policy, s.run.capacity),
            Config::Pipeline(b, s) => format!("{b} pipeline {} cap {}", s.variant, s.capacity),
        }
    }

    fn producers(&self) -> u64 {
        match self {
            Config::Policy(_, s) => s.run.producers,
            Config::Pipeline(..) => 1,
        }
    }

    fn threads(&self) -> u64 {
        match self {
            Config::Policy(_, s) => s.run.producers + s.run.consumers,
            Config::Pipeline(..) => 3,
        }
    }

    fn with_items(&self, items: u64) -> Config {
        match *self {
            Config::Policy(b, s) => Config::Policy(b, StrategySpec { run: RunSpec { items, ..s.run }, ..s }),
            Config::Pipeline(b, s) => Config::Pipeline(b, pipeline::sized(s, items)),
        }
    }

    fn measure(&self, repetition: u32, limit: Duration) -> Measured {
        match *self {
            Config::Policy(b, spec) => {
                Measured::Policy(bq_engine::with_builtin!(b, |imp| measure_strategy(imp, spec, repetition, limit)))
            }
            Config::Pipeline(b, spec) => Measured::Pipeline(bq_engine::with_builtin!(b, |imp| {
                PipelineRow::new(imp.name(), &spec, repetition, run_pipeline(imp, spec, limit))
            })),
        }
    }
}

/// The study's configurations and sizing, from the command line; refuses bad input.
pub fn plan(args: &Args) -> anyhow::Result<(Vec<Config>, Sizing, Duration)> {
    args.run.check(&DEFAULTS)?;
    let (reps, run_ms, budget) = (args.run.reps(&DEFAULTS)?, args.run.run_ms(&DEFAULTS)?, args.run.budget(&DEFAULTS)?);
    if args.batch == 0 || args.batch > bq_engine::MAX_CAPACITY {
        bail!("--batch {}: pop_many takes k between 1 and {}", args.batch, bq_engine::MAX_CAPACITY);
    }
    if args.permits == Some(0) || args.permits.is_some_and(|p| p > bq_engine::MAX_CAPACITY) {
        bail!("--permits {}: choose between 1 and {}", args.permits.unwrap_or(0), bq_engine::MAX_CAPACITY);
    }
    if args.capacities.is_empty() || args.capacities.iter().any(|&c| c == 0 || c > bq_engine::MAX_CAPACITY) {
        bail!(
            "--capacity: give capacities between 1 and {} (a policy needs a queue that can hold an item)",
            bq_engine::MAX_CAPACITY
        );
    }
    if let Some(w) = args.workloads.iter().find(|w| **w == Workload::Seq) {
        bail!("--workload {w}: seq runs on one thread; choose among slow-consumer, fan-in, bursty, spsc, mpsc, mpmc");
    }
    if !(8..=MAX_PAYLOAD).contains(&args.payload) {
        bail!("--payload {}: choose between 8 (the item's number) and {MAX_PAYLOAD} bytes", args.payload);
    }
    if args.no_pipeline && args.no_policies {
        bail!("--no-pipeline and --no-policies together leave nothing to run");
    }
    let impls = args.run.builtins(&DEFAULTS)?;
    let workloads = if args.workloads.is_empty() { SHAPES.to_vec() } else { args.workloads.clone() };
    let policies = if args.policies.is_empty() { Policy::ALL.to_vec() } else { args.policies.clone() };
    let mut configs = Vec::new();
    if !args.no_policies {
        for &w in &workloads {
            for &policy in &policies {
                for &capacity in &args.capacities {
                    let run = RunSpec { items: 0, ..RunSpec::new(w, capacity, 0) };
                    let spec = StrategySpec {
                        run,
                        policy,
                        batch: args.batch,
                        permits: args.permits.unwrap_or(capacity),
                        payload: args.payload,
                    };
                    check(&StrategySpec { run: RunSpec { items: sizing::min_items(run.producers), ..run }, ..spec })
                        .map_err(anyhow::Error::msg)?;
                    configs.extend(impls.iter().map(|&b| Config::Policy(b, spec)));
                }
            }
        }
    }
    if !args.no_pipeline {
        for v in Variant::ALL {
            for &capacity in &args.capacities {
                configs.extend(impls.iter().map(|&b| Config::Pipeline(b, pipeline::spec(v, capacity, args.payload))));
            }
        }
    }
    Ok((configs, Sizing { run: Duration::from_millis(run_ms), reps }, budget))
}

/// Runs the study on the engine's scheduler: the plan said against the budget, then each
/// configuration's pilot, warm-up and repetitions (outermost). Returns the rows of both kinds,
/// in the order they ran.
pub fn measure_configs(
    configs: &[Config],
    wanted: Sizing,
    budget: Duration,
    limit: Duration,
) -> (Vec<StrategyRow>, Vec<PipelineRow>) {
    let mut scheduler = Scheduler::new(Strategies::NAME, Length::Time(wanted.run), limit);
    let policies = configs.iter().filter(|c| matches!(c, Config::Policy(..))).count();
    let each = |s: Sizing| {
        format!(
            "{} configurations ({policies} policy runs, {} pipelines), each: a pilot, 1 warm-up and {} measured runs \
             of about {} ms",
            configs.len(),
            configs.len() - policies,
            s.reps,
            s.run.as_millis()
        )
    };
    let (sized, _) = scheduler.fit(&schedule::shapes(configs), wanted, budget, &each, &|x| x.to_string());
    let measured = scheduler.execute(configs, Schedule::Repetitions(sized.reps));
    scheduler.finish();
    let (mut policy_rows, mut pipeline_rows) = (Vec::new(), Vec::new());
    for m in measured {
        match m {
            Measured::Policy(r) => policy_rows.push(r),
            Measured::Pipeline(r) => pipeline_rows.push(r),
        }
    }
    (policy_rows, pipeline_rows)
}

/// `bqh strategies`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let (configs, sizing, budget) = plan(args)?;
    let out = Claim::dir(&args.run.out(&DEFAULTS))?;
    let (rows, pipeline) = measure_configs(&configs, sizing, budget, args.run.limit()?);
    let results = report::Results { env: study::env::<Strategies>(serde_json::to_value(args)?), rows, pipeline };
    out.write_dir(|dir| report::write(dir, &results))?;
    let failed = results.rows.iter().filter(|r| !r.ok()).count() + results.pipeline.iter().filter(|r| !r.ok()).count();
    Ok(study::finish(out.path(), "summary.md, strategies.csv, pipeline.csv, env.json, plots", failed, 0))
}
