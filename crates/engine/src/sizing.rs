//! How long a comparison takes, decided before it starts: every configuration runs for about the
//! same time on any machine. A short pilot estimates each configuration's rate; the measured runs
//! are then sized to a target duration ([`Sizing::run`]), within limits on items, after one
//! discarded warm-up run. The plan is checked against a time budget first, and shortened (runs,
//! then repetitions) where it would not fit; what was shortened is said before the runs start.
//!
//! Everything here is arithmetic on durations and rates, so a test can plan for a made-up slow
//! machine by handing in a fake rate.

use std::time::Duration;

/// The shortest measured run the plan will go down to: below this, a run on a 2-core machine
/// mostly measures thread start-up and scheduler noise.
pub const MIN_RUN: Duration = Duration::from_millis(20);
/// The fewest repetitions the plan will go down to: fewer give no interval at all.
pub const MIN_REPS: u32 = 3;
/// A pilot stops growing once a run lasts this long; its rate sizes the measured runs.
pub const PILOT_RUN: Duration = Duration::from_millis(10);
/// What the estimate allows for one pilot (a few growing runs, thread start-up included).
pub const PILOT_COST: Duration = Duration::from_millis(40);
/// What the estimate allows for starting and joining one thread of a run.
pub const THREAD_COST: Duration = Duration::from_micros(150);
/// Items per run, at the least and at the most (memory: a bit and 1/16 of a slot per item).
pub const MIN_ITEMS: u64 = 256;
pub const MAX_ITEMS: u64 = 20_000_000;

/// How every configuration is run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sizing {
    /// Target duration of one measured run.
    pub run: Duration,
    /// Measured repetitions (a warm-up run comes on top).
    pub reps: u32,
}

/// What the plan needs to know of one configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    pub threads: u64,
    pub producers: u64,
    /// Items per second, once a pilot has measured it.
    pub rate: Option<f64>,
}

/// The fewest items a run may have: enough for every producer to push a few.
pub fn min_items(producers: u64) -> u64 {
    MIN_ITEMS.max(producers * 4)
}

/// Items for one run of `run` at `rate` items per second, within the limits, a multiple of
/// `producers`.
pub fn items_for(rate: f64, run: Duration, producers: u64) -> u64 {
    let want = if rate.is_finite() && rate > 0.0 { (rate * run.as_secs_f64()).round() as u64 } else { 0 };
    let n = want.clamp(min_items(producers), MAX_ITEMS);
    (n / producers).max(1) * producers
}

/// How long one run of this configuration is expected to take.
fn run_time(shape: &Shape, run: Duration) -> Duration {
    let work = match shape.rate {
        // The item limits may make a run longer (a slow machine) or shorter than the target.
        Some(rate) if rate > 0.0 => Duration::from_secs_f64(items_for(rate, run, shape.producers) as f64 / rate),
        _ => run,
    };
    work + THREAD_COST * shape.threads as u32
}

/// The expected duration of the whole plan: each configuration's pilot, warm-up and runs.
pub fn estimate(shapes: &[Shape], sizing: Sizing) -> Duration {
    shapes.iter().map(|s| PILOT_COST.max(run_time(s, PILOT_RUN)) + run_time(s, sizing.run) * (sizing.reps + 1)).sum()
}

/// What [`fit`] shortened to meet a budget; a plan says it in its own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortened {
    Run { from: Duration, to: Duration },
    Reps { from: u32, to: u32 },
}

impl std::fmt::Display for Shortened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shortened::Run { from, to } => {
                write!(f, "runs shortened from {} ms to {} ms", from.as_millis(), to.as_millis())
            }
            Shortened::Reps { from, to } => write!(f, "repetitions reduced from {from} to {to}"),
        }
    }
}

/// The sizing that fits `budget`: `wanted` if it fits; else shorter runs (down to [`MIN_RUN`]),
/// then fewer repetitions (down to [`MIN_REPS`]). Returns the sizing, its estimate, and what
/// was shortened (nothing when it fitted).
pub fn fit(shapes: &[Shape], wanted: Sizing, budget: Duration) -> (Sizing, Duration, Vec<Shortened>) {
    let est = |s: Sizing| estimate(shapes, s);
    let mut s = wanted;
    let mut said = Vec::new();
    if est(s) > budget {
        // The run length that fits, searched in 1 ms steps from the wanted one down.
        let mut run = s.run;
        while run > MIN_RUN && est(Sizing { run, ..s }) > budget {
            run = run.saturating_sub(Duration::from_millis(1)).max(MIN_RUN);
        }
        if run < s.run {
            said.push(Shortened::Run { from: s.run, to: run });
            s.run = run;
        }
    }
    if est(s) > budget {
        let mut reps = s.reps;
        while reps > MIN_REPS && est(Sizing { reps, ..s }) > budget {
            reps -= 1;
        }
        if reps < s.reps {
            said.push(Shortened::Reps { from: s.reps, to: reps });
            s.reps = reps;
        }
    }
    (s, est(s), said)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shapes(n: usize, rate: Option<f64>) -> Vec<Shape> {
        (0..n).map(|i| Shape { threads: [2, 5, 8, 65][i % 4], producers: [1, 4, 4, 64][i % 4], rate }).collect()
    }

    #[test]
    fn items_follow_the_rate_within_limits() {
        let run = Duration::from_millis(100);
        assert_eq!(items_for(1e6, run, 1), 100_000);
        assert_eq!(items_for(1e6, run, 64) % 64, 0);
        assert_eq!(items_for(10.0, run, 1), MIN_ITEMS); // a very slow machine: the floor
        assert_eq!(items_for(1e12, run, 1), MAX_ITEMS);
        assert_eq!(items_for(f64::NAN, run, 4), MIN_ITEMS);
        assert_eq!(items_for(0.0, run, 1024), 4096);
        assert_eq!(items_for(f64::MAX, run, 3), MAX_ITEMS / 3 * 3);
    }

    #[test]
    fn a_plan_for_a_slow_machine_fits_its_budget() {
        // 180 configurations, as the full comparison has; hand-offs 10x slower than a fast
        // machine's: 10,000 items per second everywhere.
        let slow = shapes(180, Some(10_000.0));
        let budget = Duration::from_secs(270);
        let (s, est, said) = fit(&slow, Sizing { run: Duration::from_millis(80), reps: 9 }, budget);
        assert!(est <= budget, "estimated {est:?} for a budget of {budget:?}: {s:?}");
        assert!(s.run >= MIN_RUN && s.reps >= MIN_REPS);
        // The same plan on a fast machine needs no shortening.
        let fast = shapes(180, Some(20e6));
        let (s2, est2, said2) = fit(&fast, Sizing { run: Duration::from_millis(80), reps: 9 }, budget);
        assert!(est2 <= budget && said2.is_empty(), "{est2:?} {said2:?}");
        assert_eq!(s2, Sizing { run: Duration::from_millis(80), reps: 9 });
        // Sized by time, the two machines take about as long (within the floors' effect).
        assert!(est.as_secs_f64() < est2.as_secs_f64() * 1.5, "{est:?} vs {est2:?} ({said:?})");
    }

    #[test]
    fn a_plan_that_cannot_fit_is_shortened_and_says_so() {
        let many = shapes(2000, None);
        let (s, est, said) = fit(&many, Sizing { run: Duration::from_millis(100), reps: 9 }, Duration::from_secs(60));
        assert_eq!(s, Sizing { run: MIN_RUN, reps: MIN_REPS });
        assert!(est > Duration::from_secs(60));
        assert_eq!(said.len(), 2, "{said:?}");
        assert_eq!(said[0].to_string(), "runs shortened from 100 ms to 20 ms");
        assert_eq!(said[1].to_string(), "repetitions reduced from 9 to 3");
    }
}
