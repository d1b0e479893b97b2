//! The comparison run: a run that loses items fails loudly and is kept out of the figures;
//! `runs.csv` and `summary.md` agree; bad input is refused with a message, not a panic.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bq_engine::driven::measure_driven;
use bq_engine::impls::Crossbeam;
use bq_engine::measure::Tally;
use bq_engine::row::{Kind, Mode, Row, Status};
use bq_engine::workloads::{RunSpec, Workload};
use bq_engine::QueueError;
use bq_results::files::read_csv;
use bq_results::outdir::CANONICAL_MARKER;
use bq_results::Env;
use harness::compare::report::{self, Results};
use harness::compare::Compare;
use harness::study;

mod common;
use common::bqh;
use common::rigged::Rigged;

const LIMIT: Duration = Duration::from_secs(60);

/// Every 1000th try_push is acknowledged and thrown away.
static LOSSY: Rigged =
    Rigged { name: "lossy", try_push: Some(|n, _, _| (n % 1000 == 999).then_some(Ok(()))), ..Rigged::CROSSBEAM };
/// Item 100 is refused as if the queue were closed.
static REFUSES_PUSHES: Rigged = Rigged {
    name: "refuses-pushes",
    try_push: Some(|n, _, _| (n == 100).then_some(Err(QueueError::Closed))),
    ..Rigged::CROSSBEAM
};

fn spec(workload: Workload, capacity: usize) -> RunSpec {
    RunSpec::new(workload, capacity, 20_000)
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bq-compare-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn env() -> Env {
    study::env::<Compare>(serde_json::json!({ "test": true }))
}

/// `report::write` into a fresh folder, as `compare` does through its claim.
fn write(dir: &std::path::Path, rows: &[Row]) {
    std::fs::create_dir_all(dir).unwrap();
    let results = Results { env: env(), rows: rows.to_vec(), shutdown: Vec::new(), native: Vec::new(), memory: None };
    report::write(dir, &results).unwrap();
}

#[test]
fn a_run_that_loses_items_fails_loudly_and_is_not_averaged() {
    let row = measure_driven(&LOSSY, spec(Workload::Mpsc, 16), 1, LIMIT);
    assert_eq!(row.status, Status::Failed, "{row:?}");
    assert!(row.error.contains("lost"), "{}", row.error);

    let mut rows: Vec<Row> =
        (1..=3).map(|rep| measure_driven(&Crossbeam, spec(Workload::Mpsc, 16), rep, LIMIT)).collect();
    assert!(rows.iter().all(Row::ok), "{rows:?}");
    rows.push(row);
    let dir = tmp("lossy");
    write(&dir, &rows);
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(summary.contains("FAILED RUNS (1)"), "{summary}");
    assert!(
        summary.lines().any(|l| l.starts_with("| lossy | driven | mpsc | 4+1 | 16 | 1 |") && l.contains("lost")),
        "{summary}"
    );
    // The lossy configuration has no successful repetition: its throughput cell is empty.
    assert!(summary.lines().any(|l| l.starts_with("| lossy |") && l.contains("–")), "{summary}");
}

#[test]
fn runs_csv_and_summary_agree() {
    let mut rows = Vec::new();
    for rep in 1..=3 {
        for (w, cap) in [(Workload::Spsc, 1), (Workload::Spsc, 16), (Workload::Seq, 16)] {
            rows.push(measure_driven(&Crossbeam, spec(w, cap), rep, LIMIT));
            rows.push(measure_driven(&bq_engine::impls::CPthread, spec(w, cap), rep, LIMIT));
        }
    }
    let dir = tmp("agree");
    write(&dir, &rows);
    let back = read_csv::<Row>(&dir.join("runs.csv")).unwrap();
    assert_eq!(back.len(), rows.len());
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    // Recompute each median from the CSV and find it, with its spread, in the summary's
    // throughput table for that workload.
    for (imp, w, cap) in [("crossbeam", "spsc", 1), ("crossbeam", "spsc", 16), ("c-pthread", "seq", 16)] {
        let mut v: Vec<f64> = back
            .iter()
            .filter(|r| r.implementation == imp && r.workload.name() == w && r.capacity == cap && r.ok())
            .map(|r| r.items_per_second / 1e6)
            .collect();
        v.sort_by(f64::total_cmp);
        // Three repetitions: the interval is min–max (no narrower one covers 95%).
        let cell = format!("{:.2} [{:.2}–{:.2}]", v[1], v[0], v[2]);
        let section = summary.split(&format!("### {w} (")).nth(1).unwrap();
        let line = section.lines().find(|l| l.starts_with(&format!("| {imp} |"))).unwrap();
        assert!(line.contains(&cell), "summary line {line:?} lacks {cell} computed from runs.csv");
    }
    for f in ["env.json", "throughput.svg", "throughput-vs-capacity-spsc.svg", "latency-spsc.svg"] {
        assert!(dir.join(f).exists(), "{f} missing");
    }
}

#[test]
fn bad_input_is_refused_with_a_message() {
    let not_a_library = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md").display().to_string();
    for (args, expect) in [
        (vec!["compare", "--impl", "c-pthread", "--capacity", "0", "--no-shutdown"], "nothing to run"),
        (vec!["compare", "--items", "0"], "--items 0: choose between 1 and"),
        (vec!["compare", "--items", "100000001"], "--items 100000001: choose"),
        (vec!["compare", "--items", "18446744073709551615"], "choose between 1 and"),
        (vec!["compare", "--items", "18446744073709551616"], "invalid value"),
        (vec!["compare", "--reps", "0"], "--reps 0: choose between 1 and 1000"),
        (vec!["compare", "--reps", "4294967295"], "choose between 1 and 1000"),
        (vec!["compare", "--run-ms", "0"], "--run-ms 0: choose"),
        (vec!["compare", "--run-ms", "18446744073709551615"], "choose between 1 and 60000"),
        (vec!["compare", "--budget", "0"], "--budget 0: choose"),
        (vec!["compare", "--budget", "18446744073709551615"], "choose between 1 and 604800"),
        (vec!["compare", "--capacity", "99999999999"], "larger than the harness allows"),
        (vec!["compare", "--capacity", "18446744073709551615"], "larger than the harness allows"),
        (vec!["compare", "--impl", "nope"], "invalid value 'nope'"),
        // Issue 20: a run limit the clock cannot add used to panic after the runs.
        (
            vec!["compare", "--run-limit", "10000000000000000000"],
            "--run-limit 10000000000000000000: choose between 1 and 86400",
        ),
        (vec!["compare", "--run-limit", "0"], "--run-limit 0: choose between 1 and 86400"),
        // Issue 20: a plugin that does not exist or does not load used to run everything, then exit 1.
        (vec!["compare", "--impl", "./nosuch.so", "--no-shutdown", "--no-memory"], "./nosuch.so: no such file"),
        (
            vec!["compare", "--impl", "crossbeam", "--plugin", &not_a_library, "--no-shutdown", "--no-memory"],
            "README.md does not load",
        ),
        // Issue 20, 14: a queue without a native runner, alone in native mode, used to blame capacity 0.
        (
            vec!["compare", "--impl", "crossbeam", "--mode", "native", "--no-shutdown", "--no-memory"],
            "have native runners",
        ),
        (vec!["compare", "--producers", "0"], "at least 1"),
        (vec!["compare", "--producers", "1025"], "at most 1024"),
        (vec!["compare", "--consumers", "18446744073709551615"], "at most 1024"),
    ] {
        let out = bqh(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: an input error exits 2: {err}");
        assert!(err.contains(expect), "{args:?}: stderr lacks {expect:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    }
}

#[test]
fn a_canonical_run_is_never_overwritten() {
    let dir = tmp("canonical");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(CANONICAL_MARKER), "").unwrap();
    std::fs::write(dir.join("summary.md"), "keep me").unwrap();
    let out = bqh(&["compare", "--quick", "--impl", "crossbeam", "--workload", "seq", "--out", dir.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("canonical"));
    assert_eq!(std::fs::read_to_string(dir.join("summary.md")).unwrap(), "keep me");
}

#[test]
fn a_small_compare_writes_every_file() {
    let dir = tmp("small");
    let out = bqh(&[
        "compare",
        "--impl",
        "crossbeam,c-pthread,ocaml",
        "--workload",
        "spsc,mpsc",
        "--capacity",
        "16",
        "--run-ms",
        "5",
        "--reps",
        "2",
        "--goal",
        "100",
        "--budget",
        "60",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    for needle in [
        "## Which queue for a Rust program",
        "## How it was measured, and the A/A control",
        "## Ratios to crossbeam, same-core",
        "## Ratios to rust-sync-channel, cross-core",
        "## Each language's own threads, and tokio's tasks",
        "ratios.md",
        "observations.md",
        "ratio-spsc-same-core.svg",
        "ratio-mpsc-cross-core.svg",
    ] {
        assert!(summary.contains(needle), "summary lacks {needle}");
    }
    // The verdict first, then the evidence (the A/A control), then the details.
    let at = |h: &str| summary.find(h).unwrap();
    assert!(
        at("## Which queue") < at("## How it was measured")
            && at("## How it was measured") < at("## Ratios to crossbeam")
    );
    let observations = std::fs::read_to_string(dir.join("observations.md")).unwrap();
    for needle in
        ["push waits", "latency (µs)", "CPU busy", "## Shutdown semantics", "native-domains", "native-systhreads"]
    {
        assert!(observations.contains(needle), "observations.md lacks {needle}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    assert_eq!(json["schema"], 1);
    assert!(std::fs::read_to_string(dir.join("ratios.md")).unwrap().contains("crossbeam (A/A)"));
    // The native shutdown probes of the four built-ins (the three and the cross-core
    // reference), five questions each.
    assert_eq!(harness::shutdown::report::read_native(&dir).unwrap().len(), 4 * 5);
    let rows = read_csv::<Row>(&dir.join("runs.csv")).unwrap();
    // 4 driven targets (the three and rust-sync-channel, the cross-core reference) and 3 native
    // ones, spsc same-core and cross-core: 14 cells; mpsc likewise without OCaml's domains (5 of
    // them, more than Domain.recommended_domain_count on a 2-core machine): 12. One observation
    // each, 2 pairs at least.
    let observed = rows.iter().filter(|r| r.kind == Kind::Observation).count();
    let domains = bq_engine::impls::ocaml::native::recommended_domains();
    let expected = 14 + if domains >= 5 { 14 } else { 12 };
    assert_eq!(observed, expected, "one observation per cell");
    let cells = harness::ratios::cells(&rows);
    assert_eq!(cells.len(), expected);
    assert!(cells.iter().all(|c| c.ratio.is_some_and(|r| r.pairs >= 2)), "{cells:?}");
    assert_eq!(cells.iter().filter(|c| c.aa).count(), 4);
    // Slices make plain calls: no waits counted, no latency sampled; observations do both.
    let slices: Vec<&Row> = rows.iter().filter(|r| r.kind == Kind::Slice).collect();
    assert!(slices.iter().all(|r| r.push_waits == 0 && r.pop_waits == 0 && r.latency_samples.is_none()));
    assert!(rows.iter().any(|r| r.kind == Kind::Observation && r.latency_samples.is_some_and(|n| n > 0)));
    // Sized by time, per configuration: a hand-off at capacity 1 moves fewer items than a
    // buffered spsc in the same time.
    let items: std::collections::BTreeSet<u64> = slices.iter().map(|r| r.items).collect();
    assert!(items.len() > 1, "every configuration moved the same number of items: {items:?}");
    // The plan is said before the runs, in words a log keeps.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "[compare] {expected} cells in 4 configurations against crossbeam same-core, rust-sync-channel cross-core;"
        )),
        "{err}"
    );
    assert!(rows.iter().all(|r| r.ok()));
    assert!(rows.iter().all(|r| r.max_occupancy.is_none_or(|m| m <= r.capacity)));
    let env: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("env.json")).unwrap()).unwrap();
    for k in ["cpu_model", "cores", "kernel", "rustc", "ocamlopt", "cc", "git_commit", "date_utc", "parameters"] {
        assert!(env.get(k).is_some(), "env.json lacks {k}");
    }
}

#[test]
fn a_failed_push_fails_the_run_and_names_the_item() {
    for w in [Workload::Spsc, Workload::Seq] {
        let row = measure_driven(&REFUSES_PUSHES, RunSpec::new(w, 16, 1_000), 1, LIMIT);
        assert_eq!(row.status, Status::Failed, "{row:?}");
        assert!(row.error.contains("push of item 100 returned closed while the queue was open"), "{w}: {}", row.error);
    }
}

#[test]
fn a_length_above_the_capacity_fails_the_run() {
    let tally = |max| Tally {
        seconds: 0.5,
        cpu: Default::default(),
        threads_cpu: None,
        push: Default::default(),
        pop: Default::default(),
        max_occupancy: Some(max),
        latencies_ns: vec![],
        delivery: Ok(()),
    };
    let spec = spec(Workload::Spsc, 16);
    assert!(Row::new("x", Mode::Native, &spec, 1, Ok(tally(16))).ok());
    let row = Row::new("x", Mode::Native, &spec, 1, Ok(tally(17)));
    assert_eq!((row.status, row.error.as_str()), (Status::Failed, "len 17 observed above capacity 16"));
}

/// Builds `c/bq.c`-based plugins (the correct queue, and the crashing and hanging fixtures)
/// into a temporary folder of the calling test's own: tests run in parallel, and `tmp`
/// empties the folder it names, so a shared one would vanish under the other test.
fn plugins(test: &str) -> (PathBuf, PathBuf, PathBuf) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let dir = tmp(&format!("plugins-{test}"));
    std::fs::create_dir_all(&dir).unwrap();
    let build = |src: PathBuf, name: &str| {
        let lib = dir.join(name);
        let st = Command::new("gcc")
            .args(["-std=c11", "-shared", "-fPIC", "-O2", "-I"])
            .arg(root.join("c"))
            .arg("-o")
            .arg(&lib)
            .arg(src)
            .arg("-lpthread")
            .status()
            .unwrap();
        assert!(st.success(), "gcc failed for {name}");
        lib
    };
    (
        build(root.join("c/bq.c"), "libgood.so"),
        build(root.join("tests/fixtures/bad/crash.c"), "libcrash.so"),
        build(root.join("tests/fixtures/bad/hang.c"), "libhang.so"),
    )
}

#[test]
fn plugins_are_compared_beside_the_built_ins_and_a_bad_one_fails_alone() {
    let (good, crash, hang) = plugins("beside");
    let dir = tmp("with-plugins");
    let list = format!("{},{},{}", good.display(), crash.display(), hang.display());
    let out = bqh(&[
        "compare",
        "--impl",
        "crossbeam",
        "--plugin",
        &list,
        "--workload",
        "spsc",
        "--capacity",
        "1",
        "--run-ms",
        "2",
        "--reps",
        "1",
        "--placement",
        "unpinned",
        "--budget",
        "20",
        "--run-limit",
        "2",
        "--no-shutdown",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "the bad plugins' runs must fail the comparison: {err}");
    let rows = read_csv::<Row>(&dir.join("runs.csv")).unwrap();
    let of = |p: &PathBuf| rows.iter().filter(|r| r.implementation == p.display().to_string()).collect::<Vec<_>>();
    assert!(rows.iter().any(|r| r.implementation == "crossbeam" && r.ok()), "{rows:?}");
    assert!(!of(&good).is_empty() && of(&good).iter().all(|r| r.ok() && r.mode == Mode::Driven), "{:?}", of(&good));
    // It crashes in try_push: the observation runs, which count waits with a try first.
    let crashed = of(&crash);
    assert!(crashed.iter().any(|r| !r.ok() && r.error.contains("SIGSEGV")), "{crashed:?}");
    let hung = of(&hang);
    assert!(hung.iter().any(|r| !r.ok() && r.error.contains("hang")), "{hung:?}");
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(summary.contains("FAILED RUNS") && summary.contains("libcrash.so") && summary.contains("libhang.so"));

    // A good plugin alone, with its shutdown probes (run in a child process too).
    let dir = tmp("plugin-probes");
    let out = bqh(&[
        "compare",
        "--impl",
        good.to_str().unwrap(),
        "--workload",
        "seq",
        "--capacity",
        "16",
        "--run-ms",
        "2",
        "--reps",
        "1",
        "--budget",
        "10",
        "--no-memory",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shutdown = std::fs::read_to_string(dir.join("shutdown.csv")).unwrap();
    assert!(
        shutdown.lines().filter(|l| l.starts_with(&*good.display().to_string()) && l.contains(",yes,")).count() >= 6,
        "{shutdown}"
    );
}

/// OCaml 5 runs at most 128 domains at once. A native run that asks for more fails with the
/// reason, and leaves no domain waiting behind it: the next run in the process still works.
#[test]
fn too_many_domains_fail_one_run_and_leave_the_runtime_usable() {
    use bq_engine::native_runners::{run_native, NativeKind};
    let too_many = RunSpec { producers: 200, ..RunSpec::new(Workload::FanIn, 16, 2_000) };
    let err = run_native(NativeKind::OcamlDomains, too_many, LIMIT).unwrap_err().to_string();
    assert!(err.contains("could not start 201 domains") && err.contains("failed to allocate domain"), "{err}");
    for _ in 0..2 {
        let t = run_native(NativeKind::OcamlDomains, RunSpec::new(Workload::Mpmc, 16, 20_000), LIMIT).unwrap();
        assert_eq!(t.delivery, Ok(()));
    }
    assert!(NativeKind::OcamlDomains.max_threads() < 128);
}

/// fan-in-batch: the consumer takes batches with pop_many (the swap buffer's own, the default
/// for the others); every run passes its delivery check; driven only (no native rows), and the
/// summary reads the swap buffer against its sibling.
#[test]
fn fan_in_batch_runs_driven_with_pop_many() {
    let dir = tmp("fan-in-batch");
    let out = bqh(&[
        "compare",
        "--impl",
        "c-pthread,c-swap,rust-swap,crossbeam",
        "--workload",
        "fan-in-batch",
        "--capacity",
        "1,16",
        "--placement",
        "same-core",
        "--producers",
        "8",
        "--run-ms",
        "5",
        "--reps",
        "2",
        "--goal",
        "100",
        "--budget",
        "20",
        "--no-shutdown",
        "--no-memory",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = read_csv::<Row>(&dir.join("runs.csv")).unwrap();
    let cells = harness::ratios::cells(&rows);
    assert_eq!(cells.len(), 4 * 2, "driven only: 4 implementations, 2 capacities");
    assert!(rows.iter().all(|r| r.ok() && r.mode == Mode::Driven), "{rows:?}");
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(summary.contains("| c-swap / c-pthread | fan-in-batch |"), "{summary}");
}

/// The paired schedule on two made-up queues of known speed: the reference takes 20 µs an item,
/// the other 40 µs, and both slow down and speed up together by as much as half, smoothly over
/// the runs, as a drifting machine would. The rows are made up: what is tested is the schedule
/// and its arithmetic, which a loaded machine must not fail (how close the real runner comes
/// to a bare loop is the fidelity bench's to measure, `cargo bench --bench fidelity`).
fn paired_on_known_queues() -> Vec<Row> {
    use bq_engine::paired::{measure_pairs_with, Plan, References};
    use bq_engine::target::Target;
    use bq_engine::{Builtin, Choice};
    let reference = Target::Driven(Choice::Builtin(Builtin::Crossbeam));
    let slow = Target::Driven(Choice::Builtin(Builtin::CPthread));
    let spec =
        RunSpec { items: 0, sampling: bq_engine::workloads::Sampling::PLAIN, ..RunSpec::new(Workload::Seq, 16, 0) };
    let mut plan = Plan {
        references: References::all(reference),
        cells: vec![(reference, spec), (slow, spec)],
        run: Duration::from_millis(5),
        first_pairs: 6,
        goal: 0.01,
        budget: Duration::from_secs(4),
        fixed_items: None,
    };
    let mut runs = 0u32;
    let run = move |&(t, s): &(Target, RunSpec), rep: u32| {
        runs += 1;
        let drift = 1.0 + 0.5 * (f64::from(runs) / 40.0).sin();
        let per_item = if t == reference { 20e-6 } else { 40e-6 };
        let tally = Tally {
            seconds: s.total_items() as f64 * per_item * drift,
            cpu: Default::default(),
            threads_cpu: None,
            push: Default::default(),
            pop: Default::default(),
            max_occupancy: None,
            latencies_ns: Vec::new(),
            delivery: Ok(()),
        };
        Row::new(&t.implementation(), t.mode(), &s, rep, Ok(tally))
    };
    measure_pairs_with("test", &mut plan, Box::new(run)).rows
}

#[test]
fn pairs_measure_a_known_ratio_and_the_a_a_control_contains_one() {
    let rows = paired_on_known_queues();
    assert!(rows.iter().all(Row::ok), "{rows:?}");
    let cells = harness::ratios::cells(&rows);
    assert_eq!(cells.len(), 2, "{cells:?}");
    let aa = cells.iter().find(|c| c.aa).unwrap().ratio.unwrap();
    assert!(aa.contains(1.0), "A/A: {aa:?}");
    // Half as fast, within the interval, though the machine drifted by half between pairs.
    let r = cells.iter().find(|c| !c.aa).unwrap().ratio.unwrap();
    assert!(r.contains(0.5) && r.half_width() < 0.01, "{r:?}");
    assert!(r.pairs >= 6 && aa.pairs >= 6);
}

#[test]
fn the_pair_order_is_recorded_and_alternates() {
    let rows = paired_on_known_queues();
    // Every run has its place in the order, each place once.
    let mut order: Vec<u64> = rows.iter().map(|r| r.order).collect();
    order.sort_unstable();
    assert_eq!(order, (1..=rows.len() as u64).collect::<Vec<_>>());
    // Each pair: two halves, one the reference's; a cell's k-th pair has the candidate first
    // when k is even: C R, R C, C R, ...
    let mut by_pair: std::collections::BTreeMap<u64, Vec<&Row>> = Default::default();
    rows.iter()
        .filter(|r| r.kind == Kind::Slice && r.pair > 0)
        .for_each(|r| by_pair.entry(r.pair).or_default().push(r));
    let mut seen: std::collections::BTreeMap<(String, bool), usize> = Default::default();
    for halves in by_pair.values() {
        assert_eq!(halves.len(), 2);
        assert_eq!(halves.iter().filter(|r| r.reference).count(), 1);
        let candidate = halves.iter().find(|r| !r.reference).unwrap();
        let reference = halves.iter().find(|r| r.reference).unwrap();
        // The A/A candidate and the other candidate are told apart by their partner's name.
        let k = seen
            .entry((candidate.implementation.clone(), candidate.implementation == reference.implementation))
            .or_default();
        assert_eq!(
            candidate.order < reference.order,
            k.is_multiple_of(2),
            "pair {} of {}",
            k,
            candidate.implementation
        );
        *k += 1;
    }
    assert!(seen.values().all(|&n| n >= 6));
}

/// Issue 26: a port against its OCaml original, like for like. With `--reference their.ml`
/// the run ends with one line per configuration: the port against the original, both driven,
/// and against the original on its own OCaml domains (`ocaml/bq_native.ml`, built with the
/// user's module and run in a child process), apart.
#[test]
fn a_port_is_measured_against_its_original_driven_and_on_its_own_domains() {
    let (port, _, _) = plugins("port");
    let dir = tmp("port-against-original");
    std::fs::create_dir_all(&dir).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let original = dir.join("their_queue.ml");
    std::fs::copy(root.join("ocaml/bqueue.ml"), &original).unwrap();
    let out = bqh(&[
        "compare",
        "--impl",
        port.to_str().unwrap(),
        "--reference",
        original.to_str().unwrap(),
        "--workload",
        "spsc",
        "--capacity",
        "16",
        "--placement",
        "same-core",
        "--budget",
        "20",
        "--no-shutdown",
        "--no-memory",
        "--out",
        dir.join("run").to_str().unwrap(),
    ]);
    let (text, err) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}{err}");
    let line =
        text.lines().find(|l| l.starts_with("your port `libgood.so` runs at ")).unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("of your original `their_queue.ml` in spsc (1 → 1), same-core, capacity 16 (both driven)"),
        "{line}"
    );
    assert!(line.contains("of it on its own OCaml domains"), "{line}");
    let rows = read_csv::<Row>(&dir.join("run/runs.csv")).unwrap();
    let own: Vec<&Row> =
        rows.iter().filter(|r| r.mode == Mode::NativeDomains && r.implementation.ends_with("their_queue.ml")).collect();
    assert!(!own.is_empty() && own.iter().all(|r| r.ok() && r.threads_cpu_s.is_some()), "{own:?}");
    assert!(rows
        .iter()
        .any(|r| r.mode == Mode::NativeSysthreads && r.implementation.ends_with("their_queue.ml") && r.ok()));
    let summary = std::fs::read_to_string(dir.join("run/summary.md")).unwrap();
    assert!(summary.contains("## Your port against your original"), "{summary}");
}
