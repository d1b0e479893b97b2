//! Faults a plugin brings with it, contained (issue 20). Every test builds its plugin into its
//! own temporary folder, runs `bqh` under a time limit (and the chatty one under a memory limit:
//! the test kills it past 1 GiB), and stops every process it caused.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bq_engine::row::Row;
use bq_results::files::read_csv;

mod common;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// `tests/fixtures/bad/NAME.c` built as a plugin in `dir`.
fn plugin(dir: &Path, name: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let lib = dir.join(format!("lib{name}.so"));
    let st = Command::new("gcc")
        .args(["-std=c11", "-shared", "-fPIC", "-O2", "-I"])
        .arg(root().join("c"))
        .arg("-o")
        .arg(&lib)
        .arg(root().join(format!("tests/fixtures/bad/{name}.c")))
        .arg("-lpthread")
        .status()
        .unwrap();
    assert!(st.success(), "gcc failed for {name}.c");
    lib
}

/// The resident set of a running process, in bytes.
fn rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Waits for `child` within `limit`, sampling its resident set; kills it past `limit` or past
/// `most` bytes. Returns (exit code, the largest resident set seen, how long it ran).
fn watch(mut child: Child, limit: Duration, most: u64) -> (Option<i32>, u64, Duration) {
    let (t0, mut peak) = (Instant::now(), 0);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return (st.code(), peak, t0.elapsed());
        }
        peak = peak.max(rss(child.id()).unwrap_or(0));
        if peak > most || t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("bqh killed by the test after {:?} with {} MiB resident", t0.elapsed(), peak >> 20);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn compare(plugin: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bqh"));
    c.args([
        "compare",
        "--impl",
        plugin.to_str().unwrap(),
        "--run-ms",
        "2",
        "--reps",
        "3",
        "--goal",
        "100",
        "--budget",
        "4",
        "--no-shutdown",
        "--no-memory",
    ])
    .args(extra)
    .args(["--out", out.to_str().unwrap()])
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    c
}

/// The rows of `out/runs.csv`: the plugin `lib`'s, then every other.
fn rows_of(out: &Path, lib: &Path) -> (Vec<Row>, Vec<Row>) {
    read_csv::<Row>(&out.join("runs.csv"))
        .unwrap()
        .into_iter()
        .partition(|r| r.implementation == lib.display().to_string())
}

/// `bqh compare` of `lib` beside crossbeam, under 120 s and 1 GiB: its exit code and the largest
/// resident set it reached.
fn compare_watched(lib: &Path, out: &Path, extra: &[&str]) -> (Option<i32>, u64) {
    let (code, peak, _) = watch(compare(lib, out, extra).spawn().unwrap(), Duration::from_secs(120), 1 << 30);
    (code, peak)
}

/// A plugin stuck in a push that logs in a loop used to fill the parent with its standard error
/// (3 GB in 20 s), until the whole comparison was lost. Only a tail is kept now.
#[test]
fn a_plugin_that_talks_without_end_keeps_the_parent_small() {
    let dir = common::scratch("faults", "chatty");
    let lib = plugin(&dir, "chatty");
    let out = dir.join("out");
    let child =
        compare(&lib, &out, &["--workload", "spsc", "--capacity", "1", "--placement", "unpinned", "--run-limit", "4"])
            .spawn()
            .unwrap();
    let (code, peak, took) = watch(child, Duration::from_secs(60), 1 << 30);
    assert_eq!(code, Some(1), "the hung run must fail the comparison");
    assert!(peak < 200 << 20, "bqh grew to {} MiB while the plugin talked", peak >> 20);
    // It talks in try_push, which the observation runs make (the slices make plain calls).
    let (own, _) = rows_of(&out, &lib);
    assert!(own.iter().any(|r| !r.ok() && r.error.contains("hang")), "{own:?}");
    assert!(took < Duration::from_secs(30), "{took:?}");
}

/// A process the plugin starts inherits the child's pipes and outlives it. The parent used to
/// wait for it (past the run limit, then blame the plugin); now the run ends with the child.
#[test]
fn a_process_the_plugin_leaves_behind_neither_holds_nor_fails_the_run() {
    let dir = common::scratch("faults", "forker");
    let lib = plugin(&dir, "forker");
    let out = dir.join("out");
    let pids = dir.join("pids");
    let mut cmd =
        compare(&lib, &out, &["--workload", "seq", "--capacity", "16", "--items", "1000", "--run-limit", "60"]);
    cmd.env("BQ_FORKER_PIDS", &pids);
    let (code, _, took) = watch(cmd.spawn().unwrap(), Duration::from_secs(120), 1 << 30);
    // Stop the sleepers the plugin left, whatever the outcome.
    for pid in std::fs::read_to_string(&pids).unwrap_or_default().lines().filter_map(|l| l.parse::<i32>().ok()) {
        // SAFETY: kill has no memory effects; these pids are the plugin's own sleepers.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    assert_eq!(code, Some(0), "the plugin's runs are good; only its sleepers linger");
    let rows = read_csv::<Row>(&out.join("runs.csv")).unwrap();
    assert!(!rows.is_empty() && rows.iter().all(|r| r.ok()), "{rows:?}");
    // Each run's child ends at once; a sleeper lives 10 s. Waiting for them would take 10 s a run.
    assert!(took < Duration::from_secs(8), "bqh waited for the plugin's leftover processes: {took:?}");
}

/// Issue 20: a library whose constructor never returns made `validate` wait 600 s in silence,
/// then report a crash. Loading has compare's short deadline now, and says so.
#[test]
fn a_library_that_never_finishes_loading_is_said_within_seconds() {
    let dir = common::scratch("faults", "stall-validate");
    let lib = plugin(&dir, "stall");
    let child = Command::new(env!("CARGO_BIN_EXE_bqh"))
        .args(["validate", "--candidate", lib.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("did not finish within 15s") && err.contains("never returned"), "{err}");
    assert!(t0.elapsed() < Duration::from_secs(60), "{:?}", t0.elapsed());
}

/// The children of `pid`, from /proc.
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else { continue };
        // The fields after the command name (which may hold spaces) in its parentheses.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        if rest.split_whitespace().nth(1).and_then(|f| f.parse::<u32>().ok()) == Some(pid) {
            out.push(p);
        }
    }
    out
}

/// Alive and not a zombie.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')').and_then(|(_, r)| r.split_whitespace().next()).is_some_and(|state| state != "Z")
    })
}

/// Issue 20: killing `bqh` used to orphan its `bqh isolated` child, and a plugin stuck at load
/// then ran for ever. The child dies with its parent now.
#[test]
fn a_child_dies_with_bqh() {
    let dir = common::scratch("faults", "stall-orphan");
    let lib = plugin(&dir, "stall");
    let mut bqh = compare(&lib, &dir.join("out"), &[]).spawn().unwrap();
    let t0 = Instant::now();
    let kids = loop {
        let k = children(bqh.id());
        if !k.is_empty() || t0.elapsed() > Duration::from_secs(10) {
            break k;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    bqh.kill().unwrap();
    bqh.wait().unwrap();
    assert!(!kids.is_empty(), "bqh started no child to load the plugin");
    let t1 = Instant::now();
    while kids.iter().any(|&k| alive(k)) && t1.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left: Vec<u32> = kids.iter().copied().filter(|&k| alive(k)).collect();
    for &k in &left {
        // SAFETY: kill has no memory effects; k is the child this test made bqh start.
        unsafe { libc::kill(k as i32, libc::SIGKILL) };
    }
    assert!(left.is_empty(), "bqh's children {left:?} outlived it");
}

/// Issue 20: one `printf` in a plugin made every compare run fail ("CSV deserialize error"):
/// results shared standard output with the plugin. They travel on a descriptor of their own
/// now, and the plugin's lines go to standard error, shown as its output.
#[test]
fn a_plugin_that_prints_breaks_neither_compare_nor_validate() {
    let dir = common::scratch("faults", "talker");
    let lib = plugin(&dir, "talker");
    let out = dir.join("out");
    let (code, _) = compare_watched(
        &lib,
        &out,
        &["--workload", "spsc", "--capacity", "16", "--placement", "same-core", "--run-limit", "20"],
    );
    assert_eq!(code, Some(0), "a plugin that prints must compare like any other");
    let (own, _) = rows_of(&out, &lib);
    assert!(!own.is_empty() && own.iter().all(|r| r.ok()), "{own:?}");

    let v = common::bqh(&[
        "validate",
        "--candidate",
        lib.to_str().unwrap(),
        "--cases",
        "10",
        "--checks",
        "sequential,shutdown",
    ]);
    let text = String::from_utf8_lossy(&v.stdout);
    assert_eq!(v.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&v.stderr));
    assert!(text.contains("1 of 1 candidate(s) passed every check"), "{text}");
}

/// A leaking plugin was contained in its child processes, but nothing said it leaked. Each
/// plugin row now carries its child's peak resident memory, and the summary shows it.
#[test]
fn a_leaking_plugin_is_reported_with_its_childrens_peak_memory() {
    let dir = common::scratch("faults", "leaky");
    let lib = plugin(&dir, "leaky");
    let out = dir.join("out");
    let (code, peak) = compare_watched(
        &lib,
        &out,
        &["--workload", "spsc", "--capacity", "16", "--placement", "same-core", "--run-limit", "20"],
    );
    assert_eq!(code, Some(0));
    assert!(peak < 96 << 20, "the leak is in the children, not in bqh ({} MiB)", peak >> 20);
    let name = lib.display().to_string();
    let (own, others) = rows_of(&out, &lib);
    assert!(!own.is_empty() && own.iter().all(|r| r.child_peak_rss_kib.is_some_and(|k| k >= 96 << 10)), "{own:?}");
    assert!(others.iter().all(|r| r.child_peak_rss_kib.is_none()), "runs in bqh's own process have no child");
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    let section = summary.split("## Child processes").nth(1).expect("a section on the children");
    assert!(section.lines().any(|l| l.starts_with(&format!("| {name} | {} |", own.len()))), "{section}");
}

/// Issue 20, 14: a plugin that calls `exit` was reported as "exited with status 0: ", which says
/// nothing. Its runs now fail saying it ended without its result, and asking whether it exited.
#[test]
fn a_plugin_that_calls_exit_is_said_to_have_ended_without_its_result() {
    let dir = common::scratch("faults", "quits");
    let lib = plugin(&dir, "quits");
    let out = dir.join("out");
    let (code, _) =
        compare_watched(&lib, &out, &["--workload", "seq", "--capacity", "16", "--items", "1000", "--run-limit", "20"]);
    assert_eq!(code, Some(1), "the plugin's runs fail");
    let (own, others) = rows_of(&out, &lib);
    assert!(!own.is_empty(), "{others:?}");
    for r in &own {
        assert!(
            !r.ok()
                && r.error.contains("exited with status 0")
                && r.error.contains("without printing its result (did the library call exit?)"),
            "{}",
            r.error
        );
    }
}
