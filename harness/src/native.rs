//! The `native` mode: each language runs its own producers and consumers (pthreads inside C;
//! OCaml domains, or systhreads sharing one domain's runtime lock) and hands its figures back
//! over the boundary once per run. Rust's queues are native in `driven` mode already.
//! The difference between `driven` and `native` is the cost of the boundary.
//!
//! This file is the Rust side of `c/bq_native.h` and of `ocaml/bq_native.ml`'s callback;
//! the harness holds no lock while either runs (the OCaml call holds the domain lock, which
//! `Domain.join`/`Thread.join` release while they wait).

use std::ffi::{c_char, c_int, CStr};
use std::time::Duration;

use ocaml_interop::internal::OCamlClosure;
use ocaml_interop::{BoxRoot, OCaml, OCamlInt, OCamlRuntime, OCamlUniformArray, ToOCaml};

use crate::measure::{cpu_time, SideStats, SAMPLE_SHIFT};
use crate::watchdog::within;
use crate::workloads::{cpu_since, Measurement, RunSpec, Tally, Workload};

/// How a native run runs its threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NativeKind {
    /// pthreads inside C
    CPthreads,
    /// one OCaml domain per producer and consumer: parallel
    OcamlDomains,
    /// OCaml systhreads in one domain: they take turns on the runtime lock
    OcamlSysthreads,
}

impl NativeKind {
    pub fn mode_name(self) -> &'static str {
        match self {
            NativeKind::CPthreads => "native",
            NativeKind::OcamlDomains => "native-domains",
            NativeKind::OcamlSysthreads => "native-systhreads",
        }
    }
}

#[repr(C)]
struct NativeSpec {
    producers: u32,
    consumers: u32,
    per_producer: u64,
    capacity: usize,
    consumer_work_ns: u64,
    burst_items: u64,
    burst_pause_ns: u64,
    seq: c_int,
    latency_ns: *mut u64,
    latency_cap: usize,
}

#[repr(C)]
struct NativeResult {
    elapsed_ns: u64,
    pushes: u64,
    push_waits: u64,
    pops: u64,
    pop_waits: u64,
    producer_blocked_ns: u64,
    consumer_blocked_ns: u64,
    max_len: u64,
    latency_len: usize,
    delivery_ok: c_int,
    error: [c_char; 200],
}

extern "C" {
    fn bq_native_run(spec: *const NativeSpec, out: *mut NativeResult) -> c_int;
}


fn side(ops: u64, waits: u64, blocked_ns: u64) -> SideStats {
    SideStats { ops, waits, blocked: Duration::from_nanos(blocked_ns) }
}

/// Runs `spec` natively, under a watchdog of `limit`.
pub fn run_native(kind: NativeKind, spec: RunSpec, limit: Duration) -> anyhow::Result<Measurement> {
    spec.check().map_err(anyhow::Error::msg)?;
    if spec.capacity == 0 {
        anyhow::bail!("the C and OCaml queues have no rendezvous mode: capacity must be at least 1");
    }
    let what = format!("{} {} (capacity {})", kind.mode_name(), spec.workload, spec.capacity);
    within(&what, limit, move || {
        let cpu0 = cpu_time();
        // The runners fill in their own times and counts; the process's CPU time is taken here.
        let mut tally = match kind {
            NativeKind::CPthreads => run_c(&spec)?,
            NativeKind::OcamlDomains => run_ocaml(&spec, true)?,
            NativeKind::OcamlSysthreads => run_ocaml(&spec, false)?,
        };
        tally.cpu = cpu_since(cpu0);
        Ok(Measurement::from_tally(&spec, tally))
    })?
}

fn burst(spec: &RunSpec) -> (u64, u64) {
    spec.workload.burst().map_or((0, 0), |(n, pause)| (n, pause.as_nanos() as u64))
}

fn run_c(spec: &RunSpec) -> anyhow::Result<Tally> {
    let (burst_items, burst_pause_ns) = burst(spec);
    // Room for every sampled item (C samples 1 in BQ_NATIVE_SAMPLE_EVERY = 2^SAMPLE_SHIFT, as we do).
    let mut latencies = vec![0u64; (spec.producers * ((spec.per_producer() >> SAMPLE_SHIFT) + 1)) as usize];
    let s = NativeSpec {
        producers: spec.producers as u32,
        consumers: spec.consumers as u32,
        per_producer: spec.per_producer(),
        capacity: spec.capacity,
        consumer_work_ns: spec.workload.consumer_work_ns(),
        burst_items,
        burst_pause_ns,
        seq: (spec.workload == Workload::Seq) as c_int,
        latency_ns: latencies.as_mut_ptr(),
        latency_cap: latencies.len(),
    };
    // SAFETY: zeroed is a valid NativeResult; bq_native_run fills it and returns.
    let mut r: NativeResult = unsafe { std::mem::zeroed() };
    let rc = unsafe { bq_native_run(&s, &mut r) };
    let error = unsafe { CStr::from_ptr(r.error.as_ptr()) }.to_string_lossy().into_owned();
    if rc != 0 {
        anyhow::bail!("the C native runner could not start: {error}");
    }
    latencies.truncate(r.latency_len.min(latencies.len()));
    Ok(Tally {
        seconds: Duration::from_nanos(r.elapsed_ns).as_secs_f64(),
        cpu: Default::default(),
        push: side(r.pushes, r.push_waits, r.producer_blocked_ns),
        pop: side(r.pops, r.pop_waits, r.consumer_blocked_ns),
        max_occupancy: Some(r.max_len as usize),
        latencies_ns: latencies,
        delivery: if r.delivery_ok != 0 { Ok(()) } else { Err(error) },
    })
}

struct NativeClosure(OCamlClosure);
// SAFETY: a Callback-registered value stays rooted forever; called only under the domain lock.
unsafe impl Send for NativeClosure {}
unsafe impl Sync for NativeClosure {}

fn run_ocaml(spec: &RunSpec, domains: bool) -> anyhow::Result<Tally> {
    static RUN: std::sync::OnceLock<NativeClosure> = std::sync::OnceLock::new();
    let run = RUN.get_or_init(|| {
        crate::impls::ocaml::ensure_runtime();
        OCamlRuntime::with_domain_lock(|_| {
            NativeClosure(OCamlClosure::named("bqueue_native_run").expect("ocaml/bq_native.ml is not linked"))
        })
    });
    let (burst_items, burst_pause_ns) = burst(spec);
    let args: Vec<i64> = vec![
        spec.producers as i64,
        spec.consumers as i64,
        spec.per_producer() as i64,
        spec.capacity as i64,
        spec.workload.consumer_work_ns() as i64,
        burst_items as i64,
        burst_pause_ns as i64,
        (spec.workload == Workload::Seq) as i64,
        domains as i64,
    ];
    let (figures, latencies, error): (Vec<i64>, Vec<i64>, String) = OCamlRuntime::with_domain_lock(|cr| {
        let args: BoxRoot<OCamlUniformArray<OCamlInt>> = args.to_boxroot(cr);
        let r: OCaml<(OCamlUniformArray<OCamlInt>, OCamlUniformArray<OCamlInt>, String)> = run.0.call(cr, &args);
        r.to_rust()
    });
    let f = |i: usize| figures[i].max(0) as u64;
    Ok(Tally {
        seconds: Duration::from_nanos(f(0)).as_secs_f64(),
        cpu: Default::default(),
        push: side(f(1), f(2), f(5)),
        pop: side(f(3), f(4), f(6)),
        max_occupancy: Some(f(7) as usize),
        latencies_ns: latencies.into_iter().map(|ns| ns.max(0) as u64).collect(),
        delivery: if figures[8] == 1 { Ok(()) } else { Err(error) },
    })
}
