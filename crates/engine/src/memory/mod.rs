//! Memory: payloads whose bytes are counted, and a sampler of the process's memory over time.
//! Any study may build on them (a run's peak RSS, live bytes over time); OCaml's own payloads
//! and GC heap are sampled on the OCaml side (`impls::ocaml::memory`).
//!
//! - A **payload** is `size` bytes from `malloc`, written when made, read ("touched") and freed
//!   by whoever takes it. Its address is the queue item ([`payload::alloc`] returns it as a
//!   `u64` below [`crate::MAX_ITEM`]), so every implementation carries the same memory: the
//!   queue holds a pointer, the harness owns the bytes.
//! - **Live bytes** are counted explicitly, by an atomic counter that [`payload::alloc`] raises
//!   and [`payload::free`] lowers, with an exact running peak ([`payload::peak_live_bytes`]).
//!   Not a counting global allocator: that would also count the harness's and the queues' own
//!   allocations (and not the C and OCaml ones), while the bound a queue promises is about the
//!   items it holds, which is exactly what this counter sees.
//! - The **sampler** ([`Sampler`]) records, from its own thread, at least every 10 ms: RSS
//!   (`/proc/self/statm`), live payload bytes, items buffered (a `len` probe, where the queue has
//!   one) and the current [`Phase`]; [`Sampler::mark`] changes the phase and takes a sample at
//!   once, so every phase has at least one sample.
//!
//! Use (one producer thread, one consumer thread, `S` bytes per item):
//!
//! ```no_run
//! use std::time::Duration;
//! use bq_engine::memory::{payload, Phase, Sampler};
//! const S: usize = 1 << 20;
//! payload::reset_peak();
//! let sampler = Sampler::start(Duration::from_millis(5), Phase::Sending);
//! let (tx, rx) = crossbeam_channel::bounded::<u64>(16);
//! let probe = rx.clone();
//! sampler.set_buffered(move || Some(probe.len()));
//! let consumer = std::thread::spawn(move || {
//!     while let Ok(item) = rx.recv() {
//!         // SAFETY: every item is a payload of S bytes made by payload::alloc, taken once.
//!         unsafe { payload::free(item, S) };
//!     }
//! });
//! for _ in 0..1024 {
//!     tx.send(payload::alloc(S)).unwrap();
//! }
//! drop(tx);
//! sampler.mark(Phase::DoneSending);
//! consumer.join().unwrap();
//! sampler.mark(Phase::DoneReceiving);
//! sampler.clear_buffered();
//! let samples = sampler.finish();
//! let peak = payload::peak_live_bytes(); // at most (16 + 2) * S here
//! # let _ = (samples, peak);
//! ```

pub mod payload;
mod sampler;

pub use sampler::{peak_rss_bytes, reset_peak_rss, rss_bytes, Phase, Sample, Sampler};

/// Returns freed memory at the top of glibc's heaps and in its arenas to the kernel
/// (`malloc_trim(0)`); true when some was released. Under a preloaded jemalloc or mimalloc the
/// call reaches glibc's allocator, which then holds next to nothing: a no-op.
pub fn malloc_trim() -> bool {
    // SAFETY: malloc_trim has no preconditions.
    unsafe { libc::malloc_trim(0) != 0 }
}
