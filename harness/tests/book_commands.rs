//! Every command the book prints in a `sh` block runs as printed, from the repository's root
//! (where the book says to run them), or is named here with the test that runs it or the
//! reason it is not run (a timing measurement). A command added to the book and to none of
//! these lists fails `every_command_in_the_book_is_accounted_for`.
//!
//! Chapter 2's commands are book-examples/tests/outputs.rs's: it runs each as printed and
//! compares its output with the book's.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// How a command of the book is tested.
enum How {
    /// Run here as printed: it must exit 0 and print each of these.
    Here(&'static [&'static str]),
    /// Run by this test of this file (which must exist).
    By(&'static str, &'static str),
    /// Not run by `make test`, and why.
    NotRun(&'static str),
}
use How::*;

const VALIDATE_RS: &str = "harness/tests/validate.rs";
const MEASUREMENT: &str = "a timing measurement (a 30 s budget on a quiet machine): make test runs no measurement";

/// Every command line of the book's `sh` blocks but chapter 2's, and how it is tested.
const COMMANDS: &[(&str, How)] = &[
    // introduction.md
    ("make book", By("Makefile", "test: setup-ocaml setup-allocators book")),
    ("make book-open", Here(&["file://"])),
    ("make book-check", By(".ci/run", "make book-check")),
    // ch01
    ("grep -A15 '### glibc: peak live payload' results/2026-12-07-xeon-2core-memory/summary.md | head -16", Here(&["| implementation", "| bound (capacity + 2) × S | 3.0 | 18.0 |"])),
    // ch03, ch04, ch08: the fixtures, and validation of one. validate.rs validates the same
    // library (tests/fixtures/build.sh, which `make fixtures` runs) with bqh itself, and checks
    // make validate's last line in make_validate_says_which_exit_code_bqh_gave.
    ("make fixtures", By("harness/tests/book_commands.rs", "the_wakeup_checks_of_chapter_4")),
    ("make fixtures && make validate PLUGIN=target/fixtures/libcapacity_off_by_one.so", By(VALIDATE_RS, "rejects_c_capacity_off_by_one")),
    ("make validate PLUGIN=target/fixtures/libif_not_while.so", By(VALIDATE_RS, "rejects_c_if_instead_of_while")),
    ("make validate PLUGIN=target/fixtures/libsignal_on_close.so VALIDATE_ARGS=\"--checks wakeup\"", By("harness/tests/book_commands.rs", "the_wakeup_checks_of_chapter_4")),
    ("make validate PLUGIN=target/fixtures/libshared_condvar.so VALIDATE_ARGS=\"--checks wakeup\"", By("harness/tests/book_commands.rs", "the_wakeup_checks_of_chapter_4")),
    ("make fixtures && make validate PLUGIN=target/fixtures/libport_notify_one_on_close.so", By(VALIDATE_RS, "rejects_port_notify_one_on_close")),
    // ch05, ch09: the native shutdown probes (correctness probes, seconds)
    ("cargo run --release --bin bqh -- shutdown --native --impl tokio,crossbeam", Here(&["| question | tokio | crossbeam |", "items still buffered are dropped when the last consumer leaves"])),
    ("cargo run --release --bin bqh -- shutdown --native --impl ocaml,crossbeam,rust-port", Here(&["| question | ocaml | crossbeam | rust-port |", "| a refused push hands the item back to the caller | yes"])),
    // ch06
    ("grep -E 'call/ocaml' docs/bench.md | head -3", Here(&["call/ocaml"])),
    // ch07: a measurement, then reading its folder (on a folder of the same shape in
    // chapter_7_a_a_grep_shows_both_placements); and the canonical run's observations read with sed
    ("cargo run --release --bin bqh -- compare --impl crossbeam --reference crossbeam --workload spsc --capacity 1 --placement same-core,unpinned --no-shutdown --no-memory --budget 30 --out /tmp/aa", NotRun(MEASUREMENT)),
    ("grep -A5 '^\\*\\*The A/A control' /tmp/aa/summary.md", By("harness/tests/book_commands.rs", "chapter_7_a_a_grep_shows_both_placements")),
    ("sed -n '/^## mpmc · cross-core/,/^## fan-in /p' results/2026-12-07-xeon-2core/observations.md | grep -E '^\\| (implementation|rust-sync-channel \\| 16|crossbeam \\| 16) '", Here(&["| implementation |", "| rust-sync-channel | 16 |", "| crossbeam | 16 |", "| 42% of 2 |", "| 93% of 2 |"])),
    // ch09, exercise 1: run as printed, with each of its two edits
    ("mkdir -p target/exercise", By("harness/tests/book_commands.rs", "chapter_9_exercise_1_runs_as_printed")),
    ("cp c/bq.c target/exercise/mybq.c", By("harness/tests/book_commands.rs", "chapter_9_exercise_1_runs_as_printed")),
    ("gcc -std=c11 -shared -fPIC -O2 -I c -o target/exercise/libmybq.so target/exercise/mybq.c -lpthread", By("harness/tests/book_commands.rs", "chapter_9_exercise_1_runs_as_printed")),
    ("make validate PLUGIN=target/exercise/libmybq.so VALIDATE_ARGS=\"--seed 1\"", By("harness/tests/book_commands.rs", "chapter_9_exercise_1_runs_as_printed")),
    // ch09, exercise 2: a measurement, then reading its ratios
    ("cargo run --release --bin bqh -- compare --impl c-pthread --workload spsc --capacity 1,16,1024 --placement same-core --no-shutdown --no-memory --budget 30 --out target/exercise/cap", NotRun(MEASUREMENT)),
    ("grep -A11 '^| implementation' target/exercise/cap/ratios.md", By("harness/tests/book_commands.rs", "chapter_9_exercise_2_grep_shows_the_three_capacities")),
    // ch09, exercise 3: the drain test, on the answer and on notify_one
    // ch08: the porting workflow, run by the tests of each command with a user's module
    ("make validate REFERENCE=their_queue.ml PLUGIN=libport.so", By("harness/tests/validate.rs", "fn an_ocaml_module_from_a_temporary_folder_is_the_reference")),
    ("make compare  REFERENCE=their_queue.ml PLUGIN=libport.so ARGS=\"--impl libport.so\"", By("harness/tests/compare.rs", "fn a_port_is_measured_against_its_original_driven_and_on_its_own_domains")),
    ("target/release/bqh diff results/before results/latest --impl libport.so --fail-above 10", By("harness/tests/diff.rs", "fn diff_catches_a_slowed_port_and_passes_the_same_code_twice")),
    ("cargo test --release -p bq-port drain", By("book-examples/tests/exercises.rs", "chapter_9_exercise_3_the_drain_test_rejects_notify_one")),
];

/// The command lines of a chapter's `sh` blocks: comments after `#` dropped, lines continued
/// with `\` joined.
fn commands(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in md.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            in_sh = t == "```sh";
            continue;
        }
        if !in_sh || t.is_empty() {
            continue;
        }
        let t = t.split("  #").next().unwrap().trim_end();
        match t.strip_suffix('\\') {
            Some(head) => pending.push_str(head.trim_end()),
            None => {
                let whole = if pending.is_empty() { t.to_string() } else { format!("{} {}", pending, t.trim_start()) };
                pending.clear();
                out.push(whole);
            }
        }
    }
    out
}

fn chapters() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir(root().join("book/src"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    v.sort();
    v
}

#[test]
fn every_command_in_the_book_is_accounted_for() {
    let mut unknown = Vec::new();
    let mut seen = Vec::new();
    for (name, text) in chapters() {
        if name == "ch02-build-it.md" {
            continue; // book-examples/tests/outputs.rs
        }
        for c in commands(&text) {
            if !COMMANDS.iter().any(|(k, _)| *k == c) {
                unknown.push(format!("{name}: {c}"));
            }
            seen.push(c);
        }
    }
    assert!(
        unknown.is_empty(),
        "commands in the book that no test runs (add them to COMMANDS):\n{}",
        unknown.join("\n")
    );
    for (c, how) in COMMANDS {
        assert!(seen.iter().any(|s| s == c), "COMMANDS names `{c}`, which the book no longer shows");
        if let NotRun(why) = how {
            assert!(!why.is_empty(), "`{c}` is not run, and says not why");
        }
        if let By(file, what) = how {
            let text = std::fs::read_to_string(root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert!(text.contains(what), "`{c}` is said to be run by {file} ({what}), which has no such thing");
        }
    }
    // Chapter 2's are checked where they run.
    let outputs = std::fs::read_to_string(root().join("book-examples/tests/outputs.rs")).unwrap();
    assert!(outputs.contains("fn every_command_of_the_chapter_is_run_by_a_test"));
}

/// Runs `script` with sh in the repository's root; (exit code, stdout + stderr).
fn sh(script: &str, limit: Duration) -> (Option<i32>, String) {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let o = thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let e = thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("`{script}` still ran after {limit:?}");
        }
        thread::sleep(Duration::from_millis(50));
    };
    (status.code(), format!("{}{}", o.join().unwrap(), e.join().unwrap()))
}

#[test]
fn the_commands_run_here_run_as_printed() {
    let mut failures = Vec::new();
    for (c, how) in COMMANDS {
        let Here(must) = how else { continue };
        if *c == "make book-open" && !root().join("target/book/index.html").is_file() {
            eprintln!("no built book: make test builds it before this test");
            continue;
        }
        let (code, out) = sh(c, Duration::from_secs(600));
        let missing: Vec<&&str> = must.iter().filter(|m| !out.contains(**m)).collect();
        if code != Some(0) || !missing.is_empty() {
            failures.push(format!("`{c}`: exit {code:?}, missing {missing:?}:\n{out}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The book's `sh` block that contains `line`, as its command lines.
fn block_with(chapter: &str, line: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join("book/src").join(chapter)).unwrap();
    let blocks: Vec<&str> = text.split("```sh").skip(1).map(|b| b.split("```").next().unwrap()).collect();
    let block =
        blocks.iter().find(|b| b.contains(line)).unwrap_or_else(|| panic!("{chapter} has no sh block with `{line}`"));
    commands(&format!("```sh{block}```"))
}

/// Chapter 4: the wake-up check rejects signal_on_close and accepts shared_condvar, as its text
/// and its exercise's answer say (`make fixtures` has run: the test above, or here).
#[test]
fn the_wakeup_checks_of_chapter_4() {
    let (code, out) = sh("make fixtures", Duration::from_secs(600));
    assert_eq!(code, Some(0), "{out}");
    let signal = "make validate PLUGIN=target/fixtures/libsignal_on_close.so VALIDATE_ARGS=\"--checks wakeup\"";
    let shared = "make validate PLUGIN=target/fixtures/libshared_condvar.so VALIDATE_ARGS=\"--checks wakeup\"";
    assert!(block_with("ch04-waiting.md", signal).iter().any(|c| c == signal));
    assert!(block_with("ch04-waiting.md", shared).iter().any(|c| c == shared));
    let (code, out) = sh(signal, Duration::from_secs(600));
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("not-woken-by-close")
            && out.contains("make validate: bqh validate exited 1: a check found a difference"),
        "{out}"
    );
    let (code, out) = sh(shared, Duration::from_secs(600));
    assert_eq!(code, Some(0), "the wake-up check alone accepts shared_condvar, chapter 4's exercise says:\n{out}");
}

/// Chapter 7's exercise: the grep that reads the measured folder's A/A control shows its table,
/// header and both placements' rows, on a summary of the same shape (the canonical run's A/A
/// paragraph and table, cut to spsc in two placements as the exercise's selection makes it).
#[test]
fn chapter_7_a_a_grep_shows_both_placements() {
    let text = std::fs::read_to_string(root().join("results/2026-12-07-xeon-2core/summary.md")).unwrap();
    let from = text.find("**The A/A control").expect("summary.md has the A/A control's paragraph");
    let mut lines = text[from..].lines();
    let paragraph = lines.next().unwrap();
    let table: Vec<&str> = lines.skip_while(|l| l.is_empty()).take_while(|l| l.starts_with('|')).collect();
    assert!(
        table.len() > 2 && table[0].starts_with("| configuration (reference)"),
        "no A/A table after its paragraph:\n{table:?}"
    );
    let keep = |l: &&&str| {
        l.starts_with("| configuration")
            || l.starts_with("|---")
            || l.starts_with("| spsc (")
            || l.starts_with("| spsc · cross-core (")
    };
    let cut: Vec<&str> = table.iter().filter(keep).copied().collect();
    assert_eq!(cut.len(), 4, "{cut:?}");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("book-commands-aa");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("summary.md"), format!("## How it was measured, and the A/A control\n\n{paragraph}\n\n{}\n\n## Ratios\n\n| implementation | spsc |\n", cut.join("\n"))).unwrap();
    let grep = block_with("ch07-figures.md", "The A/A control").into_iter().find(|c| c.starts_with("grep")).unwrap();
    let (code, out) =
        sh(&format!("cd '{}' && {}", dir.display(), grep.replace("/tmp/aa/", "")), Duration::from_secs(30));
    assert_eq!(code, Some(0), "{out}");
    for row in ["| configuration (reference) |", "| spsc (crossbeam) |", "| spsc · cross-core (rust-sync-channel) |"] {
        assert!(out.lines().any(|l| l.starts_with(row)), "`{grep}` does not show `{row}`:\n{out}");
    }
}

/// Chapter 9, exercise 2: the grep that reads the measured ratios shows the three capacities,
/// on a folder of the same shape (the committed paired run, cut to c-pthread and spsc as the
/// exercise's `--impl` and `--workload` make it).
#[test]
fn chapter_9_exercise_2_grep_shows_the_three_capacities() {
    let text = std::fs::read_to_string(root().join("results/2026-12-07-xeon-2core/ratios.md")).unwrap();
    let spsc = text.split("## spsc").nth(1).expect("ratios.md has an spsc section");
    let spsc = spsc.split("\n## ").next().unwrap();
    let keep = |l: &&str| {
        !l.starts_with('|')
            || l.starts_with("| implementation")
            || l.starts_with("|---")
            || l.starts_with("| crossbeam (A/A)")
            || l.starts_with("| c-pthread ")
    };
    let cut: Vec<&str> =
        spsc.lines().filter(keep).filter(|l| !l.contains("unpinned") && !l.contains("cross-core")).collect();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("book-commands");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ratios.md"), format!("## spsc{}\n", cut.join("\n"))).unwrap();
    let grep = block_with("ch09-exercises.md", "grep -A11").into_iter().find(|c| c.starts_with("grep")).unwrap();
    let (_, out) =
        sh(&format!("cd '{}' && {}", dir.display(), grep.replace("target/exercise/cap/", "")), Duration::from_secs(30));
    for cap in ["| 1 |", "| 16 |", "| 1024 |"] {
        assert!(
            out.lines().any(|l| l.starts_with("| c-pthread |") && l.contains(cap)),
            "`{grep}` shows no c-pthread row at capacity {cap}:\n{out}"
        );
    }
}

/// Chapter 9, exercise 1, as printed: the copy, each of the two edits, the plugin, and `make
/// validate` with the seed; every finding the answer quotes is in the output.
#[test]
fn chapter_9_exercise_1_runs_as_printed() {
    let build = block_with("ch09-exercises.md", "cp c/bq.c target/exercise/mybq.c");
    let validate = block_with("ch09-exercises.md", "make validate PLUGIN=target/exercise/libmybq.so");
    let chapter = std::fs::read_to_string(root().join("book/src/ch09-exercises.md")).unwrap();
    let broadcast =
        "    pthread_cond_broadcast(&q->not_full);\n    pthread_mutex_unlock(&q->mutex);\n}\n/* ANCHOR_END: close */";
    // (the edit, c/bq.c's text, what it becomes, what the output shows, what the chapter quotes)
    type Case<'a> = (&'a str, &'a str, &'a str, &'a [&'a str], &'a [&'a str]);
    let cases: [Case; 2] = [
        (
            "close does not wake producers",
            broadcast,
            "    pthread_mutex_unlock(&q->mutex);\n}\n/* ANCHOR_END: close */",
            &[
                "sequential       pass",
                "linearizability  pass",
                "stress           pass",
                "[not-woken-by-close]",
                "1 of 1 blocked producers (push()) still blocked 5s after the close (1 item(s) buffered)",
                "capacity 1, a full queue",
                "blocked producers are woken by the explicit close",
                "blocked producers are woken when the consumers go away",
                "ocaml: yes (3 of 3 woken with closed)",
            ],
            &[
                "not-woken-by-close",
                "1 of 1 blocked producers (push()) still blocked 5s after the close (1 item(s) buffered)",
                "capacity 1, a full queue",
                "blocked producers are woken by the explicit close",
                "blocked producers are woken when the consumers go away",
            ],
        ),
        (
            "enqueue does not signal",
            "    q->len++;\n    pthread_cond_signal(&q->not_empty);\n",
            "    q->len++;\n",
            &[
                "sequential       pass",
                "linearizability  pass",
                "[lost-wakeup]",
                "1 of 1 blocked consumers (pop_timeout(u64::MAX ns)) still blocked 5s after items arrived (1 item(s) buffered)",
                "capacity 1, an empty queue",
                "[deadlock]",
                "no item delivered for 5s, with 8 producer(s) blocked in push and 8 consumer(s) blocked in pop, 1 item(s) buffered",
                "nothing accepted is lost when the producers close mid-stream",
            ],
            &[
                "lost-wakeup",
                "1 of 1 blocked consumers (pop_timeout(u64::MAX ns)) still blocked 5s after items arrived (1 item(s) buffered)",
                "capacity 1, an empty queue",
                "no item delivered for 5s, with 8 producer(s) blocked in push and 8 consumer(s) blocked in pop, 1 item(s) buffered",
                "nothing accepted is lost when the producers close mid-stream",
            ],
        ),
    ];
    let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let chapter = words(&chapter);
    for (what, from, to, shown, quoted) in cases {
        // mkdir, cp, then the edit the text describes, then gcc.
        let (copy, compile): (Vec<&String>, Vec<&String>) = build.iter().partition(|c| !c.starts_with("gcc"));
        let (code, out) =
            sh(&copy.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(" && "), Duration::from_secs(60));
        assert_eq!(code, Some(0), "{out}");
        let mybq = root().join("target/exercise/mybq.c");
        let text = std::fs::read_to_string(&mybq).unwrap();
        assert!(text.contains(from), "c/bq.c no longer has the line the exercise removes ({what})");
        std::fs::write(&mybq, text.replace(from, to)).unwrap();
        let (code, out) = sh(compile[0], Duration::from_secs(120));
        assert_eq!(code, Some(0), "{out}");
        let (code, out) = sh(&validate[0], Duration::from_secs(900));
        assert_eq!(code, Some(2), "{what}: make validate exits 2 on a rejected queue:\n{out}");
        let verdict = "make validate: bqh validate exited 1: a check found a difference";
        assert!(
            out.lines().any(|l| l.starts_with(verdict)) && chapter.contains(verdict),
            "{what}: no `{verdict}`:\n{out}"
        );
        for f in shown {
            assert!(out.contains(f), "{what}: the output has no `{f}`:\n{out}");
        }
        for q in quoted {
            assert!(words(&out).contains(q), "{what}: chapter 9 quotes `{q}`, which the output does not show:\n{out}");
            assert!(chapter.contains(q), "{what}: chapter 9 does not quote `{q}`");
        }
    }
}
