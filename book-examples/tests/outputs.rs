//! The chapter "Build it step by step" (book/src/ch02-build-it.md) shows each program's command
//! and output by including a file of `expected/`. This test runs every program and compares its
//! real output with that file, so the book and the programs cannot drift apart:
//!
//! - the examples (`cargo test` builds them beside this test): exit status and every line of
//!   standard output (the programs are written to print nothing that depends on timing);
//! - the compile error of `compile_fail/`: the `error` lines and the `-->` location (the rest of
//!   the message is the compiler's prose, which changes between compiler versions);
//! - the C twin of `c/`, compiled with `cc`.
//!
//! Each expected file starts with the command line the book shows (`$ ...`), which the test
//! checks too.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// What a program must print, as the book shows it.
struct Case {
    file: &'static str,                 // in expected/
    command: &'static str,              // its first line, after "$ "
    program: &'static str,              // an example, or c/NAME compiled by the test
    args: &'static [&'static str],
    status: i32,
}

const CASES: &[Case] = &[
    Case { file: "step1_unbounded.txt", command: "cargo run --example step1_unbounded", program: "step1_unbounded", args: &[], status: 0 },
    Case { file: "step2_bounded.txt", command: "cargo run --example step2_bounded", program: "step2_bounded", args: &[], status: 0 },
    Case { file: "step2_one_condvar.txt", command: "cargo run --example step2_one_condvar", program: "step2_one_condvar", args: &[], status: 0 },
    Case { file: "step3_close-no-close.txt", command: "cargo run --example step3_close -- no-close", program: "step3_close", args: &["no-close"], status: 0 },
    Case { file: "step3_close.txt", command: "cargo run --example step3_close", program: "step3_close", args: &[], status: 0 },
    Case { file: "step4_timeouts.txt", command: "cargo run --example step4_timeouts", program: "step4_timeouts", args: &[], status: 0 },
    Case { file: "step4_timeouts-restart-clock.txt", command: "cargo run --example step4_timeouts -- restart-clock", program: "step4_timeouts", args: &["restart-clock"], status: 0 },
    Case { file: "step5_queue.txt", command: "cargo run --example step5_queue", program: "step5_queue", args: &[], status: 0 },
    Case { file: "exercise_one_condvar.txt", command: "cargo run --release --example exercise_one_condvar", program: "exercise_one_condvar", args: &[], status: 1 },
    Case { file: "c-step3_close-broadcast.txt", command: "./step3_close broadcast", program: "c/step3_close", args: &["broadcast"], status: 0 },
    Case { file: "c-step3_close-signal.txt", command: "./step3_close signal", program: "c/step3_close", args: &["signal"], status: 0 },
];

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// target/<profile>/examples: this test runs from target/<profile>/deps.
fn examples_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).expect("the test runs from target/<profile>/deps").join("examples")
}

/// The expected file: its command line and the lines after it.
fn expected(file: &str) -> (String, String) {
    let path = crate_dir().join("expected").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
    let command = first.strip_prefix("$ ").unwrap_or_else(|| panic!("{}: the first line must be `$ COMMAND`", path.display()));
    (command.to_string(), rest.to_string())
}

/// Runs `cmd` to its end, killing it after 30 s (every program has its own watchdog, far shorter).
fn run(cmd: &mut Command) -> Output {
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(30) {
            child.kill().ok();
            panic!("{cmd:?} still ran after 30 s: its watchdog failed");
        }
        thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// The C twins, compiled once into a folder of their own.
fn c_program(name: &str) -> PathBuf {
    let out = examples_dir().join("c");
    std::fs::create_dir_all(&out).unwrap();
    let bin = out.join(name);
    let src = crate_dir().join("c").join(format!("{name}.c"));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let o = run(Command::new(&cc).args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-O2", "-pthread", "-o"]).arg(&bin).arg(&src));
    assert!(o.status.success(), "{cc} {}: {}", src.display(), String::from_utf8_lossy(&o.stderr));
    bin
}

fn check(case: &Case, c_bin: &Path) -> Result<(), String> {
    let (command, want) = expected(case.file);
    if command != case.command {
        return Err(format!("expected/{}: the book shows `$ {command}`, the test runs `{}`", case.file, case.command));
    }
    let bin = match case.program.strip_prefix("c/") {
        Some(_) => c_bin.to_path_buf(),
        None => examples_dir().join(case.program),
    };
    if !bin.is_file() {
        return Err(format!("{} is missing: run `cargo test -p book-examples`, which builds the examples", bin.display()));
    }
    let o = run(Command::new(&bin).args(case.args));
    let got = String::from_utf8_lossy(&o.stdout);
    let mut problems = Vec::new();
    if o.status.code() != Some(case.status) {
        problems.push(format!("exit status {:?}, expected {}", o.status.code(), case.status));
    }
    if got != want {
        problems.push(format!("it printed:\n{got}\nthe book (expected/{}) shows:\n{want}", case.file));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("`{}`: {}\n(stderr: {})", case.command, problems.join("; "), String::from_utf8_lossy(&o.stderr)))
    }
}

#[test]
fn every_program_prints_what_the_book_shows() {
    let c_bin = c_program("step3_close");
    // In parallel: most of the time is the programs' watchdogs sleeping.
    let failures: Vec<String> = thread::scope(|s| {
        let handles: Vec<_> = CASES.iter().map(|case| s.spawn(|| check(case, &c_bin))).collect();
        handles.into_iter().filter_map(|h| h.join().unwrap().err()).collect()
    });
    assert!(failures.is_empty(), "{} of {} programs differ from the book:\n\n{}", failures.len(), CASES.len(), failures.join("\n\n"));
    // Every file of expected/ is checked here (or by the compile-error test below).
    let files: Vec<String> = std::fs::read_dir(crate_dir().join("expected")).unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    for f in &files {
        // check_my_queue*.txt: the exercise's check, checked by book-examples/check/tests/answers.rs.
        let elsewhere = f == "close_without_lock.txt" || f.starts_with("check_my_queue");
        assert!(CASES.iter().any(|c| c.file == f) || elsewhere, "expected/{f} is checked by no case");
    }
}

/// The lines of a compiler message that are worth comparing: the errors and their locations.
fn error_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("error") || l.trim_start().starts_with("--> ")).collect()
}

#[test]
fn the_compile_error_is_the_one_the_book_shows() {
    let (command, want) = expected("close_without_lock.txt");
    let args: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(args[0], "rustc", "expected/close_without_lock.txt: its command must be a rustc call");
    let o = run(Command::new("rustc").args(&args[1..]).current_dir(crate_dir().join("compile_fail")));
    assert!(!o.status.success(), "compile_fail/close_without_lock.rs compiled: the book says it does not");
    let got = String::from_utf8_lossy(&o.stderr);
    assert_eq!(error_lines(&got), error_lines(&want), "rustc's errors differ from expected/close_without_lock.txt:\n{got}");
    assert!(!error_lines(&want).is_empty(), "expected/close_without_lock.txt shows no error line");
}
