//! The comparison's report, a pure function of its folder's data: from the rows of `runs.csv`,
//! the probes of `shutdown.csv` and `shutdown-native.csv`, the memory section's files and the
//! machine of `env.json` it writes `summary.md` and the SVG plots. A paired run's summary
//! opens with the A/A control and one table of ratios to the reference, with a forest plot per
//! workload; the long tables go to `ratios.md` and `observations.md` (waits, latencies, CPU,
//! the boundary, shutdown). A run from before paired measurement keeps its summary of medians. `bqh compare` ends with [`write`];
//! `bqh report DIR` calls [`read`] then the same [`write`], so a committed run can be redrawn
//! after a change to the report. Every figure is computed from the rows; nothing is written by
//! hand.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::Path;

use anyhow::Context;
use bq_engine::row::{Kind, Mode, Row};
use bq_engine::shutdown::{NativeObservation, Observation};
use bq_engine::workloads::Workload;
use bq_engine::Builtin;
use bq_results::files::{read_env, write_env, ENV_JSON, SUMMARY_MD};
use bq_results::markdown::{header, micros, plots_section, table_head};
use bq_results::stats::{self, geomean};
use bq_results::Env;

use super::{forest, json, observations, plots, verdict};
use crate::memory::report as memory_report;
use crate::memory::rows as memory_rows;
use crate::ratios::{self, fmt_ratio, ratio_cell, ratio_pm, Cell};
use crate::runs_csv::{
    failures, first_seen, groups, labels, mips, stability, stat, throughput_cell, workloads, Group, RUNS_CSV,
};
use crate::shutdown::report::{matrix_markdown, read_matrix, read_native, write_matrix, write_native};
use crate::shutdown::rows::{SHUTDOWN_CSV, SHUTDOWN_NATIVE_CSV};
use crate::study::Report;
use bq_engine::placement::Placement;

/// A comparison's folder.
pub struct Results {
    pub env: Env,
    pub rows: Vec<Row>,
    /// The probes through the harness interface, one column per implementation.
    pub shutdown: Vec<Vec<Observation>>,
    pub native: Vec<NativeObservation>,
    /// The short memory section, where the run had one.
    pub memory: Option<memory_report::Section>,
}

impl Report for Results {
    fn write(&self, dir: &Path) -> anyhow::Result<()> {
        write(dir, self)
    }

    fn rows(&self) -> usize {
        self.rows.len()
    }

    fn describe(&self) -> String {
        format!("{} runs, {} shutdown probes", self.rows.len(), self.shutdown.iter().flatten().count())
    }
}

/// The files [`read`] reads (the memory section's where it has one): `bqh report` puts them
/// back byte for byte.
pub const DATA_FILES: &[&str] =
    &[ENV_JSON, RUNS_CSV, SHUTDOWN_CSV, SHUTDOWN_NATIVE_CSV, memory_rows::MEMORY_RUNS_CSV, memory_rows::MEMORY_CSV];

/// Reads a comparison's folder.
pub fn read(dir: &Path) -> anyhow::Result<Results> {
    Ok(Results {
        env: read_env(dir)?,
        rows: crate::runs_csv::read_runs(&dir.join(RUNS_CSV))?,
        shutdown: read_matrix(dir)?,
        native: read_native(dir)?,
        memory: memory_report::read_section(dir)?,
    })
}

/// Writes every file of a comparison's folder into `dir` (which exists).
pub fn write(dir: &Path, r: &Results) -> anyhow::Result<()> {
    write_env(dir, &r.env)?;
    crate::runs_csv::write_runs(&dir.join(RUNS_CSV), &r.rows)?;
    write_matrix(dir, &r.shutdown)?;
    if ratios::paired(&r.rows) {
        write_paired(dir, r)?;
    } else {
        let plots = plots::write_plots(dir, &r.rows).context("drawing the plots")?;
        std::fs::write(dir.join(SUMMARY_MD), summary_markdown(&r.env, &r.rows, &r.shutdown, &plots))?;
    }
    write_native(dir, &r.native)?;
    match &r.memory {
        Some(m) => memory_report::append_section(dir, &m.runs, &m.samples),
        None => Ok(()),
    }
}

/// Capacities present for a workload, ascending.
fn capacities(gs: &[&Group]) -> Vec<usize> {
    gs.iter().map(|g| g.capacity).collect::<BTreeSet<_>>().into_iter().collect()
}

fn table_by_capacity(out: &mut String, gs: &[&Group], cell: impl Fn(&Group) -> String) {
    let caps = capacities(gs);
    table_head(out, "implementation", &caps, |c| format!("cap {c}"));
    for l in labels(gs) {
        write!(out, "| {l} |").unwrap();
        for c in &caps {
            let g = gs.iter().find(|g| g.label() == l && g.capacity == *c);
            write!(out, " {} |", g.map_or("".into(), |g| cell(g))).unwrap();
        }
        out.push('\n');
    }
    out.push('\n');
}

pub fn summary_markdown(env: &Env, rows: &[Row], shutdown: &[Vec<Observation>], plots: &[(String, String)]) -> String {
    let gs = groups(rows);
    let workloads = workloads(&gs);
    let reps = rows.iter().map(|r| r.repetition).max().unwrap_or(0);
    let mut out = String::new();
    header(&mut out, "Bounded queues compared", env);
    writeln!(
        out,
        "Command: `{}`. Every figure is the median of {reps} repetitions; throughput comes with a 95% \
                   interval for the median, [low–high] (order statistics: the interval between the k-th lowest and the \
                   k-th highest repetition that covers the median with 95% probability; below 6 repetitions no such \
                   interval exists and it is min–max). The rows behind each figure are in `runs.csv`.\n",
        env.command
    )
    .unwrap();

    out.push_str(&failures(rows));

    out.push_str("## Reading\n\n");
    out.push_str(&reading(&gs, &workloads));

    writeln!(out, "## Throughput (million items per second)\n").unwrap();
    out.push_str(
        "Median [95% interval]; ⚠: the interval is wider than ±10% (see Stability). `driven`: Rust threads drive \
                  the queue through the harness interface (rows without a mode); `native`: the language's own threads \
                  (pthreads in C; OCaml domains or systhreads; tokio tasks).\n\n",
    );
    for w in &workloads {
        let ws: Vec<&Group> = gs.iter().filter(|g| g.workload == *w).collect();
        let (p, c) = (ws[0].producers, ws[0].consumers);
        writeln!(
            out,
            "### {w} ({p} producer{}, {c} consumer{})\n",
            if p == 1 { "" } else { "s" },
            if c == 1 { "" } else { "s" }
        )
        .unwrap();
        table_by_capacity(&mut out, &ws, throughput_cell);
    }
    out.push_str("## Stability\n\n");
    out.push_str(&stability(&gs, rows, env.cores));
    out.push_str(&ceiling(&gs, &workloads));

    out.push_str("## CPU time per wall-clock second\n\n(user + system) / wall, median: 2.0 means both cores were busy the whole run. \
                  A design that spins instead of sleeping shows here.\n\n");
    for w in &workloads {
        let ws: Vec<&Group> = gs.iter().filter(|g| g.workload == *w).collect();
        writeln!(out, "### {w}\n").unwrap();
        table_by_capacity(&mut out, &ws, |g| {
            stat(&g.ok, |r| Some(r.cpu_per_wall)).map_or("–".into(), |s| format!("{:.2}", s.0))
        });
    }

    out.push_str("## Blocking (backpressure)\n\nDriven mode. Waits: share of pushes (pops) that found the queue full (empty) and had to \
                  block; blocked: total seconds producers (consumers) spent blocked, summed over threads; occupancy: the largest \
                  length a consumer sampled (every 64 pops), never above the capacity (rust-sync-channel has no length).\n\n");
    for w in &workloads {
        let ws: Vec<&Group> = gs.iter().filter(|g| g.workload == *w && g.mode == Mode::Driven).collect();
        if ws.is_empty() {
            continue;
        }
        writeln!(out, "### {w}\n").unwrap();
        out.push_str("| implementation | capacity | push waits | pop waits | producers blocked (s) | consumers blocked (s) | max occupancy |\n|---|---|---|---|---|---|---|\n");
        for g in &ws {
            let pct = |f: fn(&Row) -> f64| {
                stat(&g.ok, |r| Some(f(r) * 100.0)).map_or("–".into(), |s| format!("{:.1}%", s.0))
            };
            let secs = |f: fn(&Row) -> f64| stat(&g.ok, |r| Some(f(r))).map_or("–".into(), |s| format!("{:.3}", s.0));
            let occ =
                stat(&g.ok, |r| r.max_occupancy.map(|x| x as f64)).map_or("n/a".into(), |s| format!("{:.0}", s.2));
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                g.implementation,
                g.capacity,
                pct(|r| r.push_wait_share),
                pct(|r| r.pop_wait_share),
                secs(|r| r.producer_blocked_s),
                secs(|r| r.consumer_blocked_s),
                occ
            )
            .unwrap();
        }
        out.push('\n');
    }

    out.push_str(
        "## Latency, push to pop (µs)\n\np50 / p99 / p99.9 of sampled items (1 in 16), from the start of the push \
                  (so it includes time blocked on a full queue) to the end of the pop; median over repetitions. \
                  `seq` has none: one thread pushes and pops.\n\n",
    );
    for w in &workloads {
        let ws: Vec<&Group> =
            gs.iter().filter(|g| g.workload == *w && g.ok.iter().any(|r| r.latency_samples.is_some())).collect();
        if ws.is_empty() {
            continue;
        }
        writeln!(out, "### {w}\n").unwrap();
        table_by_capacity(&mut out, &ws, |g| {
            let q = |f: fn(&Row) -> Option<u64>| {
                stat(&g.ok, |r| f(r).map(|x| x as f64 / 1e3)).map_or("–".into(), |s| micros(s.0))
            };
            format!("{} / {} / {}", q(|r| r.latency_p50_ns), q(|r| r.latency_p99_ns), q(|r| r.latency_p999_ns))
        });
    }

    out.push_str("## The cost of the boundary: native against driven\n\n");
    out.push_str(&boundary(&gs));

    if !shutdown.is_empty() {
        out.push_str("## Shutdown semantics, observed\n\nEach cell is what a probe saw when run against the implementation under a \
                      watchdog (`bqh shutdown` prints the same matrix).\n\n");
        out.push_str(&matrix_markdown(shutdown));
        out.push('\n');
    }

    out.push_str(&plots_section(plots));
    out
}

/// Every throughput as a share of the lock-free ring's (`c-vyukov`, driven) for the same
/// workload, capacity and placement.
fn ceiling(gs: &[Group], workloads: &[Workload]) -> String {
    let top = Builtin::CVyukov.name();
    let mut out = String::new();
    if !gs.iter().any(|g| g.implementation == top && g.mode == Mode::Driven && !g.ok.is_empty()) {
        return out;
    }
    out.push_str("## Share of the lock-free ring\n\n");
    writeln!(
        out,
        "Median throughput as a share of `{top}`'s (Dmitry Vyukov's bounded MPMC ring, one CAS per operation, driven) \
         for the same workload, capacity and placement: a lock-free design beside the locking ones, not a ceiling \
         (a queue that parks its threads can beat it where the ring's threads spin for a CPU they share). `–`: no \
         ring figure (capacity 0).\n"
    )
    .unwrap();
    for w in workloads {
        let ws: Vec<&Group> = gs.iter().filter(|g| g.workload == *w).collect();
        writeln!(out, "### {w}\n").unwrap();
        table_by_capacity(&mut out, &ws, |g| {
            let base = gs
                .iter()
                .find(|b| {
                    (b.implementation, b.mode, b.workload, b.capacity, b.placement)
                        == (top, Mode::Driven, g.workload, g.capacity, g.placement)
                })
                .and_then(|b| stat(&b.ok, mips))
                .map(|s| s.0);
            match (stat(&g.ok, mips), base) {
                (Some(m), Some(b)) if b > 0.0 => format!("{:.0}%", 100.0 * m.0 / b),
                _ => "–".into(),
            }
        });
    }
    out
}

fn median_of(gs: &[Group], imp: &str, mode: Mode, workload: Workload, capacity: usize) -> Option<f64> {
    gs.iter()
        .find(|g| g.implementation == imp && g.mode == mode && g.workload == workload && g.capacity == capacity)
        .and_then(|g| stat(&g.ok, mips))
        .map(|s| s.0)
}

/// Per native mode: native / driven throughput for every configuration both ran.
fn boundary(gs: &[Group]) -> String {
    let mut out = String::new();
    let natives: Vec<(&str, Mode)> =
        first_seen(gs.iter().filter(|g| g.mode != Mode::Driven).map(|g| (g.implementation, g.mode)));
    if natives.is_empty() {
        return "No native runs in this selection.\n\n".into();
    }
    out.push_str("Throughput in million items per second; ratio = native / driven. A ratio above 1 is what crossing the \
                  language boundary once per operation costs; below 1, the language's own threads do worse than Rust's \
                  (for OCaml systhreads: one runtime lock for all threads). The Rust queues are native in driven mode.\n\n");
    out.push_str("| implementation | native mode | workload | capacity | driven | native | ratio |\n|---|---|---|---|---|---|---|\n");
    let mut per_mode: Vec<(String, Vec<f64>)> = Vec::new();
    for &(imp, mode) in &natives {
        let mut ratios = Vec::new();
        for g in gs.iter().filter(|g| g.implementation == imp && g.mode == mode) {
            let d = median_of(gs, imp, Mode::Driven, g.workload, g.capacity);
            let n = stat(&g.ok, mips).map(|s| s.0);
            let ratio = d.zip(n).map(|(d, n)| n / d);
            if let Some(r) = ratio {
                ratios.push(r);
            }
            let f = |x: Option<f64>| x.map_or("–".into(), |x| format!("{x:.2}"));
            writeln!(
                out,
                "| {imp} | {mode} | {} | {} | {} | {} | {} |",
                g.workload,
                g.capacity,
                f(d),
                f(n),
                ratio.map_or("–".into(), |r| format!("{r:.2}×"))
            )
            .unwrap();
        }
        per_mode.push((format!("{imp} {mode}"), ratios));
    }
    out.push('\n');
    for (name, ratios) in per_mode {
        if let Some(g) = geomean(&ratios) {
            writeln!(
                out,
                "- **{name}**: native / driven = {g:.2}× (geometric mean over {} configurations)",
                ratios.len()
            )
            .unwrap();
        }
    }
    out.push('\n');
    out
}

/// A short plain-language reading, computed from the figures.
fn reading(gs: &[Group], workloads: &[Workload]) -> String {
    let mut out = String::new();
    let driven: Vec<&Group> = gs.iter().filter(|g| g.mode == Mode::Driven && !g.ok.is_empty()).collect();
    for w in workloads {
        let ws: Vec<&&Group> = driven.iter().filter(|g| g.workload == *w).collect();
        let Some(cap) = ws.iter().map(|g| g.capacity).max() else { continue };
        let mut at: Vec<(&str, f64)> = ws
            .iter()
            .filter(|g| g.capacity == cap)
            .filter_map(|g| stat(&g.ok, mips).map(|s| (g.implementation, s.0)))
            .collect();
        if at.len() < 2 {
            continue;
        }
        at.sort_by(|a, b| b.1.total_cmp(&a.1));
        let (best, worst) = (at[0], at[at.len() - 1]);
        writeln!(
            out,
            "- **{w}** (capacity {cap}, driven): fastest {} at {:.2} M items/s, slowest {} at {:.2}: {:.1}× apart.",
            best.0,
            best.1,
            worst.0,
            worst.1,
            best.1 / worst.1
        )
        .unwrap();
    }
    // Capacity: how much a larger buffer buys, per implementation, on spsc.
    let caps: BTreeSet<usize> = driven.iter().filter(|g| g.capacity > 0).map(|g| g.capacity).collect();
    if let (Some(&lo), Some(&hi)) = (caps.first(), caps.last()) {
        if lo != hi {
            let mut parts = Vec::new();
            for imp in driven.iter().map(|g| g.implementation).collect::<BTreeSet<_>>() {
                let a = median_of(gs, imp, Mode::Driven, Workload::Spsc, lo);
                let b = median_of(gs, imp, Mode::Driven, Workload::Spsc, hi);
                if let (Some(a), Some(b)) = (a, b) {
                    parts.push(format!("{imp} {:.1}×", b / a));
                }
            }
            if !parts.is_empty() {
                writeln!(out, "- **Capacity** (spsc, capacity {hi} against {lo}): {}. At capacity {lo} every push waits for a pop, so the queue runs at the speed of a thread hand-off.", parts.join(", ")).unwrap();
            }
        }
    }
    // Backpressure: in slow-consumer, producers should wait on most pushes.
    let slow: Vec<String> = driven
        .iter()
        .filter(|g| g.workload == Workload::SlowConsumer && g.capacity == 16)
        .filter_map(|g| {
            stat(&g.ok, |r| Some(r.push_wait_share * 100.0)).map(|s| format!("{} {:.0}%", g.implementation, s.0))
        })
        .collect();
    if !slow.is_empty() {
        writeln!(out, "- **Backpressure** (slow-consumer, capacity 16): share of pushes that had to wait: {}. The queue's capacity bounds the memory a fast producer can fill; the producers wait instead.", slow.join(", ")).unwrap();
    }
    // Fan-in: the single consumer is the bottleneck.
    let fan: Vec<String> = driven
        .iter()
        .filter(|g| g.workload == Workload::FanIn && g.capacity == 16)
        .filter_map(|g| {
            let p = stat(&g.ok, |r| Some(r.push_wait_share * 100.0))?;
            let c = stat(&g.ok, |r| Some(r.pop_wait_share * 100.0))?;
            Some(format!("{} pushes {:.0}% / pops {:.0}%", g.implementation, p.0, c.0))
        })
        .collect();
    if !fan.is_empty() {
        writeln!(out, "- **Fan-in** (64 producers, capacity 16), waits: {}. Producers wait far more than the consumer: the one consumer is the bottleneck (batching, taking many items per lock, is the usual way out).", fan.join(", ")).unwrap();
    }
    // Swap buffers against the mutex-and-condition queue of their language, in the same run.
    for w in [Workload::FanInBatch, Workload::FanIn] {
        let Some(cap) = driven.iter().filter(|g| g.workload == w).map(|g| g.capacity).max() else { continue };
        let pairs: Vec<String> = Builtin::ALL
            .iter()
            .filter_map(|&b| Some((b, b.swap_sibling()?)))
            .filter_map(|(swap, sibling)| {
                let a = median_of(gs, swap.name(), Mode::Driven, w, cap)?;
                let b = median_of(gs, sibling.name(), Mode::Driven, w, cap)?;
                Some(format!("{swap} / {sibling} {:.1}×", a / b))
            })
            .collect();
        if !pairs.is_empty() {
            writeln!(out, "- **Swap buffers** ({w}, capacity {cap}, driven): {} (the goal at 64 producers: at least 3× with the consumer taking batches, fan-in-batch).", pairs.join(", ")).unwrap();
        }
    }
    // Boundary, OCaml.
    let mut ratios = Vec::new();
    let ocaml = Builtin::Ocaml.name();
    for g in gs.iter().filter(|g| g.implementation == ocaml && g.mode == Mode::NativeDomains) {
        if let (Some(d), Some(n)) = (median_of(gs, ocaml, Mode::Driven, g.workload, g.capacity), stat(&g.ok, mips)) {
            ratios.push(n.0 / d);
        }
    }
    if let Some(r) = geomean(&ratios) {
        writeln!(out, "- **Boundary**: the OCaml queue run on OCaml domains moves {r:.2}× the items per second it moves when Rust threads drive it over FFI (geometric mean over {} configurations); see the boundary table.", ratios.len()).unwrap();
    }
    out.push('\n');
    out
}

/// The linked files of a paired comparison.
pub const RATIOS_MD: &str = "ratios.md";
pub const OBSERVATIONS_MD: &str = "observations.md";

/// The interval goal the run was made with (`--goal`, in percent), as a fraction.
fn goal(env: &Env) -> f64 {
    env.parameters.get("goal").and_then(|g| g.as_f64()).map_or(0.03, |g| g / 100.0)
}

/// "spsc" for same-core, "spsc · cross-core" for another placement; the consumer's work
/// after it where the run set one.
fn config_label(c: &Cell) -> String {
    ratios::config_label(c.workload, c.placement, c.consumer_work_ns)
}

/// What a placement means for a reader's own program.
fn placement_meaning(p: Placement) -> &'static str {
    match p {
        Placement::CrossCore => {
            "What a program gets when its producers and its consumers each have a CPU of their own: every hand-off \
             wakes a thread on the other CPU."
        }
        Placement::SameCore => {
            "What a program gets on a busy machine or in a container with one CPU: the threads take turns, and a \
             hand-off is a switch on one CPU."
        }
        Placement::Unpinned => {
            "Where the scheduler puts the threads, as a program runs by default: on this machine a run flips between \
             the two placements above from one slice to the next."
        }
    }
}

fn placement_title(p: Placement) -> &'static str {
    match p {
        Placement::CrossCore => "Producers and consumers on CPUs of their own (cross-core)",
        Placement::SameCore => "Every thread on one CPU (same-core)",
        Placement::Unpinned => "Threads where the scheduler puts them (unpinned)",
    }
}

/// The placements of `cells`, headline first.
fn placements_of(cells: &[Cell]) -> Vec<Placement> {
    let mut ps: Vec<Placement> = first_seen(cells.iter().map(|c| c.placement));
    let head = verdict::headline_placement(cells);
    ps.sort_by_key(|p| (Some(*p) != head, *p == Placement::Unpinned));
    ps
}

fn write_paired(dir: &Path, r: &Results) -> anyhow::Result<()> {
    let cells = ratios::cells(&r.rows);
    let plots = forest::write_forests(dir, &cells).context("drawing the forest plots")?;
    std::fs::write(dir.join(RATIOS_MD), ratios_markdown(&r.env, &cells))?;
    let observed: Vec<Row> = r.rows.iter().filter(|x| x.kind == Kind::Observation).cloned().collect();
    std::fs::write(dir.join(OBSERVATIONS_MD), observations::markdown(&r.env, &observed, &r.shutdown))?;
    std::fs::write(dir.join(SUMMARY_MD), paired_summary(&r.env, &r.rows, &cells, &plots))?;
    json::write(dir, &r.env, &cells)?;
    Ok(())
}

/// How many cells reached the goal, among those that are not oversubscribed and those that are.
fn goal_line(cells: &[&Cell], goal: f64, cpus: usize) -> String {
    let count = |over: bool| {
        let of: Vec<&&Cell> = cells.iter().filter(|c| c.oversubscribed(cpus) == over && c.ratio.is_some()).collect();
        let within = of.iter().filter(|c| c.ratio.is_some_and(|r| r.half_width() <= goal)).count();
        (within, of.len())
    };
    let ((a, n), (b, m)) = (count(false), count(true));
    format!(
        "Within ±{:.0}%: **{a} of {n}** configurations with at most one thread per CPU their placement gives them, \
         and {b} of {m} with more (oversubscribed: the scheduler decides who runs, so they vary more).",
        goal * 100.0
    )
}

/// A ratio with its half-width, ⚠ past the goal, and the slices' two modes where they have two.
fn ratio_pm_marked(c: &Cell, goal: f64) -> String {
    let Some(r) = c.ratio else { return "–".into() };
    let mark = if r.half_width() > goal { " ⚠" } else { "" };
    let modes = if c.modes().is_some() { " ⌁" } else { "" };
    format!("{}{mark}{modes}", ratio_pm(r))
}

/// The verdict table of one placement.
fn verdict_table(out: &mut String, cells: &[Cell], p: Placement) {
    let vs = verdict::verdicts(cells, p);
    if vs.is_empty() {
        return;
    }
    writeln!(out, "### {}\n\n{}\n", placement_title(p), placement_meaning(p)).unwrap();
    out.push_str("| workload (producers → consumers) | capacity | fastest | M items/s | ahead of the next by |\n|---|---|---|---|---|\n");
    for v in &vs {
        let top = v.fastest[0];
        let mut shape = verdict::shape(v.workload, top.producers, top.consumers);
        if let Some(ns) = v.consumer_work_ns {
            write!(shape, ", consumer work {ns} ns").unwrap();
        }
        let names: Vec<String> = v.fastest.iter().map(|c| format!("**{}**", c.implementation)).collect();
        let fastest = if names.len() > 1 { format!("tie: {}", names.join(" = ")) } else { names[0].clone() };
        let margin = match v.margin {
            Some((next, m)) => format!(
                "{}× [{}–{}] ({})",
                fmt_ratio(m.ratio),
                fmt_ratio(m.low),
                fmt_ratio(m.high),
                next.implementation
            ),
            None => "– (no other can be told apart)".into(),
        };
        let modes = if top.modes().is_some() { " ⌁" } else { "" };
        writeln!(
            out,
            "| {shape} | {} | {fastest}{modes} | {} | {margin} |",
            v.capacity,
            v.mips().map_or("–".into(), fmt_ratio)
        )
        .unwrap();
    }
    out.push('\n');
}

pub fn paired_summary(env: &Env, rows: &[Row], cells: &[Cell], plots: &[(String, String)]) -> String {
    let goal = goal(env);
    let mut out = String::new();
    header(&mut out, "Bounded queues compared", env);
    writeln!(out, "Command: `{}`.\n", env.command).unwrap();
    let placements = placements_of(cells);
    let refs = ratios::references(cells);
    let ref_of = |p: Placement| refs.iter().find(|(q, _)| *q == p).map_or(String::new(), |(_, r)| ratios::label(*r));

    // The verdict first: what a reader came for.
    out.push_str("## Which queue for a Rust program\n\n");
    out.push_str(
        "For each workload and capacity, the fastest queue a Rust program can drive from its own threads (every \
         implementation in `driven` mode: Rust's channels, and the C and OCaml queues over FFI), its rate, and how \
         much faster it was than the next one that can be told apart from it: the ratio of the two with its 95% \
         interval. Queues whose difference lies inside that interval are a **tie** (`=`). ⌁: the fastest's slices \
         fell into two modes (see [below](#slices-with-two-modes)). The rates are this machine's today; the ratios, \
         measured in pairs in the same run, are what carries to another machine.\n\n",
    );
    for &p in &placements {
        if p == Placement::Unpinned {
            continue; // in ratios.md: it flips between the two others
        }
        verdict_table(&mut out, cells, p);
    }
    if placements.contains(&Placement::Unpinned) {
        writeln!(
            out,
            "Unpinned runs (where the scheduler puts the threads; here a run flips between the two placements above \
             from one slice to the next) are in [{RATIOS_MD}]({RATIOS_MD}), with the spread of their slices.\n"
        )
        .unwrap();
    }
    let skipped: Vec<String> = env
        .parameters
        .get("skipped")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    if !skipped.is_empty() {
        writeln!(out, "Not run: {}.\n", skipped.join("; ")).unwrap();
    }
    out.push_str(&failures(rows));
    out.push_str(&crate::runs_csv::children(rows));

    // The evidence: the method, the A/A control, the clock check.
    let slice_ms = stats::median(rows.iter().filter(|r| r.kind == Kind::Slice && r.ok()).map(|r| r.seconds * 1e3))
        .unwrap_or(f64::NAN);
    let pairs = cells.iter().filter_map(|c| c.ratio).map(|r| r.pairs).sum::<usize>();
    let references: Vec<String> = placements.iter().map(|&p| format!("{} {p}", ref_of(p))).collect();
    out.push_str("## How it was measured, and the A/A control\n\n");
    writeln!(
        out,
        "Every figure is a **ratio to a reference** in the same configuration ({}), measured in pairs: each \
         implementation ran in short slices ({slice_ms:.0} ms at the median), each next to a slice of the reference, \
         in alternating order (C R, R C, ...), so that drift hits both halves alike. A figure is the geometric mean of \
         its pairs' throughput ratios with a 95% interval (a paired t interval on the logs): **2.0 is twice the \
         reference's throughput, 0.5 half**; ⚠: the interval is wider than ±{:.0}%. {pairs} pairs in all. Each \
         placement's reference is the implementation whose own slices spread least there (crossbeam's slices across \
         two CPUs flip between catching its partner while spinning and parking). The slices make plain push and pop \
         calls and prove delivery by a checksum; waits, latencies and the exact delivery check come from one separate \
         observation run per configuration ([{OBSERVATIONS_MD}]({OBSERVATIONS_MD})). Every row is in `runs.csv`.\n",
        references.join(", "),
        goal * 100.0
    )
    .unwrap();
    let discarded = rows.iter().filter(|r| r.kind == Kind::Discarded).count();
    let checked = rows.iter().filter(|r| r.kind == Kind::Slice && r.threads_cpu_s.is_some()).count();
    if checked > 0 {
        writeln!(
            out,
            "**The clock check**: each slice's time runs from its first thread's start to its last thread's end, and \
             its threads' own CPU time must fit in it on the CPUs their placement allows (1 same-core, 2 cross-core). \
             {checked} slices passed; {discarded} did not and were discarded and run again.\n"
        )
        .unwrap();
    }
    let aa: Vec<&Cell> = cells.iter().filter(|c| c.aa).collect();
    let with: Vec<_> = aa.iter().filter_map(|c| c.ratio).collect();
    let contain = with.iter().filter(|r| r.contains(1.0)).count();
    let widths = stats::finite_sorted(with.iter().map(|r| r.half_width() * 100.0));
    writeln!(
        out,
        "**The A/A control**: each reference paired against itself in every configuration; its ratio must be 1.0 \
         within the interval, and its half-width is what this machine can resolve there today. **{contain} of {} \
         intervals contain 1.0**; half-width ±{:.1}% at the median, ±{:.1}% at the largest. {}\n",
        with.len(),
        stats::median(widths.iter().copied()).unwrap_or(f64::NAN),
        widths.last().copied().unwrap_or(f64::NAN),
        goal_line(&aa, goal, env.cores)
    )
    .unwrap();
    let caps: Vec<usize> = aa.iter().map(|c| c.capacity).collect::<BTreeSet<_>>().into_iter().collect();
    let configs = first_seen(aa.iter().map(|c| (config_label(c), ratios::label(c.reference))));
    table_head(&mut out, "configuration (reference)", &caps, |c| format!("cap {c}"));
    for (k, r) in &configs {
        write!(out, "| {k} ({r}) |").unwrap();
        for cap in &caps {
            let c = aa.iter().find(|c| config_label(c) == *k && c.capacity == *cap);
            write!(out, " {} |", c.map_or(String::new(), |c| ratio_pm_marked(c, goal))).unwrap();
        }
        out.push('\n');
    }
    out.push('\n');

    // The details: every implementation at one capacity, per placement, with the A/A beside.
    let headline =
        if cells.iter().any(|c| c.capacity == 16) { 16 } else { cells.iter().map(|c| c.capacity).max().unwrap_or(0) };
    for &p in &placements {
        let here: Vec<&Cell> =
            cells.iter().filter(|c| c.capacity == headline && c.placement == p && c.mode == Mode::Driven).collect();
        if here.is_empty() {
            continue;
        }
        let columns = first_seen(here.iter().map(|c| (c.workload, c.consumer_work_ns)));
        writeln!(out, "## Ratios to {}, {p}, capacity {headline}\n", ref_of(p)).unwrap();
        writeln!(
            out,
            "Every implementation driven by Rust threads: ratio ± half-width of its 95% interval; the first row is the \
             reference against itself (the A/A), the resolution each column has. Every capacity, with intervals, \
             pairs and absolute rates: [{RATIOS_MD}]({RATIOS_MD}).\n"
        )
        .unwrap();
        table_head(&mut out, "implementation", &columns, |(w, work)| match work {
            Some(ns) => format!("{w} · {ns} ns"),
            None => w.to_string(),
        });
        let labels = first_seen(here.iter().filter(|c| c.aa).chain(here.iter().filter(|c| !c.aa)).map(|c| c.shown()));
        for l in &labels {
            write!(out, "| {l} |").unwrap();
            for (w, work) in &columns {
                let c = here.iter().find(|c| c.shown() == *l && c.workload == *w && c.consumer_work_ns == *work);
                write!(out, " {} |", c.map_or("–".into(), |c| ratio_pm_marked(c, goal))).unwrap();
            }
            out.push('\n');
        }
        out.push('\n');
        let others: Vec<&Cell> = cells.iter().filter(|c| !c.aa && c.placement == p).collect();
        writeln!(out, "{}\n", goal_line(&others, goal, env.cores)).unwrap();
    }

    out.push_str(&port_section(cells));
    out.push_str(&swap_section(cells));
    out.push_str(&modes_section(cells));
    out.push_str(&native_section(cells, goal));

    if !plots.is_empty() {
        out.push_str("## Pictures\n\nOne row per implementation, a dot for the ratio and a bar for its 95% interval, one colour per \
                      capacity; the vertical line is 1.0 (as fast as the reference).\n\n");
        for (file, caption) in plots {
            writeln!(out, "![{caption}]({file})\n").unwrap();
        }
    }
    out
}

/// Your port against your original: the lines of [`port_lines`] under a heading.
fn port_section(cells: &[Cell]) -> String {
    let lines = port_lines(cells);
    if lines.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "## Your port against your original

",
    );
    out.push_str(
        "Each library or OCaml module given with `--plugin` against the one given with `--reference`, in every \
         configuration: its ratio with its 95% interval. Both driven: the same Rust threads drive both (an OCaml \
         module over FFI, in a child process of its own), so the original's figure includes what crossing into \
         OCaml costs. Where the original is an OCaml module, it also ran on its own domains (`ocaml/bq_native.ml` \
         built with it): the second figure is the port against that, its own threads against the original's \
         (a ratio between two ratios to the same reference).\n\n",
    );
    for l in lines {
        writeln!(out, "- {l}").unwrap();
    }
    out.push('\n');
    out
}

/// One line per configuration where a library or module (not a built-in) was compared with a
/// reference that is not a built-in either: a port against its original.
pub fn port_lines(cells: &[Cell]) -> Vec<String> {
    let file = ratios::short_name;
    cells
        .iter()
        .filter(|c| !c.aa && c.mode == Mode::Driven && Builtin::from_name(c.implementation).is_none())
        .filter(|c| c.reference.1 == Mode::Driven && Builtin::from_name(c.reference.0).is_none())
        .filter_map(|c| {
            let r = c.ratio?;
            let work = c.consumer_work_ns.map_or(String::new(), |ns| format!(", consumer work {ns} ns"));
            let mut line = format!(
                "your port `{}` runs at **{}× [{}–{}]** of your original `{}` in {}, {}, capacity {}{work} (both driven)",
                file(c.implementation),
                fmt_ratio(r.ratio),
                fmt_ratio(r.low),
                fmt_ratio(r.high),
                file(c.reference.0),
                verdict::shape(c.workload, c.producers, c.consumers),
                c.placement,
                c.capacity
            );
            // The original on its own domains, where it ran so: the port against it as a ratio
            // between two ratios to the same reference.
            let own = cells.iter().find(|o| {
                o.implementation == c.reference.0
                    && o.mode == Mode::NativeDomains
                    && (o.workload, o.capacity, o.placement, o.consumer_work_ns) == (c.workload, c.capacity, c.placement, c.consumer_work_ns)
            });
            if let Some(q) = own.and_then(|o| o.ratio).map(|o| stats::ratio_between(r, o)) {
                write!(line, "; **{}× [{}–{}]** of it on its own OCaml domains", fmt_ratio(q.ratio), fmt_ratio(q.low), fmt_ratio(q.high))
                    .unwrap();
            }
            Some(line)
        })
        .collect()
}

/// Each swap buffer (a consumer takes everything buffered under one lock) against the mutex and
/// condition variable queue of its language, in the fan-in workloads: a ratio between two
/// ratios to the same reference.
fn swap_section(cells: &[Cell]) -> String {
    let mut out = String::new();
    let mut lines = Vec::new();
    for c in
        cells.iter().filter(|c| c.mode == Mode::Driven && matches!(c.workload, Workload::FanIn | Workload::FanInBatch))
    {
        let Some(sibling) = Builtin::from_name(c.implementation).and_then(Builtin::swap_sibling) else { continue };
        let Some(s) = cells.iter().find(|s| {
            s.implementation == sibling.name()
                && s.mode == Mode::Driven
                && (s.workload, s.capacity, s.placement, s.consumer_work_ns)
                    == (c.workload, c.capacity, c.placement, c.consumer_work_ns)
        }) else {
            continue;
        };
        if let (Some(a), Some(b)) = (c.ratio, s.ratio) {
            let q = stats::ratio_between(a, b);
            lines.push(format!(
                "| {} / {} | {} | {} | {}× [{}–{}] |",
                c.implementation,
                sibling.name(),
                config_label(c),
                c.capacity,
                fmt_ratio(q.ratio),
                fmt_ratio(q.low),
                fmt_ratio(q.high)
            ));
        }
    }
    if lines.is_empty() {
        return out;
    }
    out.push_str(
        "## Swap buffers against their language's queue

",
    );
    out.push_str(
        "A swap buffer's consumer takes everything buffered under one lock; with many producers (fan-in) that is its case. Throughput of each against the mutex and condition variable queue of its language, in the same configuration, with its 95% interval (fan-in-batch: the consumer takes batches with `pop_many`).

",
    );
    out.push_str(
        "| swap / sibling | configuration | capacity | throughput ratio |
|---|---|---|---|
",
    );
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
    out.push('\n');
    out
}

/// Cells whose own slices fell into two modes: the share of slices near each rate, and each
/// rate, instead of one mean.
fn modes_section(cells: &[Cell]) -> String {
    let mut out = String::new();
    let two: Vec<(&Cell, [stats::Mode; 2])> = cells.iter().filter_map(|c| Some((c, c.modes()?))).collect();
    if two.is_empty() {
        return out;
    }
    out.push_str("## Slices with two modes\n\n");
    out.push_str(
        "These configurations' slices fell into two groups far apart (a queue that catches its partner while it \
         spins, or parks and waits to be woken; threads that run together or take turns): the share of slices near \
         each rate, and that rate. A mean of the two, or a ratio to them, describes neither; read the modes. ⌁ marks \
         them in the tables above.\n\n",
    );
    out.push_str("| implementation | configuration | capacity | slower mode | faster mode |\n|---|---|---|---|---|\n");
    for (c, [lo, hi]) in two {
        writeln!(
            out,
            "| {} | {} | {} | {:.0}% near {} M items/s | {:.0}% near {} M items/s |",
            c.shown(),
            config_label(c),
            c.capacity,
            lo.share * 100.0,
            fmt_ratio(lo.median / 1e6),
            hi.share * 100.0,
            fmt_ratio(hi.median / 1e6)
        )
        .unwrap();
    }
    out.push('\n');
    out
}

/// Each language's own threads and tokio's tasks: other execution models than a Rust program's
/// threads, so a table of their own; and what crossing the boundary costs (native against
/// driven, a ratio between two ratios to the same reference).
fn native_section(cells: &[Cell], goal: f64) -> String {
    let mut out = String::new();
    let native: Vec<&Cell> = cells.iter().filter(|c| c.mode != Mode::Driven && c.ratio.is_some()).collect();
    if native.is_empty() {
        return out;
    }
    out.push_str("## Each language's own threads, and tokio's tasks\n\n");
    out.push_str(
        "The C queue on pthreads of C's own, the OCaml queue on OCaml domains or systhreads, and tokio's channel \
         between tasks: what each language's own program gets, not what a Rust program's threads can use. \
         Native/driven: the native run's throughput over the same queue's when Rust threads drive it across the \
         language boundary (above 1: the boundary costs that much; tasks against threads for tokio).\n\n",
    );
    out.push_str(
        "| runner | configuration | capacity | ratio to the reference | native / driven |\n|---|---|---|---|---|\n",
    );
    for c in native {
        let driven = cells.iter().find(|d| {
            d.implementation == c.implementation
                && d.mode == Mode::Driven
                && (d.workload, d.capacity, d.placement, d.consumer_work_ns)
                    == (c.workload, c.capacity, c.placement, c.consumer_work_ns)
        });
        let boundary = driven.and_then(|d| d.ratio).map_or("–".into(), |d| {
            let q = stats::ratio_between(c.ratio.expect("kept above"), d);
            format!("{}× [{}–{}]", fmt_ratio(q.ratio), fmt_ratio(q.low), fmt_ratio(q.high))
        });
        writeln!(
            out,
            "| {} | {} ({}) | {} | {} | {boundary} |",
            c.label(),
            config_label(c),
            ratios::label(c.reference),
            c.capacity,
            ratio_pm_marked(c, goal)
        )
        .unwrap();
    }
    out.push('\n');
    out
}

/// Every cell: ratio, interval, pairs and the median absolute throughput of its slices.
fn ratios_markdown(env: &Env, cells: &[Cell]) -> String {
    let goal = goal(env);
    let mut out = String::new();
    header(&mut out, "Ratios to the reference, every configuration", env);
    writeln!(
        out,
        "Ratio [95% interval] of throughput to the reference's in the same configuration, from paired slices; ⚠: wider \
         than ±{:.0}%; ⌁: the slices fell into two modes (summary.md lists them). M items/s: the median of the \
         implementation's own slices, and the spread of its slices (10th to 90th percentile): absolute figures move \
         with the machine; the ratios are the comparison. Oversubscribed: more threads than the CPUs their placement \
         gives them.\n",
        goal * 100.0,
    )
    .unwrap();
    for k in &first_seen(cells.iter().map(|c| config_label(c))) {
        let here: Vec<&Cell> = cells.iter().filter(|c| config_label(c) == *k).collect();
        let over = if here[0].oversubscribed(env.cores) { ", oversubscribed" } else { "" };
        writeln!(
            out,
            "## {k} ({} producer(s), {} consumer(s){over}; reference {})\n",
            here[0].producers,
            here[0].consumers,
            ratios::label(here[0].reference)
        )
        .unwrap();
        out.push_str("| implementation | capacity | ratio [95% interval] | pairs | M items/s | slices, p10–p90 |\n|---|---|---|---|---|---|\n");
        for c in here {
            let spread = c.spread().map_or("–".into(), |(a, b)| format!("{}–{}", fmt_ratio(a), fmt_ratio(b)));
            let modes = if c.modes().is_some() { " ⌁" } else { "" };
            writeln!(
                out,
                "| {} | {} | {}{modes} | {} | {} | {spread} |",
                c.shown(),
                c.capacity,
                ratio_cell(c.ratio, goal),
                c.ratio.map_or(0, |r| r.pairs),
                c.mips().map_or("–".into(), fmt_ratio)
            )
            .unwrap();
        }
        out.push('\n');
    }
    out
}
