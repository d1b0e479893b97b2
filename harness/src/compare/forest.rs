//! The comparison's main picture: per workload and placement, a forest plot of every
//! implementation's ratio to the reference with its 95% interval, one colour per capacity.

use std::collections::BTreeSet;
use std::path::Path;

use bq_engine::placement::Placement;
use bq_engine::workloads::Workload;
use bq_results::plot::{dots_in, forest, ForestSeries, Plot, NARROW, PALETTE};

use crate::ratios::Cell;
use crate::runs_csv::first_seen;

/// Draws one forest plot per (workload, placement, consumer work) of `cells`, against that
/// configuration's reference; returns them for the summary.
pub fn write_forests(dir: &Path, cells: &[Cell]) -> anyhow::Result<Vec<Plot>> {
    let mut plots = Vec::new();
    let configs: Vec<(Workload, Placement, Option<u64>)> =
        first_seen(cells.iter().map(|c| (c.workload, c.placement, c.consumer_work_ns)));
    for (w, p, work) in configs {
        let here: Vec<&Cell> =
            cells.iter().filter(|c| (c.workload, c.placement, c.consumer_work_ns) == (w, p, work)).collect();
        let reference = crate::ratios::label(here[0].reference);
        let labels = first_seen(here.iter().map(|c| c.shown()));
        let capacities: BTreeSet<usize> = here.iter().map(|c| c.capacity).collect();
        let series: Vec<ForestSeries> = capacities
            .iter()
            .enumerate()
            .map(|(j, &cap)| {
                let pts = here
                    .iter()
                    .filter(|c| c.capacity == cap)
                    .filter_map(|c| {
                        let r = c.ratio?;
                        Some((labels.iter().position(|x| *x == c.shown())?, (r.ratio, r.low, r.high)))
                    })
                    .collect();
                (format!("capacity {cap}"), PALETTE[j % PALETTE.len()], pts)
            })
            .collect();
        let (file, with) = match work {
            None => (format!("ratio-{w}-{p}.svg"), String::new()),
            Some(ns) => (format!("ratio-{w}-{p}-work-{ns}ns.svg"), format!(", consumer work {ns} ns")),
        };
        let caption = format!("{w}, {p}{with}: throughput relative to {reference}");
        let x_desc = format!("ratio to {reference} (log scale; 1 = as fast; right is faster)");
        forest(dir, &file, &caption, &labels, &x_desc, &series)?;
        // For a phone: the same rows and series, each name above its row. (The forest plot
        // itself is the column-wide one.)
        let short = format!("ratio to {reference} (log; right: faster)");
        dots_in(NARROW, dir, &NARROW.file(&file), &caption, &labels, &short, &series, Some(1.0))?;
        plots.push((file, caption));
    }
    Ok(plots)
}
