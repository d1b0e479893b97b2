//! Helpers shared by the integration tests: each test file that needs them says `mod common;`.
#![allow(dead_code)] // every file uses a part

pub mod rigged;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A path for one test's output under cargo's temporary folder, named by the test file, the
/// test and this process (so parallel runs never share one); removed if a previous run left it,
/// not created.
pub fn scratch(file: &str, name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{file}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Every file of a folder, by name, with its bytes.
pub fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect()
}

/// How long any one `bqh` of the tests may take before the test kills it and fails: far above
/// the longest (a short comparison, under a minute here), so that only a hang reaches it.
pub const DEADLINE: Duration = Duration::from_secs(600);

/// Runs the `bqh` this crate built to its end, under [`DEADLINE`] ([`bqh_within`]).
pub fn bqh(args: &[&str]) -> Output {
    bqh_within(args, DEADLINE)
}

/// The resident set of a running process, in bytes.
fn rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Reads `pipe` to its end on a thread of its own, so that a full pipe never stops the child.
fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// Runs the `bqh` this crate built under a deadline and a memory limit: past `limit`, or past
/// 1 GiB resident, the test kills it and fails, saying which (a hang or a runaway read must fail
/// the test, not hold or exhaust the machine).
pub fn bqh_within(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bqh"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (stdout, stderr) = (drain(child.stdout.take().unwrap()), drain(child.stderr.take().unwrap()));
    let t0 = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        let resident = rss(child.id()).unwrap_or(0);
        if t0.elapsed() > limit || resident > 1 << 30 {
            let _ = child.kill();
            let _ = child.wait();
            panic!("bqh {args:?} killed by the test after {:?} with {} MiB resident", t0.elapsed(), resident >> 20);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() }
}
