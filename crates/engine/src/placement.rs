//! Where a run's threads may run. On a 2-vCPU guest a blocking hand-off between two threads is
//! about ten times faster when both sit on one core than on two (a wake-up across cores goes
//! through the hypervisor), and unpinned threads flip between the two regimes from run to run.
//! So placement is part of a configuration, chosen and recorded, not left to chance.
//!
//! Pinning uses `sched_setaffinity` on the calling thread. Threads inherit their creator's mask,
//! so [`Placement::enter`], called on the thread that starts a run, places every thread the run
//! creates, in any language (pthreads in C, OCaml domains, tokio's workers, a plugin's child
//! process). Only `cross-core` needs each thread to pin itself: the Rust runners call
//! [`Placement::pin`], the C and OCaml native runners pin their threads to the CPUs of
//! [`Placement::sides`]; tokio's tasks cannot be placed apart and refuse it.

use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    /// Wherever the scheduler puts the threads, as a user's program runs
    #[default]
    Unpinned,
    /// Every thread of the run on one core: hand-offs are wake-ups on the same core
    SameCore,
    /// Producers on one core, consumers on another: every hand-off crosses cores
    CrossCore,
}

/// Which side of a run a thread is on, for [`Placement::pin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Producer,
    Consumer,
}

impl Placement {
    pub const ALL: [Placement; 3] = [Placement::Unpinned, Placement::SameCore, Placement::CrossCore];

    pub fn name(self) -> &'static str {
        match self {
            Placement::Unpinned => "unpinned",
            Placement::SameCore => "same-core",
            Placement::CrossCore => "cross-core",
        }
    }

    /// How many CPUs a run's threads may use so: what their CPU time per second of the run
    /// cannot exceed.
    pub fn cpus(self) -> u32 {
        match self {
            Placement::SameCore => 1,
            Placement::CrossCore => 2,
            Placement::Unpinned => allowed_cpus().len().max(1) as u32,
        }
    }

    /// The CPUs a native runner pins its producers and its consumers to (`None`: where they
    /// are, which [`enter`](Placement::enter) decided for every thread of the run).
    pub fn sides(self) -> (Option<usize>, Option<usize>) {
        match self {
            Placement::CrossCore => {
                let cpus = allowed_cpus();
                (cpus.first().copied(), cpus.get(1).copied())
            }
            _ => (None, None),
        }
    }

    /// Why this machine cannot place a run so, if it cannot.
    pub fn check(self) -> Result<(), String> {
        let cpus = allowed_cpus();
        match self {
            Placement::Unpinned => Ok(()),
            _ if cpus.is_empty() => Err(format!("{self}: this process's CPU set cannot be read")),
            Placement::CrossCore if cpus.len() < 2 => {
                Err(format!("{self} needs two CPUs and this process may use only CPU {}", cpus[0]))
            }
            _ => Ok(()),
        }
    }

    /// On the thread that starts a run, before it creates any: pins it (and so every thread it
    /// creates) to the first allowed CPU, for `same-core` and `cross-core` (whose threads then
    /// move themselves with [`pin`](Placement::pin)). Threads ending with the run need no undo.
    pub fn enter(self) -> Result<(), String> {
        self.check()?;
        match self {
            Placement::Unpinned => Ok(()),
            Placement::SameCore | Placement::CrossCore => pin_to(allowed_cpus()[0]),
        }
    }

    /// In a producer or consumer thread of the driven runner: `cross-core` moves consumers to
    /// the second allowed CPU. Where the CPUs were checked by [`enter`](Placement::enter).
    pub fn pin(self, side: Side) -> Result<(), String> {
        match (self, side) {
            (Placement::CrossCore, Side::Consumer) => pin_to(allowed_cpus()[1]),
            _ => Ok(()),
        }
    }
}

impl std::fmt::Display for Placement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The CPUs this process was started with, ascending. Read once: a run pins its own threads,
/// and threads inherit masks, so asking later would see a pinned thread's single CPU.
pub fn allowed_cpus() -> Vec<usize> {
    static CPUS: std::sync::OnceLock<Vec<usize>> = std::sync::OnceLock::new();
    CPUS.get_or_init(|| {
        // SAFETY: a zeroed cpu_set_t is a valid empty set; the call fills it for this thread.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
                return Vec::new();
            }
            (0..libc::CPU_SETSIZE as usize).filter(|&c| libc::CPU_ISSET(c, &set)).collect()
        }
    })
    .clone()
}

/// Pins the calling thread to `cpu`.
fn pin_to(cpu: usize) -> Result<(), String> {
    // SAFETY: as above; 0 names the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(format!("cannot pin a thread to CPU {cpu}: {}", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

/// The CPUs the calling thread may run on now (for tests).
pub fn current_cpus() -> Vec<usize> {
    // SAFETY: as in allowed_cpus.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize).filter(|&c| libc::CPU_ISSET(c, &set)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placements_pin_the_threads_they_say() {
        let cpus = allowed_cpus();
        assert!(!cpus.is_empty());
        std::thread::spawn(move || {
            Placement::Unpinned.enter().unwrap();
            assert_eq!(current_cpus(), cpus);
            Placement::SameCore.enter().unwrap();
            assert_eq!(current_cpus(), vec![cpus[0]]);
            // Threads created now inherit the pin.
            assert_eq!(std::thread::spawn(current_cpus).join().unwrap(), vec![cpus[0]]);
            if cpus.len() >= 2 {
                Placement::CrossCore.pin(Side::Consumer).unwrap();
                assert_eq!(current_cpus(), vec![cpus[1]]);
            } else {
                assert!(Placement::CrossCore.check().is_err());
            }
        })
        .join()
        .unwrap();
    }
}
