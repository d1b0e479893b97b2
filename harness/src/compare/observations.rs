//! `observations.md`: what the one observation run of each implementation in each configuration
//! saw. Its calls try first, so that a push or pop that had to wait is counted and timed, and
//! it samples latencies and lengths: figures the throughput slices cannot have without changing
//! their own pace. One run each, so no medians, no intervals and no ranking here: the
//! throughput comparison is `summary.md`'s.

use std::fmt::Write;

use bq_engine::row::{Mode, Row};
use bq_engine::shutdown::Observation;
use bq_results::markdown::{header, micros};
use bq_results::Env;

use crate::runs_csv::first_seen;
use crate::shutdown::report::matrix_markdown;

/// "spsc" same-core, "spsc · cross-core" elsewhere, with the consumer's work where set.
fn config(r: &Row) -> String {
    crate::ratios::config_label(r.workload, r.placement, r.consumer_work_ns)
}

fn label(r: &Row) -> String {
    crate::ratios::label((&r.implementation, r.mode))
}

/// A share as a percentage; a share that is not zero never shows as 0.0%.
fn pct(x: f64) -> String {
    match x {
        _ if !x.is_finite() => "–".into(),
        _ if x > 0.0 && x < 0.0005 => "<0.1%".into(),
        _ => format!("{:.1}%", x * 100.0),
    }
}

/// Seconds to four decimals; a time that is not zero never shows as 0.0000.
fn secs(x: f64) -> String {
    if x > 0.0 && x < 0.00005 {
        "<0.0001".into()
    } else {
        format!("{x:.4}")
    }
}

/// Nanoseconds, shown in microseconds; "–" where there are none.
fn us(ns: Option<u64>) -> String {
    ns.map_or("–".into(), |ns| micros(ns as f64 / 1e3))
}

/// The share of the CPUs its placement allowed that its threads kept busy.
fn busy(r: &Row) -> String {
    match (r.threads_cpu_s, r.allowed_cpus) {
        (Some(cpu), Some(n)) if r.seconds > 0.0 => format!("{:.0}% of {n}", 100.0 * cpu / (r.seconds * n as f64)),
        _ => "–".into(),
    }
}

pub fn markdown(env: &Env, rows: &[Row], shutdown: &[Vec<Observation>]) -> String {
    let mut out = String::new();
    header(&mut out, "Bounded queues compared: observations", env);
    out.push_str(
        "One observation run per implementation and configuration, beside the throughput slices of \
         [summary.md](summary.md). Its pushes and pops try first, so that one that had to wait is counted and \
         timed; it checks every item's delivery and order exactly, samples the push-to-pop latency of one item in 16 \
         and the queue's length every 64 pops. That bookkeeping changes a queue's pace, so these runs give no \
         throughput: each figure below is what one run saw.\n\n",
    );
    out.push_str(
        "Columns: **waits**, the share of pushes (pops) that found the queue full (empty) and had to block; \
         **blocked**, seconds the producers (consumers) spent blocked, summed over threads; **occupancy**, the largest \
         length sampled (– where the queue has no length); **latency**, p50 / p99 / p99.9 in µs, from the start of a \
         push (time blocked on a full queue included) to the end of its pop (– for seq, one thread); **CPU busy**, \
         the run's threads' CPU time over the time the CPUs their placement allowed were there.\n\n",
    );
    let failed: Vec<&Row> = rows.iter().filter(|r| !r.ok()).collect();
    if !failed.is_empty() {
        writeln!(out, "## ⚠ Failed observation runs ({})\n", failed.len()).unwrap();
        out.push_str("| implementation | configuration | capacity | what went wrong |\n|---|---|---|---|\n");
        for r in failed {
            writeln!(out, "| {} | {} | {} | {} |", label(r), config(r), r.capacity, r.error.replace('|', "/")).unwrap();
        }
        out.push('\n');
    }
    let ok: Vec<&Row> = rows.iter().filter(|r| r.ok()).collect();
    for k in first_seen(ok.iter().map(|r| config(r))) {
        let here: Vec<&&Row> = ok.iter().filter(|r| config(r) == k).collect();
        let r0 = here[0];
        writeln!(out, "## {k} ({} producer(s), {} consumer(s))\n", r0.producers, r0.consumers).unwrap();
        out.push_str(
            "| implementation | capacity | push waits | pop waits | producers blocked (s) | consumers blocked (s) | occupancy | latency (µs) | CPU busy |\n\
             |---|---|---|---|---|---|---|---|---|\n",
        );
        for r in here {
            let occupancy = r.max_occupancy.map_or("–".into(), |o| o.to_string());
            let latency = if r.latency_samples.is_some() {
                format!("{} / {} / {}", us(r.latency_p50_ns), us(r.latency_p99_ns), us(r.latency_p999_ns))
            } else {
                "–".into()
            };
            let (waits_pushed, waits_popped) = if r.mode == Mode::Driven || r.push_waits + r.pop_waits > 0 {
                (pct(r.push_wait_share), pct(r.pop_wait_share))
            } else {
                ("–".into(), "–".into())
            };
            writeln!(
                out,
                "| {} | {} | {waits_pushed} | {waits_popped} | {} | {} | {occupancy} | {latency} | {} |",
                label(r),
                r.capacity,
                secs(r.producer_blocked_s),
                secs(r.consumer_blocked_s),
                busy(r)
            )
            .unwrap();
        }
        out.push('\n');
    }
    if !shutdown.is_empty() {
        out.push_str(
            "## Shutdown semantics, through the harness interface\n\nWhat each probe saw, under a watchdog (`bqh shutdown` \
             prints the same matrix; each implementation's own API, without the adapter, is in summary.md's shutdown \
             section).\n\n",
        );
        out.push_str(&matrix_markdown(shutdown));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bq_engine::measure::Tally;
    use bq_engine::placement::Placement;
    use bq_engine::row::Kind;
    use bq_engine::workloads::{RunSpec, Workload};
    use crate::compare::Compare;
    use crate::study::Study;
    use std::time::Duration;

    fn observed(imp: &str, workload: Workload, placement: Placement) -> Row {
        let spec = RunSpec { placement, ..RunSpec::new(workload, 16, 1000) };
        let t = Tally {
            seconds: 0.01,
            cpu: Default::default(),
            threads_cpu: Some(Duration::from_millis(5)),
            push: Default::default(),
            pop: Default::default(),
            max_occupancy: Some(16),
            latencies_ns: vec![1000, 2000, 3000],
            delivery: Ok(()),
        };
        let mut r = Row::new(imp, Mode::Driven, &spec, 0, Ok(t));
        r.kind = Kind::Observation;
        r
    }

    /// One run per configuration: no "median of N repetitions", no interval, no "fastest", and
    /// each configuration headed with its placement.
    #[test]
    fn observations_say_what_one_run_saw_under_its_placement() {
        let env = Env::collect(
            Compare::NAME,
            &bq_results::Toolchain { rustc: "r", ocamlopt: "o", cc: "c" },
            serde_json::json!({}),
        );
        let rows = vec![
            observed("crossbeam", Workload::Spsc, Placement::SameCore),
            observed("c-pthread", Workload::Spsc, Placement::SameCore),
            observed("crossbeam", Workload::Spsc, Placement::CrossCore),
            observed("crossbeam", Workload::Mpsc, Placement::Unpinned),
        ];
        let md = markdown(&env, &rows, &[]);
        assert!(!md.contains("repetitions"), "{md}");
        assert!(!md.split('[').skip(1).any(|s| s.starts_with(|c: char| c.is_ascii_digit())), "no interval: {md}");
        assert!(!md.to_lowercase().contains("fastest"), "{md}");
        for heading in ["## spsc (1 producer(s)", "## spsc · cross-core (1", "## mpsc · unpinned (4"] {
            assert!(md.contains(heading), "{heading}: {md}");
        }
        assert!(md.contains("| 50% of 1 |"), "the CPU busy share of the one same-core CPU: {md}");
        assert!(md.contains("| 25% of 2 |"), "cross-core: two CPUs: {md}");
        assert_eq!(md.matches("| crossbeam |").count(), 3);
    }

    /// A figure that is not zero never prints as zero at its precision.
    #[test]
    fn small_figures_are_not_printed_as_zero() {
        assert_eq!(pct(0.0), "0.0%");
        assert_eq!(pct(0.0001), "<0.1%");
        assert_eq!(pct(0.5), "50.0%");
        assert_eq!(secs(0.0), "0.0000");
        assert_eq!(secs(0.00001), "<0.0001");
        assert_eq!(crate::ratios::fmt_ratio(0.0004), "0.00040");
        assert_eq!(crate::ratios::fmt_ratio(0.012), "0.012");
    }
}
