//! The memory study's own tests: the sampler sees a known allocation, and the bound check
//! fails for a queue that ignores its bound. The payload counter is process-wide, so these
//! tests take a lock and never run at the same time.

use std::sync::Mutex;
use std::time::Duration;

use bq_engine::memory::{payload, Phase, Sampler};
use bq_engine::watchdog::within;
use harness::memory::{
    check_bound, measure, measure_ocaml_native, Allocator, Capacity, Config, PayloadSpec, OCAML_NATIVE,
};

mod common;
use common::bqh;

static SERIAL: Mutex<()> = Mutex::new(());
const MIB: u64 = 1 << 20;

/// Allocate 100 MiB as one payload (written when made), free it, and compare what the sampler
/// saw: live bytes exactly, RSS within what else the process does (a few MiB).
#[test]
fn the_sampler_sees_a_known_allocation() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    within("sampler: 100 MiB", Duration::from_secs(60), || {
        let size = 100 * MIB as usize;
        let sampler = Sampler::start(Duration::from_millis(2), Phase::Sending);
        let before = (bq_engine::memory::rss_bytes().unwrap(), payload::live_bytes());
        let item = payload::alloc(size);
        std::thread::sleep(Duration::from_millis(30));
        sampler.mark(Phase::DoneSending);
        // SAFETY: made above with this size, freed once.
        unsafe { payload::free(item, size) };
        std::thread::sleep(Duration::from_millis(30));
        sampler.mark(Phase::AfterDrop);
        let samples = sampler.finish();
        let held: Vec<_> = samples.iter().filter(|s| s.phase == Phase::DoneSending).collect();
        let after: Vec<_> = samples.iter().filter(|s| s.phase == Phase::AfterDrop).collect();
        assert!(!held.is_empty() && !after.is_empty(), "every mark takes a sample");
        let h = held[0];
        assert_eq!(h.live_bytes - before.1, size as u64, "live bytes while held");
        assert_eq!(after[0].live_bytes, before.1, "live bytes after the free");
        let grew = h.rss_bytes as i64 - before.0 as i64;
        assert!((grew - size as i64).abs() < 8 * MIB as i64, "RSS grew by {grew} bytes for a 100 MiB payload");
        // glibc serves 100 MiB with mmap and unmaps it on free: RSS falls back.
        let fell = h.rss_bytes as i64 - after[0].rss_bytes as i64;
        assert!((fell - size as i64).abs() < 8 * MIB as i64, "RSS fell by {fell} bytes after the free");
    })
    .unwrap();
}

/// A queue that ignores its bound: it takes a capacity and makes an unbounded channel.
struct IgnoresBound;

impl bq_engine::Impl for IgnoresBound {
    type Tx = bq_engine::impls::rust_channels::CrossbeamTx;
    type Rx = bq_engine::impls::rust_channels::CrossbeamRx;
    fn name(&self) -> &str {
        "ignores-bound"
    }
    fn traits(&self) -> bq_engine::Traits {
        bq_engine::impls::CrossbeamUnbounded.traits()
    }
    fn make(&self, capacity: usize) -> Result<(Self::Tx, Self::Rx), bq_engine::NewError> {
        bq_engine::impls::CrossbeamUnbounded.make(capacity)
    }
}

fn config(capacity: Capacity, items: u64) -> Config {
    Config {
        implementation: "test".into(),
        capacity,
        allocator: Allocator::Glibc,
        payload: PayloadSpec { bytes: 4096, items },
        // 100 µs per item for the consumer: the producer runs far ahead unless a bound stops it.
        run_ms: items / 10,
        spin_factor: 3,
        max_send_ms: 60_000,
        hold_ms: 0,
        interval_ms: 5,
    }
}

/// The bound check fails for a queue that ignores its bound, and passes for the same queue
/// bounded for real, at capacity 16 and at capacity 1.
#[test]
fn the_bound_check_fails_for_a_queue_that_ignores_its_bound() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    within("bound check", Duration::from_secs(120), || {
        let items = 2000;
        let broken = measure(&IgnoresBound, 16, &config(Capacity::Bounded(16), items), false).unwrap();
        assert_eq!(broken.error, None);
        let verdict = check_bound(Capacity::Bounded(16), 4096, broken.peak_live_bytes);
        let err = verdict.expect_err("a queue that ignores its bound must fail the check");
        assert!(
            err.contains("the bound did not hold") && err.contains("(capacity 16 + 1 producer + 1 consumer)"),
            "{err}"
        );
        for cap in [1usize, 16] {
            let real =
                measure(&bq_engine::impls::Crossbeam, cap, &config(Capacity::Bounded(cap), items), false).unwrap();
            assert_eq!(real.error, None);
            assert_eq!(real.delivered, items);
            check_bound(Capacity::Bounded(cap), 4096, real.peak_live_bytes).unwrap();
            assert!(real.peak_live_bytes <= (cap as u64 + 2) * 4096);
        }
    })
    .unwrap();
}

/// The OCaml-native run (Bytes payloads on domains): the bound check passes at capacity 1 and
/// 16, every payload is delivered once (bq_memory.ml checks each one's sequence number, and the
/// counts agree), and the GC's heap is sampled in every phase, after-trim being after
/// `Gc.compact ()`.
#[test]
fn ocaml_native_holds_its_bound_and_delivers_every_payload() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    within("ocaml-native", Duration::from_secs(120), || {
        let items = 2000;
        for cap in [1usize, 16] {
            let o = measure_ocaml_native(&config(Capacity::Bounded(cap), items)).unwrap();
            assert_eq!(o.error, None, "capacity {cap}");
            assert_eq!((o.sent, o.delivered), (items, items), "capacity {cap}");
            check_bound(Capacity::Bounded(cap), 4096, o.peak_live_bytes).unwrap();
            assert!(o.peak_live_bytes >= 4096, "the producer's counter saw no payload: {}", o.peak_live_bytes);
            assert!(o.samples.iter().all(|s| s.gc_heap_bytes.is_some_and(|b| b > 0)), "every sample has the GC heap");
            for p in Phase::ALL {
                assert!(o.samples.iter().any(|s| s.phase == p), "capacity {cap}: no sample in {p}");
            }
            assert_eq!(o.samples.last().map(|s| s.live_bytes), Some(0));
            assert!(
                o.samples.iter().filter(|s| s.phase >= Phase::AfterDrop).all(|s| s.buffered.is_none()),
                "the queue is gone"
            );
        }
    })
    .unwrap();
}

/// `bqh memory` with ocaml-native: its rows (with the GC heap, empty for the others) are
/// written, read back and redrawn to the same summary.
#[test]
fn ocaml_native_rows_round_trip_through_the_report() {
    let dir = scratch("ocaml-native");
    let out = bqh(&[
        "memory",
        "--impl",
        "ocaml",
        "--capacity",
        "1,unbounded",
        "--allocator",
        "glibc",
        "--payload",
        "65536:64",
        "--run-ms",
        "10",
        "--hold-ms",
        "10",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (runs, samples) = harness::memory::report::read(&dir).map(|r| (r.runs, r.samples)).unwrap();
    assert_eq!(runs.len(), 4, "ocaml and ocaml-native at 2 capacities: {runs:?}");
    assert!(runs.iter().all(|r| r.ok()), "{runs:?}");
    let native: Vec<_> = runs.iter().filter(|r| r.implementation == OCAML_NATIVE).collect();
    assert_eq!(native.len(), 2);
    for r in &native {
        assert_eq!(r.items_sent, 64);
        assert!(
            r.gc_heap_peak_bytes.is_some()
                && r.gc_heap_after_drop_bytes.is_some()
                && r.gc_heap_after_compact_bytes.is_some(),
            "{r:?}"
        );
        assert!(r.rss_after_trim_bytes.is_some(), "the after-compact phase: {r:?}");
    }
    assert!(samples.iter().filter(|s| s.implementation == OCAML_NATIVE).all(|s| s.gc_heap_bytes.is_some()));
    assert!(samples.iter().filter(|s| s.implementation != OCAML_NATIVE).all(|s| s.gc_heap_bytes.is_none()));
    let csv = std::fs::read_to_string(dir.join("memory.csv")).unwrap();
    assert!(csv.lines().next().unwrap().ends_with(",phase,gc_heap_bytes"), "{}", csv.lines().next().unwrap());
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    for needle in ["| ocaml-native |", "GC's major heap", "Gc.compact ()", "timeline-ocaml-native-64KiB.svg"] {
        assert!(summary.contains(needle), "summary lacks {needle}:\n{summary}");
    }
    assert!(dir.join("timeline-ocaml-native-64KiB.svg").is_file());
    let redrawn = scratch("ocaml-native-redrawn");
    assert!(bqh(&["report", dir.to_str().unwrap(), "--out", redrawn.to_str().unwrap()]).status.success());
    assert_eq!(std::fs::read(redrawn.join("summary.md")).unwrap(), std::fs::read(dir.join("summary.md")).unwrap());
    // A results folder written before the GC columns existed still reads, and redraws.
    let older = scratch("ocaml-native-older");
    std::fs::create_dir_all(&older).unwrap();
    std::fs::copy(dir.join("env.json"), older.join("env.json")).unwrap();
    for file in ["memory.csv", "memory-runs.csv"] {
        let mut r = csv::Reader::from_path(dir.join(file)).unwrap();
        let headers = r.headers().unwrap().clone();
        let keep: Vec<usize> =
            headers.iter().enumerate().filter(|(_, h)| !h.starts_with("gc_heap")).map(|(i, _)| i).collect();
        let mut w = csv::Writer::from_path(older.join(file)).unwrap();
        w.write_record(keep.iter().map(|&i| &headers[i])).unwrap();
        for rec in r.records() {
            let rec = rec.unwrap();
            w.write_record(keep.iter().map(|&i| &rec[i])).unwrap();
        }
        w.flush().unwrap();
    }
    let (old_runs, old_samples) = harness::memory::report::read(&older).map(|r| (r.runs, r.samples)).unwrap();
    assert_eq!(old_runs.len(), 4);
    assert!(
        old_runs.iter().all(|r| r.gc_heap_peak_bytes.is_none())
            && old_samples.iter().all(|s| s.gc_heap_bytes.is_none())
    );
    let redrawn_older = scratch("ocaml-native-older-redrawn");
    assert!(bqh(&["report", older.to_str().unwrap(), "--out", redrawn_older.to_str().unwrap()]).status.success());
    // ocaml-native is not an --impl: it joins with ocaml, and --no-ocaml-native leaves it out.
    let o = bqh(&["memory", "--impl", "ocaml-native"]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
}

/// `bqh memory` end to end: child processes (one with jemalloc preloaded), the files, the
/// report redrawn from them, and bad input refused with exit 2.
#[test]
fn a_memory_study_is_written_and_redrawn() {
    let dir = scratch("study");
    let out = bqh(&[
        "memory",
        "--impl",
        "crossbeam,ocaml",
        "--capacity",
        "1,unbounded",
        "--allocator",
        "glibc-trim,jemalloc",
        "--allocator-capacity",
        "unbounded",
        "--payload",
        "65536:64",
        "--run-ms",
        "10",
        "--hold-ms",
        "10",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (runs, samples) = harness::memory::report::read(&dir).map(|r| (r.runs, r.samples)).unwrap();
    // glibc-trim: 2 capacities x 2 implementations; jemalloc: unbounded only.
    assert_eq!(runs.len(), 6, "{runs:?}");
    assert!(runs.iter().all(|r| r.ok()), "{runs:?}");
    assert!(samples.iter().any(|s| s.phase == Phase::AfterTrim && s.allocator == Allocator::GlibcTrim));
    assert!(!samples.iter().any(|s| s.phase == Phase::AfterTrim && s.allocator == Allocator::Jemalloc));
    for p in [Phase::Sending, Phase::DoneSending, Phase::Draining, Phase::DoneReceiving, Phase::AfterDrop] {
        assert!(samples.iter().any(|s| s.phase == p), "no sample in {p}");
    }
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    for needle in [
        "# Memory",
        "## Reading",
        "The bound holds memory",
        "Unbounded grows",
        "| crossbeam |",
        "timeline-64KiB-jemalloc.svg",
    ] {
        assert!(summary.contains(needle), "summary lacks {needle}:\n{summary}");
    }
    assert!(dir.join("peak-rss-64KiB-glibc-trim.svg").is_file());
    let redrawn = scratch("study-redrawn");
    assert!(bqh(&["report", dir.to_str().unwrap(), "--out", redrawn.to_str().unwrap()]).status.success());
    assert_eq!(std::fs::read(redrawn.join("summary.md")).unwrap(), std::fs::read(dir.join("summary.md")).unwrap());
    for (args, says) in [
        (vec!["memory", "--capacity", "0"], "give a number from 1 to"),
        (vec!["memory", "--capacity", "18446744073709551615"], "or 'unbounded'"),
        (vec!["memory", "--payload", "0:1"], "BYTES from 1 to"),
        (vec!["memory", "--payload", "64:0"], "ITEMS from 1 to"),
        (vec!["memory", "--payload", "18446744073709551615:18446744073709551615"], "BYTES from 1 to"),
        (vec!["memory", "--interval-ms", "11"], "choose 1 to 10"),
        (vec!["memory", "--interval-ms", "0"], "choose 1 to 10"),
        (vec!["memory", "--run-ms", "0"], "--run-ms 0: choose between 1 and 60000"),
        (vec!["memory", "--reps", "3"], "do not apply"),
        (vec!["memory", "--max-send-s", "0"], "choose 1 to 3600"),
        (vec!["memory", "--spin-factor", "0"], "choose 1 to 1000"),
        (vec!["memory", "--spin-factor", "18446744073709551615"], "choose 1 to 1000"),
        (vec!["memory", "--max-send-s", "18446744073709551615"], "choose 1 to 3600"),
    ] {
        let o = bqh(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says) && !err.contains("panicked"), "{args:?}: {err}");
    }
}

fn scratch(name: &str) -> std::path::PathBuf {
    common::scratch("memory", name)
}

/// `bqh compare` has a short memory section, and `bqh report` redraws it from the files.
#[test]
fn compare_has_a_short_memory_section() {
    let dir = scratch("compare");
    let out = bqh(&[
        "compare",
        "--impl",
        "crossbeam",
        "--workload",
        "seq",
        "--capacity",
        "16",
        "--items",
        "1000",
        "--reps",
        "1",
        "--no-shutdown",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(summary.contains("## Memory (a short look"), "{summary}");
    assert!(summary.contains("| crossbeam | "), "{summary}");
    assert!(dir.join("memory-timeline.svg").is_file() && dir.join("memory-runs.csv").is_file());
    let redrawn = scratch("compare-redrawn");
    assert!(bqh(&["report", dir.to_str().unwrap(), "--out", redrawn.to_str().unwrap()]).status.success());
    assert_eq!(std::fs::read(redrawn.join("summary.md")).unwrap(), std::fs::read(dir.join("summary.md")).unwrap());
}

/// Issue 20: `--quick` used to replace `--capacity`, `--payload` and `--allocator` silently.
/// It shortens only what the command line left to it.
#[test]
fn quick_keeps_the_flags_given() {
    let dir = scratch("quick-keeps");
    let o = bqh(&[
        "memory",
        "--quick",
        "--impl",
        "crossbeam",
        "--no-ocaml-native",
        "--capacity",
        "1",
        "--allocator",
        "glibc",
        "--payload",
        "4096:64",
        "--hold-ms",
        "10",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let runs = harness::memory::report::read(&dir).map(|r| r.runs).unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let r = &runs[0];
    assert_eq!((r.capacity, r.allocator, r.payload_bytes, r.items), (Capacity::Bounded(1), Allocator::Glibc, 4096, 64));
}
