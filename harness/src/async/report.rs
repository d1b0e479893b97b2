//! The async study's report (`bqh async`): fan-in with tokio tasks against threads, one table
//! and one plot of nanoseconds per item against producers per capacity, the cost of starting
//! idle tasks and threads (`spawn.csv`), and a reading in plain words.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::Path;

use anyhow::Context;
use bq_engine::row::{Mode, Row};
use bq_results::files::{read_csv_if_present, read_env, write_csv, write_env, ENV_JSON, SUMMARY_MD};
use bq_results::markdown::{header, plots_section, table_head};
use bq_results::plot::{lines, lines_in, Plot};
use bq_results::Env;

use super::rows::{SpawnCost, RUNS_CSV, SPAWN_CSV};
use crate::figures::{recolour, FRAMES};
use crate::runs_csv::{failures, groups, labels, series_by_label, stability, stat, Group};
use crate::study::Report;

/// An async study's folder.
pub struct Results {
    pub env: Env,
    pub rows: Vec<Row>,
    pub spawned: Vec<SpawnCost>,
}

impl Report for Results {
    fn write(&self, dir: &Path) -> anyhow::Result<()> {
        write(dir, self)
    }

    fn rows(&self) -> usize {
        self.rows.len() + self.spawned.len()
    }

    fn describe(&self) -> String {
        format!("{} runs, {} spawn measurements", self.rows.len(), self.spawned.len())
    }
}

/// The files [`read`] reads: `bqh report` puts them back byte for byte.
pub const DATA_FILES: &[&str] = &[ENV_JSON, RUNS_CSV, SPAWN_CSV];

/// Reads an async study's folder (`spawn.csv` where present).
pub fn read(dir: &Path) -> anyhow::Result<Results> {
    Ok(Results {
        env: read_env(dir)?,
        rows: crate::runs_csv::read_runs(&dir.join(RUNS_CSV))?,
        spawned: read_csv_if_present(&dir.join(SPAWN_CSV))?,
    })
}

/// Writes every file of an async study's folder into `dir` (which exists).
pub fn write(dir: &Path, r: &Results) -> anyhow::Result<()> {
    write_env(dir, &r.env)?;
    write_csv(&dir.join(SPAWN_CSV), &r.spawned)?;
    crate::runs_csv::write_runs(&dir.join(RUNS_CSV), &r.rows)?;
    let plots = write_plots(dir, &r.rows).context("drawing the plots")?;
    std::fs::write(dir.join(SUMMARY_MD), summary_markdown(&r.env, &r.rows, &r.spawned, &plots))
        .with_context(|| format!("cannot write {}", dir.join(SUMMARY_MD).display()))
}

fn ns(r: &Row) -> Option<f64> {
    Some(r.ns_per_item)
}

fn producers(g: &Group) -> u64 {
    g.producers
}

fn capacities(gs: &[Group]) -> Vec<usize> {
    gs.iter().map(|g| g.capacity).collect::<BTreeSet<_>>().into_iter().collect()
}

/// Median ns per item of one label at one producer count.
fn median_at(ws: &[&Group], label: &str, n: u64) -> Option<f64> {
    ws.iter().find(|g| g.label() == label && g.producers == n).and_then(|g| stat(&g.ok, ns)).map(|s| s.0)
}

pub fn write_plots(dir: &Path, rows: &[Row]) -> anyhow::Result<Vec<Plot>> {
    let gs = groups(rows);
    let mut plots = Vec::new();
    for cap in capacities(&gs) {
        let ws: Vec<&Group> = gs.iter().filter(|g| g.capacity == cap).collect();
        let counts: Vec<u64> = ws.iter().map(|g| producers(g)).collect::<BTreeSet<_>>().into_iter().collect();
        let xs: Vec<String> = counts.iter().map(|n| n.to_string()).collect();
        let file = format!("async-fan-in-{cap}.svg");
        let caption = format!("fan-in, capacity {cap}: cost per item against producers (median; whiskers: min-max)");
        let series = series_by_label(&ws, &counts, producers, ns);
        lines(dir, &file, caption, &xs, "producers (1 consumer)", "ns per item (log)", &series)?;
        // Few series already (tasks and threads of tokio, the threaded channels): all kept.
        let mut few = series.clone();
        recolour(&mut few, &ws);
        for f in FRAMES {
            let caption = format!("fan-in, capacity {cap}: ns per item against producers (median; whiskers: min-max)");
            lines_in(f, dir, &f.file(&file), &caption, &xs, "producers (1 consumer)", "ns per item (log)", &few)?;
        }
        plots.push((file, format!("fan-in, capacity {cap}: ns per item against producers, tasks and threads")));
    }
    Ok(plots)
}

fn ms(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.1}")
    } else {
        "–".into()
    }
}

/// The spawn measurements in words, for the reading.
fn spawn_reading(spawned: &[SpawnCost]) -> Vec<String> {
    let mut out = Vec::new();
    let largest = |kind: &str| spawned.iter().filter(|s| s.kind == kind).max_by_key(|s| s.wanted);
    if let (Some(t), Some(k)) = (largest("tasks"), largest("threads")) {
        out.push(format!(
            "Starting {} idle tasks took {} ms and {} MiB of resident memory; {} idle threads took {} ms, {} MiB of \
             address space (their stacks, reserved but mostly untouched) and {} MiB resident.",
            t.started,
            ms(t.start_ms),
            ms(t.resident_mib),
            k.started,
            ms(k.start_ms),
            ms(k.address_space_mib),
            ms(k.resident_mib)
        ));
        if k.started < k.wanted {
            out.push(format!("The system stopped the threads at {}: {}.", k.started, k.error));
        } else if k.started > 0 {
            out.push(format!(
                "Per thread: {:.0} µs to start and {:.0} KiB of address space, against {:.1} µs and {:.1} KiB resident per task.",
                k.start_ms * 1e3 / k.started as f64,
                k.address_space_mib * 1024.0 / k.started as f64,
                t.start_ms * 1e3 / t.started.max(1) as f64,
                t.resident_mib * 1024.0 / t.started.max(1) as f64
            ));
        }
    }
    out
}

/// Where tasks win and where they do not, per capacity, from the medians.
fn reading(gs: &[Group], spawned: &[SpawnCost]) -> String {
    let mut out = String::from("## Reading\n\n");
    for cap in capacities(gs) {
        let ws: Vec<&Group> = gs.iter().filter(|g| g.capacity == cap).collect();
        let tasks = ws.iter().find(|g| g.mode == Mode::NativeTasks).map(|g| g.label());
        let thread_labels: Vec<String> = labels(&ws).into_iter().filter(|l| Some(l) != tasks.as_ref()).collect();
        let task_counts: Vec<u64> = ws
            .iter()
            .filter(|g| g.mode == Mode::NativeTasks)
            .map(|g| g.producers)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let thread_counts: BTreeSet<u64> =
            ws.iter().filter(|g| g.mode != Mode::NativeTasks).map(|g| g.producers).collect();
        writeln!(out, "- **Capacity {cap}.**").unwrap();
        for &n in &thread_counts {
            let best = thread_labels
                .iter()
                .filter_map(|l| median_at(&ws, l, n).map(|m| (l, m)))
                .min_by(|a, b| a.1.total_cmp(&b.1));
            let task = tasks.as_deref().and_then(|t| median_at(&ws, t, n));
            match (task, best) {
                (Some(t), Some((l, b))) => writeln!(
                    out,
                    "  - {n} producers: tasks {t:.0} ns per item, the fastest threads ({l}) {b:.0}: tasks are {}.",
                    if t <= b { format!("{:.1}× faster", b / t) } else { format!("{:.1}× slower", t / b) }
                )
                .unwrap(),
                (None, Some((l, b))) => {
                    writeln!(out, "  - {n} producers: the fastest threads ({l}) {b:.0} ns per item.").unwrap()
                }
                _ => {}
            }
        }
        if let (Some(t), Some(&lo), Some(&hi)) = (tasks.as_deref(), task_counts.first(), task_counts.last()) {
            if let (Some(a), Some(b), true) = (median_at(&ws, t, lo), median_at(&ws, t, hi), hi > lo) {
                writeln!(out, "  - Tasks from {lo} to {hi} producers: {a:.0} → {b:.0} ns per item (×{:.1}).", b / a)
                    .unwrap();
            }
        }
    }
    for s in spawn_reading(spawned) {
        writeln!(out, "- {s}").unwrap();
    }
    out.push_str(
        "\nHow to read it: one consumer takes every item, so in fan-in it is the bottleneck whatever runs the \
         producers; what differs is what a hand-off costs (waking a sleeping thread, or scheduling a task on a \
         worker that is already running) and how many producers can exist at all. The spawn table says what one \
         task and one thread cost to start and to hold on this machine; the harness's thread runs stop at 1,024 \
         producers. On a machine with 2 cores every figure here has wide intervals: read ratios within one run.\n\n",
    );
    out
}

pub fn summary_markdown(env: &Env, rows: &[Row], spawned: &[SpawnCost], plots: &[Plot]) -> String {
    let gs = groups(rows);
    let mut out = String::new();
    header(&mut out, "Async: tokio tasks against threads, fan-in", env);
    writeln!(
        out,
        "Command: `{}`. Fan-in: N producers, 1 consumer. `tokio (native-tasks)`: producer and consumer tasks on a \
         multi-thread runtime with one worker per core ({} here), the consumer a spawned task like the producers \
         (`block_on` only awaits the join handles: a receiver inside `block_on` would run outside the workers). The \
         other rows are threads: one OS thread per producer, driving each channel through the harness interface \
         (`tokio`: `blocking_send`, and a waiting receive on a small runtime of its own). Nanoseconds per item (wall \
         time of a run / items), median over repetitions.\n",
        env.command, env.cores
    )
    .unwrap();
    out.push_str(&failures(rows));
    out.push_str(&reading(&gs, spawned));

    out.push_str("## Nanoseconds per item\n\n");
    for cap in capacities(&gs) {
        let ws: Vec<&Group> = gs.iter().filter(|g| g.capacity == cap).collect();
        let counts: Vec<u64> = ws.iter().map(|g| producers(g)).collect::<BTreeSet<_>>().into_iter().collect();
        writeln!(out, "### fan-in, capacity {cap} (producers, 1 consumer)\n").unwrap();
        table_head(&mut out, "implementation", &counts, |n| n.to_string());
        for l in labels(&ws) {
            write!(out, "| {l} |").unwrap();
            for &n in &counts {
                let cell = ws.iter().find(|g| g.label() == l && g.producers == n).and_then(|g| stat(&g.ok, ns));
                write!(out, " {} |", cell.map_or("–".into(), |s| format!("{:.0} [{:.0}–{:.0}]", s.0, s.1, s.2)))
                    .unwrap();
            }
            out.push('\n');
        }
        out.push_str("\nCells: median [min–max] over the repetitions; – where the configuration was not run.\n\n");
    }

    out.push_str("## Starting idle tasks and threads\n\n");
    out.push_str(
        "Each started, counted until every one runs, then released and joined. Address space and resident memory: \
         growth of the process's `VmSize` and `VmRSS` while all were alive.\n\n\
         | kind | wanted | started | start (ms) | join (ms) | address space (MiB) | resident (MiB) | error |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for s in spawned {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            s.kind,
            s.wanted,
            s.started,
            ms(s.start_ms),
            ms(s.join_ms),
            ms(s.address_space_mib),
            ms(s.resident_mib),
            s.error.replace('|', "/")
        )
        .unwrap();
    }
    out.push('\n');
    out.push_str("## Stability\n\n");
    out.push_str(&stability(&gs, rows, env.cores));
    out.push_str(&plots_section(plots));
    out
}
