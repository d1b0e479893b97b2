//! The verdict: for each workload, capacity and placement, which queue a Rust program can use
//! (Rust threads driving it: every `driven` cell) was fastest, by how much, and at what absolute
//! rate; ties said as ties. Computed from the paired cells alone (`ratios::cells`), so `bqh
//! report` redraws it; written for people in `summary.md` and for machines in `results.json`.

use bq_engine::placement::Placement;
use bq_engine::row::Mode;
use bq_engine::workloads::Workload;
use bq_results::stats::{ratio_between, Ratio};

use crate::ratios::Cell;
use crate::runs_csv::first_seen;

/// One configuration's answer.
#[derive(Debug, Clone)]
pub struct Verdict<'a> {
    pub workload: Workload,
    pub capacity: usize,
    pub placement: Placement,
    pub consumer_work_ns: Option<u64>,
    /// The fastest cell, and those that cannot be told from it (the interval of their ratio to
    /// it contains 1.0), fastest first.
    pub fastest: Vec<&'a Cell<'a>>,
    /// The fastest against the quickest cell that can be told from it, when one can.
    pub margin: Option<(&'a Cell<'a>, Ratio)>,
}

impl Verdict<'_> {
    /// The fastest's own median rate over its slices, million items per second.
    pub fn mips(&self) -> Option<f64> {
        self.fastest[0].mips()
    }
}

/// The placement the verdict leads with: cross-core when the run has it (what a program whose
/// producers and consumers have CPUs of their own gets), else same-core, else unpinned.
pub fn headline_placement(cells: &[Cell]) -> Option<Placement> {
    [Placement::CrossCore, Placement::SameCore, Placement::Unpinned]
        .into_iter()
        .find(|p| cells.iter().any(|c| c.placement == *p))
}

/// The verdicts of `placement`, in the order the configurations were run.
pub fn verdicts<'a>(cells: &'a [Cell<'a>], placement: Placement) -> Vec<Verdict<'a>> {
    let driven: Vec<&Cell> =
        cells.iter().filter(|c| c.mode == Mode::Driven && c.placement == placement && c.ratio.is_some()).collect();
    let configs = first_seen(driven.iter().map(|c| (c.workload, c.capacity, c.consumer_work_ns)));
    configs
        .into_iter()
        .filter_map(|(workload, capacity, work)| {
            let mut here: Vec<&Cell> = driven
                .iter()
                .copied()
                .filter(|c| (c.workload, c.capacity, c.consumer_work_ns) == (workload, capacity, work))
                .collect();
            here.sort_by(|a, b| ratio(b).total_cmp(&ratio(a)));
            let top = *here.first()?;
            let top_ratio = top.ratio?;
            let (fastest, rest): (Vec<&Cell>, Vec<&Cell>) = here.into_iter().partition(|c| {
                std::ptr::eq(*c, top) || ratio_between(top_ratio, c.ratio.expect("kept above")).contains(1.0)
            });
            let margin = rest.first().map(|c| (*c, ratio_between(top_ratio, c.ratio.expect("kept above"))));
            Some(Verdict { workload, capacity, placement, consumer_work_ns: work, fastest, margin })
        })
        .collect()
}

fn ratio(c: &Cell) -> f64 {
    c.ratio.map_or(f64::NEG_INFINITY, |r| r.ratio)
}

/// "mpsc (4 → 1)": a workload with its threads.
pub fn shape(workload: Workload, producers: u64, consumers: u64) -> String {
    if workload == Workload::Seq {
        "seq (1 thread)".into()
    } else {
        format!("{workload} ({producers} → {consumers})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bq_engine::row::{Kind, Row, Status};
    use bq_engine::workloads::RunSpec;

    /// Pairs of `imp` against `reference` at these ratios, from pair `first` on.
    fn pairs(imp: &str, ratios: &[f64], first: u64) -> Vec<Row> {
        let spec = RunSpec { placement: Placement::CrossCore, ..RunSpec::new(Workload::Mpsc, 1024, 1000) };
        let mut rows = Vec::new();
        for (i, &x) in ratios.iter().enumerate() {
            for (name, ips, is_ref) in [(imp, 1e6 * x, false), ("ref", 1e6, true)] {
                let mut r = Row::new(name, Mode::Driven, &spec, 1, Err(anyhow::anyhow!("x")));
                (r.kind, r.pair, r.reference, r.status, r.items_per_second) =
                    (Kind::Slice, first + i as u64, is_ref, Status::Ok, ips);
                r.order = 2 * (first + i as u64) + is_ref as u64;
                rows.push(r);
            }
        }
        rows
    }

    /// The fastest leads; one whose interval against it holds 1.0 is a tie; the margin is to
    /// the first that can be told apart, with its interval.
    #[test]
    fn the_fastest_leads_ties_are_ties_and_the_margin_has_an_interval() {
        let mut rows = pairs("fast", &[2.0, 2.02, 1.98, 2.01, 1.99, 2.0], 1);
        rows.extend(pairs("close", &[1.97, 2.03, 1.95, 2.05, 2.0, 1.96], 100));
        rows.extend(pairs("slow", &[1.0, 1.01, 0.99, 1.0, 1.02, 0.98], 200));
        let cells = crate::ratios::cells(&rows);
        let v = verdicts(&cells, Placement::CrossCore);
        assert_eq!(v.len(), 1);
        let names: Vec<&str> = v[0].fastest.iter().map(|c| c.implementation).collect();
        assert_eq!(names, ["fast", "close"]);
        let (next, m) = v[0].margin.expect("slow can be told apart");
        assert_eq!(next.implementation, "slow");
        assert!((m.ratio - 2.0).abs() < 0.02 && m.low > 1.9 && m.high < 2.1, "{m:?}");
        assert!((v[0].mips().unwrap() - 2.0).abs() < 0.02);
        assert_eq!(headline_placement(&cells), Some(Placement::CrossCore));
        assert!(verdicts(&cells, Placement::SameCore).is_empty());
    }
}
