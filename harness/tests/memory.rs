//! The memory study's own tests: the sampler sees a known allocation, and the bound check
//! fails for a queue that ignores its bound. The payload counter is process-wide, so these
//! tests take a lock and never run at the same time.

use std::sync::Mutex;
use std::time::Duration;

use harness::memory::{payload, Phase, Sampler};
use harness::watchdog::within;

static SERIAL: Mutex<()> = Mutex::new(());
const MIB: u64 = 1 << 20;

/// Allocate 100 MiB as one payload (written when made), free it, and compare what the sampler
/// saw: live bytes exactly, RSS within what else the process does (a few MiB).
#[test]
fn the_sampler_sees_a_known_allocation() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    within("sampler: 100 MiB", Duration::from_secs(60), || {
        let size = 100 * MIB as usize;
        let sampler = Sampler::start(Duration::from_millis(2), Phase::Sending);
        let before = (harness::memory::rss_bytes().unwrap(), payload::live_bytes());
        let item = payload::alloc(size);
        std::thread::sleep(Duration::from_millis(30));
        sampler.mark(Phase::DoneSending);
        // SAFETY: made above with this size, freed once.
        unsafe { payload::free(item, size) };
        std::thread::sleep(Duration::from_millis(30));
        sampler.mark(Phase::AfterDrop);
        let samples = sampler.finish();
        let held: Vec<_> = samples.iter().filter(|s| s.phase == Phase::DoneSending).collect();
        let after: Vec<_> = samples.iter().filter(|s| s.phase == Phase::AfterDrop).collect();
        assert!(!held.is_empty() && !after.is_empty(), "every mark takes a sample");
        let h = held[0];
        assert_eq!(h.live_bytes - before.1, size as u64, "live bytes while held");
        assert_eq!(after[0].live_bytes, before.1, "live bytes after the free");
        let grew = h.rss_bytes as i64 - before.0 as i64;
        assert!((grew - size as i64).abs() < 8 * MIB as i64, "RSS grew by {grew} bytes for a 100 MiB payload");
        // glibc serves 100 MiB with mmap and unmaps it on free: RSS falls back.
        let fell = h.rss_bytes as i64 - after[0].rss_bytes as i64;
        assert!((fell - size as i64).abs() < 8 * MIB as i64, "RSS fell by {fell} bytes after the free");
    })
    .unwrap();
}
