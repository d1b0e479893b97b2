//! Batched OCaml calls: one boundary crossing per batch of `k` items instead of one per item
//! (`OcamlQueue::push_many` / the interface's `pop_many`). A separate mode, not a sixth implementation: the
//! harness interface moves one item per call, and so do all figures of `make compare`.
//! - `ocaml_batched_pair/k`: `k` pushes then `k` pops, single thread, capacity 1024;
//!   time per iteration is per batch, throughput per item.
//! - `ocaml_batched_mpmc/<capacity>`: 2 producers, 2 consumers (Rust threads) moving 100 000
//!   items with batches of `k`, beside `per-item`: the same queue and threads through
//!   `driven::run_driven` (one crossing per item, as `make compare` measures it).
//!
//! `cargo bench --bench ocaml_batched` (criterion's options after `--`).

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use bq_engine::driven::run_driven;
use bq_engine::impls::closing::ExplicitQueue;
use bq_engine::impls::ocaml::{Module, OcamlQueue};
use bq_engine::impls::Ocaml;
use bq_engine::measure::{item, Delivery};
use bq_engine::workloads::{RunSpec, Sampling, Workload};
use criterion::{criterion_group, BenchmarkId, Criterion, SamplingMode, Throughput};

const BATCHES: [usize; 3] = [1, 16, 256];
const ITEMS: u64 = 100_000;

fn pair(c: &mut Criterion) {
    let mut g = c.benchmark_group("ocaml_batched_pair");
    let q = OcamlQueue::new(Module::Bqueue, 1024).unwrap();
    let mut out = Vec::with_capacity(1024);
    for k in BATCHES {
        let items: Vec<u64> = (0..k as u64).collect();
        g.throughput(Throughput::Elements(k as u64));
        g.bench_function(BenchmarkId::from_parameter(k), |b| {
            b.iter(|| {
                assert_eq!(q.push_many(&items), k);
                out.clear();
                while out.len() < k {
                    q.pop_many(k - out.len(), &mut out).unwrap();
                }
            })
        });
    }
    g.finish();
}

/// One batched run: producers push their items in batches of `k`, consumers pop batches of
/// up to `k` until the queue is closed and drained. Times start barrier to last join.
fn batched_run(capacity: usize, k: usize) -> Duration {
    let (producers, consumers, per) = (2u64, 2, ITEMS / 2);
    let q = Arc::new(OcamlQueue::new(Module::Bqueue, capacity).unwrap());
    let start = Arc::new(Barrier::new(producers as usize + consumers + 1));
    let ps: Vec<_> = (0..producers)
        .map(|p| {
            let (q, start) = (q.clone(), start.clone());
            let items: Vec<u64> = (0..per).map(|s| item(p, s)).collect();
            thread::spawn(move || {
                start.wait();
                for batch in items.chunks(k) {
                    assert_eq!(q.push_many(batch), batch.len(), "closed under a producer");
                }
            })
        })
        .collect();
    let cs: Vec<_> = (0..consumers)
        .map(|_| {
            let (q, start) = (q.clone(), start.clone());
            thread::spawn(move || {
                let (mut seen, mut out) = (Delivery::new(producers, per), Vec::with_capacity(k));
                start.wait();
                while q.pop_many(k, &mut out).is_ok() {
                    out.drain(..).for_each(|it| seen.record(it));
                }
                seen
            })
        })
        .collect();
    start.wait();
    let t0 = Instant::now();
    ps.into_iter().for_each(|p| p.join().unwrap());
    q.close();
    let seen: Vec<Delivery> = cs.into_iter().map(|c| c.join().unwrap()).collect();
    let elapsed = t0.elapsed();
    Delivery::verdict(seen).unwrap_or_else(|e| panic!("batched run, capacity {capacity}, k {k}: {e}"));
    elapsed
}

fn mpmc(c: &mut Criterion) {
    let mut g = c.benchmark_group("ocaml_batched_mpmc");
    g.sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Elements(ITEMS));
    for capacity in [16, 1024] {
        let spec = RunSpec {
            workload: Workload::Mpmc,
            producers: 2,
            consumers: 2,
            capacity,
            items: ITEMS,
            sampling: Sampling::DEFAULT,
            placement: Default::default(),
            consumer_work: None,
        };
        g.bench_function(BenchmarkId::new("per-item", capacity), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        let m = run_driven(&Ocaml, spec, Duration::from_secs(120)).unwrap();
                        m.delivery.unwrap();
                        Duration::from_secs_f64(m.seconds)
                    })
                    .sum()
            })
        });
        for k in BATCHES {
            g.bench_function(BenchmarkId::new(format!("batch-{k}"), capacity), |b| {
                b.iter_custom(|iters| (0..iters).map(|_| batched_run(capacity, k)).sum())
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = ocaml_batched;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(10);
    targets = pair, mpmc
}

fn main() {
    bq_engine::impls::ocaml::ensure_runtime();
    ocaml_batched();
    Criterion::default().configure_from_args().final_summary();
}
