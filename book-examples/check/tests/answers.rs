//! The check of the book's exercise, checked (`make test` runs this):
//!
//! 1. the book's solution (`book-examples/examples/step5_queue.rs`) and the right answers of
//!    `src/answers.rs` (the solution written differently) pass every check, and the
//!    solution's report is the one the book shows (`expected/check_my_queue-right.txt`);
//! 2. every wrong answer of `src/answers.rs` fails each check that its `caught_by` names (the
//!    table the book shows, `expected/check_my_queue-wrong-answers.txt`), so the check as the
//!    learner runs it rejects it;
//! 3. the shipped skeleton (`book-examples/exercise/my_queue.rs`) is the solution with its
//!    bodies left out, and `cargo run --release -p check-my-queue` prints, for it, what the book
//!    shows (`expected/check_my_queue.txt`; book-examples/tests/outputs.rs runs that command as
//!    printed).
//!
//! A main of its own (harness = false): the checks run in child processes of this binary
//! (`--one VARIANT STAGE CHECK`), four at a time, each under the check's own deadline.
#[allow(dead_code)]
#[path = "../src/check.rs"]
mod check;

#[allow(dead_code)]
#[path = "../src/answers.rs"]
mod answers;

include!(concat!(env!("OUT_DIR"), "/answers.rs"));

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread;

/// Child processes at once: most of a wrong answer's time is a check waiting out its deadline.
const WORKERS: usize = 4;

fn variant(name: &str) -> check::Checks {
    let (_, _, make) = VARIANTS.iter().find(|(n, _, _)| *n == name).unwrap_or_else(|| panic!("no variant {name}"));
    make()
}

fn book_examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// An expected file of book-examples/expected: its command line and the output after it.
fn expected(file: &str) -> (String, String) {
    let path = book_examples().join("expected").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (first, rest) = text.split_once('\n').unwrap();
    (first.strip_prefix("$ ").expect("an expected file starts with `$ COMMAND`").to_string(), rest.to_string())
}

/// Runs every (variant, stage, check) job in child processes, WORKERS at a time; None: passed.
fn run_all(jobs: Vec<(String, String, String)>) -> BTreeMap<(String, String, String), Option<String>> {
    let exe = std::env::current_exe().unwrap();
    let queue = Mutex::new(jobs);
    let results = Mutex::new(BTreeMap::new());
    thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| loop {
                let Some((v, st, c)) = queue.lock().unwrap().pop() else { return };
                let r = check::run_child(&exe, &["--one", &v, &st, &c]);
                results.lock().unwrap().insert((v, st, c), r);
            });
        }
    });
    results.into_inner().unwrap()
}

/// The signatures and types of a queue file, without the bodies of its functions.
fn outline(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = text.lines().filter(|l| !l.starts_with("//!") && !l.contains("ANCHOR"));
    while let Some(l) = lines.next() {
        out.push(l.to_string());
        if l.starts_with("    pub fn ") || l.starts_with("    fn ") {
            let mut sig = l.to_string();
            while !sig.ends_with('{') {
                sig = lines.next().unwrap().to_string();
                out.push(sig.clone());
            }
            for body in lines.by_ref() {
                if body == "    }" {
                    out.push(body.to_string());
                    break;
                }
            }
        }
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, one, v, stage, name] = &args[..] {
        if one == "--one" {
            check::run_one(&variant(v), stage, name, SOURCES);
        }
    }
    let mut problems = Vec::new();

    // 3. The skeleton is the solution without its bodies.
    let skeleton = std::fs::read_to_string(book_examples().join("exercise/my_queue.rs")).unwrap();
    let example = std::fs::read_to_string(book_examples().join("examples/step5_queue.rs")).unwrap();
    let solution = example.split("// ANCHOR: queue\n").nth(1).unwrap().split("// ANCHOR_END: queue").next().unwrap();
    let skeleton_queue =
        skeleton.split("// ANCHOR: skeleton\n").nth(1).unwrap().split("// ANCHOR_END: skeleton").next().unwrap();
    if outline(skeleton_queue) != outline(solution) {
        problems.push(format!(
            "exercise/my_queue.rs is not examples/step5_queue.rs's queue with the bodies left out:\n{:#?}\n{:#?}",
            outline(skeleton_queue),
            outline(solution)
        ));
    }
    if skeleton_queue.matches("todo!()").count() != 7 {
        problems.push("exercise/my_queue.rs: every one of the 7 bodies is todo!()".into());
    }

    // 1 and 2: every check of the right answers, the catching checks of the wrong ones.
    let mut jobs = Vec::new();
    for (name, right, make) in VARIANTS {
        let checks = make();
        if *right {
            for s in &checks.stages {
                for c in &s.checks {
                    jobs.push((name.to_string(), s.name.to_string(), c.name.to_string()));
                }
            }
        }
    }
    for a in answers::WRONG {
        for caught in a.caught_by {
            let (stage, check) = caught.split_once('/').unwrap();
            assert!(variant(a.name).find(stage, check).is_some(), "src/answers.rs: {}: no check {caught}", a.name);
            jobs.push((a.name.to_string(), stage.to_string(), check.to_string()));
        }
    }
    let n = jobs.len();
    let results = run_all(jobs);

    let mut right_failures = 0;
    for ((v, s, c), r) in &results {
        let is_right = VARIANTS.iter().any(|(n, right, _)| n == v && *right);
        if let (true, Some(why)) = (is_right, r) {
            right_failures += 1;
            problems.push(format!("the right answer {v} failed {s}/{c}: {why}"));
        }
    }

    // The solution's report, as the learner's command prints it for a right answer: the same
    // report(), from the results above.
    let mut report = String::new();
    check::report(
        &variant("solution"),
        "book-examples/exercise/my_queue.rs",
        |s, c| results[&("solution".to_string(), s.to_string(), c.to_string())].clone(),
        |line| {
            report.push_str(&line);
            report.push('\n');
        },
    );
    let (command, want) = expected("check_my_queue-right.txt");
    if command != "cargo run --release -p check-my-queue" || report != want {
        problems.push(format!("expected/check_my_queue-right.txt differs from the solution's report:\n{report}"));
    }

    // The wrong answers: each catching check failed.
    let mut table = String::new();
    println!("the check on each wrong answer of src/answers.rs (the checks that must reject it):");
    for a in answers::WRONG {
        println!("  {} ({})", a.name, a.mistake);
        let mut all_failed = true;
        for caught in a.caught_by {
            let (stage, check) = caught.split_once('/').unwrap();
            match &results[&(a.name.to_string(), stage.to_string(), check.to_string())] {
                Some(why) => println!("    FAIL  {caught}: {why}"),
                None => {
                    all_failed = false;
                    println!("    ok    {caught}   <- should have failed");
                    problems.push(format!("the wrong answer {} ({}) passed {caught}", a.name, a.mistake));
                }
            }
        }
        if all_failed {
            table.push_str(&format!("{}\n    rejected by {}\n", a.mistake, a.caught_by.join(", ")));
        }
    }
    let want = std::fs::read_to_string(book_examples().join("expected/check_my_queue-wrong-answers.txt")).unwrap();
    if table != want {
        problems.push(format!("expected/check_my_queue-wrong-answers.txt differs from this run:\n{table}"));
    }
    println!(
        "{n} checks run: the solution and {} right answers passed every one: {}",
        answers::RIGHT.len(),
        right_failures == 0
    );

    // 3. The shipped skeleton's report: the learner's command, as the book shows it.
    let (command, want) = expected("check_my_queue.txt");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_check-my-queue")).output().unwrap();
    let got = String::from_utf8_lossy(&o.stdout);
    if command != "cargo run --release -p check-my-queue" || got != want || o.status.code() != Some(1) {
        problems.push(format!(
            "the skeleton's check printed (exit {:?}):\n{got}\nexpected/check_my_queue.txt shows:\n{want}",
            o.status.code()
        ));
    }

    if problems.is_empty() {
        println!(
            "ok: the check accepts the solution and {} right answers, and rejects all {} wrong answers",
            answers::RIGHT.len(),
            answers::WRONG.len()
        );
    } else {
        eprintln!("{} problem(s):\n\n{}", problems.len(), problems.join("\n\n"));
        std::process::exit(1);
    }
}
