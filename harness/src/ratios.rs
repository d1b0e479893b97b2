//! The paired rows of a comparison or a scaling study (`bq_engine::paired`) as ratios: each candidate slice joined
//! with the reference slice of its pair, and per cell (implementation, mode, workload, capacity,
//! placement) the geometric mean ratio with its 95% interval. The A/A cells are the reference's
//! own. Computed from `runs.csv` alone, so `bqh report` redraws them.

use std::collections::BTreeMap;

use bq_engine::placement::Placement;
use bq_engine::row::{Kind, Mode, Row};
use bq_engine::workloads::Workload;
use bq_results::stats::{self, paired_ratio, Ratio};

use crate::runs_csv::{config_key, group_first_seen};

/// One candidate in one configuration.
#[derive(Debug, Clone)]
pub struct Cell<'a> {
    pub implementation: &'a str,
    pub mode: Mode,
    pub workload: Workload,
    pub capacity: usize,
    pub placement: Placement,
    pub producers: u64,
    pub consumers: u64,
    /// Busy work per item of its consumers, when the run set it (`--consumer-work`).
    pub consumer_work_ns: Option<u64>,
    /// The implementation and mode its pairs' other halves ran: its configuration's reference.
    pub reference: (&'a str, Mode),
    /// The reference against itself.
    pub aa: bool,
    pub ratio: Option<Ratio>,
    /// The candidate's slices that completed a pair (absolute throughput).
    pub slices: Vec<&'a Row>,
}

/// "ocaml" for a driven implementation, "ocaml (native-domains)" for a native runner.
pub fn label((implementation, mode): (&str, Mode)) -> String {
    if mode == Mode::Driven {
        implementation.to_string()
    } else {
        format!("{implementation} ({mode})")
    }
}

/// "spsc" same-core, "spsc · cross-core" in another placement, with the consumer's work per item
/// after it where the run set one: how a configuration is headed in every report.
pub fn config_label(workload: Workload, placement: Placement, consumer_work_ns: Option<u64>) -> String {
    let mut l =
        if placement == Placement::SameCore { workload.to_string() } else { format!("{workload} · {placement}") };
    if let Some(ns) = consumer_work_ns {
        l += &format!(" · consumer work {ns} ns");
    }
    l
}

/// An implementation as two runs or two sides can share it: a built-in's name, a library's or
/// module's file name (a port built in two places is one port).
pub fn short_name(implementation: &str) -> String {
    std::path::Path::new(implementation)
        .file_name()
        .map_or(implementation.to_string(), |f| f.to_string_lossy().into_owned())
}

impl Cell<'_> {
    /// "ocaml" for driven runs, "ocaml (native-domains)" for the others.
    pub fn label(&self) -> String {
        label((self.implementation, self.mode))
    }

    /// [`label`](Cell::label), marked when it is the reference's A/A control.
    pub fn shown(&self) -> String {
        if self.aa {
            format!("{} (A/A)", self.label())
        } else {
            self.label()
        }
    }

    /// Threads the run starts (seq: one).
    pub fn threads(&self) -> u64 {
        if self.workload == Workload::Seq {
            1
        } else {
            self.producers + self.consumers
        }
    }

    /// More threads than the CPUs its placement gives them (one same-core; one for the
    /// producers and one for the consumers cross-core; the machine's `cpus` unpinned): the
    /// scheduler then decides who runs, and the figure varies more. Its own class in the report.
    pub fn oversubscribed(&self, cpus: usize) -> bool {
        match self.placement {
            Placement::SameCore => self.threads() > 1,
            Placement::CrossCore => self.producers > 1 || self.consumers > 1,
            Placement::Unpinned => self.threads() > cpus as u64,
        }
    }

    /// Median million items per second over its slices.
    pub fn mips(&self) -> Option<f64> {
        stats::median(self.slices.iter().map(|r| r.items_per_second / 1e6))
    }

    /// Its slices' two modes (rates in items per second), when they have two.
    pub fn modes(&self) -> Option<[stats::Mode; 2]> {
        stats::two_modes(&self.slices.iter().map(|r| r.items_per_second).collect::<Vec<_>>())
    }

    /// The 10th and 90th percentiles of its slices' rates, million items per second.
    pub fn spread(&self) -> Option<(f64, f64)> {
        let v = stats::finite_sorted(self.slices.iter().map(|r| r.items_per_second / 1e6));
        if v.len() < 2 {
            return None;
        }
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        Some((at(0.1), at(0.9)))
    }
}

/// The first reference's name and mode, from its slices; `None` for a folder without pairs.
/// (Each configuration has its own: [`Cell::reference`].)
pub fn reference(rows: &[Row]) -> Option<(&str, Mode)> {
    rows.iter().find(|r| r.kind == Kind::Slice && r.reference).map(|r| (r.implementation.as_str(), r.mode))
}

/// The reference of each placement, in the order the placements first appear.
pub fn references<'a>(cells: &[Cell<'a>]) -> Vec<(Placement, (&'a str, Mode))> {
    let mut out: Vec<(Placement, (&str, Mode))> = Vec::new();
    for c in cells {
        if !out.iter().any(|(p, r)| *p == c.placement && *r == c.reference) {
            out.push((c.placement, c.reference));
        }
    }
    out
}

/// Whether the rows are a paired comparison's (else they are repetitions of an older run).
pub fn paired(rows: &[Row]) -> bool {
    reference(rows).is_some()
}

/// Every cell, in the order its first slice was run; the A/A cells among them.
pub fn cells(rows: &[Row]) -> Vec<Cell<'_>> {
    let mut halves: BTreeMap<u64, [Option<&Row>; 2]> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.kind == Kind::Slice && r.pair > 0) {
        halves.entry(r.pair).or_default()[r.reference as usize] = Some(r);
    }
    let mut pairs: Vec<_> = halves.into_values().filter_map(|[c, r]| Some((c?, r?))).collect();
    pairs.sort_by_key(|(c, r)| c.order.min(r.order));
    group_first_seen(pairs, |(c, _)| config_key(c))
        .into_iter()
        .map(|ps| {
            let (c, r) = ps[0];
            let reference = (r.implementation.as_str(), r.mode);
            let done: Vec<(&Row, &Row)> = ps.into_iter().filter(|(c, r)| c.ok() && r.ok()).collect();
            let logs: Vec<f64> = done.iter().map(|(c, r)| (c.items_per_second / r.items_per_second).ln()).collect();
            Cell {
                implementation: &c.implementation,
                mode: c.mode,
                workload: c.workload,
                capacity: c.capacity,
                placement: c.placement,
                producers: c.producers,
                consumers: c.consumers,
                consumer_work_ns: c.consumer_work_ns,
                reference,
                aa: (c.implementation.as_str(), c.mode) == reference,
                ratio: paired_ratio(&logs),
                slices: done.into_iter().map(|(c, _)| c).collect(),
            }
        })
        .collect()
}

/// A ratio as the tables show it: `0.93 [0.90–0.96]`, or why there is none.
pub fn ratio_cell(r: Option<Ratio>, goal: f64) -> String {
    match r {
        None => "–".into(),
        Some(r) => {
            let mark = if r.half_width() > goal { " ⚠" } else { "" };
            format!("{} [{}–{}]{mark}", fmt_ratio(r.ratio), fmt_ratio(r.low), fmt_ratio(r.high))
        }
    }
}

/// A ratio as the one-screen tables show it: `0.93 ±3%`, the half-width of its interval.
pub fn ratio_pm(r: Ratio) -> String {
    format!("{} ±{:.0}%", fmt_ratio(r.ratio), r.half_width() * 100.0)
}

/// Three significant digits at most, so small and large ratios read alike; two below 0.01.
pub fn fmt_ratio(x: f64) -> String {
    if !x.is_finite() {
        "–".into()
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else if x >= 0.1 {
        format!("{x:.2}")
    } else if x >= 0.01 || x == 0.0 {
        format!("{x:.3}")
    } else {
        // Two significant digits, however small: a ratio that is not zero never prints as 0.000.
        let decimals = (-x.log10()).ceil() as usize + 1;
        format!("{x:.decimals$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bq_engine::row::Status;
    use bq_engine::workloads::RunSpec;

    fn slice(imp: &str, pair: u64, reference: bool, order: u64, ips: f64) -> Row {
        let spec = RunSpec::new(Workload::Spsc, 16, 1000);
        let mut r = Row::new(imp, Mode::Driven, &spec, 1, Err(anyhow::anyhow!("x")));
        (r.kind, r.pair, r.reference, r.order, r.status, r.items_per_second) =
            (Kind::Slice, pair, reference, order, Status::Ok, ips);
        r
    }

    #[test]
    fn pairs_join_into_cells_with_their_ratio() {
        let rows = vec![
            slice("a", 1, false, 1, 200.0),
            slice("ref", 1, true, 2, 100.0),
            slice("ref", 2, true, 3, 110.0),
            slice("a", 2, false, 4, 220.0),
            slice("ref", 3, false, 5, 100.0),
            slice("ref", 3, true, 6, 100.0),
            slice("ref", 4, true, 7, 100.0),
            slice("ref", 4, false, 8, 100.0),
            // A pair whose reference half failed: left out.
            slice("a", 5, false, 9, 1.0),
        ];
        let mut rows = rows;
        let mut failed = slice("ref", 5, true, 10, f64::NAN);
        failed.status = Status::Failed;
        rows.push(failed);
        assert_eq!(reference(&rows), Some(("ref", Mode::Driven)));
        let cells = cells(&rows);
        assert_eq!(cells.len(), 2);
        let a = &cells[0];
        assert!(!a.aa && a.implementation == "a");
        let r = a.ratio.unwrap();
        assert_eq!(r.pairs, 2);
        assert!((r.ratio - 2.0).abs() < 1e-9 && r.half_width() < 1e-9, "{r:?}");
        assert!(cells[1].aa && cells[1].ratio.unwrap().contains(1.0));
        assert!(!paired(&[]));
    }

    #[test]
    fn ratios_print_with_three_digits_at_most() {
        assert_eq!(fmt_ratio(0.934), "0.93");
        assert_eq!(fmt_ratio(0.0123), "0.012");
        assert_eq!(fmt_ratio(184.8), "185");
        assert_eq!(fmt_ratio(f64::NAN), "–");
        let r = Ratio { ratio: 1.0, low: 0.9, high: 1.1, pairs: 6 };
        assert_eq!(ratio_cell(Some(r), 0.05), "1.00 [0.90–1.10] ⚠");
        assert_eq!(ratio_cell(Some(r), 0.2), "1.00 [0.90–1.10]");
        assert_eq!(ratio_cell(None, 0.05), "–");
    }

    /// Oversubscribed counts threads per CPU the placement gives them, not the machine's cores:
    /// spsc same-core (two threads, one CPU) is; spsc cross-core (one thread per CPU) is not;
    /// mpsc cross-core (four producers on one CPU) is; unpinned compares with the machine.
    #[test]
    fn oversubscribed_is_threads_per_cpu_the_placement_allows() {
        let rows = [slice("a", 1, false, 1, 1.0), slice("r", 1, true, 2, 1.0)];
        let mut cells = cells(&rows);
        let c = &mut cells[0];
        let at = |c: &mut Cell, w: Workload, p: Placement| {
            (c.workload, c.placement) = (w, p);
            (c.producers, c.consumers) = w.threads();
        };
        for (w, p, cpus, over) in [
            (Workload::Seq, Placement::SameCore, 2, false),
            (Workload::Spsc, Placement::SameCore, 2, true),
            (Workload::Spsc, Placement::CrossCore, 2, false),
            (Workload::Mpsc, Placement::CrossCore, 2, true),
            (Workload::Spsc, Placement::Unpinned, 2, false),
            (Workload::Spsc, Placement::Unpinned, 1, true),
            (Workload::Mpmc, Placement::Unpinned, 8, false),
        ] {
            at(c, w, p);
            assert_eq!(c.oversubscribed(cpus), over, "{w} {p} on {cpus} CPUs");
        }
    }
}
