//! `bqh report`: a results folder redrawn from its data files alone is what `compare` writes
//! from the same rows, and the committed canonical run's figures come out as committed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use bq_results::files::read_csv;

mod common;
use common::files;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

const CANONICAL: &str = "results/2026-11-21-xeon-2core";

fn scratch(name: &str) -> PathBuf {
    common::scratch("report", name)
}


/// The lines of a section of summary.md, from its heading to the next `## `.
fn section<'a>(summary: &'a str, heading: &str) -> Vec<&'a str> {
    let start = summary.find(heading).unwrap_or_else(|| panic!("no {heading}"));
    let rest = &summary[start + heading.len()..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    rest[..end].lines().collect()
}

#[test]
fn the_canonical_run_redraws_to_what_compare_writes_from_its_rows() {
    let canonical = root().join(CANONICAL);
    let redrawn = scratch("redrawn");
    let out = Command::new(env!("CARGO_BIN_EXE_bqh"))
        .args(["report", canonical.to_str().unwrap(), "--out", redrawn.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // What compare writes: the same function, called with the rows it holds in memory.
    let results = harness::compare::report::read(&canonical).unwrap();
    assert_eq!(results.rows.len(), 900);
    assert_eq!(results.shutdown.len(), 5);
    let written = scratch("written");
    std::fs::create_dir_all(&written).unwrap();
    harness::compare::report::write(&written, &results).unwrap();
    let (a, b) = (files(&redrawn), files(&written));
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().filter(|k| !k.starts_with('.')).cloned().collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b));
    for (name, bytes) in &b {
        assert!(a[name] == *bytes, "{name} differs between `bqh report` and compare::report::write");
    }
    // The data files come back as they were committed.
    for f in ["runs.csv", "shutdown.csv"] {
        assert_eq!(a[f], std::fs::read(canonical.join(f)).unwrap(), "{f} changed on the way through the schema");
    }

    // And the figures are the committed ones: in every throughput table, the same rows and the
    // same medians (the first number of each cell; the interval around it is newer).
    let committed = std::fs::read_to_string(canonical.join("summary.md")).unwrap();
    let now = String::from_utf8(a["summary.md"].clone()).unwrap();
    let medians = |s: &str| -> Vec<Vec<String>> {
        section(s, "## Throughput (million items per second)")
            .into_iter()
            .filter(|l| l.starts_with('|') && !l.starts_with("|---"))
            .map(|l| l.split('|').map(|cell| cell.split_whitespace().next().unwrap_or("").to_string()).collect())
            .collect()
    };
    assert_eq!(medians(&now), medians(&committed));
    assert!(medians(&now).len() > 40);
}

#[test]
fn the_newer_canonical_runs_redraw_from_their_files() {
    for (dir, title) in [("results/2026-11-23-epyc-2core", "# Bounded queues compared"), ("results/2026-11-23-epyc-2core-scale", "# Thread scaling")] {
        let redrawn = scratch(dir.rsplit('/').next().unwrap());
        let out = Command::new(env!("CARGO_BIN_EXE_bqh"))
            .args(["report", root().join(dir).to_str().unwrap(), "--out", redrawn.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{dir}: {}", String::from_utf8_lossy(&out.stderr));
        let (a, committed) = (files(&redrawn), files(&root().join(dir)));
        assert_eq!(a["runs.csv"], committed["runs.csv"], "{dir}: runs.csv changed on the way through the schema");
        assert!(String::from_utf8_lossy(&a["summary.md"]).starts_with(title));
    }
}

#[test]
fn a_committed_run_is_never_redrawn_in_place() {
    let canonical = root().join(CANONICAL);
    let before = files(&canonical);
    let out = Command::new(env!("CARGO_BIN_EXE_bqh")).args(["report", canonical.to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("committed canonical run") && err.contains(CANONICAL), "{err}");
    assert_eq!(files(&canonical), before);
}

#[test]
fn a_folder_that_is_not_a_results_folder_is_a_clear_error() {
    let empty = scratch("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bqh")).args(["report", empty.to_str().unwrap()]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("env.json") && err.contains("is ") && err.contains("a results folder?"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_scaling_study_is_written_and_redrawn_as_one() {
    let dir = scratch("scale");
    let bqh = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_bqh")).args(args).output().unwrap();
    let out = bqh(&[
        "scale", "--impl", "crossbeam,c-pthread", "--mode", "driven", "--capacity", "16", "--max-threads", "4",
        "--run-ms", "2", "--reps", "3", "--budget", "8", "--out", dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = read_csv::<bq_engine::row::Row>(&dir.join("runs.csv")).unwrap();
    // 2 shapes x 3 thread counts (1, 2, 4) x 2 implementations, each paired with crossbeam
    // (crossbeam with itself: the A/A control), 3 pairs at least.
    let cells = harness::ratios::cells(&rows);
    assert_eq!(cells.len(), 12);
    assert!(cells.iter().all(|c| c.ratio.is_some_and(|r| r.pairs >= 3)), "{cells:?}");
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    for needle in ["# Thread scaling", "## Reading", "| crossbeam |", "### mpmc, capacity 16", "scaling-fan-in-16.svg", "## Ratio to crossbeam"] {
        assert!(summary.contains(needle), "summary lacks {needle}:\n{summary}");
    }
    assert!(dir.join("scaling-mpmc-16.svg").is_file());
    // Redrawn from its files, it is the same study.
    let redrawn = scratch("scale-redrawn");
    assert!(bqh(&["report", dir.to_str().unwrap(), "--out", redrawn.to_str().unwrap()]).status.success());
    assert_eq!(files(&redrawn)["summary.md"], files(&dir)["summary.md"]);
    // Bad input: a clear message, exit 2.
    for (args, says) in [
        (vec!["scale", "--max-threads", "0"], "--max-threads 0: choose between 1 and 512"),
        (vec!["scale", "--max-threads", "513"], "choose between 1 and 512"),
        (vec!["scale", "--capacity", "0"], "capacities between 1 and"),
        (vec!["scale", "--reps", "0"], "--reps 0: choose between 1 and 1000"),
        (vec!["scale", "--impl", "./libx.so"], "built-ins only"),
        (vec!["scale", "--run-limit", "0"], "--run-limit 0: choose between 1 and 86400"),
        (vec!["scale", "--budget", "18446744073709551615"], "choose between 1 and 604800"),
    ] {
        let o = bqh(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says) && !err.contains("panicked"), "{args:?}: {err}");
    }
}

/// Every committed folder of each study redraws to the very bytes committed: `bqh report` goes
/// through the study that `env.json` names, and its report is a pure function of the files.
/// (The two oldest comparison folders predate columns and report changes: they redraw to what
/// `compare` writes today, checked above.)
#[test]
fn every_committed_study_folder_redraws_byte_for_byte() {
    for name in ["async", "memory", "scale", "shutdown", "strategies"] {
        let committed = root().join(format!("results/2026-11-23-epyc-2core-{name}"));
        let redrawn = scratch(&format!("committed-{name}"));
        let o = common::bqh(&["report", committed.to_str().unwrap(), "--out", redrawn.to_str().unwrap()]);
        assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        let (a, b) = (files(&committed), files(&redrawn));
        let shown = |m: &BTreeMap<String, Vec<u8>>| m.keys().filter(|k| !k.starts_with('.') && *k != "CANONICAL").cloned().collect::<Vec<_>>();
        assert_eq!(shown(&a), shown(&b), "{name}: the files differ");
        for f in shown(&a) {
            assert!(a[&f] == b[&f], "{name}: {f} redraws differently from what is committed");
        }
    }
}

/// A copy of a committed study folder that bqh may redraw in place (its marker, not the
/// canonical one).
fn own_copy(from: &str, name: &str) -> PathBuf {
    let dir = scratch(name);
    std::fs::create_dir_all(&dir).unwrap();
    for (f, bytes) in files(&root().join(from)) {
        if f != "CANONICAL" {
            std::fs::write(dir.join(f), bytes).unwrap();
        }
    }
    std::fs::write(dir.join(bq_results::outdir::MARKER), "").unwrap();
    dir
}

/// Issue 20: `bqh report DIR` in place used to delete a user's file, drop an unknown column and
/// redraw an empty `runs.csv` into a folder without figures, all with exit 0. It refuses now,
/// naming what would be lost, and leaves the folder as it was.
#[test]
fn redrawing_in_place_never_loses_what_bqh_did_not_write() {
    let refused = |dir: &Path, says: &str| {
        let before = files(dir);
        let o = common::bqh(&["report", dir.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(says) && !err.contains("panicked"), "{err}");
        assert!(files(dir) == before, "{} changed although the redraw was refused", dir.display());
    };
    let scale = "results/2026-11-23-epyc-2core-scale";

    let notes = own_copy(scale, "own-notes");
    std::fs::write(notes.join("NOTES.txt"), "mine").unwrap();
    refused(&notes, "(NOTES.txt)");

    let column = own_copy(scale, "own-column");
    let runs = std::fs::read_to_string(column.join("runs.csv")).unwrap();
    let with_note: String = runs.lines().enumerate().map(|(i, l)| format!("{l},{}\n", if i == 0 { "my_note" } else { "x" })).collect();
    std::fs::write(column.join("runs.csv"), with_note).unwrap();
    refused(&column, "my_note");

    let empty = own_copy(scale, "own-empty");
    let head = runs.lines().next().unwrap().to_string() + "\n";
    std::fs::write(empty.join("runs.csv"), head).unwrap();
    refused(&empty, "has no rows");

    // What bqh wrote alone is redrawn in place, as before.
    let plain = own_copy(scale, "own-plain");
    let o = common::bqh(&["report", plain.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(files(&plain)["summary.md"], files(&root().join(scale))["summary.md"]);
}

/// A copy of the scale study whose `runs.csv` has `value` in `column` of its second row (a
/// successful run), redrawn elsewhere: bqh's exit code and standard error.
fn redraw_with(column: &str, value: &str) -> (Option<i32>, String) {
    let name = format!("bad-{column}-{}", value.replace(['-', '.'], "_"));
    let dir = own_copy("results/2026-11-23-epyc-2core-scale", &name);
    let runs = std::fs::read_to_string(dir.join("runs.csv")).unwrap();
    let header: Vec<&str> = runs.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|c| *c == column).unwrap();
    let mut lines: Vec<String> = runs.lines().map(str::to_string).collect();
    let mut fields: Vec<&str> = lines[2].split(',').collect();
    assert_eq!(fields[header.iter().position(|c| *c == "status").unwrap()], "ok");
    fields[col] = value;
    lines[2] = fields.join(",");
    std::fs::write(dir.join("runs.csv"), lines.join("\n") + "\n").unwrap();
    let o = common::bqh(&["report", dir.to_str().unwrap(), "--out", scratch(&format!("{name}-out")).to_str().unwrap()]);
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// Issue 20: a value that does not fit its column was reported with a 0-based field number and
/// no column name.
#[test]
fn a_bad_value_is_named_by_its_row_and_column() {
    let (code, err) = redraw_with("producers", "many");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("row 2, column 4 (producers)"), "{err}");
}

/// Issue 20: 1e308, inf or a negative figure reached summary.md unchecked. Each is refused now,
/// naming the row and the column, and what a good value would be where that is known.
#[test]
fn a_figure_no_run_can_measure_is_refused() {
    for (column, value, says) in [
        ("ns_per_item", "inf", "row 2, column 11 (ns_per_item): inf is not a value a run measures"),
        ("ns_per_item", "-12.5", "row 2, column 11 (ns_per_item): -12.5 is not a value a run measures"),
        ("cpu_user_s", "-inf", "row 2, column 13 (cpu_user_s)"),
        ("ns_per_item", "1e308", "row 2: ns_per_item is 1e308 but"),
        ("items_per_second", "1e308", "row 2: items_per_second is 1e308 but"),
        ("seconds", "0", "row 2: seconds is 0: a run takes a finite, positive time"),
    ] {
        let (code, err) = redraw_with(column, value);
        assert_eq!(code, Some(2), "{column}={value}: {err}");
        assert!(err.contains(says) && !err.contains("panicked"), "{column}={value}: {err}");
    }
    // Not measured (a failed run's figures) is not wrong.
    let (code, err) = redraw_with("latency_p50_ns", "");
    assert_eq!(code, Some(0), "{err}");
}
