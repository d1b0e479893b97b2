//! The strategies report (`bqh strategies`): per shape and policy, delivered items per second,
//! drop share, latency, producer blocked time and peak memory; the pipeline's throughput,
//! end-to-end latency, source blocked time and items in flight; a plain reading; SVG bars.
//! Drawn from `strategies.csv`, `pipeline.csv` and `env.json` alone, so `bqh report` redraws it.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use plotters::prelude::*;

use bq_engine::row::Mode;
use bq_engine::workloads::Workload;
use bq_results::files::{read_csv, read_env, write_csv, write_env, ENV_JSON, SUMMARY_MD};
use bq_results::markdown::{header, micros, plots_section};
use bq_results::plot::{
    bar_chart, dots_in, legend_column, legend_width, log_range, ForestSeries, Plot, Series, Swatch,
};
use bq_results::stats::{median, median_min_max, median_with_interval};
use bq_results::Env;

use super::policy::{Policy, Variant};
use super::rows::{PipelineRow, StrategyRow, PIPELINE_CSV, STRATEGIES_CSV};
use crate::figures::{facets, headline_colour, FRAMES};
use crate::runs_csv::color;
use crate::study::Report;

/// A strategies study's folder.
pub struct Results {
    pub env: Env,
    pub rows: Vec<StrategyRow>,
    pub pipeline: Vec<PipelineRow>,
}

impl Report for Results {
    fn write(&self, dir: &Path) -> anyhow::Result<()> {
        write(dir, self)
    }

    fn rows(&self) -> usize {
        self.rows.len() + self.pipeline.len()
    }

    fn describe(&self) -> String {
        format!("{} policy runs, {} pipeline runs", self.rows.len(), self.pipeline.len())
    }
}

/// Writes every file of a strategies results folder into `dir` (which exists).
pub fn write(dir: &Path, r: &Results) -> anyhow::Result<()> {
    write_env(dir, &r.env)?;
    write_csv(&dir.join(STRATEGIES_CSV), &r.rows)?;
    write_csv(&dir.join(PIPELINE_CSV), &r.pipeline)?;
    let plots = write_plots(dir, &r.rows, &r.pipeline).context("drawing the plots")?;
    std::fs::write(dir.join(SUMMARY_MD), summary_markdown(&r.env, &r.rows, &r.pipeline, &plots))?;
    Ok(())
}

/// The files [`read`] reads: `bqh report` puts them back byte for byte.
pub const DATA_FILES: &[&str] = &[ENV_JSON, STRATEGIES_CSV, PIPELINE_CSV];

/// Reads a strategies study's folder. A file that is empty (a part the run skipped) gives no
/// rows.
pub fn read(dir: &Path) -> anyhow::Result<Results> {
    Ok(Results {
        env: read_env(dir)?,
        rows: read_csv(&dir.join(STRATEGIES_CSV))?,
        pipeline: read_csv(&dir.join(PIPELINE_CSV))?,
    })
}

/// (median, lo, hi) of the 95% interval of the median (min-max below 6 values).
fn interval(v: Vec<f64>) -> Option<(f64, f64, f64)> {
    median_with_interval(v).map(|(m, lo, hi, _)| (m, lo, hi))
}

/// One configuration of the policy runs.
struct Cell<'a> {
    implementation: &'a str,
    workload: Workload,
    policy: Policy,
    capacity: usize,
    ok: Vec<&'a StrategyRow>,
}

impl Cell<'_> {
    fn col(&self, f: impl Fn(&StrategyRow) -> Option<f64>) -> Option<f64> {
        median(self.ok.iter().filter_map(|r| f(r)))
    }

    fn delivered(&self) -> Option<(f64, f64, f64)> {
        interval(self.ok.iter().map(|r| r.delivered_per_second / 1e6).collect())
    }
}

fn cells(rows: &[StrategyRow]) -> Vec<Cell<'_>> {
    let mut out: Vec<Cell> = Vec::new();
    for r in rows {
        let i = match out.iter().position(|c| {
            (c.implementation, c.workload, c.policy, c.capacity)
                == (r.implementation.as_str(), r.workload, r.policy, r.capacity)
        }) {
            Some(i) => i,
            None => {
                out.push(Cell {
                    implementation: &r.implementation,
                    workload: r.workload,
                    policy: r.policy,
                    capacity: r.capacity,
                    ok: Vec::new(),
                });
                out.len() - 1
            }
        };
        if r.ok() {
            out[i].ok.push(r);
        }
    }
    out
}

/// (shape, capacity) panels in first-seen order.
fn panels(cs: &[Cell]) -> Vec<(Workload, usize)> {
    let mut v: Vec<(Workload, usize)> = Vec::new();
    cs.iter().for_each(|c| {
        if !v.contains(&(c.workload, c.capacity)) {
            v.push((c.workload, c.capacity))
        }
    });
    v
}

fn first_seen<T: PartialEq + Copy>(it: impl Iterator<Item = T>) -> Vec<T> {
    let mut v = Vec::new();
    it.for_each(|x| {
        if !v.contains(&x) {
            v.push(x)
        }
    });
    v
}

/// Nanoseconds, shown in microseconds.
fn us(ns: f64) -> String {
    micros(ns / 1e3)
}

fn mib(bytes: f64) -> String {
    format!("{:.1}", bytes / (1024.0 * 1024.0))
}

fn kib(bytes: f64) -> String {
    format!("{:.0}", bytes / 1024.0)
}

fn or_dash(v: Option<String>) -> String {
    v.unwrap_or_else(|| "–".into())
}

/// Failed runs of both kinds, first and loudly.
fn failures(rows: &[StrategyRow], pipeline: &[PipelineRow]) -> String {
    let mut out = String::new();
    let n = rows.iter().filter(|r| !r.ok()).count() + pipeline.iter().filter(|r| !r.ok()).count();
    if n == 0 {
        return out;
    }
    writeln!(out, "## ⚠ FAILED RUNS ({n})\n").unwrap();
    out.push_str(
        "These runs lost, duplicated or miscounted items, overfilled a queue or a semaphore, hung or panicked \
                  (repetition 0 is a pilot or the warm-up). They are not in any figure below.\n\n",
    );
    out.push_str("| implementation | run | capacity | repetition | what went wrong |\n|---|---|---|---|---|\n");
    for r in rows.iter().filter(|r| !r.ok()) {
        writeln!(
            out,
            "| {} | {} {} | {} | {} | {} |",
            r.implementation,
            r.workload,
            r.policy,
            r.capacity,
            r.repetition,
            r.error.replace('|', "/")
        )
        .unwrap();
    }
    for r in pipeline.iter().filter(|r| !r.ok()) {
        writeln!(
            out,
            "| {} | pipeline {} | {} | {} | {} |",
            r.implementation,
            r.variant,
            r.capacity,
            r.repetition,
            r.error.replace('|', "/")
        )
        .unwrap();
    }
    out.push('\n');
    out
}

/// Median over implementations of a policy's figure divided by block's, in one panel.
fn ratio_to_block(cs: &[Cell], w: Workload, cap: usize, p: Policy, f: impl Fn(&Cell) -> Option<f64>) -> Option<f64> {
    let ratios: Vec<f64> = cs
        .iter()
        .filter(|c| c.workload == w && c.capacity == cap && c.policy == p)
        .filter_map(|c| {
            let base = cs.iter().find(|b| {
                b.workload == w
                    && b.capacity == cap
                    && b.policy == Policy::Block
                    && b.implementation == c.implementation
            })?;
            let (a, b) = (f(c)?, f(base)?);
            (b > 0.0).then_some(a / b)
        })
        .collect();
    median(ratios)
}

fn times(x: Option<f64>) -> String {
    x.map_or("–".into(), |x| if x >= 10.0 { format!("×{x:.0}") } else { format!("×{x:.2}") })
}

fn reading(cs: &[Cell], pipeline: &[PipelineRow]) -> String {
    let mut out = String::new();
    for (w, cap) in panels(cs) {
        let (p, c) = w.threads();
        writeln!(
            out,
            "- **{w}** ({p} producers, {c} consumer, capacity {cap}), each policy against `block` (median over implementations \
             of the ratio on the same implementation):"
        )
        .unwrap();
        for policy in first_seen(cs.iter().filter(|c| c.workload == w && c.capacity == cap).map(|c| c.policy)) {
            let drops = median(
                cs.iter()
                    .filter(|c| c.workload == w && c.capacity == cap && c.policy == policy)
                    .filter_map(|c| c.col(|r| Some(r.drop_share))),
            );
            let blocked = median(
                cs.iter()
                    .filter(|c| c.workload == w && c.capacity == cap && c.policy == policy)
                    .filter_map(|c| c.col(|r| Some(r.producer_blocked_s / r.seconds / r.producers as f64))),
            );
            if policy == Policy::Block {
                writeln!(
                    out,
                    "  - `block`: nothing dropped; each producer blocked {:.0}% of the run (median).",
                    blocked.unwrap_or(f64::NAN) * 100.0
                )
                .unwrap();
                continue;
            }
            let delivered = ratio_to_block(cs, w, cap, policy, |c| c.delivered().map(|s| s.0));
            let p99 = ratio_to_block(cs, w, cap, policy, |c| c.col(|r| r.latency_p99_ns.map(|x| x as f64)));
            let mut line = format!(
                "  - `{policy}`: delivers {} the items per second, p99 latency {}",
                times(delivered),
                times(p99)
            );
            if policy.drops() {
                write!(line, ", drops {:.1}% of what was produced", drops.unwrap_or(f64::NAN) * 100.0).unwrap();
            }
            write!(line, "; producers blocked {:.0}% of the run", blocked.unwrap_or(f64::NAN) * 100.0).unwrap();
            if policy == Policy::NaturalBatch {
                let mean = median(
                    cs.iter()
                        .filter(|c| c.workload == w && c.capacity == cap && c.policy == policy)
                        .filter_map(|c| c.col(|r| Some(r.mean_batch))),
                );
                write!(line, ", {:.1} items per pop_many (median)", mean.unwrap_or(f64::NAN)).unwrap();
            }
            out.push_str(&line);
            out.push_str(".\n");
        }
    }
    if !pipeline.is_empty() {
        let med = |v: Variant, f: &dyn Fn(&PipelineRow) -> f64| {
            median(pipeline_impls(pipeline).iter().filter_map(|i| {
                median(pipeline.iter().filter(|r| r.ok() && r.variant == v && r.implementation == *i).map(f))
            }))
        };
        let ratio = |a: Variant, b: Variant, f: &dyn Fn(&PipelineRow) -> f64| {
            median(pipeline_impls(pipeline).iter().filter_map(|i| {
                let m = |v: Variant| {
                    median(pipeline.iter().filter(|r| r.ok() && r.variant == v && r.implementation == *i).map(f))
                };
                let (x, y) = (m(a)?, m(b)?);
                (y > 0.0).then_some(x / y)
            }))
        };
        let tput = |r: &PipelineRow| r.items_per_second;
        let source = |r: &PipelineRow| r.source_items_per_second;
        let blocked = |r: &PipelineRow| r.source_blocked_share;
        let inflight = |r: &PipelineRow| r.peak_in_flight as f64;
        let live = |r: &PipelineRow| r.peak_live_bytes as f64;
        out.push_str("- **The pipeline** (median over implementations):\n");
        if let (Some(t), Some(b0), Some(b1)) = (
            ratio(Variant::SlowWrite, Variant::Balanced, &tput),
            med(Variant::Balanced, &blocked),
            med(Variant::SlowWrite, &blocked),
        ) {
            writeln!(
                out,
                "  - Slowing the write stage from {} to {} µs per item: throughput {}, the source's own pace {}, the source \
                 blocked {:.0}% of the run instead of {:.0}%, peak items in flight {} (at most both capacities plus five, \
                 checked on every run). Backpressure reaches the source: it slows down, memory does not grow.",
                us(pipeline.iter().find(|r| r.variant == Variant::Balanced).map_or(f64::NAN, |r| r.write_ns as f64)),
                us(pipeline.iter().find(|r| r.variant == Variant::SlowWrite).map_or(f64::NAN, |r| r.write_ns as f64)),
                times(Some(t)),
                times(ratio(Variant::SlowWrite, Variant::Balanced, &source)),
                b1 * 100.0,
                b0 * 100.0,
                times(ratio(Variant::SlowWrite, Variant::Balanced, &inflight)),
            )
            .unwrap();
        }
        if let (Some(m), Some(b)) =
            (ratio(Variant::UnboundedMiddle, Variant::SlowWrite, &inflight), med(Variant::UnboundedMiddle, &blocked))
        {
            writeln!(
                out,
                "  - With the middle queue unbounded (a capacity of at least the run's items) and the same slow write stage: \
                 peak items in flight {} those of the bounded pipeline (payload bytes alive {}: {} KiB at the median), the source's pace {}, the source blocked {:.0}% of \
                 the run, throughput {}, p99 end-to-end latency {}. The source runs at the transform stage's pace and the \
                 backlog in the middle queue grows with the length of the run: memory, not the source, absorbs the slow stage.{}",
                times(Some(m)),
                times(ratio(Variant::UnboundedMiddle, Variant::SlowWrite, &live)),
                med(Variant::UnboundedMiddle, &live).map_or("–".into(), kib),
                times(ratio(Variant::UnboundedMiddle, Variant::SlowWrite, &source)),
                b * 100.0,
                times(ratio(Variant::UnboundedMiddle, Variant::SlowWrite, &tput)),
                times(ratio(Variant::UnboundedMiddle, Variant::SlowWrite, &|r| r.latency_p99_ns.map_or(f64::NAN, |x| x as f64))),
                unbounded_exceptions(pipeline),
            )
            .unwrap();
        }
    }
    out.push('\n');
    out
}

/// The implementations whose unbounded-middle pipeline never held more than a bounded one
/// can, in words (empty when there are none): there the transform stage did not outpace the
/// write stage on this machine, so no backlog formed.
fn unbounded_exceptions(pipeline: &[PipelineRow]) -> String {
    let flat: Vec<&str> = pipeline_impls(pipeline)
        .into_iter()
        .filter(|i| {
            let (mut peaks, mut bound) = (Vec::new(), 0);
            for r in pipeline.iter().filter(|r| r.ok() && r.implementation == *i) {
                match r.variant {
                    Variant::UnboundedMiddle => peaks.push(r.peak_in_flight as f64),
                    _ => bound = bound.max(2 * r.capacity as u64 + 5),
                }
            }
            median(peaks).is_some_and(|m| bound > 0 && m <= bound as f64)
        })
        .collect();
    if flat.is_empty() {
        return String::new();
    }
    format!(
        " Except for {}: there the median run never held more than a bounded pipeline can, because the transform stage \
         did not outpace the write stage on this machine (its pace is in the table); no backlog formed.",
        flat.join(", ")
    )
}

fn pipeline_impls(pipeline: &[PipelineRow]) -> Vec<&str> {
    first_seen(pipeline.iter().map(|r| r.implementation.as_str()))
}

pub fn summary_markdown(env: &Env, rows: &[StrategyRow], pipeline: &[PipelineRow], plots: &[Plot]) -> String {
    let cs = cells(rows);
    let reps = rows.iter().map(|r| r.repetition).chain(pipeline.iter().map(|r| r.repetition)).max().unwrap_or(0);
    let mut out = String::new();
    header(&mut out, "Backpressure strategies and a pipeline", env);
    writeln!(
        out,
        "Command: `{}`. Figures are medians of {reps} repetitions per configuration, each run sized to a target duration \
         by a pilot; delivered items per second come with a 95% interval for the median [low–high] (min–max below 6 \
         repetitions). Every run accounts for every item: accepted + dropped = produced, each accepted item delivered \
         exactly once and in its producer's order, no dropped one delivered. Measured on {} ({} cores); the rows are in \
         `strategies.csv` and `pipeline.csv`.\n",
        env.command, env.cpu_model, env.cores
    )
    .unwrap();
    out.push_str(&failures(rows, pipeline));
    out.push_str("## Reading\n\n");
    out.push_str(&reading(&cs, pipeline));

    if !cs.is_empty() {
        out.push_str(
            "## Policies\n\nDelivered: items the consumer took per second of the run (M/s). Dropped: share of produced items. \
             Latency: from the start of a producer's offer (semaphore wait included) to the moment the consumer starts \
             processing the item, 1 item in 16 of those delivered, p50 / p99 / p99.9 in µs. Blocked: seconds the producers \
             spent waiting (full queue, timeout, semaphore), summed over producers. Live: the peak of payload bytes made and \
             not yet freed (each item is a payload the producer allocates and the consumer frees; checked on every run \
             against capacity + producers + consumers × batch items). Peak RSS: the whole process's resident \
             set at its highest during the run (Linux VmHWM, reset before each run; most of it is the harness itself). Held: the largest queue length sampled \
             (every 64 takes), or for `semaphore` the most items between an acquire and its release (never above the \
             permits: checked on every run). Batch: items per take.\n\n",
        );
        for (w, cap) in panels(&cs) {
            let (p, c) = w.threads();
            writeln!(out, "### {w}, capacity {cap} ({p} producers, {c} consumer)\n").unwrap();
            out.push_str("| implementation | policy | delivered (M/s) | dropped | latency p50 / p99 / p99.9 (µs) | blocked (s) | live (KiB) | peak RSS (MiB) | held | batch |\n|---|---|---|---|---|---|---|---|---|---|\n");
            for cell in cs.iter().filter(|c| c.workload == w && c.capacity == cap) {
                let q = |f: fn(&StrategyRow) -> Option<u64>| or_dash(cell.col(|r| f(r).map(|x| x as f64)).map(us));
                let held = match cell.policy {
                    Policy::Semaphore => cell
                        .ok
                        .iter()
                        .filter_map(|r| r.max_in_flight)
                        .max()
                        .map(|m| format!("{m} (of {})", cell.ok[0].permits.unwrap_or(0))),
                    _ => cell.ok.iter().filter_map(|r| r.max_occupancy).max().map(|m| m.to_string()),
                };
                writeln!(
                    out,
                    "| {} | {} | {} | {} | {} / {} / {} | {} | {} | {} | {} | {} |",
                    cell.implementation,
                    cell.policy,
                    or_dash(cell.delivered().map(|(m, lo, hi)| format!("{m:.3} [{lo:.3}–{hi:.3}]"))),
                    or_dash(cell.col(|r| Some(r.drop_share)).map(|s| format!("{:.1}%", s * 100.0))),
                    q(|r| r.latency_p50_ns),
                    q(|r| r.latency_p99_ns),
                    q(|r| r.latency_p999_ns),
                    or_dash(cell.col(|r| Some(r.producer_blocked_s)).map(|s| format!("{s:.3}"))),
                    or_dash(cell.col(|r| r.peak_live_bytes.map(|b| b as f64)).map(kib)),
                    or_dash(cell.col(|r| r.peak_rss_bytes.map(|b| b as f64)).map(mib)),
                    held.unwrap_or_else(|| "n/a".into()),
                    or_dash(cell.col(|r| Some(r.mean_batch)).map(|b| format!("{b:.1}"))),
                )
                .unwrap();
            }
            out.push('\n');
        }
    }

    if !pipeline.is_empty() {
        let first = |v: Variant| pipeline.iter().find(|r| r.variant == v);
        writeln!(
            out,
            "## Pipeline\n\nparse → queue → transform → queue → write, one thread per stage, both queues of the same \
             implementation; per-item work (calibrated spins): parse {} µs, transform {} µs, write {} µs (`balanced`) or {} µs \
             (`slow-write`, `unbounded-middle`). `unbounded-middle` gives the middle queue a capacity of at least the run's \
             items (for every implementation, Rust's channels included: the same queue, never full; a real unbounded \
             channel would allocate as it grows instead of up front). Throughput: items per second end to end; source pace: items / the time until the source pushed its last one. Latency: \
             from the source's start on an item to the end of its write (1 in 16). Source blocked: the share of the run the \
             source waited on the first queue. In flight: the most items started and not yet taken by the write stage \
             (with both queues bounded, at most both capacities + 5, checked on every run). Live: the peak of payload bytes \
             made by the source and not yet freed by the write stage ({} bytes per item; checked against the same bound).\n",
            first(Variant::Balanced).map_or("?".into(), |r| us(r.parse_ns as f64)),
            first(Variant::Balanced).map_or("?".into(), |r| us(r.transform_ns as f64)),
            first(Variant::Balanced).map_or("?".into(), |r| us(r.write_ns as f64)),
            first(Variant::SlowWrite).map_or("?".into(), |r| us(r.write_ns as f64)),
            first(Variant::Balanced).map_or(0, |r| r.payload_bytes),
        )
        .unwrap();
        out.push_str("| implementation | variant | capacity | throughput (k items/s) | source pace (k items/s) | latency p50 / p99 / p99.9 (µs) | source blocked | peak in flight (items) | live (KiB) | peak RSS (MiB) |\n|---|---|---|---|---|---|---|---|---|---|\n");
        let configs = first_seen(pipeline.iter().map(|r| (r.implementation.as_str(), r.variant, r.capacity)));
        for (imp, v, cap) in configs {
            let ok: Vec<&PipelineRow> = pipeline
                .iter()
                .filter(|r| r.ok() && (r.implementation.as_str(), r.variant, r.capacity) == (imp, v, cap))
                .collect();
            let col = |f: &dyn Fn(&PipelineRow) -> Option<f64>| median(ok.iter().filter_map(|r| f(r)));
            let q = |f: fn(&PipelineRow) -> Option<u64>| or_dash(col(&|r| f(r).map(|x| x as f64)).map(us));
            writeln!(
                out,
                "| {imp} | {v} | {cap} | {} | {} | {} / {} / {} | {} | {} | {} | {} |",
                or_dash(
                    interval(ok.iter().map(|r| r.items_per_second / 1e3).collect())
                        .map(|(m, lo, hi)| format!("{m:.1} [{lo:.1}–{hi:.1}]"))
                ),
                or_dash(col(&|r| Some(r.source_items_per_second / 1e3)).map(|m| format!("{m:.1}"))),
                q(|r| r.latency_p50_ns),
                q(|r| r.latency_p99_ns),
                q(|r| r.latency_p999_ns),
                or_dash(col(&|r| Some(r.source_blocked_share)).map(|s| format!("{:.0}%", s * 100.0))),
                or_dash(col(&|r| Some(r.peak_in_flight as f64)).map(|m| format!("{m:.0}"))),
                or_dash(col(&|r| Some(r.peak_live_bytes as f64)).map(kib)),
                or_dash(col(&|r| r.peak_rss_bytes.map(|b| b as f64)).map(mib)),
            )
            .unwrap();
        }
        out.push('\n');
    }
    out.push_str(&plots_section(plots));
    out
}

/// One bar series: its label, colour, and per category (median, min, max).
type Bars = (String, RGBColor, Vec<Option<(f64, f64, f64)>>);

/// Bars over categories, one series per implementation, on a log axis; whiskers min-max; in
/// panels of at most eight series ([`facets`]), each with its legend in a column right of it.
fn grouped_bars(
    dir: &Path,
    file: &str,
    caption: String,
    categories: &[String],
    series: &[Bars],
    y_desc: &str,
) -> anyhow::Result<bool> {
    let values: Vec<f64> = series
        .iter()
        .flat_map(|s| s.2.iter().flatten().flat_map(|&(m, lo, hi)| [m, lo, hi]))
        .filter(|v| *v > 0.0)
        .collect();
    if values.is_empty() {
        return Ok(false);
    }
    let y = log_range(values.into_iter());
    let as_points = |vals: &[Option<(f64, f64, f64)>]| {
        vals.iter().enumerate().filter_map(|(i, v)| v.filter(|v| v.0 > 0.0).map(|v| (i, v))).collect()
    };
    let all: Vec<Series> = series.iter().map(|(label, c, vals)| (label.clone(), *c, as_points(vals))).collect();
    let panels = facets(&caption, all.clone(), Vec::new(), |label| headline_colour(label, Mode::Driven));
    let legend_w = legend_width(series.iter().map(|s| s.0.chars().count()).max().unwrap_or(0));
    let path = dir.join(file);
    let root = SVGBackend::new(&path, (900 + legend_w, 520 * panels.len() as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    for ((panel_caption, ss), area) in panels.iter().zip(root.split_evenly((panels.len(), 1))) {
        let (plot_area, legend_area) = area.split_horizontally(900);
        legend_column(&legend_area, ss.iter().map(|s| (&s.0, s.1)), Swatch::Bar)?;
        let mut chart = bar_chart(&plot_area, panel_caption.clone(), categories, y.clone(), y_desc)?;
        let width = 0.8 / ss.len().max(1) as f64;
        for (k, (_, c, pts)) in ss.iter().enumerate() {
            let c = *c;
            let bars: Vec<(f64, (f64, f64, f64))> =
                pts.iter().map(|&(i, v)| (i as f64 + 0.1 + k as f64 * width, v)).collect();
            chart.draw_series(
                bars.iter().map(|&(x, (m, _, _))| Rectangle::new([(x, y.start), (x + width * 0.9, m)], c.filled())),
            )?;
            chart.draw_series(bars.iter().map(|&(x, (_, lo, hi))| {
                let mid = x + width * 0.45;
                PathElement::new(vec![(mid, lo.max(y.start)), (mid, hi)], BLACK.stroke_width(1))
            }))?;
        }
    }
    root.present()?;
    // The few-series figures: a row per category, a dot per implementation the figures keep
    // (bars side by side would be a few pixels wide on a phone).
    let few: Vec<ForestSeries> = all
        .into_iter()
        .filter_map(|(label, _, pts)| Some((label.clone(), headline_colour(&label, Mode::Driven)?, pts)))
        .collect();
    let caption = caption.replace("no bar", "no dot");
    for f in FRAMES {
        dots_in(f, dir, &f.file(file), &caption, categories, y_desc, &few, None)?;
    }
    Ok(true)
}

pub fn write_plots(dir: &Path, rows: &[StrategyRow], pipeline: &[PipelineRow]) -> anyhow::Result<Vec<Plot>> {
    let cs = cells(rows);
    let mut plots = Vec::new();
    type Pick = fn(&StrategyRow) -> Option<f64>;
    let metrics: [(&str, &str, &str, Pick); 3] = [
        ("delivered", "delivered items per second", "million items per second (log)", |r| {
            Some(r.delivered_per_second / 1e6)
        }),
        ("p99", "p99 latency of delivered items", "microseconds (log)", |r| r.latency_p99_ns.map(|x| x as f64 / 1e3)),
        ("dropped", "share of produced items dropped (no bar: none)", "percent (log)", |r| Some(r.drop_share * 100.0)),
    ];
    for (w, cap) in panels(&cs) {
        let here: Vec<&Cell> = cs.iter().filter(|c| c.workload == w && c.capacity == cap).collect();
        let policies = first_seen(here.iter().map(|c| c.policy));
        let impls = first_seen(here.iter().map(|c| c.implementation));
        let names: Vec<String> = policies.iter().map(|p| p.to_string()).collect();
        for (key, what, y_desc, f) in metrics {
            if key == "dropped" && !policies.iter().any(|p| p.drops()) {
                continue;
            }
            let series: Vec<Bars> = impls
                .iter()
                .map(|&i| {
                    let vals = policies
                        .iter()
                        .map(|&p| {
                            here.iter()
                                .find(|c| c.implementation == i && c.policy == p)
                                .and_then(|c| median_min_max(c.ok.iter().filter_map(|r| f(r))))
                        })
                        .collect();
                    (i.to_string(), color(i, Mode::Driven), vals)
                })
                .collect();
            let file = format!("strategies-{key}-{w}-{cap}.svg");
            let caption = format!("{w}, capacity {cap}: {what} (median; whiskers: min-max)");
            if grouped_bars(dir, &file, caption, &names, &series, y_desc)? {
                plots.push((file, format!("{w}, capacity {cap}: {what} per policy")));
            }
        }
    }
    if !pipeline.is_empty() {
        let variants = first_seen(pipeline.iter().map(|r| r.variant));
        let impls = pipeline_impls(pipeline);
        let names: Vec<String> = variants.iter().map(|v| v.to_string()).collect();
        type PPick = fn(&PipelineRow) -> Option<f64>;
        let metrics: [(&str, &str, &str, PPick); 4] = [
            ("throughput", "throughput end to end", "thousand items per second (log)", |r| {
                Some(r.items_per_second / 1e3)
            }),
            (
                "source-pace",
                "the source's pace (items / time until its last push)",
                "thousand items per second (log)",
                |r| Some(r.source_items_per_second / 1e3),
            ),
            ("in-flight", "peak items in flight (memory, in items)", "items (log)", |r| Some(r.peak_in_flight as f64)),
            ("source-blocked", "share of the run the source was blocked", "percent (log)", |r| {
                Some(r.source_blocked_share * 100.0)
            }),
        ];
        for (key, what, y_desc, f) in metrics {
            let series: Vec<Bars> = impls
                .iter()
                .map(|&i| {
                    let vals = variants
                        .iter()
                        .map(|&v| {
                            median_min_max(
                                pipeline
                                    .iter()
                                    .filter(|r| r.ok() && r.implementation == i && r.variant == v)
                                    .filter_map(f),
                            )
                        })
                        .collect();
                    (i.to_string(), color(i, Mode::Driven), vals)
                })
                .collect();
            let file = format!("pipeline-{key}.svg");
            if grouped_bars(
                dir,
                &file,
                format!("pipeline: {what} (median; whiskers: min-max)"),
                &names,
                &series,
                y_desc,
            )? {
                plots.push((file, format!("pipeline: {what}, per variant")));
            }
        }
    }
    Ok(plots)
}

#[cfg(test)]
mod tests {
    use super::interval;

    #[test]
    fn intervals_skip_what_is_not_a_number() {
        assert_eq!(interval(vec![3.0, f64::NAN, 1.0, 2.0]), Some((2.0, 1.0, 3.0)));
        assert_eq!(interval(vec![]), None);
    }
}
