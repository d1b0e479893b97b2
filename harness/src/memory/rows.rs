//! The memory study's rows: one per run (`memory-runs.csv`, [`RunRecord`]) and one per sample
//! (`memory.csv`, [`SampleRow`], long format), the configuration types they name, and the bound
//! every bounded run is checked against.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::anyhow;
use bq_engine::MAX_CAPACITY;
use serde::{Deserialize, Serialize};

use bq_engine::memory::Phase;
use bq_engine::row::Status;

/// One producer and one consumer in every run.
pub const PRODUCERS: u64 = 1;
pub const CONSUMERS: u64 = 1;

/// Bytes a bounded run may hold beyond (capacity + producers + consumers) × S: none. The peak
/// is exact (every change of the counter is compared), and a payload is counted from its
/// allocation by the producer to its free by the consumer, so each thread holds at most one
/// outside the queue.
pub const ALLOWANCE: u64 = 0;

/// The implementation name of the OCaml-native runs (`ocaml/bq_memory.ml`).
pub const OCAML_NATIVE: &str = "ocaml-native";

/// The data files of a memory results folder.
pub const MEMORY_CSV: &str = "memory.csv";
pub const MEMORY_RUNS_CSV: &str = "memory-runs.csv";

/// The allocator behind `malloc` in a run's child process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Allocator {
    /// glibc's malloc, the default.
    Glibc,
    /// glibc's malloc, with `malloc_trim(0)` after the queue is dropped.
    GlibcTrim,
    /// jemalloc, Debian's `libjemalloc2`, through `LD_PRELOAD`.
    Jemalloc,
    /// mimalloc, Debian's `libmimalloc2.0`, through `LD_PRELOAD`.
    Mimalloc,
}

impl Allocator {
    pub const ALL: [Allocator; 4] = [Allocator::Glibc, Allocator::GlibcTrim, Allocator::Jemalloc, Allocator::Mimalloc];

    pub fn name(self) -> &'static str {
        match self {
            Allocator::Glibc => "glibc",
            Allocator::GlibcTrim => "glibc-trim",
            Allocator::Jemalloc => "jemalloc",
            Allocator::Mimalloc => "mimalloc",
        }
    }

    /// (Debian package, library file) of a preloaded allocator.
    fn library(self) -> Option<(&'static str, &'static str)> {
        match self {
            Allocator::Glibc | Allocator::GlibcTrim => None,
            Allocator::Jemalloc => Some(("libjemalloc2", "libjemalloc.so.2")),
            Allocator::Mimalloc => Some(("libmimalloc2.0", "libmimalloc.so.2")),
        }
    }

    /// The library to preload, found where Debian installs it; `None` for glibc; an error naming
    /// the package when it is missing.
    pub fn preload(self) -> anyhow::Result<Option<PathBuf>> {
        let Some((package, file)) = self.library() else { return Ok(None) };
        let dirs = [format!("/usr/lib/{}-linux-gnu", std::env::consts::ARCH), "/usr/lib64".into(), "/usr/lib".into()];
        dirs.iter().map(|d| Path::new(d).join(file)).find(|p| p.is_file()).map(Some).ok_or_else(|| {
            anyhow!(
                "allocator {}: {file} not found in {}: install Debian's package {package} (`make setup` does, or \
                 `apt-get install {package}`), or leave it out with --allocator",
                self.name(),
                dirs.join(", ")
            )
        })
    }
}

impl std::fmt::Display for Allocator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A capacity of the study: a bound, or none ("unbounded").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Capacity {
    Bounded(usize),
    Unbounded,
}

impl FromStr for Capacity {
    type Err = String;
    fn from_str(s: &str) -> Result<Capacity, String> {
        if s == "unbounded" {
            return Ok(Capacity::Unbounded);
        }
        match s.parse::<usize>() {
            Ok(n) if (1..=MAX_CAPACITY).contains(&n) => Ok(Capacity::Bounded(n)),
            _ => Err(format!("capacity '{s}': give a number from 1 to {MAX_CAPACITY}, or 'unbounded'")),
        }
    }
}

impl TryFrom<String> for Capacity {
    type Error = String;
    fn try_from(s: String) -> Result<Capacity, String> {
        s.parse()
    }
}

impl From<Capacity> for String {
    fn from(c: Capacity) -> String {
        c.to_string()
    }
}

impl std::fmt::Display for Capacity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Capacity::Bounded(n) => write!(f, "{n}"),
            Capacity::Unbounded => f.write_str("unbounded"),
        }
    }
}

/// A payload size and how many items of it one run sends: `BYTES:ITEMS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayloadSpec {
    pub bytes: u64,
    pub items: u64,
}

/// Largest payload: 1 GiB (a run holds up to N of them when unbounded).
pub const MAX_PAYLOAD: u64 = 1 << 30;
/// Largest total a run may send: 16 GiB, more than any machine this runs on should buffer.
pub const MAX_TOTAL: u64 = 16 << 30;

impl FromStr for PayloadSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<PayloadSpec, String> {
        let bad = || format!("payload '{s}': give BYTES:ITEMS, e.g. 1048576:1024 or 64:1000000");
        let (b, n) = s.split_once(':').ok_or_else(bad)?;
        let (bytes, items): (u64, u64) = (b.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
        if bytes == 0 || bytes > MAX_PAYLOAD {
            return Err(format!("payload '{s}': BYTES from 1 to {MAX_PAYLOAD}"));
        }
        if items == 0 || items > MAX_CAPACITY as u64 {
            return Err(format!(
                "payload '{s}': ITEMS from 1 to {MAX_CAPACITY} (the ring queues hold N when unbounded)"
            ));
        }
        if bytes.saturating_mul(items) > MAX_TOTAL {
            return Err(format!(
                "payload '{s}': {} bytes in all, more than the {MAX_TOTAL} a run may send",
                bytes as u128 * items as u128
            ));
        }
        Ok(PayloadSpec { bytes, items })
    }
}

impl std::fmt::Display for PayloadSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.bytes, self.items)
    }
}

/// "1 MiB", "64 B": a payload size for people.
pub fn size_label(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} B"),
    }
}

/// One configuration's result: a row of `memory-runs.csv`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    pub implementation: String,
    pub capacity: Capacity,
    pub allocator: Allocator,
    pub payload_bytes: u64,
    pub items: u64,
    /// Items sent: fewer than `items` when the producer reached `--max-send-s`.
    pub items_sent: u64,
    pub queue: String,
    pub status: Status,
    /// (capacity + producers + consumers) × S + ALLOWANCE, for a bounded run.
    pub bound_bytes: Option<u64>,
    pub peak_live_bytes: u64,
    pub peak_rss_bytes: Option<u64>,
    /// RSS at the first sample, after the queue was made.
    pub rss_start_bytes: u64,
    /// RSS at the end of each phase after the drain (the last sample in it).
    pub rss_done_receiving_bytes: Option<u64>,
    pub rss_after_drop_bytes: Option<u64>,
    pub rss_after_trim_bytes: Option<u64>,
    /// The OCaml GC's major heap (ocaml-native only): its sampled peak, and at the end of the
    /// phases after-drop and after-trim (after `Gc.compact ()`).
    #[serde(default)]
    pub gc_heap_peak_bytes: Option<u64>,
    #[serde(default)]
    pub gc_heap_after_drop_bytes: Option<u64>,
    #[serde(default)]
    pub gc_heap_after_compact_bytes: Option<u64>,
    pub pipeline_ns: u64,
    pub spin_ns: u64,
    pub send_s: f64,
    pub receive_s: f64,
    pub samples: u64,
    pub error: String,
}

impl RunRecord {
    pub fn ok(&self) -> bool {
        self.status == Status::Ok
    }
}

/// One sample of one run: a row of `memory.csv` (long format).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SampleRow {
    pub implementation: String,
    pub capacity: Capacity,
    pub allocator: Allocator,
    pub payload_bytes: u64,
    pub t_s: f64,
    pub rss_bytes: u64,
    pub live_bytes: u64,
    pub buffered: Option<u64>,
    pub phase: Phase,
    /// The OCaml GC's major heap, bytes (ocaml-native only; empty for the others).
    #[serde(default)]
    pub gc_heap_bytes: Option<u64>,
}

/// The most live payload bytes a bounded run may have: (capacity + producers + consumers) × S
/// + [`ALLOWANCE`]; `None` without a bound.
pub fn bound_bytes(capacity: Capacity, payload_bytes: u64) -> Option<u64> {
    match capacity {
        Capacity::Bounded(c) => {
            Some((c as u64 + PRODUCERS + CONSUMERS).saturating_mul(payload_bytes).saturating_add(ALLOWANCE))
        }
        Capacity::Unbounded => None,
    }
}

/// The bound check: `Err` says by how much a bounded run's peak passed its bound.
pub fn check_bound(capacity: Capacity, payload_bytes: u64, peak_live_bytes: u64) -> Result<(), String> {
    match bound_bytes(capacity, payload_bytes) {
        Some(b) if peak_live_bytes > b => Err(format!(
            "the bound did not hold: peak live payload {peak_live_bytes} bytes ({:.1} items of {payload_bytes} B) > \
             (capacity {capacity} + {PRODUCERS} producer + {CONSUMERS} consumer) x {payload_bytes} B = {b} bytes",
            peak_live_bytes as f64 / payload_bytes as f64
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacities_and_payloads_parse_at_their_edges() {
        assert_eq!("unbounded".parse::<Capacity>(), Ok(Capacity::Unbounded));
        assert_eq!("1".parse::<Capacity>(), Ok(Capacity::Bounded(1)));
        assert_eq!(MAX_CAPACITY.to_string().parse::<Capacity>(), Ok(Capacity::Bounded(MAX_CAPACITY)));
        assert!("0".parse::<Capacity>().is_err());
        assert!((MAX_CAPACITY + 1).to_string().parse::<Capacity>().is_err());
        assert!(u64::MAX.to_string().parse::<Capacity>().is_err());
        assert!(Capacity::Bounded(1024) < Capacity::Unbounded);
        assert_eq!("64:1".parse::<PayloadSpec>(), Ok(PayloadSpec { bytes: 64, items: 1 }));
        assert!("1:1".parse::<PayloadSpec>().is_ok());
        assert!("0:10".parse::<PayloadSpec>().is_err());
        assert!("10:0".parse::<PayloadSpec>().is_err());
        assert!(format!("{}:1", MAX_PAYLOAD + 1).parse::<PayloadSpec>().is_err());
        assert!(format!("{}:{}", u64::MAX, u64::MAX).parse::<PayloadSpec>().is_err());
        assert!(format!("{MAX_PAYLOAD}:17").parse::<PayloadSpec>().is_err(), "more than MAX_TOTAL in all");
        assert!("64".parse::<PayloadSpec>().is_err());
    }

    #[test]
    fn the_bound_is_capacity_plus_threads_payloads() {
        assert_eq!(bound_bytes(Capacity::Bounded(16), 64), Some(18 * 64 + ALLOWANCE));
        assert_eq!(bound_bytes(Capacity::Unbounded, 64), None);
        assert!(check_bound(Capacity::Bounded(1), 100, 300).is_ok());
        assert!(check_bound(Capacity::Bounded(1), 100, 301).is_err());
        assert!(check_bound(Capacity::Unbounded, 100, u64::MAX).is_ok());
        assert_eq!(bound_bytes(Capacity::Bounded(MAX_CAPACITY), u64::MAX), Some(u64::MAX));
    }
}
