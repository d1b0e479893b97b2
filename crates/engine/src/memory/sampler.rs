//! The sampler: a thread that records RSS, live payload bytes, items buffered and the phase at
//! a fixed interval, and a mark that changes the phase with a sample of its own.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::payload;

/// Where a run is, in the order a run goes through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// The producers are pushing.
    Sending,
    /// The last producer has returned (a mark: one sample).
    DoneSending,
    /// The consumers take what is still buffered.
    Draining,
    /// The consumers have returned; the queue still exists.
    DoneReceiving,
    /// The queue has been dropped.
    AfterDrop,
    /// `malloc_trim(0)` has been called (in the OCaml-native runs: `Gc.compact ()`).
    AfterTrim,
}

impl Phase {
    pub const ALL: [Phase; 6] =
        [Phase::Sending, Phase::DoneSending, Phase::Draining, Phase::DoneReceiving, Phase::AfterDrop, Phase::AfterTrim];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Sending => "sending",
            Phase::DoneSending => "done-sending",
            Phase::Draining => "draining",
            Phase::DoneReceiving => "done-receiving",
            Phase::AfterDrop => "after-drop",
            Phase::AfterTrim => "after-trim",
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One observation of the process.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Seconds since the sampler started.
    pub t_s: f64,
    /// Resident set size (`/proc/self/statm`), bytes.
    pub rss_bytes: u64,
    /// Payload bytes allocated and not yet freed ([`payload::live_bytes`]).
    pub live_bytes: u64,
    /// Items in the queue, where the `len` probe answers.
    pub buffered: Option<u64>,
    pub phase: Phase,
    /// The OCaml GC's major heap (`Gc.quick_stat`'s heap_words), bytes: OCaml-native runs only
    /// (`impls::ocaml::memory`, which samples it); this sampler does not see it.
    #[serde(default)]
    pub gc_heap_bytes: Option<u64>,
}

/// The resident set size of this process, in bytes (`/proc/self/statm`, pages × page size).
pub fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}

/// The kernel's own peak of the resident set size (`VmHWM`), in bytes: exact, not sampled.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.split_whitespace().next()?.parse().ok()?;
    Some(kb * 1024)
}

/// Restarts the kernel's peak RSS from the current RSS (`/proc/self/clear_refs`, Linux ≥ 4.0);
/// false where the kernel refuses.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

type Probe = Box<dyn Fn() -> Option<usize> + Send>;

struct Shared {
    start: Instant,
    phase: AtomicU8,
    samples: Mutex<Vec<Sample>>,
    probe: Mutex<Option<Probe>>,
    stop: Mutex<bool>,
    wake: Condvar,
}

impl Shared {
    fn record(&self) {
        let buffered =
            self.probe.lock().unwrap_or_else(PoisonError::into_inner).as_ref().and_then(|f| f()).map(|n| n as u64);
        let sample = Sample {
            t_s: self.start.elapsed().as_secs_f64(),
            rss_bytes: rss_bytes().unwrap_or(0),
            live_bytes: payload::live_bytes(),
            buffered,
            phase: Phase::ALL[self.phase.load(Ordering::Relaxed) as usize],
            gc_heap_bytes: None,
        };
        self.samples.lock().unwrap_or_else(PoisonError::into_inner).push(sample);
    }
}

/// Samples the process from its own thread until [`Sampler::finish`].
pub struct Sampler {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Sampler {
    /// Starts sampling every `interval` (the study uses 5 ms: at least every 10 ms even when the
    /// thread wakes late), in `phase`, with a first sample at once.
    pub fn start(interval: Duration, phase: Phase) -> Sampler {
        let shared = Arc::new(Shared {
            start: Instant::now(),
            phase: AtomicU8::new(phase as u8),
            samples: Mutex::new(Vec::new()),
            probe: Mutex::new(None),
            stop: Mutex::new(false),
            wake: Condvar::new(),
        });
        shared.record();
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("memory sampler".into())
            .spawn(move || {
                let mut next = Instant::now() + interval;
                let mut stop = s.stop.lock().unwrap_or_else(PoisonError::into_inner);
                while !*stop {
                    let left = next.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        drop(stop);
                        s.record();
                        // A late wake-up does not bunch the samples that follow.
                        next = (next + interval).max(Instant::now());
                        stop = s.stop.lock().unwrap_or_else(PoisonError::into_inner);
                    } else {
                        stop = s.wake.wait_timeout(stop, left).unwrap_or_else(PoisonError::into_inner).0;
                    }
                }
            })
            .expect("cannot start the memory sampler thread");
        Sampler { shared, thread: Some(thread) }
    }

    /// Counts items buffered with `probe` (for example a consumer handle's `len`) from now on.
    /// The probe holds what it captured until [`clear_buffered`](Sampler::clear_buffered).
    pub fn set_buffered(&self, probe: impl Fn() -> Option<usize> + Send + 'static) {
        *self.shared.probe.lock().unwrap_or_else(PoisonError::into_inner) = Some(Box::new(probe));
    }

    /// Drops the probe (and the queue handle it may hold): items buffered are unknown from now.
    pub fn clear_buffered(&self) {
        self.shared.probe.lock().unwrap_or_else(PoisonError::into_inner).take();
    }

    /// Enters `phase` and takes a sample in it now.
    pub fn mark(&self, phase: Phase) {
        self.shared.phase.store(phase as u8, Ordering::Relaxed);
        self.shared.record();
    }

    /// Seconds since the sampler started.
    pub fn elapsed(&self) -> Duration {
        self.shared.start.elapsed()
    }

    /// Stops the thread (after a last sample) and returns every sample, in time order.
    pub fn finish(mut self) -> Vec<Sample> {
        self.stop();
        self.shared.record();
        self.clear_buffered();
        let mut v = std::mem::take(&mut *self.shared.samples.lock().unwrap_or_else(PoisonError::into_inner));
        v.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        v
    }

    fn stop(&mut self) {
        *self.shared.stop.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.shared.wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop();
    }
}
