//! `results.json`: the comparison for machines. Every cell's ratio to its configuration's
//! reference with its interval, pairs, absolute rate and modes, the A/A cells among them, and
//! the verdict of each placement. Its format is versioned (`schema`); `docs/results-json.md`
//! describes every field. Drawn, like every report file, from `runs.csv` and `env.json` alone.

use std::path::Path;

use serde::Serialize;

use bq_engine::placement::Placement;
use bq_results::Env;

use super::verdict;
use crate::ratios::{self, Cell};

/// The file, and the version of its format: raised when a field changes meaning or goes.
pub const RESULTS_JSON: &str = "results.json";
pub const SCHEMA: u32 = 1;

#[derive(Serialize)]
struct Results<'a> {
    schema: u32,
    machine: Machine<'a>,
    command: &'a str,
    /// The reference of each placement.
    references: Vec<Reference>,
    cells: Vec<CellJson>,
    verdicts: Vec<VerdictJson>,
}

#[derive(Serialize)]
struct Machine<'a> {
    cpu_model: &'a str,
    cores: usize,
    kernel: &'a str,
    date_utc: &'a str,
    git_commit: &'a str,
}

#[derive(Serialize)]
struct Reference {
    placement: Placement,
    implementation: String,
}

#[derive(Serialize)]
struct Interval {
    ratio: f64,
    low: f64,
    high: f64,
    pairs: usize,
}

#[derive(Serialize)]
struct ModeJson {
    share: f64,
    items_per_second: f64,
}

#[derive(Serialize)]
pub(crate) struct CellJson {
    implementation: String,
    mode: String,
    workload: String,
    producers: u64,
    consumers: u64,
    capacity: usize,
    placement: Placement,
    consumer_work_ns: Option<u64>,
    reference: String,
    aa: bool,
    oversubscribed: bool,
    ratio: Option<Interval>,
    items_per_second: Option<f64>,
    modes: Option<[ModeJson; 2]>,
}

#[derive(Serialize)]
struct VerdictJson {
    workload: String,
    capacity: usize,
    placement: Placement,
    consumer_work_ns: Option<u64>,
    fastest: Vec<String>,
    items_per_second: Option<f64>,
    next: Option<String>,
    ahead_by: Option<Interval>,
}

fn interval(r: bq_results::stats::Ratio) -> Interval {
    Interval { ratio: r.ratio, low: r.low, high: r.high, pairs: r.pairs }
}

pub(crate) fn cell_json(c: &Cell, cpus: usize) -> CellJson {
    CellJson {
        implementation: c.implementation.to_string(),
        mode: c.mode.to_string(),
        workload: c.workload.to_string(),
        producers: c.producers,
        consumers: c.consumers,
        capacity: c.capacity,
        placement: c.placement,
        consumer_work_ns: c.consumer_work_ns,
        reference: ratios::label(c.reference),
        aa: c.aa,
        oversubscribed: c.oversubscribed(cpus),
        ratio: c.ratio.map(interval),
        items_per_second: c.mips().map(|m| m * 1e6),
        modes: c.modes().map(|m| m.map(|m| ModeJson { share: m.share, items_per_second: m.median })),
    }
}

/// Writes `results.json` into `dir`.
pub fn write(dir: &Path, env: &Env, cells: &[Cell]) -> anyhow::Result<()> {
    let mut verdicts = Vec::new();
    for p in Placement::ALL {
        for v in verdict::verdicts(cells, p) {
            verdicts.push(VerdictJson {
                workload: v.workload.to_string(),
                capacity: v.capacity,
                placement: v.placement,
                consumer_work_ns: v.consumer_work_ns,
                fastest: v.fastest.iter().map(|c| c.implementation.to_string()).collect(),
                items_per_second: v.mips().map(|m| m * 1e6),
                next: v.margin.map(|(c, _)| c.implementation.to_string()),
                ahead_by: v.margin.map(|(_, r)| interval(r)),
            });
        }
    }
    let out = Results {
        schema: SCHEMA,
        machine: Machine {
            cpu_model: &env.cpu_model,
            cores: env.cores,
            kernel: &env.kernel,
            date_utc: &env.date_utc,
            git_commit: &env.git_commit,
        },
        command: &env.command,
        references: ratios::references(cells)
            .into_iter()
            .map(|(placement, r)| Reference { placement, implementation: ratios::label(r) })
            .collect(),
        cells: cells.iter().map(|c| cell_json(c, env.cores)).collect(),
        verdicts,
    };
    let mut text = serde_json::to_string_pretty(&out)?;
    text.push('\n');
    std::fs::write(dir.join(RESULTS_JSON), text)?;
    Ok(())
}
