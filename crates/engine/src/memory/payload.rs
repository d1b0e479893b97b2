//! Payloads: `size` bytes from `malloc` (so a preloaded jemalloc or mimalloc serves them, and
//! `malloc_trim` sees glibc's), carried through a queue as their address, with a process-wide
//! count of the bytes made and not yet freed.

use std::sync::atomic::{AtomicU64, Ordering};

/// Payload bytes allocated and not yet freed.
static LIVE: AtomicU64 = AtomicU64::new(0);
/// The largest value `LIVE` has held since [`reset_peak`].
static PEAK: AtomicU64 = AtomicU64::new(0);

/// Bytes between two touches: one per page, so that writing or reading a payload faults in (or
/// reaches) every page of it.
const PAGE: usize = 4096;

/// Makes a payload of `size` bytes (at least 1 is allocated), writes every byte of it, counts
/// it as live and returns its address as a queue item. Panics when `malloc` fails (the process
/// is out of memory: nothing sensible can go on) or returns an address an item cannot carry.
pub fn alloc(size: usize) -> u64 {
    // SAFETY: malloc of a non-zero size; the result is checked before use.
    let p = unsafe { libc::malloc(size.max(1)) } as *mut u8;
    assert!(!p.is_null(), "malloc({size}) failed: out of memory");
    // SAFETY: p points to at least size writable bytes.
    unsafe { std::ptr::write_bytes(p, 0xA5, size) };
    let item = p as u64;
    assert!(item <= crate::MAX_ITEM, "malloc returned {p:p}, above what a queue item can carry");
    let now = LIVE.fetch_add(size as u64, Ordering::Relaxed) + size as u64;
    PEAK.fetch_max(now, Ordering::Relaxed);
    item
}

/// Reads one byte per page of the payload (and its last byte) and returns their sum, so that
/// the consumer really touches the memory it was sent.
///
/// # Safety
/// `item` must come from [`alloc`] with this `size` and not have been freed.
pub unsafe fn touch(item: u64, size: usize) -> u64 {
    let p = item as *const u8;
    let mut sum = 0u64;
    for off in (0..size).step_by(PAGE).chain(size.checked_sub(1)) {
        // SAFETY: off < size, inside the payload.
        sum = sum.wrapping_add(unsafe { std::ptr::read_volatile(p.add(off)) } as u64);
    }
    sum
}

/// Touches the payload, frees it and counts it as gone.
///
/// # Safety
/// `item` must come from [`alloc`] with this `size`, and be freed once.
pub unsafe fn free(item: u64, size: usize) {
    // SAFETY: the caller's contract.
    std::hint::black_box(unsafe { touch(item, size) });
    // SAFETY: the pointer came from malloc and is freed once.
    unsafe { libc::free(item as *mut libc::c_void) };
    LIVE.fetch_sub(size as u64, Ordering::Relaxed);
}

/// Payload bytes allocated and not yet freed, now.
pub fn live_bytes() -> u64 {
    LIVE.load(Ordering::Relaxed)
}

/// The exact peak of [`live_bytes`] since the last [`reset_peak`] (every change is compared,
/// none is sampled).
pub fn peak_live_bytes() -> u64 {
    PEAK.load(Ordering::Relaxed)
}

/// Starts a new peak from the bytes live now.
pub fn reset_peak() {
    PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
}
