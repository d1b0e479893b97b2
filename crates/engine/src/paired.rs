//! Paired, interleaved measurement: every implementation is timed in short slices, each next to
//! a slice of the reference implementation in the same configuration, the two in alternating
//! order (candidate first in odd pairs, reference first in even ones: C R, R C, C R, ...). Drift
//! and the machine's moods then hit both halves of a pair alike, and the pair's ratio keeps
//! what differs: the queue. The figure is the geometric mean of the ratios with a 95% interval
//! (`bq_results::stats::paired_ratio`).
//!
//! The reference is also paired with itself in every configuration (the A/A control): its
//! interval must contain 1.0, the evidence that the method works on the machine that day.
//!
//! The schedule puts the time where the variance is (Kalibera and Jones): first a few pairs of
//! every cell, then, while the budget lasts, two more pairs (one of each order) of the cell whose
//! interval is furthest from the goal, until every cell reaches it or the time is spent. Each
//! configuration also gets one observation run per implementation, which counts waits and
//! samples latencies; the slices themselves make plain calls (see `Sampling::observe`).

use std::time::{Duration, Instant};

use bq_results::stats::{paired_ratio, Ratio};

use crate::placement::Placement;
use crate::row::{Kind, Row};
use crate::schedule::{Length, Measurable, Measure, Scheduler};
use crate::sizing::{Shape, Shortened, Sizing};
use crate::target::{measure, threads, Target};
use crate::workloads::{RunSpec, Sampling};

/// The most pairs one cell gets: past this its interval narrows by under 1% per 10 pairs, and
/// a cell that is still wide is wide for a reason the report should show, not hide.
pub const MAX_PAIRS: usize = 64;
/// The fewest first pairs a plan that does not fit its budget goes down to.
pub const FLOOR_PAIRS: u32 = 3;
/// How often a slice whose clock check fails ([`Row::over_cpu`]) is run again before it counts
/// as a failed run.
pub const CLOCK_RETRIES: u32 = 3;

/// What runs: the reference of each placement, and every (candidate, configuration). Each
/// reference's own cells (its A/A control) are among the cells. `spec.items` 0: sized by a
/// pilot.
pub struct Plan {
    /// The reference of the configurations in each placement (see [`Plan::reference`]).
    pub references: References,
    pub cells: Vec<(Target, RunSpec)>,
    /// Target duration of one slice.
    pub run: Duration,
    /// Pairs every cell gets before the budget goes to the widest intervals.
    pub first_pairs: u32,
    /// Stop adding pairs to a cell once its interval is within ± this fraction.
    pub goal: f64,
    /// Time the slices may take (pilots, warm-ups and observations included).
    pub budget: Duration,
    /// `--items`: every run that many items, no pilot.
    pub fixed_items: Option<u64>,
}

/// Which implementation each placement's configurations are paired with: the one whose A/A
/// is tightest there (measured: see `docs/measurement.md`), or the one `--reference` names for all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct References {
    pub same_core: Target,
    pub cross_core: Target,
    pub unpinned: Target,
}

impl References {
    /// One reference for every placement.
    pub fn all(t: Target) -> References {
        References { same_core: t, cross_core: t, unpinned: t }
    }

    pub fn of(&self, p: Placement) -> Target {
        match p {
            Placement::SameCore => self.same_core,
            Placement::CrossCore => self.cross_core,
            Placement::Unpinned => self.unpinned,
        }
    }
}

impl Plan {
    /// The reference of `spec`'s configuration.
    pub fn reference(&self, spec: &RunSpec) -> Target {
        self.references.of(spec.placement)
    }
}

/// One candidate in one configuration.
struct Cell {
    target: Target,
    spec: RunSpec,
    /// Its configuration's reference run, sized.
    reference: RunSpec,
    log_ratios: Vec<f64>,
    /// Why it stopped early: its own failure, or its reference's.
    failed: bool,
    /// Wall time of one pair, as measured (for the budget).
    pair_cost: Duration,
}

impl Cell {
    fn ratio(&self) -> Option<Ratio> {
        paired_ratio(&self.log_ratios)
    }

    /// How far the cell is from its goal (1.0: just there); infinite without an interval.
    fn distance(&self, goal: f64) -> f64 {
        self.ratio().map_or(f64::INFINITY, |r| r.half_width() / goal)
    }
}

/// Configurations: a spec without its item count (a cell's and its reference's differ).
fn same_config(a: &RunSpec, b: &RunSpec) -> bool {
    (a.workload, a.producers, a.consumers, a.capacity, a.placement, a.consumer_work)
        == (b.workload, b.producers, b.consumers, b.capacity, b.placement, b.consumer_work)
}

/// What the pairs made: every row (slices, observations, failures) in the order they were run.
pub struct PairedRows {
    pub rows: Vec<Row>,
    /// Cells whose interval did not reach the goal in the budget: (label, half-width).
    pub short: Vec<(String, f64)>,
}

/// The sizing a plan asks for: each cell a warm-up and its first pairs (two slices each), each
/// configuration's reference a warm-up; the first pairs it fits in its budget, in repetitions
/// (a warm-up and two per pair).
fn wanted(plan: &Plan, references: usize) -> (Vec<Shape>, Sizing) {
    let shapes: Vec<Shape> = plan
        .cells
        .iter()
        .map(|(_, s)| Shape { threads: threads(s), producers: s.producers, rate: None })
        .chain(std::iter::repeat_n(Shape { threads: 2, producers: 1, rate: None }, references))
        .collect();
    (shapes, Sizing { run: plan.run, reps: plan.first_pairs * 2 + 1 })
}

/// The first pairs a sizing leaves each cell, never under [`FLOOR_PAIRS`].
fn first_pairs(plan: &Plan, sized: Sizing) -> u32 {
    (sized.reps.saturating_sub(1) / 2).max(FLOOR_PAIRS.min(plan.first_pairs))
}

/// What was shortened, said in pairs, the unit `--reps` sets here.
fn in_pairs(plan: &Plan, x: &Shortened) -> String {
    match x {
        Shortened::Reps { to, .. } => format!(
            "first pairs per cell reduced from {} to {}",
            plan.first_pairs,
            first_pairs(plan, Sizing { run: plan.run, reps: *to })
        ),
        run => run.to_string(),
    }
}

/// Runs a plan's pairs; `what` names the command in progress lines.
pub fn measure_pairs(what: &'static str, plan: &mut Plan, limit: Duration) -> PairedRows {
    measure_pairs_with(what, plan, Box::new(move |(t, s): &(Target, RunSpec), rep| measure(*t, *s, rep, limit)))
}

/// [`measure_pairs`] with any function that makes one run: the tests hand in queues whose speed
/// they know.
pub fn measure_pairs_with(what: &'static str, plan: &mut Plan, run: Measure<'_, (Target, RunSpec)>) -> PairedRows {
    let started = Instant::now();
    // One reference spec per configuration.
    let mut configs: Vec<RunSpec> = Vec::new();
    for (_, s) in &plan.cells {
        if !configs.iter().any(|r| same_config(r, s)) {
            configs.push(*s);
        }
    }
    let length = match plan.fixed_items {
        Some(items) => Length::Items(items),
        None => Length::Time(plan.run),
    };
    let mut scheduler = Scheduler::with_measure(what, length, run);
    let mut against: Vec<String> = Vec::new();
    for p in [Placement::SameCore, Placement::CrossCore, Placement::Unpinned] {
        if configs.iter().any(|r| r.placement == p) {
            against.push(format!("{} {p}", plan.references.of(p).implementation()));
        }
    }
    let (shapes, wanted) = wanted(plan, configs.len());
    let (cells, goal, budget) = (plan.cells.len(), plan.goal, plan.budget);
    let (sized, estimate) = scheduler.fit(
        &shapes,
        wanted,
        plan.budget,
        &|s| {
            format!(
                "{cells} cells in {} configurations against {}; slices of about {} ms, at least {} pairs each, then \
                 more where the interval is wider than ±{:.0}%, for {} s",
                configs.len(),
                against.join(", "),
                s.run.as_millis(),
                first_pairs(plan, s),
                goal * 100.0,
                budget.as_secs()
            )
        },
        &|x| in_pairs(plan, x),
    );
    plan.run = sized.run;
    // The extra pairs fill the budget.
    scheduler.set_total(budget.max(estimate));
    let mut pairs = Pairs { scheduler, plan, rows: Vec::new(), order: 0, pair: 0, cells: Vec::new() };
    pairs.size(&configs);
    pairs.observe();
    pairs.first_pairs(first_pairs(pairs.plan, sized));
    pairs.extra_pairs(started);
    pairs.scheduler.finish();
    let short = pairs
        .cells
        .iter()
        .filter(|c| !c.failed && c.distance(goal) > 1.0)
        .map(|c| ((c.target, c.spec).label(), c.ratio().map_or(f64::INFINITY, |r| r.half_width())))
        .collect();
    PairedRows { rows: pairs.rows, short }
}

/// The paired schedule's state: the cells, each with its configuration's sized reference, and
/// every row in the order it ran. Its phases are its methods.
struct Pairs<'p, 'm> {
    scheduler: Scheduler<'m, (Target, RunSpec)>,
    plan: &'p Plan,
    rows: Vec<Row>,
    /// The last run's place in the order, and the last pair's number.
    order: u64,
    pair: u64,
    cells: Vec<Cell>,
}

impl Pairs<'_, '_> {
    /// Keeps a run's row as a run of `kind`, in `pair` (0: none), the reference's half or not:
    /// its place in the order is the next.
    fn record(&mut self, mut row: Row, kind: Kind, pair: u64, reference: bool) {
        self.order += 1;
        (row.kind, row.pair, row.reference, row.order) = (kind, pair, reference, self.order);
        self.rows.push(row);
    }

    /// Pilots and warm-ups: each configuration's reference, then each candidate; a failure ends
    /// its cell (or, for the reference, its configuration's cells) with the failed row kept.
    fn size(&mut self, configs: &[RunSpec]) {
        let mut references: Vec<Option<RunSpec>> = Vec::new();
        for r in configs {
            let run = (self.plan.reference(r), RunSpec { sampling: Sampling::PLAIN, ..*r });
            match self.scheduler.sized(&run) {
                Ok((_, s)) => references.push(Some(s)),
                Err(row) => {
                    self.scheduler.say(format!(
                        "FAILED: the reference {}: {}; its configuration is skipped",
                        run.label(),
                        row.error
                    ));
                    self.record(row, Kind::Slice, 0, false);
                    references.push(None);
                }
            }
        }
        for &(target, spec) in &self.plan.cells {
            let config =
                configs.iter().position(|r| same_config(r, &spec)).expect("every cell's configuration is listed");
            let Some(reference) = references[config] else { continue };
            let spec = if target == self.plan.reference(&spec) {
                // The A/A control: both halves the same run, so that only time tells them apart.
                reference
            } else {
                match self.scheduler.sized(&(target, RunSpec { sampling: Sampling::PLAIN, ..spec })) {
                    Ok((_, s)) => s,
                    Err(row) => {
                        let label = (target, spec).label();
                        self.scheduler.say(format!("FAILED: {label}: {}; its pairs are skipped", row.error));
                        self.record(row, Kind::Slice, 0, false);
                        continue;
                    }
                }
            };
            self.cells.push(Cell {
                target,
                spec,
                reference,
                log_ratios: Vec::new(),
                failed: false,
                pair_cost: self.plan.run * 2,
            });
        }
    }

    /// One counted, sampled run of each target in each configuration.
    fn observe(&mut self) {
        let mut observed: Vec<(Target, RunSpec)> = Vec::new();
        for i in 0..self.cells.len() {
            let c = &self.cells[i];
            for run in [(c.target, c.spec), (self.plan.reference(&c.reference), c.reference)] {
                if observed.iter().any(|o| o.0 == run.0 && same_config(&o.1, &run.1)) {
                    continue;
                }
                let row = self.scheduler.measure(
                    &(run.0, RunSpec { sampling: Sampling::DEFAULT, ..run.1 }),
                    0,
                    &format!("observing {}", run.label()),
                );
                self.record(row, Kind::Observation, 0, false);
                observed.push(run);
            }
        }
    }

    /// One slice whose clock is checked: a run whose threads used more CPU time than its clock
    /// allows is kept as discarded and run again ([`checked`]).
    fn slice(&mut self, run: (Target, RunSpec), repetition: u32, reference: bool) -> Row {
        let label = run.label();
        let scheduler = &mut self.scheduler;
        let (row, discarded) = checked(&mut || scheduler.measure(&run, repetition, &label));
        for d in discarded {
            self.scheduler.say(format!("discarded: {label}: {}; run again", d.error));
            self.record(d, Kind::Discarded, self.pair, reference);
        }
        row
    }

    /// One pair of cell `i`, in the order its pairs so far call for (candidate first in odd
    /// pairs); a failed half ends the cell.
    fn pair(&mut self, i: usize) {
        let t0 = Instant::now();
        self.pair += 1;
        let c = &self.cells[i];
        let (candidate, reference) = ((c.target, c.spec), (self.plan.reference(&c.reference), c.reference));
        let halves = if c.log_ratios.len().is_multiple_of(2) {
            [(candidate, false), (reference, true)]
        } else {
            [(reference, true), (candidate, false)]
        };
        let repetition = c.log_ratios.len() as u32 + 1;
        let mut rates = [f64::NAN; 2];
        let mut failed = false;
        for (run, is_ref) in halves {
            let row = self.slice(run, repetition, is_ref);
            if !row.ok() {
                self.scheduler.say(format!("FAILED: {} (pair with {}): {}", run.label(), candidate.label(), row.error));
                failed = true;
            }
            rates[is_ref as usize] = row.items_per_second;
            self.record(row, Kind::Slice, self.pair, is_ref);
            if failed {
                break;
            }
        }
        let c = &mut self.cells[i];
        c.pair_cost = t0.elapsed();
        if failed {
            c.failed = true;
        } else {
            c.log_ratios.push((rates[0] / rates[1]).ln());
        }
    }

    /// `n` pairs of every cell.
    fn first_pairs(&mut self, n: u32) {
        for i in 0..self.cells.len() {
            for _ in 0..n {
                if !self.cells[i].failed {
                    self.pair(i);
                }
            }
        }
    }

    /// While the budget lasts, two more pairs (one of each order) of the cell whose interval is
    /// furthest from the goal, until every cell reaches it.
    fn extra_pairs(&mut self, started: Instant) {
        let goal = self.plan.goal;
        loop {
            let cells = &self.cells;
            let next = (0..cells.len())
                .filter(|&i| !cells[i].failed && cells[i].log_ratios.len() < MAX_PAIRS && cells[i].distance(goal) > 1.0)
                .max_by(|&a, &b| cells[a].distance(goal).total_cmp(&cells[b].distance(goal)));
            let Some(i) = next else { break };
            if started.elapsed() + cells[i].pair_cost * 2 > self.plan.budget {
                break;
            }
            for _ in 0..2 {
                self.pair(i);
            }
        }
    }
}

/// One slice whose clock is checked: a run whose threads used more CPU time than its clock
/// allows is discarded (returned second, its error saying why) and run again, at most
/// [`CLOCK_RETRIES`] times; after that it is a failed run.
fn checked(measure: &mut dyn FnMut() -> Row) -> (Row, Vec<Row>) {
    let mut discarded = Vec::new();
    loop {
        let mut row = measure();
        let Some(why) = row.over_cpu() else { return (row, discarded) };
        if discarded.len() as u32 == CLOCK_RETRIES {
            row.status = crate::row::Status::Failed;
            row.error = format!("clock check failed {} times in a row: {why}", CLOCK_RETRIES + 1);
            return (row, discarded);
        }
        row.error = why;
        discarded.push(row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::Workload;
    use crate::Builtin;

    /// A plan that cannot fit says so in pairs, the unit `--reps` sets here, not in repetitions.
    #[test]
    fn a_plan_too_big_for_its_budget_says_its_first_pairs_were_reduced() {
        let crossbeam = Target::Driven(crate::impls::Choice::Builtin(Builtin::Crossbeam));
        let plan = Plan {
            references: References::all(crossbeam),
            cells: (0..400).map(|_| (crossbeam, RunSpec::new(Workload::Spsc, 16, 0))).collect(),
            run: Duration::from_millis(40),
            first_pairs: 6,
            goal: 0.03,
            budget: Duration::from_secs(1),
            fixed_items: None,
        };
        let (shapes, asked) = wanted(&plan, 1);
        let (sized, _, shortened) = crate::sizing::fit(&shapes, asked, plan.budget);
        assert_eq!(first_pairs(&plan, sized), FLOOR_PAIRS);
        let said: Vec<String> = shortened.iter().map(|x| in_pairs(&plan, x)).collect();
        assert!(said.iter().any(|s| s == &format!("first pairs per cell reduced from 6 to {FLOOR_PAIRS}")), "{said:?}");
        assert!(said.iter().any(|s| s.starts_with("runs shortened from 40 ms")), "{said:?}");
        assert!(!said.iter().any(|s| s.contains("repetitions")), "{said:?}");
    }

    /// A made-up slice of `seconds` whose threads used `cpu` seconds on one CPU.
    fn slice(seconds: f64, cpu: f64) -> Row {
        let spec =
            RunSpec { placement: crate::placement::Placement::SameCore, ..RunSpec::new(Workload::Spsc, 16, 1000) };
        let t = crate::measure::Tally {
            seconds,
            cpu: Default::default(),
            threads_cpu: Some(Duration::from_secs_f64(cpu)),
            push: Default::default(),
            pop: Default::default(),
            max_occupancy: None,
            latencies_ns: Vec::new(),
            delivery: Ok(()),
        };
        Row::new("crossbeam", crate::row::Mode::Driven, &spec, 1, Ok(t))
    }

    /// A slice whose threads ran longer than its clock is discarded and run again; one that
    /// stays impossible fails, saying why.
    #[test]
    fn a_slice_whose_threads_outran_its_clock_is_run_again() {
        // Two impossible runs (1 s of CPU in 10 ms on one CPU), then a possible one.
        let mut calls = 0;
        let (row, discarded) = checked(&mut || {
            calls += 1;
            if calls <= 2 {
                slice(0.01, 1.0)
            } else {
                slice(0.01, 0.0099)
            }
        });
        assert!(row.ok() && row.over_cpu().is_none(), "{row:?}");
        assert_eq!(discarded.len(), 2);
        assert!(discarded[0].error.contains("its clock did not cover their work"), "{}", discarded[0].error);
        // Never possible: failed after the retries, every attempt counted.
        let (row, discarded) = checked(&mut || slice(0.01, 1.0));
        assert!(!row.ok());
        assert_eq!(discarded.len() as u32, CLOCK_RETRIES);
        assert!(row.error.starts_with("clock check failed 4 times in a row"), "{}", row.error);
    }

    /// The bound the check uses: the CPUs the placement allows, plus the measured slack.
    #[test]
    fn the_clock_check_allows_what_one_cpu_can_do_and_no_more() {
        assert!(slice(0.01, 0.01).over_cpu().is_none());
        assert!(slice(0.01, 0.01 * (1.0 + crate::measure::CPU_CHECK_TOLERANCE)).over_cpu().is_none());
        assert!(slice(0.01, 0.0105).over_cpu().is_some(), "5% over on one CPU");
        assert!(slice(0.00001, 0.00005).over_cpu().is_none(), "within the absolute slack");
        let mut two = slice(0.01, 0.019);
        assert!(two.over_cpu().is_some());
        two.allowed_cpus = Some(2);
        assert!(two.over_cpu().is_none(), "two CPUs may use twice the time");
        let mut legacy = slice(0.01, 1.0);
        legacy.threads_cpu_s = None;
        assert!(legacy.over_cpu().is_none(), "a row without its threads' CPU time is not checked");
    }
}
