//! The one scheduler. Every study that measures goes through a [`Scheduler`]: it starts the
//! foreign runtimes before any run is timed, fits the plan to its time budget (`sizing.rs`),
//! sizes each configuration by time, and keeps the progress. Its phases are its methods:
//!
//! - [`Scheduler::pilot`]: a run grown until it lasts [`sizing::PILOT_RUN`]; its rate.
//! - [`Scheduler::sized`]: the pilot, then a discarded warm-up; the configuration with the items
//!   of a run of the target length, from the faster of the two rates.
//! - [`Scheduler::execute`]: every configuration sized, then its measured repetitions,
//!   repetitions outermost (async, strategies and the pipeline), or each configuration once as
//!   it is given (memory, whose runs size themselves).
//! - The paired schedule of compare and scale (`paired.rs`) takes its pilots, warm-ups and
//!   runs from here and adds its own phases: first pairs, then pairs where the intervals are
//!   widest.
//!
//! A configuration is anything that can run ([`Measurable`]), and its row anything that says how the
//! run went ([`Outcome`]); the tests hand in runs whose speed they know
//! ([`Scheduler::with_measure`]).

use std::time::Duration;

use crate::progress::Progress;
use crate::sizing::{self, Shape, Shortened, Sizing};

/// How one run went, as the scheduler needs to know it.
pub trait Outcome {
    fn ok(&self) -> bool;
    /// Wall time of the run.
    fn seconds(&self) -> f64;
    fn items_per_second(&self) -> f64;
    /// Why it failed (empty when it did not).
    fn error(&self) -> &str;
    /// What a run that went well found, said as it ends ([`Schedule::Once`]: memory's peaks).
    fn summary(&self) -> Option<String> {
        None
    }
}

/// One configuration of a study: what runs, how big, and how it is measured.
pub trait Measurable: Clone {
    type Row: Outcome;
    /// Names it in progress and failure lines.
    fn label(&self) -> String;
    /// Threads a run starts (for the estimate).
    fn threads(&self) -> u64;
    /// Producers: the items of a run are a multiple of them.
    fn producers(&self) -> u64;
    /// The same configuration with `items` items per run.
    fn with_items(&self, items: u64) -> Self;
    /// One run, under the deadline `limit`.
    fn measure(&self, repetition: u32, limit: Duration) -> Self::Row;
    /// How long a run that sizes itself is expected to take ([`Schedule::Once`]'s progress).
    fn expected(&self) -> Duration {
        Duration::ZERO
    }
}

/// How long each run is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Length {
    /// Sized by a pilot and a warm-up to last about this long.
    Time(Duration),
    /// `--items`: every run this many items, no pilot (a warm-up still runs first).
    Items(u64),
}

/// What [`Scheduler::execute`] does with the configurations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    /// Each sized, then `reps` measured runs of each, repetitions outermost: slow drift on a
    /// shared machine then spreads over every configuration.
    Repetitions(u32),
    /// Each run once, as given, with no pilot and no warm-up ([`Measurable::expected`] says how long).
    Once,
}

/// A run function: a configuration's [`Measurable::measure`], or a test's stand-in.
pub type Measure<'m, R> = Box<dyn FnMut(&R, u32) -> <R as Measurable>::Row + 'm>;

pub struct Scheduler<'m, R: Measurable> {
    what: &'static str,
    length: Length,
    measure: Measure<'m, R>,
    progress: Progress,
}

impl<'m, R: Measurable + 'm> Scheduler<'m, R> {
    /// A scheduler whose runs are the configurations' own, each under `limit`. `what` names the
    /// command in progress lines.
    pub fn new(what: &'static str, length: Length, limit: Duration) -> Scheduler<'m, R> {
        Scheduler::with_measure(what, length, Box::new(move |r: &R, rep| r.measure(rep, limit)))
    }

    /// A scheduler whose runs are made by `measure` (the tests' queues of known speed).
    pub fn with_measure(what: &'static str, length: Length, measure: Measure<'m, R>) -> Scheduler<'m, R> {
        // Start the OCaml runtime here, the one place, so that no timed run pays for it.
        crate::impls::ocaml::ensure_runtime();
        Scheduler { what, length, measure, progress: Progress::new(what, Duration::ZERO) }
    }

    /// Fits `wanted` to `budget` for these configurations (shorter runs, then fewer
    /// repetitions), says how, and sets the progress's total. `each` says, from the sizing
    /// chosen, what each configuration gets; `unit` names the repetitions in the "reduced" line.
    pub fn fit(
        &mut self,
        shapes: &[Shape],
        wanted: Sizing,
        budget: Duration,
        each: &dyn Fn(Sizing) -> String,
        unit: &dyn Fn(&Shortened) -> String,
    ) -> (Sizing, Duration) {
        let (sized, estimate, said) = sizing::fit(shapes, wanted, budget);
        if let Length::Time(_) = self.length {
            self.length = Length::Time(sized.run);
        }
        let what = self.what;
        eprintln!("[{what}] {}; estimated {} (budget {})", each(sized), secs(estimate), secs(budget));
        for s in &said {
            eprintln!("[{what}] to fit the budget: {}", unit(s));
        }
        if estimate > budget {
            eprintln!(
                "[{what}] warning: even shortened, the plan needs about {}, more than the budget of {}; choose \
                 fewer configurations (--impl, --workload, --capacity, ...), or give it --budget {}",
                secs(estimate),
                secs(budget),
                estimate.as_secs() + 1
            );
        }
        self.progress.set_total(estimate);
        (sized, estimate)
    }

    /// A new estimate of the whole.
    pub fn set_total(&mut self, total: Duration) {
        self.progress.set_total(total);
    }

    /// A line that must not be lost under the progress bar.
    pub fn say(&self, line: String) {
        self.progress.println(line);
    }

    /// One run, counted in the progress as the time it took (thread start-up included); `next`
    /// says what runs after it.
    pub fn measure(&mut self, r: &R, repetition: u32, next: &str) -> R::Row {
        let row = (self.measure)(r, repetition);
        let took = Duration::from_secs_f64(finite(row.seconds()));
        self.progress.step(took.max(Duration::from_micros(1)) + sizing::THREAD_COST * r.threads() as u32, next);
        row
    }

    /// Grows a run until it lasts [`sizing::PILOT_RUN`]; its rate in items per second. `Err`:
    /// the run that failed (repetition 0).
    pub fn pilot(&mut self, r: &R) -> Result<f64, R::Row> {
        let mut items = sizing::min_items(r.producers());
        loop {
            let row = (self.measure)(&r.with_items(items), 0);
            if !row.ok() {
                return Err(row);
            }
            let t = row.seconds().max(1e-6);
            if t >= sizing::PILOT_RUN.as_secs_f64() || items >= sizing::MAX_ITEMS {
                return Ok(row.items_per_second());
            }
            let grow = (sizing::PILOT_RUN.as_secs_f64() * 1.5 / t).clamp(2.0, 100.0);
            items = ((items as f64 * grow) as u64).min(sizing::MAX_ITEMS);
        }
    }

    /// The pilot and a warm-up, discarded: `r` with the items of its measured runs. The faster
    /// of the two rates sizes them, so that a configuration that flips between a fast and a
    /// slow regime (two threads on two cores) runs at least the target length in either. With
    /// [`Length::Items`] only the warm-up runs. `Err`: the run that failed.
    pub fn sized(&mut self, r: &R) -> Result<R, R::Row> {
        let label = r.label();
        let (sized, pilot_rate) = match self.length {
            Length::Items(items) => (r.with_items(items), 0.0),
            Length::Time(run) => {
                let rate = self.pilot(r);
                self.progress.step(sizing::PILOT_COST, &format!("warm-up {label}"));
                let rate = rate?;
                (r.with_items(sizing::items_for(rate, run, r.producers())), rate)
            }
        };
        let row = self.measure(&sized, 0, &label);
        if !row.ok() {
            return Err(row);
        }
        Ok(match self.length {
            Length::Items(_) => sized,
            Length::Time(run) => {
                r.with_items(sizing::items_for(row.items_per_second().max(pilot_rate), run, r.producers()))
            }
        })
    }

    /// Runs `configs` on `schedule`; their rows in the order they ran, the rows of sizing runs
    /// that failed (whose configurations ran no further) last. Every failure is said as it
    /// comes.
    pub fn execute(&mut self, configs: &[R], schedule: Schedule) -> Vec<R::Row> {
        let mut rows = Vec::new();
        match schedule {
            Schedule::Once => {
                self.progress.set_total(configs.iter().map(R::expected).sum());
                for (i, c) in configs.iter().enumerate() {
                    let next = configs.get(i + 1).map_or(String::new(), R::label);
                    let row = (self.measure)(c, 1);
                    self.progress.step(c.expected(), &next);
                    match row.summary() {
                        _ if !row.ok() => self.say(format!("FAILED: {}: {}", c.label(), row.error())),
                        Some(s) => self.say(format!("{}: {s}", c.label())),
                        None => {}
                    }
                    rows.push(row);
                }
            }
            Schedule::Repetitions(reps) => {
                let mut failures = Vec::new();
                let mut sized = Vec::new();
                for c in configs {
                    match self.sized(c) {
                        Ok(s) => sized.push(s),
                        Err(row) => {
                            self.say(format!("FAILED: {}: {}; its repetitions are skipped", c.label(), row.error()));
                            failures.push(row);
                        }
                    }
                }
                for rep in 1..=reps {
                    for (i, c) in sized.iter().enumerate() {
                        let next =
                            sized.get(i + 1).map_or(String::new(), |n| format!("{} (rep {rep} of {reps})", n.label()));
                        let row = self.measure(c, rep, &next);
                        if !row.ok() {
                            self.say(format!("FAILED: {} rep {rep}: {}", c.label(), row.error()));
                        }
                        rows.push(row);
                    }
                }
                rows.extend(failures);
            }
        }
        rows
    }

    /// Ends the progress: "[what] done in ...".
    pub fn finish(&self) {
        self.progress.finish();
    }
}

/// What [`sizing::fit`] needs of each configuration, before any pilot.
pub fn shapes<R: Measurable>(configs: &[R]) -> Vec<Shape> {
    configs.iter().map(|c| Shape { threads: c.threads(), producers: c.producers(), rate: None }).collect()
}

fn finite(x: f64) -> f64 {
    if x.is_finite() && x > 0.0 {
        x
    } else {
        0.0
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 120.0 {
        format!("{}m{:02}s", s as u64 / 60, s as u64 % 60)
    } else {
        format!("{s:.0} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A made-up configuration: `rate` items per second, failing at its `fail_at`-th run.
    #[derive(Debug, Clone, PartialEq)]
    struct Fake {
        name: &'static str,
        items: u64,
        rate: f64,
        fail_at: Option<u32>,
    }

    #[derive(Debug)]
    struct FakeRow {
        name: &'static str,
        items: u64,
        repetition: u32,
        ok: bool,
        rate: f64,
    }

    impl Outcome for FakeRow {
        fn ok(&self) -> bool {
            self.ok
        }
        fn seconds(&self) -> f64 {
            self.items as f64 / self.rate
        }
        fn items_per_second(&self) -> f64 {
            self.rate
        }
        fn error(&self) -> &str {
            if self.ok {
                ""
            } else {
                "made to fail"
            }
        }
    }

    impl Measurable for Fake {
        type Row = FakeRow;
        fn label(&self) -> String {
            self.name.into()
        }
        fn threads(&self) -> u64 {
            2
        }
        fn producers(&self) -> u64 {
            1
        }
        fn with_items(&self, items: u64) -> Fake {
            Fake { items, ..self.clone() }
        }
        fn measure(&self, _: u32, _: Duration) -> FakeRow {
            unreachable!("the tests hand in their own runs")
        }
    }

    /// Runs `configs` on `schedule`, counting each configuration's runs.
    fn run(configs: &[Fake], length: Length, schedule: Schedule) -> (Vec<FakeRow>, Vec<(&'static str, u32)>) {
        let mut calls: Vec<(&'static str, u32)> = Vec::new();
        let rows = {
            let calls = &mut calls;
            let measure = move |c: &Fake, repetition: u32| {
                calls.push((c.name, repetition));
                let n = calls.iter().filter(|(name, _)| *name == c.name).count() as u32;
                let ok = c.fail_at != Some(n);
                FakeRow { name: c.name, items: c.items, repetition, ok, rate: c.rate }
            };
            let mut s = Scheduler::with_measure("test", length, Box::new(measure));
            let rows = s.execute(configs, schedule);
            s.finish();
            rows
        };
        (rows, calls)
    }

    fn fake(name: &'static str, rate: f64, fail_at: Option<u32>) -> Fake {
        Fake { name, items: 0, rate, fail_at }
    }

    #[test]
    fn repetitions_are_outermost_and_a_failed_sizing_ends_its_configuration_last() {
        // b's pilot fails on its first run: no warm-up, no repetitions, its row after the others.
        let configs = [fake("a", 1e6, None), fake("b", 1e6, Some(1)), fake("c", 2e6, None)];
        let (rows, _) = run(&configs, Length::Time(Duration::from_millis(10)), Schedule::Repetitions(3));
        let order: Vec<(&str, u32)> = rows.iter().map(|r| (r.name, r.repetition)).collect();
        assert_eq!(order, [("a", 1), ("c", 1), ("a", 2), ("c", 2), ("a", 3), ("c", 3), ("b", 0)]);
        assert!(rows[..6].iter().all(|r| r.ok) && !rows[6].ok);
        // Sized by time: 10 ms at a million items per second, twice that at two million.
        assert_eq!(rows[0].items, 10_000);
        assert_eq!(rows[1].items, 20_000);
    }

    #[test]
    fn a_failed_warm_up_ends_its_configuration_and_a_failed_repetition_is_kept() {
        // The pilot of a million items a second ends at its first run of 10 ms or more: how
        // many runs it takes is the pilot's; the warm-up is the next, then the repetitions.
        let (_, calls) =
            run(&[fake("a", 1e6, None)], Length::Time(Duration::from_millis(10)), Schedule::Repetitions(1));
        let pilot_runs = calls.iter().filter(|(_, rep)| *rep == 0).count() as u32 - 1;
        let warm_up = fake("a", 1e6, Some(pilot_runs + 1));
        let (rows, _) = run(&[warm_up], Length::Time(Duration::from_millis(10)), Schedule::Repetitions(2));
        assert_eq!(rows.len(), 1, "a failed warm-up ends the configuration: {rows:?}");
        assert!(!rows[0].ok);
        let second = fake("a", 1e6, Some(pilot_runs + 3));
        let (rows, _) = run(&[second], Length::Time(Duration::from_millis(10)), Schedule::Repetitions(3));
        let kept: Vec<(u32, bool)> = rows.iter().map(|r| (r.repetition, r.ok)).collect();
        assert_eq!(kept, [(1, true), (2, false), (3, true)], "a failed repetition is a row like the others");
    }

    #[test]
    fn fixed_items_run_no_pilot_and_once_runs_each_as_given() {
        let (rows, calls) = run(&[fake("a", 1e6, None)], Length::Items(1), Schedule::Repetitions(2));
        assert_eq!(calls, [("a", 0), ("a", 1), ("a", 2)], "a warm-up, then the repetitions");
        assert!(rows.iter().all(|r| r.items == 1));
        let given = Fake { items: 7, ..fake("m", 1e6, None) };
        let (rows, calls) = run(&[given.clone(), Fake { name: "n", ..given }], Length::Items(0), Schedule::Once);
        assert_eq!(calls, [("m", 1), ("n", 1)]);
        assert!(rows.iter().all(|r| r.items == 7 && r.ok));
    }
}
