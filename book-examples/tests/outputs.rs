//! The chapter "Build it step by step" (book/src/ch02-build-it.md) shows each program's command
//! and output by including a file of `expected/`. This test runs every command as the book
//! prints it, from the repository's root (where the chapter says to run them), and compares what
//! it prints with the file, so the book, its commands and the programs cannot drift apart:
//!
//! - each expected file starts with the command lines the book shows (`$ ...`), one or more;
//!   the test runs them in order with `sh`, as a reader would type them (`cargo run` builds
//!   what it needs first, into `target/`, which git ignores);
//! - it compares the exit status of the last and every line of standard output (the programs
//!   are written to print nothing that depends on timing), or, for the compile error of
//!   `compile_fail/`, its `error` lines and the `-->` location (the rest of the message is the
//!   compiler's prose, which changes between compiler versions).
//!
//! Every file of expected/ is one case here, and every command line of the chapter is run by
//! a case or named in `OTHER_COMMANDS` with the test that runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// What to compare.
#[derive(Clone, Copy)]
enum Compare {
    Stdout,
    /// The compiler's `error` lines and locations, on standard error.
    ErrorLines,
}

/// An expected file, what its commands must exit with and what to compare.
struct Case {
    file: &'static str,
    status: i32,
    compare: Compare,
}

use Compare::*;

/// In groups: the cases of a group run in order (the C twin is compiled by the first), the
/// groups at once (most of the time is the programs' watchdogs sleeping).
const GROUPS: &[&[Case]] = &[
    &[Case { file: "step1_unbounded.txt", status: 0, compare: Stdout }],
    &[Case { file: "step2_bounded.txt", status: 0, compare: Stdout }],
    &[Case { file: "step2_one_condvar.txt", status: 0, compare: Stdout }],
    &[Case { file: "step3_close-no-close.txt", status: 0, compare: Stdout }],
    &[Case { file: "step3_close.txt", status: 0, compare: Stdout }],
    &[Case { file: "close_without_lock.txt", status: 1, compare: ErrorLines }],
    &[
        Case { file: "c-step3_close-broadcast.txt", status: 0, compare: Stdout },
        Case { file: "c-step3_close-signal.txt", status: 0, compare: Stdout },
    ],
    &[Case { file: "step4_timeouts.txt", status: 0, compare: Stdout }],
    &[Case { file: "step4_timeouts-restart-clock.txt", status: 0, compare: Stdout }],
    &[Case { file: "step5_queue.txt", status: 0, compare: Stdout }],
    &[Case { file: "exercise_one_condvar.txt", status: 1, compare: Stdout }],
    &[Case { file: "check_my_queue.txt", status: 1, compare: Stdout }],
];

/// Command lines of the chapter that no case here runs, and the test that runs them.
const OTHER_COMMANDS: &[(&str, &str)] =
    &[("cargo test --release -p book-examples", "make test, which runs every crate's tests, these among them")];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The expected file: its command lines and the text after them.
fn expected(file: &str) -> (Vec<String>, String) {
    let path = root().join("book-examples/expected").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let commands: Vec<String> = text.lines().map_while(|l| l.strip_prefix("$ ")).map(String::from).collect();
    assert!(!commands.is_empty(), "{}: the first line must be `$ COMMAND`", path.display());
    let rest = text.lines().skip(commands.len()).map(|l| format!("{l}\n")).collect();
    (commands, rest)
}

/// Runs `cmd` to its end, killing it after `limit`.
fn run(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().ok();
            panic!("{cmd:?} still ran after {limit:?}: a program's watchdog failed");
        }
        thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// The lines of a compiler message that are worth comparing: the errors and their locations.
fn error_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("error") || l.trim_start().starts_with("--> ")).collect()
}

fn check(case: &Case) -> Result<(), String> {
    let (commands, want) = expected(case.file);
    // As typed at a shell in the repository's root, one line after the other; the first that
    // fails stops the rest. Ten minutes: a cargo command may build first.
    let script = format!("set -e\n{}\n", commands.join("\n"));
    let o = run(Command::new("sh").arg("-c").arg(&script).current_dir(root()), Duration::from_secs(600));
    let got = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    let mut problems = Vec::new();
    if o.status.code() != Some(case.status) {
        problems.push(format!("exit status {:?}, expected {}", o.status.code(), case.status));
    }
    match case.compare {
        Stdout if got != want => {
            problems.push(format!("it printed:\n{got}\nthe book (expected/{}) shows:\n{want}", case.file))
        }
        ErrorLines if error_lines(&err) != error_lines(&want) || error_lines(&want).is_empty() => {
            problems.push(format!("rustc's errors differ from the book's (expected/{}):\n{err}", case.file))
        }
        _ => {}
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("`{}`: {}\n(stderr: {err})", commands.join(" && "), problems.join("; ")))
    }
}

#[test]
fn every_command_prints_what_the_book_shows() {
    let failures: Vec<String> = thread::scope(|s| {
        let handles: Vec<_> =
            GROUPS.iter().map(|g| s.spawn(|| g.iter().filter_map(|c| check(c).err()).collect::<Vec<_>>())).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let n: usize = GROUPS.iter().map(|g| g.len()).sum();
    assert!(
        failures.is_empty(),
        "{} of {n} commands differ from the book:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // Every file of expected/ is a case.
    for e in std::fs::read_dir(root().join("book-examples/expected")).unwrap() {
        let f = e.unwrap().file_name().to_string_lossy().into_owned();
        let elsewhere = f.starts_with("check_my_queue-"); // made by the check's own test
        assert!(
            GROUPS.iter().flat_map(|g| g.iter()).any(|c| c.file == f) || elsewhere,
            "expected/{f} is checked by no case"
        );
    }
}

/// The command lines of a chapter: the `$` lines of the expected files it includes and every
/// line of its `sh` blocks (without comments and continuation backslashes).
fn chapter_commands(md: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join("book/src").join(md)).unwrap();
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in text.lines() {
        let t = line.trim();
        if let Some(file) =
            t.strip_prefix("{{#include ../../book-examples/expected/").and_then(|r| r.strip_suffix("}}"))
        {
            // A table a test makes, shown as text, has no command line.
            if std::fs::read_to_string(root().join("book-examples/expected").join(file)).unwrap().starts_with("$ ") {
                out.extend(expected(file).0);
            }
        } else if t.starts_with("```") {
            in_sh = t == "```sh";
        } else if in_sh && !t.is_empty() {
            out.push(t.split(" #").next().unwrap().trim().to_string());
        }
    }
    out
}

/// Every command line of chapter 2 runs somewhere: here, as printed, or in a named test. A new
/// command in the chapter fails this test until it is run.
#[test]
fn every_command_of_the_chapter_is_run_by_a_test() {
    let run_here: Vec<String> = GROUPS.iter().flat_map(|g| g.iter()).flat_map(|c| expected(c.file).0).collect();
    let commands = chapter_commands("ch02-build-it.md");
    assert!(commands.len() >= 12, "found only {} commands in chapter 2: {commands:?}", commands.len());
    for c in &commands {
        let elsewhere = OTHER_COMMANDS.iter().any(|(o, _)| o == c);
        assert!(run_here.contains(c) || elsewhere, "chapter 2 shows `{c}`, which no test runs: put it in an expected/ file, or in OTHER_COMMANDS with its test");
    }
    for (o, by) in OTHER_COMMANDS {
        assert!(
            commands.contains(&o.to_string()),
            "OTHER_COMMANDS names `{o}` (run by {by}), which chapter 2 no longer shows"
        );
    }
}
