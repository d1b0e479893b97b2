//! Compiles the queues the check runs on, each twice, into OUT_DIR:
//!
//! - with the check's own `Condvar` (`src/check.rs`, module `sync`: std's, counting the threads
//!   that sleep in it, and waking them spuriously when a stage asks for it), by replacing every
//!   `std::sync::` of the file with `crate::check::sync::`;
//! - with shuttle's `Mutex` and `Condvar`, by replacing `std::sync::` with `shuttle::sync::`.
//!
//! The queues: the learner's file (`../exercise/my_queue.rs`, for `src/main.rs`), and for the
//! test `tests/answers.rs` the book's solution (`../examples/step5_queue.rs`, up to its `main`)
//! and every answer of `src/answers.rs` (the solution with some text replaced). Each copy keeps
//! its source's line numbers: the adapter to the check's `Queue` trait is appended at the end.
//!
//! Before that, the learner's file is compiled on its own with rustc: when it does not compile,
//! the build stops here with rustc's errors, which name the learner's file and lines (and not
//! twice, as the two copies would).
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

include!("src/answers.rs");

/// The adapter from a queue module to the check's `Queue` trait (items are u64). `m` is the
/// path of the module that defines `Queue`, `PushError` and `PopError` (empty: this one), `c`
/// the path of the module with the check's trait and errors.
fn adapter(m: &str, c: &str) -> String {
    format!(
        "
// Appended by the check's build script: how the check calls your queue. The signatures are the
// skeleton's; keep them.
impl {c}Queue for {m}Queue<u64> {{
    fn new(capacity: usize) -> Self {{ {m}Queue::new(capacity) }}
    fn push(&self, x: u64) -> Result<(), u64> {{ {m}Queue::push(self, x) }}
    fn pop(&self) -> Option<u64> {{ {m}Queue::pop(self) }}
    fn push_timeout(&self, x: u64, t: std::time::Duration) -> Result<(), {c}PushError> {{
        match {m}Queue::push_timeout(self, x, t) {{
            Ok(()) => Ok(()),
            Err({m}PushError::Closed(x)) => Err({c}PushError::Closed(x)),
            Err({m}PushError::Timeout(x)) => Err({c}PushError::Timeout(x)),
        }}
    }}
    fn pop_timeout(&self, t: std::time::Duration) -> Result<u64, {c}PopError> {{
        match {m}Queue::pop_timeout(self, t) {{
            Ok(x) => Ok(x),
            Err({m}PopError::Closed) => Err({c}PopError::Closed),
            Err({m}PopError::Timeout) => Err({c}PopError::Timeout),
        }}
    }}
    fn close(&self) {{ {m}Queue::close(self) }}
    fn len(&self) -> usize {{ {m}Queue::len(self) }}
}}
"
    )
}

/// The check's trait and errors, for the learner's file compiled alone (src/check.rs has the
/// same).
const TRAIT: &str = "
pub mod check {
    pub trait Queue: Send + Sync + 'static {
        fn new(capacity: usize) -> Self where Self: Sized;
        fn push(&self, x: u64) -> Result<(), u64>;
        fn pop(&self) -> Option<u64>;
        fn push_timeout(&self, x: u64, t: std::time::Duration) -> Result<(), PushError>;
        fn pop_timeout(&self, t: std::time::Duration) -> Result<u64, PopError>;
        fn close(&self);
        fn len(&self) -> usize;
    }
    pub enum PushError { Closed(u64), Timeout(u64) }
    pub enum PopError { Closed, Timeout }
}
";

struct Out {
    dir: PathBuf,
    /// `mod` declarations of the generated copies.
    mods: String,
    /// (generated file, the source it was made from), to name the source in messages.
    sources: Vec<(String, String)>,
}

impl Out {
    /// Writes `text` twice (check's sync, shuttle's) as modules NAME_std and NAME_shuttle.
    fn queue(&mut self, name: &str, text: &str, source: &str) {
        for (suffix, sync) in [("std", "crate::check::sync::"), ("shuttle", "shuttle::sync::")] {
            let file = self.dir.join(format!("{name}_{suffix}.rs"));
            let body = text.replace("std::sync::", sync) + &adapter("", "crate::check::");
            fs::write(&file, body).unwrap();
            let file = file.to_str().unwrap().to_string();
            writeln!(self.mods, "#[allow(unused, clippy::all)]\n#[path = {file:?}]\npub mod {name}_{suffix};").unwrap();
            self.sources.push((file, source.to_string()));
        }
    }

    fn write(&self, file: &str, extra: &str) {
        let mut text = self.mods.clone();
        writeln!(
            text,
            "/// Generated file -> the source it was made from.\npub const SOURCES: &[(&str, &str)] = &{:?};",
            self.sources
        )
        .unwrap();
        text.push_str(extra);
        fs::write(self.dir.join(file), text).unwrap();
    }
}

/// The learner's file must compile on its own, with the signatures the check calls.
fn precheck(learner: &Path, out: &Path) {
    let dir = out.join("precheck");
    fs::create_dir_all(&dir).unwrap();
    let lib = dir.join("lib.rs");
    let root = format!(
        "#[path = {:?}]\nmod my_queue;\n{TRAIT}{}",
        learner.to_str().unwrap(),
        adapter("my_queue::", "check::")
    );
    fs::write(&lib, root).unwrap();
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let o = Command::new(rustc)
        .args([
            "--edition",
            "2021",
            "--crate-type",
            "lib",
            "--crate-name",
            "my_queue_alone",
            "--emit=metadata",
            "-A",
            "warnings",
        ])
        .arg("--out-dir")
        .arg(&dir)
        .arg(&lib)
        .output()
        .expect("cannot run rustc");
    if !o.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&o.stderr));
        eprintln!(
            "check-my-queue: {} does not compile (rustc's errors above). Errors in \
             precheck/lib.rs are in the code that calls your queue: keep the skeleton's types \
             and signatures (`git diff book-examples/exercise/my_queue.rs` shows what changed).",
            learner.display()
        );
        std::process::exit(1);
    }
}

/// The solution with an answer's edits: every `from` replaced, and each must be there.
fn apply(solution: &str, answer: &Answer) -> String {
    let mut text = solution.to_string();
    for (from, to) in answer.edits {
        assert!(
            text.contains(from),
            "src/answers.rs: answer {}: {from:?} is not in the solution (after its earlier edits)",
            answer.name
        );
        text = text.replace(from, to);
    }
    assert_ne!(text, solution, "answer {} changes nothing", answer.name);
    text
}

fn main() {
    let here = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let learner = here.join("../exercise/my_queue.rs");
    let solution_file = here.join("../examples/step5_queue.rs");
    for f in [&learner, &solution_file, &here.join("src/answers.rs")] {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let learner = learner.canonicalize().unwrap();

    precheck(&learner, &out);
    let mut mine = Out { dir: out.clone(), mods: String::new(), sources: Vec::new() };
    mine.queue("learner", &fs::read_to_string(&learner).unwrap(), "book-examples/exercise/my_queue.rs");
    mine.write("learner.rs", "");

    // The solution: the example up to its program.
    let example = fs::read_to_string(&solution_file).unwrap();
    let solution = example.split("// ANCHOR: main").next().unwrap();
    let mut all = Out { dir: out, mods: String::new(), sources: Vec::new() };
    all.queue("solution", solution, "book-examples/examples/step5_queue.rs");
    let mut table = String::from(
        "/// How a queue of the test is checked.\npub type Run = fn() -> crate::check::Checks;\n\
         /// Every queue of the test: (name, right?, its checks).\npub const VARIANTS: &[(&str, bool, Run)] = &[\n",
    );
    table.push_str("    (\"solution\", true, || crate::check::checks::<solution_std::Queue<u64>, solution_shuttle::Queue<u64>>()),\n");
    for (answers, right) in [(RIGHT, true), (WRONG, false)] {
        for a in answers {
            all.queue(a.name, &apply(solution, a), &format!("answer {}", a.name));
            writeln!(
                table,
                "    ({:?}, {right}, || crate::check::checks::<{0}_std::Queue<u64>, {0}_shuttle::Queue<u64>>()),",
                a.name
            )
            .unwrap();
        }
    }
    table.push_str("];\n");
    all.write("answers.rs", &table);
}
