//! The book's exercises whose checks are programs or tests: each check rejects every wrong
//! answer that the exercise's hidden answer lists, and accepts its right answers. Each answer is
//! a copy of the exercise's file with some text replaced (the file itself is never touched),
//! compiled with rustc into a scratch folder and run under a deadline. (The exercise at the end
//! of chapter 2 has a crate of its own for this: book-examples/check, tests/answers.rs.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("exercises").join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// An answer: the exercise's file with every `from` replaced by `to` (each must be there).
struct Answer {
    name: &'static str,
    right: bool,
    edits: &'static [(&'static str, &'static str)],
}

fn edited(text: &str, a: &Answer) -> String {
    let mut t = text.to_string();
    for (from, to) in a.edits {
        assert!(t.contains(from), "answer {}: {from:?} is not in the file", a.name);
        t = t.replace(from, to);
    }
    t
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
            panic!("{cmd:?} still ran after {limit:?}");
        }
        thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// `text` compiled with rustc (optimised, as `cargo run --release`) into `dir/name`.
fn compile(dir: &Path, name: &str, text: &str, args: &[&str]) -> PathBuf {
    let src = dir.join(format!("{name}.rs"));
    std::fs::write(&src, text).unwrap();
    let bin = dir.join(name);
    let o = run(
        Command::new("rustc")
            .args(["--edition", "2021", "-O", "-A", "warnings"])
            .args(args)
            .arg("-o")
            .arg(&bin)
            .arg(&src),
        Duration::from_secs(300),
    );
    assert!(o.status.success(), "rustc {}: {}", src.display(), String::from_utf8_lossy(&o.stderr));
    bin
}

/// Exercise 1 of chapter 2: keep one condition variable and make the queue correct by changing
/// the two `EXERCISE` lines. The check is the program itself.
const ONE_CONDVAR: &[Answer] = &[
    Answer { name: "as_shipped", right: false, edits: &[] },
    Answer {
        name: "notify_one_twice",
        right: false,
        edits: &[(
            "self.changed.notify_one(); // EXERCISE",
            "self.changed.notify_one(); self.changed.notify_one(); // EXERCISE",
        )],
    },
    Answer {
        name: "notify_all_in_both",
        right: true,
        edits: &[("self.changed.notify_one(); // EXERCISE", "self.changed.notify_all(); // EXERCISE")],
    },
    Answer {
        name: "notify_all_in_pop_only",
        right: true,
        edits: &[(
            "        self.changed.notify_one(); // EXERCISE\n        x",
            "        self.changed.notify_all(); // EXERCISE\n        x",
        )],
    },
    Answer {
        name: "notify_all_in_push_only",
        right: true,
        edits: &[(
            "        self.changed.notify_one(); // EXERCISE\n    }\n\n    pub fn pop",
            "        self.changed.notify_all(); // EXERCISE\n    }\n\n    pub fn pop",
        )],
    },
];

#[test]
fn chapter_2_exercise_1_its_check_rejects_every_wrong_answer() {
    let file = root().join("book-examples/examples/exercise_one_condvar.rs");
    let text = std::fs::read_to_string(&file).unwrap();
    let dir = scratch("one_condvar");
    let failures: Vec<String> = thread::scope(|s| {
        let handles: Vec<_> = ONE_CONDVAR
            .iter()
            .map(|a| {
                let (text, dir) = (&text, &dir);
                s.spawn(move || {
                    let bin = compile(dir, a.name, &edited(text, a), &[]);
                    let o = run(&mut Command::new(&bin), Duration::from_secs(300));
                    let out = String::from_utf8_lossy(&o.stdout).to_string();
                    let (code, word) = if a.right { (0, "right: ") } else { (1, "not yet: ") };
                    println!(
                        "{} ({}): exit {:?}: {}",
                        a.name,
                        if a.right { "right" } else { "wrong" },
                        o.status.code(),
                        out.trim()
                    );
                    (o.status.code() != Some(code) || !out.starts_with(word)).then(|| {
                        format!(
                            "{}: expected exit {code} and `{word}...`, got exit {:?}: {out}",
                            a.name,
                            o.status.code()
                        )
                    })
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().unwrap()).collect()
    });
    assert!(failures.is_empty(), "the check of chapter 2's exercise 1 misjudges:\n{}", failures.join("\n"));
}

/// Exercise 2 of chapter 2: with `notify_one` in close, step 3's program prints what the book
/// shows for the right one: its single consumer cannot tell the difference.
#[test]
fn chapter_2_exercise_2_notify_one_in_close_changes_nothing_the_program_prints() {
    let file = root().join("book-examples/examples/step3_close.rs");
    let a = Answer {
        name: "step3_close_notify_one",
        right: false,
        edits: &[("        self.not_empty.notify_all();\n", "        self.not_empty.notify_one();\n")],
    };
    let bin = compile(&scratch("step3"), a.name, &edited(&std::fs::read_to_string(file).unwrap(), &a), &[]);
    let o = run(&mut Command::new(&bin), Duration::from_secs(60));
    let expected = std::fs::read_to_string(root().join("book-examples/expected/step3_close.txt")).unwrap();
    let want = expected.split_once('\n').unwrap().1;
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        want,
        "step 3 with notify_one in close printed something else than the book shows"
    );
}

/// Exercise 3 of chapter 9: port `drain`; the exercise's test (book-examples/answers/drain.rs,
/// beside the port's own tests) passes with the answer and fails with `notify_one`, the
/// exercise's own question, instead of hanging.
#[test]
fn chapter_9_exercise_3_the_drain_test_rejects_notify_one() {
    // Where `drain` goes: before `len` (spelt in two pieces, so that this file has no anchor).
    const LEN: &str = concat!("// ANCH", "OR: len\n");
    let answer = std::fs::read_to_string(root().join("book-examples/answers/drain.rs")).unwrap();
    let anchored = |name: &str| {
        let start = format!("// ANCHOR: {name}\n");
        answer.split(&start).nth(1).unwrap().split(&format!("// ANCHOR_END: {name}")).next().unwrap().to_string()
    };
    let (drain, test) = (anchored("drain"), anchored("test"));
    let lib = std::fs::read_to_string(root().join("rust/src/lib.rs")).unwrap();
    let swap = std::fs::read_to_string(root().join("rust/src/swap.rs")).unwrap();
    assert!(lib.contains(LEN) && lib.contains("    use super::*;\n"), "rust/src/lib.rs changed shape");
    for (name, right, drain) in [
        ("right", true, drain.clone()),
        ("notify_one", false, drain.replace("self.not_full.notify_all();", "self.not_full.notify_one();")),
    ] {
        assert!(right || drain.contains("notify_one"), "the wrong answer is the right one");
        let dir = scratch(&format!("drain-{name}"));
        std::fs::write(dir.join("swap.rs"), &swap).unwrap();
        let port = lib.replacen(LEN, &format!("{drain}\n{LEN}"), 1).replacen(
            "    use super::*;\n",
            &format!("    use super::*;\n\n{test}\n"),
            1,
        );
        let bin = compile(&dir, "lib", &port, &["--test", "--crate-name", "bq_port"]);
        let o = run(
            Command::new(&bin).args(["tests::drain_wakes_every_parked_producer", "--exact"]),
            Duration::from_secs(120),
        );
        let out = String::from_utf8_lossy(&o.stdout);
        println!("drain with {name}: exit {:?}\n{out}", o.status.code());
        if right {
            assert!(o.status.success() && out.contains("1 passed"), "the drain test fails the right answer:\n{out}");
        } else {
            assert!(
                !o.status.success() && out.contains("a producer still sleeps"),
                "the drain test accepts notify_one:\n{out}"
            );
        }
    }
}
