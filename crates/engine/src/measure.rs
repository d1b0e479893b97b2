//! What a run measures, and the cheap per-item bookkeeping behind it: an exact delivery check
//! (bitmaps, no atomics), sampled latencies, wait counts and CPU time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::workloads::Sampling;

/// Items carry their producer and sequence number: `producer << 32 | seq` (below 2^62).
#[inline]
pub fn item(producer: u64, seq: u64) -> u64 {
    (producer << 32) | seq
}

#[inline]
pub fn split(item: u64) -> (u64, u64) {
    (item >> 32, item & 0xffff_ffff)
}

fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the struct we own; both clocks exist on Linux.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The monotonic clock in nanoseconds: the clock C's and OCaml's runners read too.
#[inline]
pub fn now_ns() -> u64 {
    clock_ns(libc::CLOCK_MONOTONIC)
}

/// CPU time the calling thread has used, in nanoseconds (its own clock: not the process's,
/// whose progress and watchdog threads run beside a run).
#[inline]
pub fn thread_cpu_ns() -> u64 {
    clock_ns(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// One worker's share of a run on its own clocks: when it began and ended its work (after the
/// start gate, after its last operation) and the CPU time it used in between. Every runner's
/// workers, in Rust, C and OCaml, record one; a run's time is [`Spans::seconds`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub start_ns: u64,
    pub end_ns: u64,
    pub cpu_ns: u64,
}

/// A [`Span`] being measured: started by a worker as it passes the gate.
pub struct SpanClock {
    start_ns: u64,
    cpu0: u64,
}

// The wall clock is read outside the CPU clock, at both ends: the CPU time measured is then
// used within the span, and time the hypervisor takes the CPU away between two readings (which
// a guest may count as the thread's) falls inside the span too, never outside it.
impl SpanClock {
    #[inline]
    pub fn start() -> SpanClock {
        let start_ns = now_ns();
        SpanClock { start_ns, cpu0: thread_cpu_ns() }
    }

    #[inline]
    pub fn stop(self) -> Span {
        let cpu_ns = thread_cpu_ns().saturating_sub(self.cpu0);
        Span { start_ns: self.start_ns, end_ns: now_ns(), cpu_ns }
    }
}

/// The workers' spans together: the run lasted from the earliest start to the latest end, so
/// its clock covers every operation of every worker, however late the thread that started them
/// got to run; its threads' CPU time is the sum of theirs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spans {
    first_start_ns: u64,
    last_end_ns: u64,
    cpu_ns: u64,
    workers: u64,
}

impl Spans {
    pub fn add(&mut self, s: Span) {
        self.first_start_ns = if self.workers == 0 { s.start_ns } else { self.first_start_ns.min(s.start_ns) };
        self.last_end_ns = self.last_end_ns.max(s.end_ns);
        self.cpu_ns += s.cpu_ns;
        self.workers += 1;
    }

    pub fn of(spans: impl IntoIterator<Item = Span>) -> Spans {
        let mut all = Spans::default();
        spans.into_iter().for_each(|s| all.add(s));
        all
    }

    /// Earliest start to latest end; a nanosecond at the least, so that a rate stays finite.
    pub fn seconds(&self) -> f64 {
        self.last_end_ns.saturating_sub(self.first_start_ns).max(1) as f64 * 1e-9
    }

    pub fn cpu(&self) -> Duration {
        Duration::from_nanos(self.cpu_ns)
    }
}

/// The most CPU time a run's threads can use in `seconds` on `cpus` CPUs, with the slack its
/// clocks need: the span and each thread's CPU clock are read at slightly different moments
/// (`CPU_CHECK_SLACK` covers it; measured in `docs/measurement.md`).
pub fn cpu_bound(seconds: f64, cpus: u32) -> f64 {
    seconds * cpus as f64 * (1.0 + CPU_CHECK_TOLERANCE) + CPU_CHECK_SLACK
}

/// Relative and absolute slack of [`cpu_bound`].
pub const CPU_CHECK_TOLERANCE: f64 = 0.02;
pub const CPU_CHECK_SLACK: f64 = 50e-6;

/// A 64-bit mixing function (MurmurHash3's finaliser, its constants cut to 62 bits so that
/// OCaml's runner can write them): an item's contribution to [`Checksum::mix`].
#[inline(always)]
pub fn mix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(MIX_K1);
    x ^= x >> 29;
    x = x.wrapping_mul(MIX_K2);
    x ^ (x >> 32)
}

pub const MIX_K1: u64 = 0x3f51_afd7_ed55_8ccd;
pub const MIX_K2: u64 = 0x04ce_b9fe_1a85_ec53;

/// A throughput slice's proof of delivery: each consumer folds every item it takes into a
/// count, a sum and a sum of [`mix64`]s, three register additions per item, with nothing
/// looked up; after the slice, the consumers' checksums added together must equal those of the
/// items pushed. A lost, duplicated or foreign item changes the count or the sum; errors that
/// cancel in both (one item lost and another duplicated with the same sum) change the sum of
/// mixes but with a chance of about 2^-64. What it cannot see is order: the observation run
/// and `bqh validate` check every item's place exactly ([`Delivery`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checksum {
    pub count: u64,
    pub sum: u64,
    pub mix: u64,
}

impl Checksum {
    #[inline(always)]
    pub fn add(&mut self, it: u64) {
        self.count += 1;
        self.sum = self.sum.wrapping_add(it);
        self.mix = self.mix.wrapping_add(mix64(it));
    }

    pub fn merge(&mut self, other: &Checksum) {
        self.count += other.count;
        self.sum = self.sum.wrapping_add(other.sum);
        self.mix = self.mix.wrapping_add(other.mix);
    }

    /// The checksum of every item `producers` producers push, `per_producer` each.
    pub fn expected(producers: u64, per_producer: u64) -> Checksum {
        let mut c = Checksum::default();
        for p in 0..producers {
            for s in 0..per_producer {
                c.add(item(p, s));
            }
        }
        c
    }

    /// Whether `got` (every consumer's, merged) proves that each pushed item arrived once.
    pub fn verdict(got: Checksum, producers: u64, per_producer: u64) -> Result<(), String> {
        let want = Checksum::expected(producers, per_producer);
        if got.count != want.count {
            return Err(format!(
                "{} items arrived where {} were pushed: items lost or duplicated (the exact check is the observation \
                 run's and bqh validate's)",
                got.count, want.count
            ));
        }
        if got != want {
            return Err(format!(
                "{} items arrived, as many as were pushed, but not the items pushed: some duplicated, lost or never \
                 pushed (their checksums differ)",
                got.count
            ));
        }
        Ok(())
    }
}
/// When each sampled item (1 in 2^`latency_shift` of each producer's) was pushed, so that the
/// consumer that pops it can take its latency. A producer stores the time before its push; the
/// queue's own synchronisation makes it visible to the consumer that pops the item, so relaxed
/// atomics suffice. The driven, tokio-task and strategies runners share it.
pub struct PushTimes {
    sampling: Sampling,
    at: Vec<Vec<AtomicU64>>,
}

impl PushTimes {
    pub fn new(sampling: Sampling, producers: u64, per_producer: u64) -> Self {
        let slots = if sampling.observe { sampling.latency_slots(per_producer) } else { 0 };
        let producers = if sampling.observe { producers } else { 0 };
        PushTimes { sampling, at: (0..producers).map(|_| (0..slots).map(|_| AtomicU64::new(0)).collect()).collect() }
    }

    /// Before producer `id` pushes its item `seq`: keeps `now()` if the item is sampled (the
    /// clock is read only then).
    pub fn pushing(&self, id: u64, seq: u64, now: impl FnOnce() -> u64) {
        if self.sampling.observe && seq & self.sampling.latency_mask() == 0 {
            self.at[id as usize][(seq >> self.sampling.latency_shift) as usize].store(now(), Ordering::Relaxed);
        }
    }

    /// After a pop of producer `p`'s item `seq`: nanoseconds since its push, if it is sampled
    /// (and `p`, `seq` are in range: a corrupted item is the delivery check's to report).
    pub fn since_push(&self, p: u64, seq: u64, now: impl FnOnce() -> u64) -> Option<u64> {
        if !self.sampling.observe || seq & self.sampling.latency_mask() != 0 {
            return None;
        }
        let slot = self.at.get(p as usize)?.get((seq >> self.sampling.latency_shift) as usize)?;
        Some(now().saturating_sub(slot.load(Ordering::Relaxed)))
    }
}

/// Per consumer: which items it saw (a bitmap indexed by producer and sequence) and the last
/// sequence number seen from each producer. Merged after the run into an exact verdict.
///
/// With a sole consumer ([`Delivery::sole`]) the bitmap is left out: each producer's items must
/// then arrive exactly as 0, 1, 2, ..., so "is this the next item expected from its producer?"
/// is already an exact check of loss, duplication and order, at a compare and an increment per
/// item. The C and OCaml runners do the same.
pub struct Delivery {
    producers: u64,
    per_producer: u64,
    sole: bool,
    seen: Vec<u64>,
    next: Vec<u64>, // per producer: last seq seen + 1 (0: none yet)
    first_error: Option<String>,
}

impl Delivery {
    /// One of several consumers' records: a bitmap, merged by [`Delivery::verdict`].
    pub fn new(producers: u64, per_producer: u64) -> Self {
        let bits = (producers * per_producer) as usize;
        Delivery {
            producers,
            per_producer,
            sole: false,
            seen: vec![0; bits.div_ceil(64)],
            next: vec![0; producers as usize],
            first_error: None,
        }
    }

    /// The record of the only consumer.
    pub fn sole(producers: u64, per_producer: u64) -> Self {
        Delivery {
            producers,
            per_producer,
            sole: true,
            seen: Vec::new(),
            next: vec![0; producers as usize],
            first_error: None,
        }
    }

    /// The record for `consumers` consumers of a run.
    pub fn for_consumers(consumers: u64, producers: u64, per_producer: u64) -> Self {
        if consumers == 1 {
            Delivery::sole(producers, per_producer)
        } else {
            Delivery::new(producers, per_producer)
        }
    }

    #[inline(always)]
    pub fn record(&mut self, it: u64) {
        let (p, s) = split(it);
        if self.sole {
            if let Some(next) = self.next.get_mut(p as usize) {
                if s == *next && s < self.per_producer {
                    *next += 1;
                    return;
                }
            }
            return self.unexpected(p, s, it);
        }
        if p >= self.producers || s >= self.per_producer {
            self.fail(|| format!("item {it:#x} was never pushed (producer {p}, seq {s})"));
            return;
        }
        let next = self.next[p as usize];
        if s < next {
            self.fail(|| {
                format!("producer {p}'s item {s} arrived after its item {}: reordered or duplicated", next - 1)
            });
        }
        self.next[p as usize] = s + 1;
        let bit = (p * self.per_producer + s) as usize;
        let (word, mask) = (bit / 64, 1u64 << (bit % 64));
        if self.seen[word] & mask != 0 {
            self.fail(|| format!("producer {p}'s item {s} was delivered twice"));
        }
        self.seen[word] |= mask;
    }

    #[cold]
    pub fn fail(&mut self, msg: impl FnOnce() -> String) {
        self.first_error.get_or_insert_with(msg);
    }

    /// A sole consumer got something other than the next item expected from its producer.
    #[cold]
    fn unexpected(&mut self, p: u64, s: u64, it: u64) {
        if p >= self.producers || s >= self.per_producer {
            return self.fail(|| format!("item {it:#x} was never pushed (producer {p}, seq {s})"));
        }
        let next = self.next[p as usize];
        if s < next {
            self.fail(|| {
                format!("producer {p}'s item {s} arrived after its item {}: reordered or duplicated", next - 1)
            });
        } else {
            self.fail(|| format!("producer {p}'s item {next} was lost or reordered: its item {s} came first"));
        }
        self.next[p as usize] = s + 1;
    }

    /// Merges every consumer's record: each item exactly once, per-producer order kept.
    pub fn verdict(parts: Vec<Delivery>) -> Result<(), String> {
        if parts.iter().any(|d| d.sole) {
            let [d] = <[Delivery; 1]>::try_from(parts).map_err(|_| "a sole consumer's record beside others")?;
            if let Some(e) = d.first_error {
                return Err(e);
            }
            let total = d.producers * d.per_producer;
            let got: u64 = d.next.iter().sum();
            if let Some((p, &n)) = d.next.iter().enumerate().find(|(_, &n)| n != d.per_producer) {
                return Err(format!("{} of {total} items lost; first: producer {p}'s item {n}", total - got));
            }
            return Ok(());
        }
        let all = Delivery::merge(parts)?;
        let total = all.producers * all.per_producer;
        let got: u64 = all.seen.iter().map(|w| w.count_ones() as u64).sum();
        if got != total {
            let missing = (0..total as usize).find(|&b| all.seen[b / 64] & (1 << (b % 64)) == 0).unwrap_or(0) as u64;
            return Err(format!(
                "{} of {total} items lost; first: producer {}'s item {}",
                total - got,
                missing / all.per_producer,
                missing % all.per_producer
            ));
        }
        Ok(())
    }
}

impl Delivery {
    /// The bitmap records of every consumer as one: each item seen by one consumer at most.
    fn merge(parts: Vec<Delivery>) -> Result<Delivery, String> {
        let mut parts = parts.into_iter();
        let mut all = parts.next().ok_or("no consumer recorded anything")?;
        if let Some(e) = all.first_error.take() {
            return Err(e);
        }
        for part in parts {
            if part.sole {
                return Err("a sole consumer's record beside others".into());
            }
            if let Some(e) = part.first_error {
                return Err(e);
            }
            for (i, (a, b)) in all.seen.iter_mut().zip(&part.seen).enumerate() {
                if *a & *b != 0 {
                    let bit = i * 64 + (*a & *b).trailing_zeros() as usize;
                    return Err(format!("item #{bit} was delivered to two consumers"));
                }
                *a |= *b;
            }
        }
        Ok(all)
    }

    /// The verdict when producers may drop items (the strategies study): `dropped[p]` is
    /// producer p's bitmap of the sequence numbers it dropped. Every item not dropped must
    /// have been delivered exactly once, no dropped item at all, each producer's in order.
    /// Takes the bitmap records of [`Delivery::new`] (a gap is no loss here, so the sole
    /// consumer's shortcut does not apply). Returns how many items were delivered.
    pub fn verdict_with_drops(parts: Vec<Delivery>, dropped: &[Vec<u64>]) -> Result<u64, String> {
        if parts.iter().any(|d| d.sole) {
            return Err("verdict_with_drops needs the bitmap records of Delivery::new".into());
        }
        let all = Delivery::merge(parts)?;
        if dropped.len() as u64 != all.producers {
            return Err(format!("{} producers' drops for {} producers", dropped.len(), all.producers));
        }
        let bit = |words: &[u64], b: u64| words.get((b / 64) as usize).is_some_and(|w| w & (1 << (b % 64)) != 0);
        let (mut lost, mut first_lost) = (0u64, None);
        for (p, drops) in dropped.iter().enumerate() {
            for s in 0..all.per_producer {
                let (seen, drop) = (bit(&all.seen, p as u64 * all.per_producer + s), bit(drops, s));
                if seen && drop {
                    return Err(format!("producer {p}'s item {s} was counted as dropped but delivered"));
                }
                if !seen && !drop {
                    lost += 1;
                    first_lost.get_or_insert((p, s));
                }
            }
        }
        if let Some((p, s)) = first_lost {
            return Err(format!("{lost} accepted items lost; first: producer {p}'s item {s}"));
        }
        Ok(all.seen.iter().map(|w| w.count_ones() as u64).sum())
    }
}

/// A counted payload of `size` bytes (`memory::payload`, at least 8) as a queue item, holding
/// the item number `id` (`item(producer, seq)`) in its first 8 bytes for the delivery check.
pub fn payload_item(id: u64, size: usize) -> u64 {
    let it = crate::memory::payload::alloc(size.max(8));
    // SAFETY: alloc returned at least 8 writable bytes, aligned for a u64 (malloc's alignment).
    unsafe { (it as *mut u64).write(id) };
    it
}

/// The number a [`payload_item`] carries; touches and frees the payload.
///
/// # Safety
/// `it` must come from [`payload_item`] with this `size`, and be taken once.
pub unsafe fn take_payload(it: u64, size: usize) -> u64 {
    // SAFETY: the caller's contract: a live payload of at least 8 bytes.
    let id = unsafe { (it as *const u64).read() };
    // SAFETY: the caller's contract.
    unsafe { crate::memory::payload::free(it, size.max(8)) };
    id
}

/// What every runner (driven in Rust, native in C and OCaml) counts during one run.
#[derive(Debug, Clone)]
pub struct Tally {
    /// From the earliest worker's start to the latest one's end ([`Spans`]).
    pub seconds: f64,
    /// (user, system) CPU time the whole process used during the run.
    pub cpu: (Duration, Duration),
    /// CPU time of the run's own threads within their spans (`None`: not measured; tokio's
    /// tasks: the runtime's workers over the run).
    pub threads_cpu: Option<Duration>,
    pub push: SideStats,
    pub pop: SideStats,
    /// Largest length a consumer sampled; `None` where the queue has no length.
    pub max_occupancy: Option<usize>,
    pub latencies_ns: Vec<u64>,
    /// `Err` says what was lost, duplicated or reordered, or which push failed.
    pub delivery: Result<(), String>,
}

/// How often one side had to wait, and for how long in total.
#[derive(Debug, Clone, Copy, Default)]
pub struct SideStats {
    pub ops: u64,
    pub waits: u64,
    pub blocked: Duration,
}

impl SideStats {
    /// From the counts a native runner hands back, its blocked time in nanoseconds.
    pub fn from_ns(ops: u64, waits: u64, blocked_ns: u64) -> SideStats {
        SideStats { ops, waits, blocked: Duration::from_nanos(blocked_ns) }
    }

    pub fn add(&mut self, other: &SideStats) {
        self.ops += other.ops;
        self.waits += other.waits;
        self.blocked += other.blocked;
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Latency {
    pub samples: u64,
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub p999_ns: u64,
    pub max_ns: u64,
}

pub fn latency_of(samples: impl IntoIterator<Item = u64>) -> Option<Latency> {
    let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).expect("valid bounds");
    for ns in samples {
        h.saturating_record(ns.max(1));
    }
    (!h.is_empty()).then(|| Latency {
        samples: h.len(),
        p50_ns: h.value_at_quantile(0.5),
        p99_ns: h.value_at_quantile(0.99),
        p999_ns: h.value_at_quantile(0.999),
        max_ns: h.max(),
    })
}

/// The five latency columns every row type has (`latency_samples`, `latency_p50_ns`,
/// `latency_p99_ns`, `latency_p999_ns`, `latency_max_ns`), empty without samples.
pub fn latency_columns(samples: impl IntoIterator<Item = u64>) -> [Option<u64>; 5] {
    match latency_of(samples) {
        Some(l) => [Some(l.samples), Some(l.p50_ns), Some(l.p99_ns), Some(l.p999_ns), Some(l.max_ns)],
        None => [None; 5],
    }
}

/// What the whole process used so far: every thread, finished ones too.
fn usage() -> libc::rusage {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    ru
}

/// User and system CPU time of the whole process so far.
pub fn cpu_time() -> (Duration, Duration) {
    let ru = usage();
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (tv(ru.ru_utime), tv(ru.ru_stime))
}

/// Context switches of the whole process so far, voluntary (a thread parked) and involuntary
/// (a thread preempted).
pub fn context_switches() -> u64 {
    let ru = usage();
    (ru.ru_nvcsw + ru.ru_nivcsw) as u64
}

/// (user, system) CPU time used since `start` (a [`cpu_time`] reading).
pub fn cpu_since(start: (Duration, Duration)) -> (Duration, Duration) {
    let now = cpu_time();
    (now.0.saturating_sub(start.0), now.1.saturating_sub(start.1))
}

/// Busy work of `ns` nanoseconds: spins on the monotonic clock. This is the slow-consumer
/// workload's per-item work (a spin, not a sleep, so the consumer stays on its core); C and
/// OCaml do exactly the same in their native runners, so the work is equal in every language.
pub fn spin_work(ns: u64) {
    let t = std::time::Instant::now();
    let d = Duration::from_nanos(ns);
    while t.elapsed() < d {
        std::hint::spin_loop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_times_sample_one_item_in_2_to_the_shift_and_read_the_clock_only_then() {
        let t = PushTimes::new(Sampling { latency_shift: 2, occupancy_shift: 0, observe: true }, 2, 9);
        t.pushing(1, 4, || 100);
        t.pushing(1, 5, || panic!("item 5 is not sampled: no clock read"));
        assert_eq!(t.since_push(1, 4, || 130), Some(30));
        assert_eq!(t.since_push(1, 5, || panic!("no clock read")), None);
        // The last item of a producer (seq 8 of 9) has its slot; a corrupted item none.
        t.pushing(0, 8, || 7);
        assert_eq!(t.since_push(0, 8, || 7), Some(0));
        assert_eq!(t.since_push(2, 0, || 1), None, "no such producer");
        assert_eq!(t.since_push(0, 1 << 20, || 1), None, "no such item");
        // A clock that reads earlier than the push (never, but saturating) gives 0.
        assert_eq!(t.since_push(1, 4, || 0), Some(0));
    }

    fn sum_of(items: impl IntoIterator<Item = (u64, u64)>) -> Checksum {
        let mut c = Checksum::default();
        items.into_iter().for_each(|(p, s)| c.add(item(p, s)));
        c
    }

    /// The checksum proves each pushed item arrived once, in any order and split over any
    /// consumers, and refuses a loss, a duplicate, a foreign item and a loss and a duplicate
    /// that cancel in the sum.
    #[test]
    fn the_checksum_catches_what_a_slice_can_get_wrong() {
        let all: Vec<(u64, u64)> = (0..3).flat_map(|p| (0..5).map(move |s| (p, s))).collect();
        let (mut a, b) =
            (sum_of(all.iter().rev().copied().step_by(2)), sum_of(all.iter().rev().copied().skip(1).step_by(2)));
        a.merge(&b);
        assert_eq!(Checksum::verdict(a, 3, 5), Ok(()));
        let verdict = |items: Vec<(u64, u64)>| Checksum::verdict(sum_of(items), 3, 5).unwrap_err();
        let lost: Vec<_> = all[1..].to_vec();
        assert!(verdict(lost).starts_with("14 items arrived where 15 were pushed"));
        let doubled: Vec<_> = all.iter().copied().chain([(1, 1)]).collect();
        assert!(verdict(doubled).contains("16 items arrived where 15"));
        let foreign: Vec<_> = all[1..].iter().copied().chain([(7, 0)]).collect();
        assert!(verdict(foreign).contains("not the items pushed"));
        // Items (0,1) and (0,3) lost, (0,0) and (0,4) twice: the same count and the same sum.
        let cancelling: Vec<_> =
            all.iter().copied().filter(|&i| i != (0, 1) && i != (0, 3)).chain([(0, 0), (0, 4)]).collect();
        assert_eq!(sum_of(cancelling.clone()).sum, sum_of(all.clone()).sum);
        assert!(verdict(cancelling).contains("not the items pushed"));
        // The edges: no item at all, and the largest item.
        assert_eq!(Checksum::verdict(Checksum::default(), 0, 0), Ok(()));
        let top = item(MAX_PRODUCER, u32::MAX as u64);
        assert!(top <= crate::MAX_ITEM);
        let mut c = Checksum::default();
        c.add(top);
        assert_ne!(c.mix, 0);
    }

    /// The largest producer number an item holds below [`crate::MAX_ITEM`].
    const MAX_PRODUCER: u64 = (crate::MAX_ITEM >> 32) - 1;

    fn feed(d: &mut Delivery, items: &[(u64, u64)]) {
        items.iter().for_each(|&(p, s)| d.record(item(p, s)));
    }

    #[test]
    fn exact_delivery_passes() {
        let (mut a, mut b) = (Delivery::new(2, 3), Delivery::new(2, 3));
        feed(&mut a, &[(0, 0), (1, 0), (0, 2)]);
        feed(&mut b, &[(0, 1), (1, 1), (1, 2)]);
        assert_eq!(Delivery::verdict(vec![a, b]), Ok(()));
    }

    #[test]
    fn a_sole_consumer_is_checked_as_exactly() {
        let mut d = Delivery::sole(2, 3);
        feed(&mut d, &[(0, 0), (1, 0), (0, 1), (1, 1), (1, 2), (0, 2)]);
        assert_eq!(Delivery::verdict(vec![d]), Ok(()));
        for (items, says) in [
            (&[(0, 0), (0, 1)][..], "1 of 3 items lost; first: producer 0's item 2"),
            (&[(0, 0), (0, 2), (0, 1)][..], "producer 0's item 1 was lost or reordered: its item 2 came first"),
            (
                &[(0, 0), (0, 1), (0, 1), (0, 2)][..],
                "producer 0's item 1 arrived after its item 1: reordered or duplicated",
            ),
            (&[(0, 0), (0, 1), (0, 2), (0, 3)][..], "never pushed"),
            (&[(3, 0)][..], "never pushed"),
        ] {
            let mut d = Delivery::sole(1, 3);
            feed(&mut d, items);
            let e = Delivery::verdict(vec![d]).unwrap_err();
            assert!(e.contains(says), "{items:?}: {e}");
        }
        assert!(Delivery::verdict(vec![Delivery::sole(1, 1), Delivery::sole(1, 1)]).is_err());
    }

    #[test]
    fn drops_are_accounted_for() {
        let drops = |seqs: &[u64]| {
            let mut w = vec![0u64; 1];
            seqs.iter().for_each(|s| w[0] |= 1 << s);
            w
        };
        let mut d = Delivery::new(2, 3);
        feed(&mut d, &[(0, 0), (1, 1), (0, 2)]);
        assert_eq!(Delivery::verdict_with_drops(vec![d], &[drops(&[1]), drops(&[0, 2])]), Ok(3));
        let mut d = Delivery::new(1, 3);
        feed(&mut d, &[(0, 0), (0, 2)]);
        let e = Delivery::verdict_with_drops(vec![d], &[drops(&[2])]).unwrap_err();
        assert!(e.contains("counted as dropped but delivered"), "{e}");
        let mut d = Delivery::new(1, 3);
        feed(&mut d, &[(0, 0)]);
        let e = Delivery::verdict_with_drops(vec![d], &[drops(&[2])]).unwrap_err();
        assert!(e.contains("1 accepted items lost; first: producer 0's item 1"), "{e}");
        let mut d = Delivery::new(1, 3);
        feed(&mut d, &[(0, 0), (0, 0)]);
        assert!(Delivery::verdict_with_drops(vec![d], &[drops(&[1, 2])]).unwrap_err().contains("duplicated"));
        assert!(Delivery::verdict_with_drops(vec![Delivery::sole(1, 3)], &[drops(&[])]).is_err());
    }

    #[test]
    fn loss_duplication_and_reordering_are_caught() {
        let mut a = Delivery::new(1, 3);
        feed(&mut a, &[(0, 0), (0, 1)]);
        assert!(Delivery::verdict(vec![a]).unwrap_err().contains("lost"));

        let (mut a, mut b) = (Delivery::new(1, 2), Delivery::new(1, 2));
        feed(&mut a, &[(0, 0), (0, 1)]);
        feed(&mut b, &[(0, 1)]);
        assert!(Delivery::verdict(vec![a, b]).unwrap_err().contains("two consumers"));

        let mut a = Delivery::new(1, 2);
        feed(&mut a, &[(0, 1), (0, 0)]);
        assert!(Delivery::verdict(vec![a]).unwrap_err().contains("reordered"));

        let mut a = Delivery::new(1, 2);
        feed(&mut a, &[(0, 0), (0, 1), (0, 5)]);
        assert!(Delivery::verdict(vec![a]).unwrap_err().contains("never pushed"));
    }
}
