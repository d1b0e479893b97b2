//! Every command that writes refuses what it did not create, end to end. These tests run only
//! inside their own temporary folders (the decision itself, on `/`, the home folder and the
//! project, is unit-tested without touching the disk in `src/outdir.rs`): a folder that is not
//! bqh's, a file, a symbolic link are refused, and nothing in them changes; bqh's own folder is
//! replaced whole, and only once the new one is complete.

use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use bq_results::outdir::{CANONICAL_MARKER, MARKER};

mod common;

const BQH: &str = env!("CARGO_BIN_EXE_bqh");
const DEADLINE: Duration = Duration::from_secs(120);

/// A fresh temporary folder for one test.
fn scratch(name: &str) -> PathBuf {
    let d = common::scratch("outdir", name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Everything below `dir`, without following links: path -> kind and content (or link target).
fn tree(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let what = if meta.file_type().is_symlink() {
                format!("link to {}", std::fs::read_link(&p).unwrap().display())
            } else if meta.is_dir() {
                todo.push(p.clone());
                "folder".into()
            } else {
                format!("file {:?}", std::fs::read(&p).unwrap())
            };
            out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), what);
        }
    }
    out
}

/// Runs bqh to the end, or kills it at the deadline and fails.
fn bqh(args: &[&str]) -> Output {
    common::bqh_within(args, DEADLINE)
}

/// The smallest comparison that writes a results folder.
fn compare_into(out: &Path) -> Output {
    bqh(&[
        "compare",
        "--impl",
        "crossbeam",
        "--workload",
        "seq",
        "--capacity",
        "16",
        "--items",
        "1000",
        "--reps",
        "1",
        "--no-shutdown",
        "--out",
        out.to_str().unwrap(),
    ])
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A user's folder: files and a subfolder, nothing of bqh's.
fn users_folder(at: &Path) {
    std::fs::create_dir_all(at.join("holiday")).unwrap();
    std::fs::write(at.join("notes.txt"), "mine").unwrap();
    std::fs::write(at.join("holiday/photo.jpg"), [0u8, 1, 2, 3]).unwrap();
}

fn assert_refused(o: &Output, path: &Path, says: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "not refused: {err}");
    assert!(err.contains(&path.display().to_string()), "the message does not name {}: {err}", path.display());
    assert!(err.contains(says), "the message lacks {says:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_folder_bqh_did_not_create_is_refused_and_left_as_it_was() {
    let results = scratch("foreign-input").join("results");
    assert!(compare_into(&results).status.success());
    let base = scratch("foreign");
    let target = base.join("photos");
    users_folder(&target);
    let before = tree(&base);
    let o = compare_into(&target);
    assert_refused(&o, &target, "did not create");
    assert_eq!(tree(&base), before, "compare changed the user's folder");
    let o = bqh(&["report", results.to_str().unwrap(), "--out", target.to_str().unwrap()]);
    assert_refused(&o, &target, "did not create");
    assert_eq!(tree(&base), before, "report changed the user's folder");
}

#[test]
fn a_file_is_refused_and_left_as_it_was() {
    let base = scratch("file");
    let target = base.join("results.txt");
    std::fs::write(&target, "not a folder").unwrap();
    let before = tree(&base);
    assert_refused(&compare_into(&target), &target, "is a file, not a folder");
    assert_eq!(tree(&base), before);
}

#[test]
fn a_symlink_to_a_folder_is_refused_and_neither_it_nor_the_folder_changes() {
    let base = scratch("symlink");
    let real = base.join("real");
    users_folder(&real);
    let link = base.join("link");
    symlink(&real, &link).unwrap();
    // Even a link to bqh's own results folder: bqh does not write through links.
    let own = base.join("own");
    assert!(compare_into(&own).status.success());
    let own_link = base.join("own-link");
    symlink(&own, &own_link).unwrap();
    let before = tree(&base);
    for l in [&link, &own_link] {
        assert_refused(&compare_into(l), l, "symbolic link");
    }
    assert_eq!(tree(&base), before);
}

#[test]
fn a_canonical_run_is_refused() {
    let base = scratch("canonical");
    let target = base.join("2026-run");
    assert!(compare_into(&target).status.success());
    std::fs::write(target.join(CANONICAL_MARKER), "").unwrap();
    let before = tree(&base);
    assert_refused(&compare_into(&target), &target, "committed canonical run");
    assert_eq!(tree(&base), before);
}

#[test]
fn paths_with_dot_dot_are_refused() {
    let base = scratch("dotdot");
    let target = base.join("a/../b");
    let before = tree(&base);
    assert_refused(&compare_into(&target), &target, "contains '..'");
    assert_eq!(tree(&base), before);
}

#[test]
fn bqhs_own_folder_is_created_then_replaced_whole() {
    let base = scratch("own");
    let target = base.join("deep/new/results");
    let o = compare_into(&target);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(target.join(MARKER).is_file() && target.join("summary.md").is_file());
    // Leftovers of an interrupted run are removed if bqh made them (and their process is gone,
    // here a PID above Linux's largest), kept if not, or if their process still runs.
    let stale = base.join("deep/new/.results.bqh-staging-99999999");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join(MARKER), "").unwrap();
    let in_use = base.join(format!("deep/new/.results.bqh-staging-{}", std::process::id()));
    std::fs::create_dir_all(&in_use).unwrap();
    std::fs::write(in_use.join(MARKER), "").unwrap();
    let lookalike = base.join("deep/new/.results.bqh-staging-99999998");
    users_folder(&lookalike);
    // What a person added to bqh's folder goes with it: bqh replaces its folders whole.
    std::fs::write(target.join("stray.txt"), "x").unwrap();
    let o = compare_into(&target);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!target.join("stray.txt").exists() && target.join("summary.md").is_file());
    assert!(!stale.exists(), "a stale staging folder with the marker was left behind");
    assert!(lookalike.join("notes.txt").is_file(), "a folder without the marker was touched");
    assert!(in_use.join(MARKER).is_file(), "the staging folder of a running process was removed");
    std::fs::remove_dir_all(&in_use).unwrap();
    let names: Vec<String> = std::fs::read_dir(base.join("deep/new"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into())
        .collect();
    assert_eq!(names.len(), 2, "staging or old folders left behind: {names:?}");
    // An empty folder is fine too.
    let empty = base.join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(compare_into(&empty).status.success());
    assert!(empty.join(MARKER).is_file());
}

#[test]
fn an_interrupted_run_leaves_the_old_results_as_they_were() {
    let base = scratch("interrupted");
    let target = base.join("results");
    assert!(compare_into(&target).status.success());
    let before = tree(&base);
    // A run long enough to be killed in the middle (ended at once by the kill).
    let mut child = Command::new(BQH)
        .args(["compare", "--impl", "c-pthread", "--workload", "spsc", "--capacity", "1", "--items", "100000000"])
        .args(["--reps", "1", "--no-shutdown", "--mode", "driven", "--out", target.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be interrupted");
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(tree(&base), before);
}

#[test]
fn validate_json_refuses_a_file_it_did_not_write_and_replaces_its_own() {
    let base = scratch("json");
    let theirs = base.join("notes.json");
    std::fs::write(&theirs, "{\"mine\": true}").unwrap();
    let ours = base.join("report.json");
    let before = tree(&base);
    let validate = |json: &Path| {
        bqh(&[
            "validate",
            "--candidate",
            "crossbeam",
            "--checks",
            "sequential",
            "--cases",
            "1",
            "--seed",
            "1",
            "--json",
            json.to_str().unwrap(),
        ])
    };
    assert_refused(&validate(&theirs), &theirs, "a file that bqh did not write");
    assert_refused(&validate(&base), &base, "is a folder, not a file");
    assert_eq!(tree(&base), before);
    for _ in 0..2 {
        let o = validate(&ours);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&ours).unwrap()).unwrap();
    assert_eq!((v["written_by"].as_str(), v["reports"].as_array().map(Vec::len)), (Some("bqh"), Some(1)));
    assert_eq!(std::fs::read_dir(&base).unwrap().count(), 2, "a temporary file was left behind");
}

/// Issue 20: two commands writing one folder (a `bqh report DIR` that read it before a `bqh
/// compare --out DIR` finished; two compares): the last used to win silently, swapping older
/// data over newer. A folder that changed since a command claimed it is left as it is; the
/// command fails and says where its own complete results are.
#[test]
fn a_folder_changed_since_it_was_claimed_is_not_replaced() {
    use bq_results::Claim;
    let root = scratch("lost-update");
    let target = root.join("results");
    let first = Claim::dir(&target).unwrap();
    let second = Claim::dir(&target).unwrap();
    second.write_dir(|d| Ok(std::fs::write(d.join("runs.csv"), "second")?)).unwrap();
    let err = first.write_dir(|d| Ok(std::fs::write(d.join("runs.csv"), "first")?)).unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("changed while this command ran") && msg.contains("the new results are complete in"), "{msg}");
    assert_eq!(std::fs::read_to_string(target.join("runs.csv")).unwrap(), "second");
    // The refused results are kept whole beside it, where the message says.
    let kept: Vec<PathBuf> =
        std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).filter(|p| p != &target).collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(std::fs::read_to_string(kept[0].join("runs.csv")).unwrap(), "first");
    assert!(msg.contains(&kept[0].display().to_string()), "{msg}");

    // A file added to the folder meanwhile (a user's notes) stops the replacement too.
    let third = Claim::dir(&target).unwrap();
    std::fs::write(target.join("NOTES.txt"), "mine").unwrap();
    assert!(third.write_dir(|d| Ok(std::fs::write(d.join("runs.csv"), "third")?)).is_err());
    assert_eq!(std::fs::read_to_string(target.join("NOTES.txt")).unwrap(), "mine");

    // Unchanged since its claim, bqh's folder is replaced as before.
    std::fs::remove_file(target.join("NOTES.txt")).unwrap();
    let fourth = Claim::dir(&target).unwrap();
    fourth.write_dir(|d| Ok(std::fs::write(d.join("runs.csv"), "fourth")?)).unwrap();
    assert_eq!(std::fs::read_to_string(target.join("runs.csv")).unwrap(), "fourth");
}

/// Issue 20: an output path that cannot be written (a pseudo file system, a name too long once
/// the staging suffix is added, a name that is not UTF-8) used to be found out only after the
/// run, throwing it away. It is refused now before anything runs, naming the path.
#[test]
fn an_unwritable_output_is_refused_before_the_run() {
    use std::os::unix::ffi::OsStrExt;
    let root = scratch("unwritable");
    let long = root.join("a".repeat(245));
    let not_utf8 = root.join(std::ffi::OsStr::from_bytes(b"results-\xff"));
    for (out, says) in [
        (PathBuf::from("/proc/bqh-results"), "cannot write the results beside /proc/bqh-results"),
        (PathBuf::from("/sys/bqh-results"), "cannot write the results beside /sys/bqh-results"),
        (long.clone(), "File name too long"),
        (not_utf8.clone(), "valid UTF-8"),
    ] {
        let t0 = Instant::now();
        let o = Command::new(BQH)
            .arg("shutdown")
            .args(["--impl", "crossbeam", "--out"])
            .arg(&out)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{}: {err}", out.display());
        assert!(err.contains(says), "{}: {err}", out.display());
        // Refused before the probes ran: they print their matrix to standard output.
        assert!(o.stdout.is_empty() && t0.elapsed() < Duration::from_secs(5), "{}: ran first", out.display());
    }
    assert!(std::fs::read_dir(&root).unwrap().next().is_none(), "a probe folder was left in {}", root.display());
}

/// Issue 20: a write error at the end (a full disk) used to remove everything written so far.
/// The staging folder is kept now, and the error says where it is.
#[test]
fn a_write_error_at_the_end_keeps_what_was_written() {
    use bq_results::Claim;
    let root = scratch("write-error");
    let target = root.join("results");
    let claim = Claim::dir(&target).unwrap();
    let err = claim
        .write_dir(|d| -> anyhow::Result<()> {
            std::fs::write(d.join("runs.csv"), "rows")?;
            anyhow::bail!("No space left on device (os error 28)")
        })
        .unwrap_err();
    let msg = format!("{err:#}");
    let kept: Vec<PathBuf> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(msg.contains("the results written so far are in") && msg.contains(&kept[0].display().to_string()), "{msg}");
    assert_eq!(std::fs::read_to_string(kept[0].join("runs.csv")).unwrap(), "rows");
    assert!(!target.exists());
}
