//! The thread-scaling report (`bqh scale`): nanoseconds per item against the number of
//! threads, one table and one log-log plot per shape and capacity, and where each
//! implementation's cost stops growing gently.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::Path;

use anyhow::Context;
use bq_engine::row::{Kind, Row};
use bq_engine::workloads::Workload;
use bq_results::files::{read_env, write_env, ENV_JSON, SUMMARY_MD};
use bq_results::markdown::{header, plots_section, table_head};
use bq_results::plot::{lines_faceted, lines_in, Plot};
use bq_results::Env;

use super::SHAPES;
use crate::figures::{facets, headline_colour, headline_series, FRAMES};
use crate::ratios::{self, ratio_pm, Cell};
use crate::runs_csv::{failures, first_seen, groups, labels, series_by_label, stability, stat, Group, RUNS_CSV};
use crate::study::Report;

/// A scaling study's folder.
pub struct Results {
    pub env: Env,
    pub rows: Vec<Row>,
}

impl Report for Results {
    fn write(&self, dir: &Path) -> anyhow::Result<()> {
        write(dir, self)
    }

    fn rows(&self) -> usize {
        self.rows.len()
    }

    fn describe(&self) -> String {
        format!("{} runs", self.rows.len())
    }
}

/// The files [`read`] reads: `bqh report` puts them back byte for byte.
pub const DATA_FILES: &[&str] = &[ENV_JSON, RUNS_CSV];

/// Reads a scaling study's folder.
pub fn read(dir: &Path) -> anyhow::Result<Results> {
    Ok(Results { env: read_env(dir)?, rows: crate::runs_csv::read_runs(&dir.join(RUNS_CSV))? })
}

/// Writes every file of a scaling study's folder into `dir` (which exists).
pub fn write(dir: &Path, r: &Results) -> anyhow::Result<()> {
    write_env(dir, &r.env)?;
    crate::runs_csv::write_runs(&dir.join(RUNS_CSV), &r.rows)?;
    let plots = write_plots(dir, &measured(&r.rows)).context("drawing the plots")?;
    std::fs::write(dir.join(SUMMARY_MD), summary_markdown(&r.env, &r.rows, &plots))
        .with_context(|| format!("cannot write {}", dir.join(SUMMARY_MD).display()))
}

/// A doubling of the threads that raises the cost per item by more than this is no longer
/// "gentle": the knee the summary names.
const KNEE: f64 = 1.5;

/// The rows each point's figures come from: every implementation's own slices (the
/// reference's from its A/A pairs), without the reference halves or the observation runs; all
/// rows of a study from before paired measurement.
fn measured(rows: &[Row]) -> Vec<Row> {
    rows.iter().filter(|r| r.kind != Kind::Observation && !r.reference).cloned().collect()
}

/// Per panel, every implementation's ratio to the reference at each thread count.
fn ratio_tables(rows: &[Row]) -> String {
    let cells = ratios::cells(rows);
    let Some((reference, _)) = ratios::reference(rows) else { return String::new() };
    let mut out = format!(
        "## Ratio to {reference}\n\nThroughput relative to {reference} at the same thread count, from paired slices \
         (as in `bqh compare`): ratio ± the half-width of its 95% interval; above 1 is faster. {reference}'s own row is \
         the A/A control: 1.0 within its interval.\n\n"
    );
    for (w, cap) in first_seen(cells.iter().map(|c| (c.workload, c.capacity))) {
        let here: Vec<&Cell> = cells.iter().filter(|c| c.workload == w && c.capacity == cap).collect();
        let counts: Vec<u64> = here.iter().map(|c| c.producers).collect::<BTreeSet<_>>().into_iter().collect();
        writeln!(out, "### {w}, capacity {cap} ({})\n", axis(w)).unwrap();
        table_head(&mut out, "implementation", &counts, |n| n.to_string());
        for l in first_seen(here.iter().map(|c| c.label())) {
            write!(out, "| {l} |").unwrap();
            for n in &counts {
                let r = here.iter().find(|c| c.label() == l && c.producers == *n).and_then(|c| c.ratio);
                write!(out, " {} |", r.map_or("–".into(), ratio_pm)).unwrap();
            }
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

fn ns(r: &Row) -> Option<f64> {
    Some(r.ns_per_item)
}

/// The thread count of a configuration: producers (for mpmc, as many consumers again).
fn threads(g: &Group) -> u64 {
    g.producers
}

/// (shape, capacity) pairs present, in the study's order.
fn panels(gs: &[Group]) -> Vec<(Workload, usize)> {
    let caps: BTreeSet<usize> = gs.iter().map(|g| g.capacity).collect();
    SHAPES
        .iter()
        .flat_map(|&w| caps.iter().map(move |&c| (w, c)))
        .filter(|&(w, c)| gs.iter().any(|g| g.workload == w && g.capacity == c))
        .collect()
}

fn axis(w: Workload) -> &'static str {
    if w == Workload::Mpmc {
        "producers = consumers"
    } else {
        "producers (1 consumer)"
    }
}

/// Where the cost per item of one implementation stops growing gently, in words.
fn knee(points: &[(u64, f64)]) -> String {
    for pair in points.windows(2) {
        let ((n0, c0), (n1, c1)) = (pair[0], pair[1]);
        if c1 > KNEE * c0 {
            return format!("stops growing gently at {n1} (×{:.1} from {n0})", c1 / c0);
        }
    }
    match (points.first(), points.last()) {
        (Some(&(n0, c0)), Some(&(n1, c1))) if n1 > n0 => format!("grows gently up to {n1} (×{:.1} from {n0})", c1 / c0),
        _ => "one thread count only".into(),
    }
}

pub fn write_plots(dir: &Path, rows: &[Row]) -> anyhow::Result<Vec<Plot>> {
    let gs = groups(rows);
    let mut plots = Vec::new();
    for (w, cap) in panels(&gs) {
        let ws: Vec<&Group> = gs.iter().filter(|g| g.workload == w && g.capacity == cap).collect();
        let counts: Vec<u64> = ws.iter().map(|g| threads(g)).collect::<BTreeSet<_>>().into_iter().collect();
        let xs: Vec<String> = counts.iter().map(|n| n.to_string()).collect();
        let file = format!("scaling-{w}-{cap}.svg");
        let caption = format!("{w}, capacity {cap}: cost per item against threads (median; whiskers: min-max)");
        let series = series_by_label(&ws, &counts, threads, ns);
        let colour = |label: &str| {
            ws.iter().find(|g| g.label() == label).and_then(|g| headline_colour(g.implementation, g.mode))
        };
        lines_faceted(dir, &file, &facets(&caption, series, Vec::new(), colour), &xs, axis(w), "ns per item (log)")?;
        let few = headline_series(&ws, &counts, threads, ns);
        for f in FRAMES {
            let caption = format!("{w}, capacity {cap}: ns per item against threads (median; whiskers: min-max)");
            lines_in(f, dir, &f.file(&file), &caption, &xs, axis(w), "ns per item (log)", &few)?;
        }
        plots.push((file, format!("{w}, capacity {cap}: ns per item against {}", axis(w))));
    }
    Ok(plots)
}

pub fn summary_markdown(env: &Env, all: &[Row], plots: &[Plot]) -> String {
    let kept = measured(all);
    let rows = &kept[..];
    let gs = groups(rows);
    let mut out = String::new();
    header(&mut out, "Thread scaling", env);
    writeln!(
        out,
        "Command: `{}`. Nanoseconds per item (wall time of a run / items), median over repetitions, against the \
         number of threads: for fan-in N producers and 1 consumer, for mpmc N producers and N consumers. The machine \
         has {} cores: every point right of {} runs more threads than cores. `ocaml (native-domains)` stops where \
         producers and consumers together would pass 126: OCaml 5 runs at most 128 domains at once.\n",
        env.command, env.cores, env.cores
    )
    .unwrap();
    out.push_str(&failures(all));
    out.push_str("## Reading\n\n");
    for (w, cap) in panels(&gs) {
        writeln!(out, "- **{w}, capacity {cap}**, the cost per item as the threads double (knee: a doubling that costs more than ×{KNEE}):").unwrap();
        let ws: Vec<&Group> = gs.iter().filter(|g| g.workload == w && g.capacity == cap).collect();
        for l in labels(&ws) {
            let points: Vec<(u64, f64)> = ws
                .iter()
                .filter(|g| g.label() == l)
                .filter_map(|g| stat(&g.ok, ns).map(|s| (threads(g), s.0)))
                .collect();
            writeln!(out, "  - {l}: {}", knee(&points)).unwrap();
        }
    }
    out.push('\n');
    out.push_str("## Nanoseconds per item\n\n");
    for (w, cap) in panels(&gs) {
        let ws: Vec<&Group> = gs.iter().filter(|g| g.workload == w && g.capacity == cap).collect();
        let counts: Vec<u64> = ws.iter().map(|g| threads(g)).collect::<BTreeSet<_>>().into_iter().collect();
        writeln!(out, "### {w}, capacity {cap} ({})\n", axis(w)).unwrap();
        table_head(&mut out, "implementation", &counts, |n| n.to_string());
        for l in labels(&ws) {
            write!(out, "| {l} |").unwrap();
            for n in &counts {
                let cell = ws.iter().find(|g| g.label() == l && threads(g) == *n).and_then(|g| stat(&g.ok, ns));
                write!(out, " {} |", cell.map_or("–".into(), |s| format!("{:.0}", s.0))).unwrap();
            }
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str(&ratio_tables(all));
    out.push_str("## Stability\n\n");
    out.push_str(&stability(&gs, rows, env.cores));
    out.push_str(&plots_section(plots));
    out
}

#[cfg(test)]
mod tests {
    use super::knee;

    #[test]
    fn the_knee_is_the_first_doubling_that_costs_more_than_half_again() {
        assert_eq!(knee(&[(1, 100.0), (2, 110.0), (4, 120.0)]), "grows gently up to 4 (×1.2 from 1)");
        assert_eq!(knee(&[(1, 100.0), (2, 140.0), (4, 300.0), (8, 310.0)]), "stops growing gently at 4 (×2.1 from 2)");
        assert_eq!(knee(&[(1, 100.0)]), "one thread count only");
        assert_eq!(knee(&[]), "one thread count only");
    }
}
