//! The cost of the boundary, in ns per call (criterion reports time per iteration):
//! - `call/*`: an empty function in C, and in OCaml with and without taking the domain lock;
//! - `pair/*`: one uncontended push then pop on each implementation, as the driven runner
//!   issues them (`try_push`, `try_pop`: its fast path), single thread, capacity 1024.
//!
//! Batched OCaml calls are measured apart, in `benches/ocaml_batched.rs`.
//!
//! `cargo bench --bench boundary` (criterion's options after `--`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use bq_engine::impls::{c_abi, ocaml::probe};
use bq_engine::{with_builtin, Builtin, Consumer, Impl, Producer};
use criterion::{criterion_group, Criterion};

fn calls(c: &mut Criterion) {
    let mut g = c.benchmark_group("call");
    g.bench_function("c", |b| b.iter(|| c_abi::probe::noop(black_box(7))));
    g.bench_function("ocaml-taking-lock", |b| b.iter(|| probe::call(black_box(7))));
    g.bench_function("ocaml-lock-only", |b| b.iter(probe::lock_round_trip));
    // All of a sample's calls under one lock, so the time per iteration is one call's.
    g.bench_function("ocaml-holding-lock", |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            black_box(probe::calls_holding_lock(iters));
            t.elapsed()
        })
    });
    g.finish();
}

/// One push and one pop per iteration on an otherwise idle queue.
fn pairs(c: &mut Criterion) {
    let mut g = c.benchmark_group("pair");
    for &which in Builtin::ALL {
        with_builtin!(which, |imp| {
            let (tx, rx) = imp.bounded(1024).unwrap();
            g.bench_function(imp.name(), |b| {
                b.iter(|| {
                    tx.try_push(black_box(7)).unwrap();
                    rx.try_pop().unwrap()
                })
            });
        });
    }
    g.finish();
}

criterion_group! {
    name = boundary;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = calls, pairs
}

fn main() {
    bq_engine::impls::ocaml::ensure_runtime();
    boundary();
    Criterion::default().configure_from_args().final_summary();
}
