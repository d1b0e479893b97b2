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
use crate::plan::{measure, pilot_with, threads, Target};
use crate::progress::Progress;
use crate::row::{Kind, Row};
use crate::sizing::{self, Shape, Sizing};
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
    /// Index of its configuration's reference in `References`.
    config: usize,
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

/// What a run made: every row (slices, observations, failures) in the order they were run.
pub struct Outcome {
    pub rows: Vec<Row>,
    /// Cells whose interval did not reach the goal in the budget: (label, half-width).
    pub short: Vec<(String, f64)>,
}

/// Sizes a plan to its budget before it runs: slices shortened down to [`sizing::MIN_RUN`], then
/// fewer first pairs down to [`FLOOR_PAIRS`]. Returns the first pairs and what was said.
fn fit(plan: &mut Plan, references: usize) -> (u32, Duration, Vec<String>) {
    // Each cell: a warm-up, its first pairs (two slices each) and an observation.
    let shapes: Vec<Shape> = plan
        .cells
        .iter()
        .map(|(_, s)| Shape { threads: threads(s), producers: s.producers, rate: None })
        .chain(std::iter::repeat_n(Shape { threads: 2, producers: 1, rate: None }, references))
        .collect();
    let wanted = Sizing { run: plan.run, reps: plan.first_pairs * 2 + 1 };
    let (s, est, shortened) = sizing::fit(&shapes, wanted, 0, false, plan.budget);
    plan.run = s.run;
    let first = (s.reps.saturating_sub(1) / 2).max(FLOOR_PAIRS.min(plan.first_pairs));
    // Repetitions here are a warm-up and two slices per first pair: said as pairs.
    let said = shortened
        .iter()
        .map(|x| match x {
            sizing::Shortened::Reps { .. } => {
                format!("first pairs per cell reduced from {} to {first}", plan.first_pairs)
            }
            run => run.to_string(),
        })
        .collect();
    (first, est, said)
}

/// Keeps a run's row in `rows`, as a run of `kind`, in `pair` (0: none), the reference's half
/// or not: its place in the order is the next.
type Record<'a> = dyn FnMut(&mut Vec<Row>, Row, Kind, u64, bool) + 'a;

/// Runs a plan; `what` names the command in progress lines.
pub fn execute(what: &'static str, plan: &mut Plan, limit: Duration) -> Outcome {
    execute_with(what, plan, &mut |t, s, rep| measure(t, s, rep, limit))
}

/// [`execute`] with any function that makes one run: the tests hand in queues whose speed they
/// know.
pub fn execute_with(
    what: &'static str,
    plan: &mut Plan,
    measure: &mut dyn FnMut(Target, RunSpec, u32) -> Row,
) -> Outcome {
    let started = Instant::now();
    let mut rows: Vec<Row> = Vec::new();
    let mut order = 0u64;
    let mut pair_id = 0u64;
    let mut record = |rows: &mut Vec<Row>, mut row: Row, kind: Kind, pair: u64, reference: bool| {
        order += 1;
        (row.kind, row.pair, row.reference, row.order) = (kind, pair, reference, order);
        rows.push(row);
    };

    // One reference spec per configuration.
    let mut references: Vec<RunSpec> = Vec::new();
    for (_, s) in &plan.cells {
        if !references.iter().any(|r| same_config(r, s)) {
            references.push(*s);
        }
    }
    let (first_pairs, estimate, said) = fit(plan, references.len());
    let mut against: Vec<String> = Vec::new();
    for p in [Placement::SameCore, Placement::CrossCore, Placement::Unpinned] {
        if references.iter().any(|r| r.placement == p) {
            against.push(format!("{} {p}", plan.references.of(p).implementation()));
        }
    }
    eprintln!(
        "[{what}] {} cells in {} configurations against {}; slices of about {} ms, at least {first_pairs} pairs each, \
         then more where the interval is wider than ±{:.0}%, for {} s",
        plan.cells.len(),
        references.len(),
        against.join(", "),
        plan.run.as_millis(),
        plan.goal * 100.0,
        plan.budget.as_secs()
    );
    for s in &said {
        eprintln!("[{what}] to fit the budget: {s}");
    }
    if estimate > plan.budget {
        eprintln!(
            "[{what}] warning: even shortened, the first pairs need about {} s, more than the budget of {} s; choose \
             fewer --impl/--workload/--capacity/--placement, or give it --budget {}",
            estimate.as_secs(),
            plan.budget.as_secs(),
            estimate.as_secs() + 1
        );
    }
    crate::impls::ocaml::ensure_runtime();
    let mut progress = Progress::new(what, plan.budget.max(estimate));

    // Pilots and warm-ups: each target's items in each configuration; a failure ends its cell
    // (or, for the reference, its configuration's cells) with the failed row reported.
    let sized = |measure: &mut dyn FnMut(Target, RunSpec, u32) -> Row,
                 target: Target,
                 spec: RunSpec,
                 rows: &mut Vec<Row>,
                 record: &mut Record<'_>|
     -> Option<RunSpec> {
        let spec = match plan.fixed_items {
            Some(items) => RunSpec { items, sampling: Sampling::PLAIN, ..spec },
            None => {
                let (rate, failure) = pilot_with(measure, target, RunSpec { sampling: Sampling::PLAIN, ..spec });
                if let Some(row) = failure {
                    record(rows, row, Kind::Slice, 0, false);
                    return None;
                }
                RunSpec {
                    items: sizing::items_for(rate.unwrap_or(f64::NAN), plan.run, spec.producers),
                    sampling: Sampling::PLAIN,
                    ..spec
                }
            }
        };
        // The warm-up, discarded unless it failed; the faster of its rate and the pilot's
        // sizes the slices (a configuration that flips between a fast and a slow regime then
        // runs at least the target in either).
        let row = measure(target, spec, 0);
        if !row.ok() {
            record(rows, row, Kind::Slice, 0, false);
            return None;
        }
        if plan.fixed_items.is_some() {
            return Some(spec);
        }
        let rate = row.items_per_second.max(spec.items as f64 / plan.run.as_secs_f64());
        Some(RunSpec { items: sizing::items_for(rate, plan.run, spec.producers), ..spec })
    };
    let mut ref_specs: Vec<Option<RunSpec>> = Vec::new();
    for r in &references {
        let reference = plan.reference(r);
        let label = format!("{} {} cap {} {}", reference.implementation(), r.workload, r.capacity, r.placement);
        progress.step(sizing::PILOT_COST, &format!("pilot {label}"));
        let s = sized(measure, reference, *r, &mut rows, &mut record);
        if s.is_none() {
            progress.println(format!(
                "FAILED: the reference {label}: {}; its configuration is skipped",
                rows.last().map_or("", |r| &r.error)
            ));
        }
        ref_specs.push(s);
    }
    let mut cells: Vec<Cell> = Vec::new();
    for &(target, spec) in &plan.cells {
        let config =
            references.iter().position(|r| same_config(r, &spec)).expect("every cell's configuration is listed");
        let Some(_) = ref_specs[config] else { continue };
        let label = label(target, &spec);
        if target == plan.reference(&spec) {
            // The A/A control: both halves the same run, so that only time tells them apart.
            cells.push(Cell {
                target,
                spec: ref_specs[config].expect("kept above"),
                config,
                log_ratios: Vec::new(),
                failed: false,
                pair_cost: plan.run * 2,
            });
            continue;
        }
        progress.step(sizing::PILOT_COST, &format!("pilot {label}"));
        match sized(measure, target, spec, &mut rows, &mut record) {
            Some(spec) => cells.push(Cell {
                target,
                spec,
                config,
                log_ratios: Vec::new(),
                failed: false,
                pair_cost: plan.run * 2,
            }),
            None => progress
                .println(format!("FAILED: {label}: {}; its pairs are skipped", rows.last().map_or("", |r| &r.error))),
        }
    }

    // Observations: one counted, sampled run of each target in each configuration.
    let mut observed: Vec<(String, usize)> = Vec::new();
    for c in &cells {
        let reference = ref_specs[c.config].expect("kept above");
        for (target, spec) in [(c.target, c.spec), (plan.reference(&reference), reference)] {
            let key = (label(target, &spec), c.config);
            if observed.contains(&key) {
                continue;
            }
            let row = measure(target, RunSpec { sampling: Sampling::DEFAULT, ..spec }, 0);
            progress.step(Duration::from_secs_f64(finite(row.seconds)), &format!("observing {}", key.0));
            record(&mut rows, row, Kind::Observation, 0, false);
            observed.push(key);
        }
    }

    // One pair of cell `i`: candidate first when `first` is true.
    let mut run_pair = |cells: &mut Vec<Cell>,
                        i: usize,
                        rows: &mut Vec<Row>,
                        progress: &mut Progress,
                        measure: &mut dyn FnMut(Target, RunSpec, u32) -> Row| {
        let c = &cells[i];
        let reference = ref_specs[c.config].expect("kept above");
        pair_id += 1;
        let candidate_first = c.log_ratios.len().is_multiple_of(2);
        let r = plan.reference(&reference);
        let halves = if candidate_first {
            [(c.target, c.spec, false), (r, reference, true)]
        } else {
            [(r, reference, true), (c.target, c.spec, false)]
        };
        let t0 = Instant::now();
        let mut rates = [f64::NAN; 2];
        let mut failed = false;
        for (target, spec, is_ref) in halves {
            let row = checked(measure, target, spec, c.log_ratios.len() as u32 + 1, &mut |row| {
                progress.println(format!("discarded: {}: {}; run again", label(target, &spec), row.error));
                record(rows, row, Kind::Discarded, pair_id, is_ref);
            });
            if !row.ok() {
                progress.println(format!(
                    "FAILED: {} (pair with {}): {}",
                    label(target, &spec),
                    label(c.target, &c.spec),
                    row.error
                ));
                failed = true;
            }
            rates[is_ref as usize] = row.items_per_second;
            record(rows, row, Kind::Slice, pair_id, is_ref);
            if failed {
                break;
            }
        }
        let c = &mut cells[i];
        c.pair_cost = t0.elapsed();
        if failed {
            c.failed = true;
        } else {
            c.log_ratios.push((rates[0] / rates[1]).ln());
        }
        progress.step(c.pair_cost, &label(c.target, &c.spec));
    };

    // First pairs of every cell, then the budget where the intervals are widest.
    for i in 0..cells.len() {
        for _ in 0..first_pairs {
            if !cells[i].failed {
                run_pair(&mut cells, i, &mut rows, &mut progress, measure);
            }
        }
    }
    loop {
        let next = (0..cells.len())
            .filter(|&i| {
                !cells[i].failed && cells[i].log_ratios.len() < MAX_PAIRS && cells[i].distance(plan.goal) > 1.0
            })
            .max_by(|&a, &b| cells[a].distance(plan.goal).total_cmp(&cells[b].distance(plan.goal)));
        let Some(i) = next else { break };
        if started.elapsed() + cells[i].pair_cost * 2 > plan.budget {
            break;
        }
        for _ in 0..2 {
            run_pair(&mut cells, i, &mut rows, &mut progress, measure);
        }
    }
    progress.finish();
    let short = cells
        .iter()
        .filter(|c| !c.failed && c.distance(plan.goal) > 1.0)
        .map(|c| (label(c.target, &c.spec), c.ratio().map_or(f64::INFINITY, |r| r.half_width())))
        .collect();
    Outcome { rows, short }
}

/// One slice whose clock is checked: a run whose threads used more CPU time than its clock
/// allows is handed to `discard` (as a row whose error says why) and run again, at most
/// [`CLOCK_RETRIES`] times; after that it is a failed run.
fn checked(
    measure: &mut dyn FnMut(Target, RunSpec, u32) -> Row,
    target: Target,
    spec: RunSpec,
    repetition: u32,
    discard: &mut dyn FnMut(Row),
) -> Row {
    let mut attempt = 0;
    loop {
        let mut row = measure(target, spec, repetition);
        let Some(why) = row.over_cpu() else { return row };
        if attempt == CLOCK_RETRIES {
            row.status = crate::row::Status::Failed;
            row.error = format!("clock check failed {} times in a row: {why}", CLOCK_RETRIES + 1);
            return row;
        }
        row.error = why;
        discard(row);
        attempt += 1;
    }
}

fn finite(x: f64) -> f64 {
    if x.is_finite() && x > 0.0 {
        x
    } else {
        0.0
    }
}

fn label(t: Target, s: &RunSpec) -> String {
    let work = s.consumer_work.map_or(String::new(), |ns| format!(" consumer work {ns} ns"));
    format!("{} {} {} cap {} {}{work}", t.implementation(), t.mode(), s.workload, s.capacity, s.placement)
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
        let mut plan = Plan {
            references: References::all(crossbeam),
            cells: (0..400).map(|_| (crossbeam, RunSpec::new(Workload::Spsc, 16, 0))).collect(),
            run: Duration::from_millis(40),
            first_pairs: 6,
            goal: 0.03,
            budget: Duration::from_secs(1),
            fixed_items: None,
        };
        let (first, _, said) = fit(&mut plan, 1);
        assert_eq!(first, FLOOR_PAIRS);
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
        let crossbeam = Target::Driven(crate::impls::Choice::Builtin(Builtin::Crossbeam));
        let spec = RunSpec::new(Workload::Spsc, 16, 1000);
        // Two impossible runs (1 s of CPU in 10 ms on one CPU), then a possible one.
        let mut calls = 0;
        let mut discarded = Vec::new();
        let row = checked(
            &mut |_, _, _| {
                calls += 1;
                if calls <= 2 {
                    slice(0.01, 1.0)
                } else {
                    slice(0.01, 0.0099)
                }
            },
            crossbeam,
            spec,
            1,
            &mut |r| discarded.push(r),
        );
        assert!(row.ok() && row.over_cpu().is_none(), "{row:?}");
        assert_eq!(discarded.len(), 2);
        assert!(discarded[0].error.contains("its clock did not cover their work"), "{}", discarded[0].error);
        // Never possible: failed after the retries, every attempt counted.
        let mut discarded = 0;
        let row = checked(&mut |_, _, _| slice(0.01, 1.0), crossbeam, spec, 1, &mut |_| discarded += 1);
        assert!(!row.ok());
        assert_eq!(discarded, CLOCK_RETRIES);
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
