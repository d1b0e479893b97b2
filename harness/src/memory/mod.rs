//! The memory study (`bqh memory`, `make memory`): what a bound buys, and what the allocator
//! keeps. One producer sends N payloads of S bytes ([`super::payload`]) through the queue; one
//! consumer touches each, spins a calibrated time (slower than the producer), and frees it. The
//! [`Sampler`] records RSS, live bytes and items buffered through the phases of the run.
//!
//! Every configuration (implementation × capacity × allocator × payload) runs in a fresh child
//! process (`bqh memory --child`, through [`crate::isolated::run_self_with_env`]), so that one
//! run's RSS does not carry over into the next, and so that an allocator can replace `malloc`
//! for Rust, C and the OCaml runtime alike through `LD_PRELOAD` (Debian's `libjemalloc2` and
//! `libmimalloc2.0`; Rust crates would replace Rust's allocations only). The child checks that
//! the preloaded library is mapped, since the dynamic loader only warns when it is not.
//!
//! Beside them, `ocaml-native` ([`OCAML_NATIVE`]): OCaml's own memory, with `Bytes` payloads
//! made and dropped by OCaml domains around `Bqueue` (`ocaml/bq_memory.ml`), so that the GC's
//! part is seen too: its heap is sampled with the rest, and the phase after-trim is, there,
//! after `Gc.compact ()`. It runs under glibc only (the allocators' picture is the Rust-driven
//! runs'), at every capacity and payload.
//!
//! The bound check runs on every run, like the delivery check: with a bound, the exact peak of
//! live payload bytes must be at most (capacity + producers + consumers) × S + [`ALLOWANCE`].

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use serde::{Deserialize, Serialize};

pub mod report;
pub mod rows;

use bq_engine::impls::{Builtin, CrossbeamUnbounded, RustChannel};
use bq_engine::isolated::{describe_exit, run_self_with_env};
use bq_engine::measure::spin_work;
use bq_engine::memory::{malloc_trim, payload, peak_rss_bytes, reset_peak_rss, Phase, Sample, Sampler};
use bq_engine::queue::{Consumer, Impl, Producer, QueueError};
use bq_engine::row::Status;
use bq_engine::schedule::{self, Length, Schedule, Scheduler};
use bq_results::Claim;

use crate::shared_flags::{Defaults, RunArgs};
use crate::study::{self, Study};
pub use rows::{
    bound_bytes, check_bound, size_label, Allocator, Capacity, PayloadSpec, RunRecord, SampleRow, CONSUMERS,
    MAX_PAYLOAD, MEMORY_CSV, MEMORY_RUNS_CSV, OCAML_NATIVE, PRODUCERS,
};

crate::study::declare!(
    /// `bqh memory`, one of [`crate::STUDIES`].
    Memory,
    "memory",
    "Memory: live payload bytes and RSS over time, per capacity and allocator"
);

/// The consumer's spin per item is at least this many times one item's cost on one thread
/// (`--spin-factor`).
pub const SPIN_FACTOR: u64 = 3;

fn spin_factor_default() -> u64 {
    SPIN_FACTOR
}

/// The shared flags' defaults. `--run-ms` is the time the consumer takes for all N items (its
/// spin per item is that over N); `--quick` is capacities 16 and unbounded, glibc and
/// glibc-trim, 1 MiB x 256 and shorter holds. Each configuration runs once, in its own process.
pub const DEFAULTS: Defaults =
    Defaults { impls: &[], plugins: false, run_ms: [300, 100], reps: None, budget: None, out: "results/latest-memory" };

/// What `bqh memory --help` says after the flags.
fn memory_help() -> String {
    format!(
        "{}\n\n{}",
        "\
Each configuration (implementation x capacity x allocator x payload) runs in its own child
process. Unbounded means std::sync::mpsc::channel for rust-sync-channel, crossbeam_channel::unbounded
for crossbeam, and a capacity of N (the items of the run) for the others.
ocaml-native (OCaml domains, Bytes payloads, the GC's heap sampled; its last phase is after
Gc.compact ()) runs under glibc when ocaml is among the implementations.

  bqh memory                                  # the full study: results/latest-memory/
  bqh memory --quick                          # a short look
  bqh memory --impl crossbeam --capacity 16,unbounded --allocator glibc,jemalloc --payload 1048576:1024",
        DEFAULTS.help()
    )
}

#[derive(Debug, Clone, clap::Args, Serialize)]
#[command(after_help = memory_help())]
pub struct Args {
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
    /// Capacities, comma-separated: numbers or 'unbounded' [default: 1,16,1024,unbounded;
    /// 16,unbounded with --quick]
    #[arg(long = "capacity", value_delimiter = ',')]
    #[serde(serialize_with = "as_strings")]
    pub capacities: Vec<Capacity>,
    /// Allocators, comma-separated [default: all; glibc,glibc-trim with --quick]
    #[arg(long = "allocator", value_enum, value_delimiter = ',')]
    pub allocators: Vec<Allocator>,
    /// Capacities for every allocator but the first (the allocators' picture is bounded against
    /// unbounded; the first, glibc, runs every --capacity), those of --capacity only
    #[arg(long = "allocator-capacity", value_delimiter = ',', default_values = ["16", "unbounded"])]
    #[serde(serialize_with = "as_strings")]
    pub allocator_capacities: Vec<Capacity>,
    /// Payloads as BYTES:ITEMS, comma-separated [default: 1048576:1024,64:1000000;
    /// 1048576:256 with --quick]
    #[arg(long = "payload", value_delimiter = ',')]
    #[serde(serialize_with = "as_strings")]
    pub payloads: Vec<PayloadSpec>,
    /// The consumer's spin per item is at least this many times one item's cost on one thread
    /// (allocate, push, pop, free): how much faster the producer is. On a busy machine the
    /// producer's page faults in fresh memory cost more than the calibration sees; raise it
    /// when the unbounded runs barely grow
    #[arg(long, default_value_t = SPIN_FACTOR)]
    pub spin_factor: u64,
    /// Longest time the producer sends, in seconds: it stops there even if fewer than N items
    /// went (a capacity of 1 makes every item a thread hand-off, far slower than the spin)
    #[arg(long, value_name = "SECONDS", default_value_t = 2)]
    pub max_send_s: u64,
    /// How long each phase after the drain is watched, in milliseconds (0 to 60000) [default:
    /// 150; 60 with --quick]
    #[arg(long, value_name = "MS")]
    pub hold_ms: Option<u64>,
    /// Sampling interval, in milliseconds (1 to 10)
    #[arg(long, value_name = "MS", default_value_t = 5)]
    pub interval_ms: u64,
    /// Leave out the OCaml-native runs (Bytes payloads on OCaml domains, under glibc)
    #[arg(long)]
    pub no_ocaml_native: bool,
    /// Internal: run one configuration (JSON) in this process and print its outcome
    #[arg(long, hide = true)]
    #[serde(skip)]
    pub child: Option<String>,
}

fn as_strings<T: std::fmt::Display, S: serde::Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|x| x.to_string()))
}

/// One run of the study, as the parent hands it to a child.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    pub implementation: String,
    pub capacity: Capacity,
    pub allocator: Allocator,
    pub payload: PayloadSpec,
    pub run_ms: u64,
    #[serde(default = "spin_factor_default")]
    pub spin_factor: u64,
    /// The producer stops sending after this long, in milliseconds.
    pub max_send_ms: u64,
    pub hold_ms: u64,
    pub interval_ms: u64,
}

/// What a child measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    /// The queue the run built, in words ("crossbeam_channel::unbounded", "bounded(1024)").
    pub queue: String,
    pub samples: Vec<Sample>,
    pub peak_live_bytes: u64,
    pub peak_rss_bytes: Option<u64>,
    /// Nanoseconds one item costs on one thread (alloc + push + pop + free), measured first.
    pub pipeline_ns: u64,
    /// The consumer's spin per item.
    pub spin_ns: u64,
    pub send_s: f64,
    pub receive_s: f64,
    /// Items the producer sent (fewer than N when it reached its time limit) and the consumer
    /// took, and what went wrong (a failed push, a lost item).
    pub sent: u64,
    pub delivered: u64,
    pub error: Option<String>,
}

/// The consumer's spin per item: `run_ms` over N, and at least `spin_factor` times one item's
/// cost. Three times by default: calibration reuses one payload's pages, while the run's
/// producer faults in fresh ones; at twice, the producer of 1 MiB payloads was barely faster
/// than the consumer. At most the send limit over N, so that the drain ends in bounded time too.
fn spin_ns(cfg: &Config, pipeline_ns: u64) -> u64 {
    let items = cfg.payload.items.max(1);
    (cfg.run_ms * 1_000_000 / items)
        .max(cfg.spin_factor.saturating_mul(pipeline_ns))
        .min(cfg.max_send_ms.saturating_mul(1_000_000) / items)
}

/// Runs one configuration of [`OCAML_NATIVE`] in this process: `ocaml/bq_memory.ml` calibrates,
/// sends, drains, watches the phases and samples; the bound is the queue's capacity (N when
/// unbounded). Public for the tests.
pub fn measure_ocaml_native(cfg: &Config) -> anyhow::Result<Outcome> {
    use bq_engine::impls::ocaml::memory;
    let capacity = match cfg.capacity {
        Capacity::Bounded(c) => c as u64,
        Capacity::Unbounded => cfg.payload.items,
    };
    let ms = |v: u64| i64::try_from(v.saturating_mul(1_000_000)).unwrap_or(i64::MAX);
    // SAFETY: sysconf has no preconditions.
    let page_bytes = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as i64;
    let spec = |spin_ns: u64| memory::Spec {
        capacity: capacity as i64,
        payload_bytes: cfg.payload.bytes as i64,
        items: cfg.payload.items as i64,
        spin_ns: spin_ns as i64,
        max_send_ns: ms(cfg.max_send_ms),
        hold_ns: ms(cfg.hold_ms),
        interval_ns: ms(cfg.interval_ms.clamp(1, 10)),
        page_bytes,
    };
    let pipeline_ns = memory::calibrate(spec(0));
    let spin = spin_ns(cfg, pipeline_ns);
    reset_peak_rss();
    let r = memory::run(spec(spin));
    let u = |x: i64| x.max(0) as u64;
    let samples = (0..r.t_ns.len())
        .map(|i| Sample {
            t_s: r.t_ns[i] as f64 / 1e9,
            rss_bytes: u(r.rss_bytes[i]),
            live_bytes: u(r.live_bytes[i]),
            buffered: (r.buffered[i] >= 0).then(|| u(r.buffered[i])),
            phase: Phase::ALL[(r.phase[i].clamp(0, Phase::ALL.len() as i64 - 1)) as usize],
            gc_heap_bytes: Some(u(r.gc_heap_bytes[i])),
        })
        .collect();
    Ok(Outcome {
        queue: String::new(),
        samples,
        peak_live_bytes: u(r.peak_live_bytes),
        peak_rss_bytes: peak_rss_bytes(),
        pipeline_ns,
        spin_ns: spin,
        send_s: r.send_ns as f64 / 1e9,
        receive_s: r.receive_ns as f64 / 1e9,
        sent: u(r.sent),
        delivered: u(r.delivered),
        error: r.error,
    })
}

/// Runs one configuration on `imp` in this process: calibrate, send, drain, watch the phases.
/// `queue_capacity` is what the queue is made with (N for "unbounded" ring queues); `trim`
/// calls `malloc_trim(0)` after the drop. Public for the tests (a queue that ignores its bound).
pub fn measure<I: Impl>(imp: &'static I, queue_capacity: usize, cfg: &Config, trim: bool) -> anyhow::Result<Outcome> {
    let size = usize::try_from(cfg.payload.bytes)?;
    let items = cfg.payload.items;
    let (tx, rx) = imp.bounded(queue_capacity)?;
    // Calibration on this queue, one thread: the producer's cost per item is below this. The
    // least of five rounds: a round the scheduler interrupted says nothing about the queue.
    let mut pipeline_ns = u64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let mut k = 0u64;
        while k < 4 || (t.elapsed() < Duration::from_millis(2) && k < items) {
            let it = payload::alloc(size);
            tx.try_push(it).map_err(|e| anyhow!("calibration push on an empty queue: {e}"))?;
            let back = rx.pop().map_err(|e| anyhow!("calibration pop: {e}"))?;
            // SAFETY: the payload just made, back from the queue once.
            unsafe { payload::free(back, size) };
            k += 1;
        }
        pipeline_ns = pipeline_ns.min((t.elapsed().as_nanos() / k as u128) as u64);
    }
    let spin_ns = spin_ns(cfg, pipeline_ns);

    payload::reset_peak();
    reset_peak_rss();
    let interval = Duration::from_millis(cfg.interval_ms.clamp(1, 10));
    let hold = Duration::from_millis(cfg.hold_ms);
    let sampler = Sampler::start(interval, Phase::Sending);
    let keep = rx.clone();
    if imp.traits().has_len {
        let probe = rx.clone();
        sampler.set_buffered(move || probe.len());
    }
    let consumer = std::thread::spawn(move || -> (u64, Option<String>) {
        let mut n = 0;
        loop {
            match rx.pop() {
                Ok(item) => {
                    // SAFETY: every item is a payload of `size` bytes, made once and popped once.
                    std::hint::black_box(unsafe { payload::touch(item, size) });
                    spin_work(spin_ns);
                    unsafe { payload::free(item, size) };
                    n += 1;
                }
                Err(QueueError::Closed) => return (n, None),
                Err(e) => return (n, Some(format!("pop failed on an open queue: {e}"))),
            }
        }
    });
    let start = Instant::now();
    let stop = start + Duration::from_millis(cfg.max_send_ms);
    let producer = std::thread::spawn(move || -> (u64, Option<String>) {
        for i in 0..items {
            if i % 16 == 0 && Instant::now() > stop {
                return (i, None);
            }
            let it = payload::alloc(size);
            if let Err(e) = tx.push(it) {
                // SAFETY: not delivered, so still ours.
                unsafe { payload::free(it, size) };
                return (i, Some(format!("push {i} failed: {e}")));
            }
        }
        (items, None)
    });
    let (sent, push_error) = producer.join().map_err(|_| anyhow!("the producer panicked"))?;
    let send_s = start.elapsed().as_secs_f64();
    sampler.mark(Phase::DoneSending);
    sampler.mark(Phase::Draining);
    let (delivered, pop_error) = consumer.join().map_err(|_| anyhow!("the consumer panicked"))?;
    let receive_s = start.elapsed().as_secs_f64();
    sampler.mark(Phase::DoneReceiving);
    std::thread::sleep(hold);
    sampler.clear_buffered();
    drop(keep);
    sampler.mark(Phase::AfterDrop);
    std::thread::sleep(hold);
    if trim {
        malloc_trim();
        sampler.mark(Phase::AfterTrim);
        std::thread::sleep(hold);
    }
    let samples = sampler.finish();
    let mut error = push_error.or(pop_error);
    if error.is_none() && delivered != sent {
        error = Some(format!("{delivered} of {sent} items sent were delivered"));
    }
    if error.is_none() && payload::live_bytes() != 0 {
        error = Some(format!("{} payload bytes still live after the drain", payload::live_bytes()));
    }
    Ok(Outcome {
        queue: String::new(),
        samples,
        peak_live_bytes: payload::peak_live_bytes(),
        peak_rss_bytes: peak_rss_bytes(),
        pipeline_ns,
        spin_ns,
        send_s,
        receive_s,
        sent,
        delivered,
        error,
    })
}

/// How `implementation` is made for `capacity`: the Rust channels' own unbounded flavours, and
/// a capacity of N for every other queue (a ring of N slots, or OCaml's `Queue` and the port's
/// `VecDeque` growing to N: small beside N payloads). Any implementation added to
/// `Builtin::ALL` joins with the second rule.
pub fn queue_description(b: Builtin, capacity: Capacity, items: u64) -> String {
    match (capacity, b) {
        (Capacity::Bounded(c), _) => format!("bounded({c})"),
        (Capacity::Unbounded, Builtin::RustSyncChannel) => "std::sync::mpsc::channel".into(),
        (Capacity::Unbounded, Builtin::Crossbeam) => "crossbeam_channel::unbounded".into(),
        (Capacity::Unbounded, _) => format!("bounded({items}) = N"),
    }
}

/// The child's side: one configuration, its outcome printed as one line of JSON.
fn child(json: &str) -> anyhow::Result<ExitCode> {
    let cfg: Config = serde_json::from_str(json).context("--child takes a configuration as JSON")?;
    if let Some(lib) = cfg.allocator.preload()? {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
        let file = lib.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        if !maps.contains(&file) {
            bail!(
                "allocator {}: {} is not loaded in the child: LD_PRELOAD did not take effect",
                cfg.allocator,
                lib.display()
            );
        }
    }
    if cfg.implementation == OCAML_NATIVE {
        let mut out = measure_ocaml_native(&cfg)?;
        out.queue = match cfg.capacity {
            Capacity::Bounded(c) => format!("Bqueue bounded({c}) of Bytes, on domains"),
            Capacity::Unbounded => format!("Bqueue bounded({}) = N of Bytes, on domains", cfg.payload.items),
        };
        println!("{}", serde_json::to_string(&out)?);
        std::process::exit(0)
    }
    let b = Builtin::from_name(&cfg.implementation)
        .with_context(|| format!("unknown implementation {}", cfg.implementation))?;
    let trim = cfg.allocator == Allocator::GlibcTrim;
    let n = usize::try_from(cfg.payload.items)?;
    let mut out = match (cfg.capacity, b) {
        (Capacity::Unbounded, Builtin::RustSyncChannel) => measure(&RustChannel, n, &cfg, trim)?,
        (Capacity::Unbounded, Builtin::Crossbeam) => measure(&CrossbeamUnbounded, n, &cfg, trim)?,
        (Capacity::Unbounded, b) => bq_engine::with_builtin!(b, |imp| measure(imp, n, &cfg, trim))?,
        (Capacity::Bounded(c), b) => bq_engine::with_builtin!(b, |imp| measure(imp, c, &cfg, trim))?,
    };
    out.queue = queue_description(b, cfg.capacity, cfg.payload.items);
    println!("{}", serde_json::to_string(&out)?);
    // An OCaml runtime or a preloaded allocator's threads need no orderly exit.
    std::process::exit(0)
}

/// Every configuration, in the order the report reads them: payload, allocator, capacity,
/// implementation.
pub fn plan(args: &Args) -> anyhow::Result<Vec<Config>> {
    args.run.check(&DEFAULTS)?;
    // What --quick shortens is only what the command line left to it: a flag given wins.
    let quick = args.run.quick;
    let or = |given: &[Capacity], full: &[Capacity], short: &[Capacity]| {
        if !given.is_empty() {
            given.to_vec()
        } else if quick {
            short.to_vec()
        } else {
            full.to_vec()
        }
    };
    let (b, u) = (Capacity::Bounded, Capacity::Unbounded);
    let caps = or(&args.capacities, &[b(1), b(16), b(1024), u], &[b(16), u]);
    let other_caps = args.allocator_capacities.clone();
    let allocs = match (&args.allocators[..], quick) {
        ([], false) => Allocator::ALL.to_vec(),
        ([], true) => vec![Allocator::Glibc, Allocator::GlibcTrim],
        (given, _) => given.to_vec(),
    };
    let payloads = match (&args.payloads[..], quick) {
        ([], false) => vec![PayloadSpec { bytes: 1 << 20, items: 1024 }, PayloadSpec { bytes: 64, items: 1_000_000 }],
        ([], true) => vec![PayloadSpec { bytes: 1 << 20, items: 256 }],
        (given, _) => given.to_vec(),
    };
    let run_ms = args.run.run_ms(&DEFAULTS)?;
    let hold_ms = args.hold_ms.unwrap_or(if quick { 60 } else { 150 });
    if caps.is_empty() || allocs.is_empty() || payloads.is_empty() {
        bail!("nothing to run: give at least one --capacity, --allocator and --payload");
    }
    if hold_ms > 60_000 {
        bail!("--hold-ms {hold_ms}: choose 0 to 60000");
    }
    if !(1..=10).contains(&args.interval_ms) {
        bail!("--interval-ms {}: choose 1 to 10 (the study samples at least every 10 ms)", args.interval_ms);
    }
    if args.spin_factor == 0 || args.spin_factor > 1000 {
        bail!("--spin-factor {}: choose 1 to 1000", args.spin_factor);
    }
    if args.max_send_s == 0 || args.max_send_s > 3600 {
        bail!("--max-send-s {}: choose 1 to 3600 seconds", args.max_send_s);
    }
    for a in &allocs {
        a.preload()?;
    }
    let impls = args.run.builtins(&DEFAULTS)?;
    let mut out = Vec::new();
    for &payload in &payloads {
        for (k, &allocator) in allocs.iter().enumerate() {
            let caps_here: Vec<Capacity> = caps.iter().copied().filter(|c| k == 0 || other_caps.contains(c)).collect();
            for &capacity in &caps_here {
                let native = allocator == Allocator::Glibc && !args.no_ocaml_native && impls.contains(&Builtin::Ocaml);
                for name in impls.iter().map(|b| b.name()).chain(native.then_some(OCAML_NATIVE)) {
                    out.push(Config {
                        implementation: name.into(),
                        capacity,
                        allocator,
                        payload,
                        run_ms,
                        spin_factor: args.spin_factor,
                        max_send_ms: args.max_send_s.saturating_mul(1000),
                        hold_ms,
                        interval_ms: args.interval_ms,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// The short memory section of `bqh compare`: its built-in implementations, 1 MiB × 256,
/// capacities 16 and unbounded, glibc only (a few seconds).
pub fn compare_section(impls: &[bq_engine::impls::Choice]) -> Vec<Config> {
    let mut out = Vec::new();
    for capacity in [Capacity::Bounded(16), Capacity::Unbounded] {
        for c in impls {
            if let bq_engine::impls::Choice::Builtin(b) = c {
                out.push(Config {
                    implementation: b.name().into(),
                    capacity,
                    allocator: Allocator::Glibc,
                    payload: PayloadSpec { bytes: 1 << 20, items: 256 },
                    run_ms: 100,
                    spin_factor: SPIN_FACTOR,
                    max_send_ms: 2000,
                    hold_ms: 50,
                    interval_ms: 5,
                });
            }
        }
    }
    out
}

/// A configuration's expected length: the drain (longer where the calibrated spin is), the
/// phases watched after it, a child's start (measured: about half a second on 2 busy cores).
fn estimate(c: &Config) -> Duration {
    let holds = if c.allocator == Allocator::GlibcTrim || c.implementation == OCAML_NATIVE { 3 } else { 2 };
    Duration::from_millis((c.run_ms * 3 / 2).min(c.max_send_ms) + holds * c.hold_ms + 500)
}

/// Runs one configuration in a child process and turns its outcome into a record and samples.
fn run_one(c: &Config, limit: Duration) -> (RunRecord, Vec<SampleRow>) {
    let mut record = RunRecord {
        implementation: c.implementation.clone(),
        capacity: c.capacity,
        allocator: c.allocator,
        payload_bytes: c.payload.bytes,
        items: c.payload.items,
        items_sent: 0,
        queue: String::new(),
        status: Status::Failed,
        bound_bytes: bound_bytes(c.capacity, c.payload.bytes),
        peak_live_bytes: 0,
        peak_rss_bytes: None,
        rss_start_bytes: 0,
        rss_done_receiving_bytes: None,
        rss_after_drop_bytes: None,
        rss_after_trim_bytes: None,
        gc_heap_peak_bytes: None,
        gc_heap_after_drop_bytes: None,
        gc_heap_after_compact_bytes: None,
        pipeline_ns: 0,
        spin_ns: 0,
        send_s: f64::NAN,
        receive_s: f64::NAN,
        samples: 0,
        error: String::new(),
    };
    let outcome = (|| -> anyhow::Result<Outcome> {
        let mut env = Vec::new();
        if let Some(lib) = c.allocator.preload()? {
            env.push(("LD_PRELOAD".to_string(), lib.display().to_string()));
        }
        let args = vec![Memory::NAME.to_string(), "--child".to_string(), serde_json::to_string(c)?];
        let mut last = None;
        let fin = run_self_with_env(&args, &env, limit, |line| {
            last = Some(line.to_string());
            Ok(())
        })?;
        match last {
            _ if fin.killed => bail!("no answer within {limit:?}: killed"),
            Some(line) if fin.status.success() => Ok(serde_json::from_str(&line)?),
            _ => {
                let tail = &fin.stderr_tail[fin.stderr_tail.len().saturating_sub(3)..];
                bail!("the child process {}: {}", describe_exit(Some(fin.status)), tail.join(" / "))
            }
        }
    })();
    let o = match outcome {
        Ok(o) => o,
        Err(e) => {
            record.error = format!("{e:#}");
            return (record, Vec::new());
        }
    };
    let last_in = |p: Phase| o.samples.iter().rev().find(|s| s.phase == p).map(|s| s.rss_bytes);
    record.queue = o.queue.clone();
    record.items_sent = o.sent;
    record.peak_live_bytes = o.peak_live_bytes;
    record.peak_rss_bytes = o.peak_rss_bytes;
    record.rss_start_bytes = o.samples.first().map_or(0, |s| s.rss_bytes);
    record.rss_done_receiving_bytes = last_in(Phase::DoneReceiving);
    record.rss_after_drop_bytes = last_in(Phase::AfterDrop);
    record.rss_after_trim_bytes = last_in(Phase::AfterTrim);
    let gc_last_in = |p: Phase| o.samples.iter().rev().find(|s| s.phase == p).and_then(|s| s.gc_heap_bytes);
    record.gc_heap_peak_bytes = o.samples.iter().filter_map(|s| s.gc_heap_bytes).max();
    record.gc_heap_after_drop_bytes = gc_last_in(Phase::AfterDrop);
    record.gc_heap_after_compact_bytes = gc_last_in(Phase::AfterTrim);
    record.pipeline_ns = o.pipeline_ns;
    record.spin_ns = o.spin_ns;
    record.send_s = o.send_s;
    record.receive_s = o.receive_s;
    record.samples = o.samples.len() as u64;
    let verdict = match &o.error {
        Some(e) => Err(e.clone()),
        None => check_bound(c.capacity, c.payload.bytes, o.peak_live_bytes),
    };
    record.status = if verdict.is_ok() { Status::Ok } else { Status::Failed };
    record.error = verdict.err().unwrap_or_default();
    let samples = o
        .samples
        .iter()
        .map(|s| SampleRow {
            implementation: c.implementation.clone(),
            capacity: c.capacity,
            allocator: c.allocator,
            payload_bytes: c.payload.bytes,
            t_s: s.t_s,
            rss_bytes: s.rss_bytes,
            live_bytes: s.live_bytes,
            buffered: s.buffered,
            phase: s.phase,
            gc_heap_bytes: s.gc_heap_bytes,
        })
        .collect();
    (record, samples)
}

/// One configuration's run: its record and its samples.
pub struct MemoryRun {
    pub record: RunRecord,
    pub samples: Vec<SampleRow>,
}

impl schedule::Outcome for MemoryRun {
    fn ok(&self) -> bool {
        self.record.ok()
    }
    fn seconds(&self) -> f64 {
        self.record.send_s + self.record.receive_s
    }
    /// Not sized by rate: every run sends its items or stops at `max_send_ms`.
    fn items_per_second(&self) -> f64 {
        f64::NAN
    }
    fn error(&self) -> &str {
        &self.record.error
    }
    fn summary(&self) -> Option<String> {
        let mib = |b: u64| b as f64 / (1 << 20) as f64;
        let r = &self.record;
        Some(format!(
            "peak live {:.1} MiB, peak RSS {:.1} MiB",
            mib(r.peak_live_bytes),
            mib(r.peak_rss_bytes.unwrap_or(0))
        ))
    }
}

/// A configuration runs once, in its own child process, and sizes itself (its payload's items,
/// within `max_send_ms`).
impl schedule::Measurable for Config {
    type Row = MemoryRun;

    fn label(&self) -> String {
        format!(
            "{} capacity {} {} {}",
            self.implementation,
            self.capacity,
            self.allocator,
            size_label(self.payload.bytes)
        )
    }
    fn threads(&self) -> u64 {
        2
    }
    fn producers(&self) -> u64 {
        1
    }
    fn with_items(&self, _: u64) -> Config {
        self.clone()
    }
    fn measure(&self, _: u32, limit: Duration) -> MemoryRun {
        let (record, samples) = run_one(self, limit);
        MemoryRun { record, samples }
    }
    fn expected(&self) -> Duration {
        estimate(self)
    }
}

/// Runs every configuration of `plan` once, each in its own child process, on the engine's
/// scheduler; `what` names the command in progress lines.
pub fn measure_configs(what: &'static str, plan: &[Config], limit: Duration) -> (Vec<RunRecord>, Vec<SampleRow>) {
    let total: Duration = plan.iter().map(estimate).sum();
    eprintln!(
        "[{what}] {} runs (implementation x capacity x allocator x payload), each in its own process, about {:.0} s",
        plan.len(),
        total.as_secs_f64()
    );
    // Runs that size themselves: the length is not used.
    let mut scheduler = Scheduler::new(what, Length::Items(0), limit);
    let runs = scheduler.execute(plan, Schedule::Once);
    scheduler.finish();
    let (mut records, mut samples) = (Vec::new(), Vec::new());
    for r in runs {
        records.push(r.record);
        samples.extend(r.samples);
    }
    (records, samples)
}

/// `bqh memory`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if let Some(json) = &args.child {
        return child(json);
    }
    let plan = plan(args)?;
    let out = Claim::dir(&args.run.out(&DEFAULTS))?;
    let (records, samples) = measure_configs(Memory::NAME, &plan, args.run.limit()?);
    let results =
        report::Results { env: study::env::<Memory>(serde_json::to_value(args)?), runs: records, samples };
    out.write_dir(|dir| report::write(dir, &results))?;
    let failed = results.runs.iter().filter(|r| !r.ok()).count();
    Ok(study::finish(out.path(), "summary.md, memory.csv, memory-runs.csv, env.json, plots", failed, 0))
}
