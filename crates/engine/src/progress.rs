//! Progress of a long command, weighted by time: every step carries its expected duration, so
//! the share done and the time left are about time, not about how many runs are over. In a
//! terminal it is a bar (indicatif); in a log (CI, `| tee`) a line every few seconds.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How often a log line is written when stderr is not a terminal.
const LOG_EVERY: Duration = Duration::from_secs(5);

pub struct Progress {
    what: &'static str,
    bar: Option<ProgressBar>,
    total: Duration,
    done: Duration,
    start: Instant,
    last_line: Instant,
}

impl Progress {
    /// `total`: the expected duration of every step together.
    pub fn new(what: &'static str, total: Duration) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            ProgressBar::new(total.as_millis().max(1) as u64).with_style(
                ProgressStyle::with_template("{elapsed_precise} [{wide_bar}] {percent:>3}% ETA {eta} {msg}")
                    .expect("valid template")
                    .progress_chars("=> "),
            )
        });
        let now = Instant::now();
        Progress { what, bar, total, done: Duration::ZERO, start: now, last_line: now }
    }

    /// A new estimate of the whole (after the pilots, for example).
    pub fn set_total(&mut self, total: Duration) {
        self.total = total.max(self.done);
        if let Some(b) = &self.bar {
            b.set_length(self.total.as_millis().max(1) as u64);
        }
    }

    /// The time left, from the pace so far: elapsed × (expected left / expected done).
    pub fn eta(&self) -> Option<Duration> {
        let done = self.done.as_secs_f64();
        (done > 0.0).then(|| self.start.elapsed().mul_f64((self.total.as_secs_f64() - done).max(0.0) / done))
    }

    /// One step of `expected` duration is over; `now` says what runs next.
    pub fn step(&mut self, expected: Duration, now: &str) {
        self.done += expected;
        match &self.bar {
            Some(b) => {
                b.set_position(self.done.as_millis() as u64);
                b.set_message(now.to_string());
            }
            None if self.last_line.elapsed() >= LOG_EVERY => {
                self.last_line = Instant::now();
                let share = 100.0 * self.done.as_secs_f64() / self.total.as_secs_f64().max(1e-9);
                let left = self.eta().map_or("?".into(), |d| format!("{:.0} s", d.as_secs_f64()));
                eprintln!(
                    "[{}] {share:3.0}% done, {:.0} s elapsed, about {left} left; next: {now}",
                    self.what,
                    self.start.elapsed().as_secs_f64()
                );
            }
            None => {}
        }
    }

    /// A line that must not be lost under the bar.
    pub fn println(&self, line: String) {
        match &self.bar {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        eprintln!("[{}] done in {:.0} s", self.what, self.start.elapsed().as_secs_f64());
    }
}
