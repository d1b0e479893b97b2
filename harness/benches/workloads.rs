//! `make bench`: the driven workloads under criterion, one group per workload, one benchmark
//! per implementation and capacity, so criterion's report (target/criterion/report/index.html)
//! shows the six side by side. An iteration is one `driven::run_driven` run; only its
//! measured span (start barrier to last join) counts, not the thread start-up around it.
//!
//! `cargo bench --bench workloads` (criterion's options after `--`, e.g. `--save-baseline`).

use std::time::Duration;

use bq_engine::driven::run_driven;
use bq_engine::workloads::{RunSpec, Sampling, Workload};
use bq_engine::{with_builtin, Builtin, Impl};
use criterion::{criterion_group, BenchmarkId, Criterion, SamplingMode, Throughput};

/// 1: every item is a hand-off; 16: some slack; 1024: rarely full.
const CAPACITIES: [usize; 3] = [1, 16, 1024];
const WORKLOADS: [Workload; 4] = [Workload::Spsc, Workload::Mpsc, Workload::Mpmc, Workload::FanIn];
/// A run that takes longer than this is a hang, not a figure.
const LIMIT: Duration = Duration::from_secs(120);

/// Items per run: enough for a steady state, few enough that the slowest configurations
/// (capacity 1, where every item is a hand-off) still give 10 samples in a few seconds.
fn items(workload: Workload, capacity: usize) -> u64 {
    match (workload, capacity) {
        (Workload::FanIn, 1) => 32_000, // 500 per producer
        (Workload::FanIn, _) => 64_000,
        (_, 1) => 20_000,
        _ => 50_000,
    }
}

fn bench_workload(c: &mut Criterion, workload: Workload) {
    let (producers, consumers) = workload.threads();
    let mut g = c.benchmark_group(workload.name());
    // Runs last milliseconds to a second: a few, equally long samples.
    g.sampling_mode(SamplingMode::Flat);
    for capacity in CAPACITIES {
        let items = items(workload, capacity);
        g.throughput(Throughput::Elements(items));
        let spec = RunSpec {
            workload,
            producers,
            consumers,
            capacity,
            items,
            sampling: Sampling::DEFAULT,
            placement: Default::default(),
            consumer_work: None,
        };
        for &which in Builtin::ALL {
            with_builtin!(which, |imp| {
                g.bench_with_input(BenchmarkId::new(imp.name(), capacity), &spec, |b, &spec| {
                    b.iter_custom(|iters| {
                        (0..iters)
                            .map(|_| {
                                let m = run_driven(imp, spec, LIMIT).unwrap_or_else(|e| panic!("{e:#}"));
                                if let Err(e) = m.delivery {
                                    panic!("{} {workload} capacity {capacity}: {e}", imp.name());
                                }
                                Duration::from_secs_f64(m.seconds)
                            })
                            .sum()
                    })
                });
            });
        }
    }
    g.finish();
}

fn all(c: &mut Criterion) {
    for w in WORKLOADS {
        bench_workload(c, w);
    }
}

criterion_group! {
    name = workloads;
    // ~3-4 s per benchmark, 60 benchmarks: the whole `make bench` stays under 10 minutes.
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(2500))
        .sample_size(10);
    targets = all
}

fn main() {
    // Once per process; the first OCaml benchmark must not pay for it.
    bq_engine::impls::ocaml::ensure_runtime();
    workloads();
    Criterion::default().configure_from_args().final_summary();
}
