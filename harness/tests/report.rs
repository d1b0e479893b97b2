//! `bqh report`: a results folder redrawn from its data files alone is what `compare` writes
//! from the same rows, and the committed canonical run's figures come out as committed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bq_results::files::{read_csv, INPUT_LIMIT, INPUT_LIMIT_SHOWN};

mod common;
use common::{bqh, files};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A comparison in the format from before paired measurement, kept as a fixture.
const LEGACY: &str = "tests/fixtures/results/legacy-compare";
/// The committed canonical comparison.
const CANONICAL: &str = "results/2026-12-07-xeon-2core";

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
fn a_legacy_run_redraws_to_what_compare_writes_from_its_rows() {
    let canonical = root().join(LEGACY);
    let redrawn = scratch("redrawn");
    let out = bqh(&["report", canonical.to_str().unwrap(), "--out", redrawn.to_str().unwrap()]);
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
    let data = harness::compare::report::DATA_FILES;
    for (name, bytes) in b.iter().filter(|(name, _)| !data.contains(&name.as_str())) {
        assert!(a[name] == *bytes, "{name} differs between `bqh report` and compare::report::write");
    }
    // The data files come back as they were committed: through the schema (written) and as read
    // (redrawn; this env.json predates its `study` field, which the schema now writes).
    for f in ["runs.csv", "shutdown.csv"] {
        assert_eq!(b[f], std::fs::read(canonical.join(f)).unwrap(), "{f} changed on the way through the schema");
    }
    for f in ["env.json", "runs.csv", "shutdown.csv"] {
        assert_eq!(a[f], std::fs::read(canonical.join(f)).unwrap(), "{f} was not kept byte for byte by `bqh report`");
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
    for (dir, title) in [
        ("results/2026-12-07-xeon-2core", "# Bounded queues compared"),
        ("results/2026-12-07-xeon-2core-scale", "# Thread scaling"),
    ] {
        let redrawn = scratch(dir.rsplit('/').next().unwrap());
        let out = bqh(&["report", root().join(dir).to_str().unwrap(), "--out", redrawn.to_str().unwrap()]);
        assert!(out.status.success(), "{dir}: {}", String::from_utf8_lossy(&out.stderr));
        let (a, committed) = (files(&redrawn), files(&root().join(dir)));
        assert_eq!(a["runs.csv"], committed["runs.csv"], "{dir}: runs.csv was not kept byte for byte");
        assert!(String::from_utf8_lossy(&a["summary.md"]).starts_with(title));
        // `bqh report` copies the data files; the schema alone gives the same bytes too.
        let through = redrawn.join("through-the-schema.csv");
        harness::runs_csv::write_runs(
            &through,
            &harness::runs_csv::read_runs(&root().join(dir).join("runs.csv")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            std::fs::read(&through).unwrap(),
            committed["runs.csv"],
            "{dir}: runs.csv changed on the way through the schema"
        );
    }
}

#[test]
fn a_committed_run_is_never_redrawn_in_place() {
    let canonical = root().join(CANONICAL);
    let before = files(&canonical);
    let out = bqh(&["report", canonical.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("committed canonical run") && err.contains(CANONICAL), "{err}");
    assert_eq!(files(&canonical), before);
}

#[test]
fn a_folder_that_is_not_a_results_folder_is_a_clear_error() {
    let empty = scratch("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = bqh(&["report", empty.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("env.json") && err.contains("is ") && err.contains("a results folder?"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_scaling_study_is_written_and_redrawn_as_one() {
    let dir = scratch("scale");
    let out = bqh(&[
        "scale",
        "--impl",
        "crossbeam,c-pthread",
        "--mode",
        "driven",
        "--capacity",
        "16",
        "--max-threads",
        "4",
        "--run-ms",
        "2",
        "--reps",
        "3",
        "--budget",
        "8",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = read_csv::<bq_engine::row::Row>(&dir.join("runs.csv")).unwrap();
    // 2 shapes x 3 thread counts (1, 2, 4) x 2 implementations, each paired with crossbeam
    // (crossbeam with itself: the A/A control), 3 pairs at least.
    let cells = harness::ratios::cells(&rows);
    assert_eq!(cells.len(), 12);
    assert!(cells.iter().all(|c| c.ratio.is_some_and(|r| r.pairs >= 3)), "{cells:?}");
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    for needle in [
        "# Thread scaling",
        "## Reading",
        "| crossbeam |",
        "### mpmc, capacity 16",
        "scaling-fan-in-16.svg",
        "## Ratio to crossbeam",
    ] {
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

/// The committed canonical folders of `results/` (those with the canonical marker), by path
/// from the root, each with the study its `env.json` names, in order of name.
fn committed() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(root().join("results")).unwrap() {
        let dir = e.unwrap().path();
        if dir.join(bq_results::outdir::CANONICAL_MARKER).is_file() {
            let study = bq_results::files::read_env(&dir).unwrap().study;
            out.push((format!("results/{}", dir.file_name().unwrap().to_str().unwrap()), study));
        }
    }
    out.sort();
    assert!(out.iter().any(|(dir, _)| dir == CANONICAL), "{CANONICAL} is not among the committed folders: {out:?}");
    out
}

/// Every committed folder of each study redraws to the very bytes committed: `bqh report` goes
/// through the study that `env.json` names, and its report is a pure function of the files.
/// (The two oldest comparison folders predate columns and report changes: they redraw to what
/// `compare` writes today, checked above.)
#[test]
fn every_committed_study_folder_redraws_byte_for_byte() {
    for (dir, _) in committed() {
        let name = dir.trim_start_matches("results/");
        let committed = root().join(&dir);
        let redrawn = scratch(&format!("committed-{name}"));
        let o = bqh(&["report", committed.to_str().unwrap(), "--out", redrawn.to_str().unwrap()]);
        assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        let (a, b) = (files(&committed), files(&redrawn));
        let shown = |m: &BTreeMap<String, Vec<u8>>| {
            m.keys().filter(|k| !k.starts_with('.') && *k != "CANONICAL").cloned().collect::<Vec<_>>()
        };
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
        let o = bqh(&["report", dir.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(says) && !err.contains("panicked"), "{err}");
        assert!(files(dir) == before, "{} changed although the redraw was refused", dir.display());
    };
    let scale = "results/2026-12-07-xeon-2core-scale";

    let notes = own_copy(scale, "own-notes");
    std::fs::write(notes.join("NOTES.txt"), "mine").unwrap();
    refused(&notes, "(NOTES.txt)");

    // A column of a data file is kept too (issue 28: the data files come back byte for byte),
    // so this redraw loses nothing and is done.
    let column = own_copy(scale, "own-column");
    let runs = std::fs::read_to_string(column.join("runs.csv")).unwrap();
    let with_note: String =
        runs.lines().enumerate().map(|(i, l)| format!("{l},{}\n", if i == 0 { "my_note" } else { "x" })).collect();
    std::fs::write(column.join("runs.csv"), &with_note).unwrap();
    let o = bqh(&["report", column.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read_to_string(column.join("runs.csv")).unwrap(), with_note);

    let empty = own_copy(scale, "own-empty");
    let head = runs.lines().next().unwrap().to_string() + "\n";
    std::fs::write(empty.join("runs.csv"), head).unwrap();
    refused(&empty, "has no rows");

    // What bqh wrote alone is redrawn in place, as before.
    let plain = own_copy(scale, "own-plain");
    let o = bqh(&["report", plain.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(files(&plain)["summary.md"], files(&root().join(scale))["summary.md"]);
}

/// A copy of the scale study whose `runs.csv` has `value` in `column` of its second row (a
/// successful run), redrawn elsewhere: bqh's exit code and standard error.
fn redraw_with(column: &str, value: &str) -> (Option<i32>, String) {
    let name = format!("bad-{column}-{}", value.replace(['-', '.'], "_"));
    let dir = own_copy("results/2026-12-07-xeon-2core-scale", &name);
    let runs = std::fs::read_to_string(dir.join("runs.csv")).unwrap();
    let header: Vec<&str> = runs.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|c| *c == column).unwrap();
    let mut lines: Vec<String> = runs.lines().map(str::to_string).collect();
    let mut fields: Vec<&str> = lines[2].split(',').collect();
    assert_eq!(fields[header.iter().position(|c| *c == "status").unwrap()], "ok");
    fields[col] = value;
    lines[2] = fields.join(",");
    std::fs::write(dir.join("runs.csv"), lines.join("\n") + "\n").unwrap();
    let o = bqh(&["report", dir.to_str().unwrap(), "--out", scratch(&format!("{name}-out")).to_str().unwrap()]);
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
        // Issue 29: threads that used more CPU than the run's clock allows on its CPUs.
        ("threads_cpu_s", "10", "row 2: its threads used 10.000000 s of CPU in"),
    ] {
        let (code, err) = redraw_with(column, value);
        assert_eq!(code, Some(2), "{column}={value}: {err}");
        assert!(err.contains(says) && !err.contains("panicked"), "{column}={value}: {err}");
    }
    // Not measured (a failed run's figures) is not wrong.
    let (code, err) = redraw_with("latency_p50_ns", "");
    assert_eq!(code, Some(0), "{err}");
}

/// The committed scaling study, the smallest: the folder the issue-28 tests damage copies of.
const SCALE: &str = "results/2026-12-07-xeon-2core-scale";

/// How long a refused redraw may take: it reads nothing of what it refuses.
const PROMPT: Duration = Duration::from_secs(30);
/// How long a redraw of a committed folder may take on a busy 2-core machine.
const REDRAW: Duration = Duration::from_secs(300);

/// The regular files of a folder, by name, with their bytes (a pipe in it is not opened).
fn regular_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect()
}

/// `bqh report DIR` in place, which must be refused within [`PROMPT`] with exit 2 and a message
/// holding each of `says`, the folder left as it was.
fn refused_at_once(dir: &Path, says: &[&str]) {
    let before = regular_files(dir);
    let o = common::bqh_within(&["report", dir.to_str().unwrap()], PROMPT);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{err}");
    for s in says {
        assert!(err.contains(s), "the message lacks {s:?}: {err}");
    }
    assert!(!err.contains("panicked") && !err.contains("memory allocation"), "{err}");
    assert!(regular_files(dir) == before, "{} changed although the redraw was refused", dir.display());
}

/// Issue 28: with `env.json` or `runs.csv` replaced by a named pipe, `bqh report DIR` waited in
/// `open` for a writer that never came. It is refused at once now, naming the file and why.
#[test]
fn a_data_file_that_is_a_pipe_is_refused_at_once() {
    for name in ["env.json", "runs.csv"] {
        let dir = own_copy(SCALE, &format!("fifo-{name}"));
        let path = dir.join(name);
        std::fs::remove_file(&path).unwrap();
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo makes a pipe there and reads nothing else.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let shown = format!("{} is a named pipe (FIFO), not a regular file", path.display());
        refused_at_once(&dir, &[&shown, "Put the data file itself in its place"]);
    }
}

/// Issue 28: with `runs.csv` a symbolic link to `/dev/zero`, `bqh report DIR` read until memory
/// ran out and aborted (exit 134). A device is refused before it is opened now.
#[test]
fn a_data_file_without_end_is_refused_at_once() {
    let dir = own_copy(SCALE, "dev-zero");
    let runs = dir.join("runs.csv");
    std::fs::remove_file(&runs).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &runs).unwrap();
    let shown = format!("{} is a device, not a regular file", runs.display());
    refused_at_once(&dir, &[&shown, &format!("at most {INPUT_LIMIT_SHOWN}")]);
}

/// Issue 28: a data file larger than bqh reads (sparse here: no block of it is written) is
/// refused before it is read, naming the file and the limit.
#[test]
fn a_data_file_past_the_limit_is_refused_at_once() {
    let dir = own_copy(SCALE, "past-limit");
    let runs = dir.join("runs.csv");
    std::fs::OpenOptions::new().write(true).open(&runs).unwrap().set_len(INPUT_LIMIT + 1).unwrap();
    let shown = format!("{} is larger than the {INPUT_LIMIT_SHOWN} bqh reads from one results file", runs.display());
    refused_at_once(&dir, &[&shown, &format!("({} bytes)", INPUT_LIMIT + 1)]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Redraws `dir` (a copy of `committed` with its data files saved another way) elsewhere, then
/// in place, each within [`REDRAW`]: its data files must come out byte for byte as saved, and
/// every other file as committed (the data say the same, so the report is the same).
fn redraws_keeping_the_data(dir: &Path, committed: &str, data: &[&str]) {
    let saved = files(dir);
    let committed = files(&root().join(committed));
    let elsewhere = dir.with_file_name(format!("{}-out", dir.file_name().unwrap().to_str().unwrap()));
    let _ = std::fs::remove_dir_all(&elsewhere);
    for (args, written) in [(vec!["--out", elsewhere.to_str().unwrap()], &elsewhere), (vec![], &dir.to_path_buf())] {
        let o = common::bqh_within(&[&["report", dir.to_str().unwrap()], &args[..]].concat(), REDRAW);
        assert!(o.status.success(), "{} {args:?}: {}", dir.display(), String::from_utf8_lossy(&o.stderr));
        let after = files(written);
        for (name, bytes) in &after {
            if data.contains(&name.as_str()) {
                assert!(*bytes == saved[name], "{}: {name} was rewritten by a redraw", written.display());
            } else if !name.starts_with('.') {
                assert!(
                    *bytes == committed[name],
                    "{}: {name} redraws differently from what is committed",
                    written.display()
                );
            }
        }
        let shown = |m: &BTreeMap<String, Vec<u8>>| {
            m.keys().filter(|k| !k.starts_with('.') && *k != "CANONICAL").cloned().collect::<Vec<_>>()
        };
        assert_eq!(shown(&after), shown(&committed), "{}: the files differ", written.display());
    }
}

/// `bytes` with every line ending in CRLF, as a Windows editor saves it.
fn crlf(bytes: &[u8]) -> Vec<u8> {
    String::from_utf8(bytes.to_vec()).unwrap().replace('\n', "\r\n").into_bytes()
}

/// Issue 28: `bqh report DIR` in place rewrote the data it redraws from: a `runs.csv` saved with
/// Windows line ends came back without its `\r`. However `runs.csv` and `env.json` are saved
/// (CRLF, a UTF-8 byte order mark, no last newline, extra blank lines and spaces), they come back
/// byte for byte, and the report drawn from them is the committed one.
#[test]
fn redrawing_in_place_leaves_the_data_files_byte_for_byte() {
    /// A way to save a file's bytes.
    type SavedAs = fn(&[u8]) -> Vec<u8>;
    let variants: [(&str, SavedAs); 4] = [
        ("crlf", crlf),
        ("bom", |b| [b"\xef\xbb\xbf", b].concat()),
        ("no-last-newline", |b| b.strip_suffix(b"\n").unwrap().to_vec()),
        // No cell of the scale study's runs.csv is quoted, and no string of its env.json holds a
        // comma: spaces around every comma and at every line end change no value.
        ("spaces", |b| String::from_utf8(b.to_vec()).unwrap().replace(",", " , ").replace("\n", "  \n\n").into_bytes()),
    ];
    for (variant, saved_as) in variants {
        let dir = own_copy(SCALE, &format!("saved-{variant}"));
        for name in ["runs.csv", "env.json"] {
            let bytes = std::fs::read(dir.join(name)).unwrap();
            std::fs::write(dir.join(name), saved_as(&bytes)).unwrap();
        }
        redraws_keeping_the_data(&dir, SCALE, &["runs.csv", "env.json"]);
    }
}

/// Every study puts back every data file it reads: the first committed folder of each study of
/// `harness::STUDIES` that has one (for the comparison, one with shutdown, native and memory
/// files), its data saved with CRLF, redraws in place with its data files as saved.
#[test]
fn every_study_keeps_its_data_files_as_saved() {
    let folders = committed();
    let firsts = harness::STUDIES.iter().filter_map(|s| folders.iter().find(|(_, study)| study == s.name()));
    for (committed, _) in firsts {
        let dir = own_copy(committed, &format!("crlf-{}", committed.rsplit('/').next().unwrap()));
        let mut data = Vec::new();
        for (name, bytes) in files(&dir) {
            if name.ends_with(".csv") || name == "env.json" {
                std::fs::write(dir.join(&name), crlf(&bytes)).unwrap();
                data.push(name);
            }
        }
        let data: Vec<&str> = data.iter().map(String::as_str).collect();
        redraws_keeping_the_data(&dir, committed, &data);
    }
}

/// Every relative link in a committed folder's Markdown leads to a file (issue 26: a summary
/// linked a run in the old format, and spoke of a matrix "above" that was not there).
#[test]
fn every_link_in_a_committed_folder_resolves() {
    let mut checked = 0;
    for e in std::fs::read_dir(root().join("results")).unwrap() {
        let dir = e.unwrap().path();
        for (name, bytes) in files(&dir).into_iter().filter(|(n, _)| n.ends_with(".md")) {
            let text = String::from_utf8(bytes).unwrap();
            for (i, _) in text.match_indices("](") {
                let target = &text[i + 2..];
                let target = &target[..target.find(')').unwrap()];
                if target.starts_with("http") || target.starts_with('#') {
                    continue;
                }
                let file = target.split('#').next().unwrap();
                assert!(dir.join(file).exists(), "{}/{name} links to {target}, which is not there", dir.display());
                checked += 1;
            }
            assert!(!text.contains("matrix above"), "{}/{name} speaks of a matrix above", dir.display());
        }
    }
    assert!(checked > 20, "only {checked} links seen: is results/ there?");
}
