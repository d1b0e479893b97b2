//! `bqh validate` end to end: the six built-ins and correct plugins pass (a Rust crate built
//! outside the project with bq-export, an OCaml module as the reference); every deliberately
//! broken queue of `tests/fixtures/mutants` is rejected with the right finding, a
//! linearizability failure with its timeline; a broken OCaml module is rejected as the
//! reference; bad input is a clear error; the two C queues and the fixtures run clean under ThreadSanitizer and
//! AddressSanitizer; shuttle model-checks the Rust port.
//!
//! Every child process runs under a deadline (`run`): a hang fails the test with the command's
//! output instead of stalling CI. Nothing here asserts on speed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use harness::validate::{Check, CheckReport, Misbehaviour};

const BQH: &str = env!("CARGO_BIN_EXE_bqh");
/// One validation of one candidate takes seconds; a mutant whose waiters hang costs several
/// watchdog limits (about a minute). Past this deadline the run is stuck.
const DEADLINE: Duration = Duration::from_secs(400);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn scratch() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("validate");
    std::fs::create_dir_all(&d).unwrap();
    d
}

struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Output {
    fn show(&self) -> String {
        format!("exit {:?}\n--- stdout\n{}\n--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

/// Runs `cmd` to the end, or kills it at `limit` and fails the test.
fn run(cmd: &mut Command, limit: Duration) -> Output {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let pipe = |mut r: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = pipe(Box::new(child.stdout.take().unwrap()));
    let err = pipe(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(50));
    };
    let o = Output { code: status.and_then(|s| s.code()), stdout: out.join().unwrap(), stderr: err.join().unwrap() };
    assert!(status.is_some(), "{what} did not finish within {limit:?}: killed\n{}", o.show());
    o
}

/// `bqh validate ARGS --json FILE`: the output and the parsed reports.
fn validate(args: &[&str]) -> (Output, Vec<CheckReport>) {
    validate_env(&[], args)
}

/// [`validate`] with environment variables set.
fn validate_env(env: &[(&str, &str)], args: &[&str]) -> (Output, Vec<CheckReport>) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let json = scratch().join(format!("report-{}-{}.json", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
    let _ = std::fs::remove_file(&json);
    let mut cmd = Command::new(BQH);
    cmd.arg("validate").args(args).arg("--json").arg(&json).current_dir(root()).envs(env.iter().copied());
    let out = run(&mut cmd, DEADLINE);
    let reports = std::fs::read_to_string(&json)
        .map(|s| {
            let v: serde_json::Value = serde_json::from_str(&s).expect("the JSON report parses");
            assert_eq!(v["written_by"], "bqh", "the JSON report lacks bqh's signature");
            serde_json::from_value(v["reports"].clone()).expect("the reports parse")
        })
        .unwrap_or_default();
    (out, reports)
}

/// Builds every fixture once with tests/fixtures/build.sh (the mutants are patches against
/// c/bq.c and rust/src/lib.rs; see there), into a scratch folder.
fn fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch().join("fixtures");
        let o = run(Command::new(root().join("tests/fixtures/build.sh")).arg(&dir), Duration::from_secs(600));
        assert_eq!(o.code, Some(0), "tests/fixtures/build.sh:\n{}", o.show());
        dir
    })
}

fn fixture(name: &str) -> String {
    fixtures().join(format!("lib{name}.so")).to_str().unwrap().to_string()
}

fn has(reports: &[CheckReport], check: Check, kind: Misbehaviour) -> bool {
    reports.iter().any(|r| r.findings.iter().any(|f| f.check == check && f.kind == kind))
}

// ---------------------------------------------------------------------------------------------
// what must pass

#[test]
fn the_builtins_pass() {
    let (out, reports) = validate(&[]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    // Every built-in but tokio, which is validated on request (see the next test).
    let defaults = bq_engine::impls::Builtin::ALL.len() - 1;
    assert_eq!(reports.len(), defaults * Check::ALL.len(), "{}", out.show());
    assert!(reports.iter().all(CheckReport::passed));
}

/// tokio passes every check but linearizability, which finds a window of tokio's own: a freed
/// slot handed to a waiting sender whose wait is then cancelled (timeout or close) made the
/// channel look full meanwhile (see `impls/tokio.rs`).
#[test]
fn tokio_passes_every_check_but_linearizability() {
    let (out, reports) = validate(&["--candidate", "tokio", "--checks", "sequential,wakeup,stress,shutdown"]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(reports.len(), 4, "{}", out.show());
    assert!(reports.iter().all(CheckReport::passed));
}

/// The acceptance case of the docs: a library built outside the project from c/bq.h alone,
/// with the documented command (c/bq.c, and c/bq_vyukov.c and c/bq_swap.c, which the harness
/// links under other names; c/bq_swap.c also exports the optional bq_pop_many); and the port
/// exported through the C ABI.
#[test]
fn plugins_built_from_the_header_alone_pass() {
    let ext = scratch().join("external");
    std::fs::create_dir_all(&ext).unwrap();
    let mut candidates = Vec::new();
    for (src, name) in [("c/bq.c", "mybq"), ("c/bq_vyukov.c", "mybqv"), ("c/bq_swap.c", "mybqs")] {
        std::fs::copy(root().join(src), ext.join(format!("{name}.c"))).unwrap();
        let lib = ext.join(format!("lib{name}.so"));
        // gcc -shared -fPIC -O2 -I c -o /tmp/libmybq.so mybq.c -lpthread
        let o = run(
            Command::new("gcc")
                .args(["-shared", "-fPIC", "-O2", "-I"])
                .arg(root().join("c"))
                .arg("-o")
                .arg(&lib)
                .arg(format!("{name}.c"))
                .arg("-lpthread")
                .current_dir(&ext),
            Duration::from_secs(120),
        );
        assert_eq!(o.code, Some(0), "{}", o.show());
        candidates.push(lib.display().to_string());
    }
    candidates.push(fixture("port_plugin"));
    let (out, reports) = validate(&["--candidate", &candidates.join(",")]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(reports.len(), 4 * Check::ALL.len());
}

/// Builds a crate outside the workspace as docs/validate.md's procedure does, with cargo alone: a
/// temporary folder holding `NAME/Cargo.toml` (`crate-type = ["cdylib"]`, `dependencies`) and
/// `NAME/src/lib.rs` (a copy of `lib_rs`), `cargo build --release --offline` (no network: the
/// workspace's lock file and cargo's cache). Returns the `.so`.
fn external_crate(name: &str, dependencies: &str, lib_rs: &str) -> PathBuf {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("external-{name}"));
    let krate = base.join(name);
    std::fs::create_dir_all(krate.join("src")).unwrap();
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\ncrate-type = [\"cdylib\"]\n\n\
         [dependencies]\n{dependencies}\n[workspace]\n"
    );
    std::fs::write(krate.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(root().join(lib_rs), krate.join("src/lib.rs")).unwrap();
    std::fs::copy(root().join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
    let target = base.join("target");
    let o = run(
        Command::new(option_env!("CARGO").unwrap_or("cargo"))
            .args(["build", "--release", "--offline", "--quiet"])
            .env("CARGO_TARGET_DIR", &target)
            .current_dir(&krate),
        Duration::from_secs(600),
    );
    assert_eq!(o.code, Some(0), "cargo build of the external crate {name}:\n{}", o.show());
    target.join(format!("release/lib{}.so", name.replace('-', "_")))
}

/// docs/validate.md's procedure for a Rust port outside the project: a plugin crate with path
/// dependencies on bq-export and on "your port" (here bq-port; its lib.rs is the built-in
/// plugin's), then `bqh validate --candidate` on the `.so`.
#[test]
fn a_rust_crate_outside_the_project_builds_with_cargo_and_passes() {
    let deps = format!(
        "bq-export = {{ path = \"{root}/export\" }}\nbq-port = {{ path = \"{root}/rust\" }}\n",
        root = root().display()
    );
    let lib = external_crate("myport-plugin", &deps, "rust/plugin/src/lib.rs");
    let (out, reports) = validate(&["--candidate", lib.to_str().unwrap()]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(reports.len(), Check::ALL.len());
}

/// Issue 20: docs/validate.md shows that one cdylib crate with the port written inline (no port crate
/// beside it: `export/examples/inline_port.rs` as its lib.rs, bq-export its only dependency)
/// works as well as a separate port crate.
#[test]
fn a_single_crate_with_the_port_inline_builds_and_passes() {
    let deps = format!("bq-export = {{ path = \"{}/export\" }}\n", root().display());
    let lib = external_crate("inline-port", &deps, "export/examples/inline_port.rs");
    let (out, reports) = validate(&["--candidate", lib.to_str().unwrap()]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(reports.len(), Check::ALL.len());
}

/// Any two implementations compare: here a plugin is the reference.
#[test]
fn a_plugin_can_be_the_reference() {
    let reference = fixture("port_plugin");
    let (out, reports) =
        validate(&["--reference", &reference, "--candidate", "c-pthread", "--checks", "sequential,shutdown"]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert!(reports.iter().all(|r| r.reference == reference));
}

// ---------------------------------------------------------------------------------------------
// an OCaml module as the reference (ocaml/bqueue.mli)

/// A copy of ocaml/bqueue.ml under another name in a scratch folder, with `edit` applied.
fn ocaml_module(name: &str, edit: impl Fn(String) -> String) -> String {
    let dir = scratch().join("ocaml-modules");
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(root().join("ocaml/bqueue.ml")).unwrap();
    let path = dir.join(format!("{name}.ml"));
    std::fs::write(&path, edit(text.clone())).unwrap();
    path.display().to_string()
}

/// The acceptance case: a user's OCaml module, compiled by bqh against the signature,
/// is the reference of every check (and is itself checked alone against the model).
#[test]
fn an_ocaml_module_from_a_temporary_folder_is_the_reference() {
    let module = ocaml_module("their_queue", |t| t);
    let (out, reports) = validate(&["--reference", &module, "--candidate", "rust-port"]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(reports.len(), Check::ALL.len() + 3, "{}", out.show());
    assert!(reports.iter().all(|r| r.reference == module), "{}", out.show());
    assert_eq!(reports.iter().filter(|r| r.of_reference).count(), 3);
}

/// A module with a capacity off by one: the finding says the reference deviates.
#[test]
fn a_broken_ocaml_reference_is_rejected_as_the_reference() {
    let module = ocaml_module("off_by_one", |t| {
        let broken = t.replace(
            "let is_full q = Queue.length q.items >= q.capacity",
            "let is_full q = Queue.length q.items > q.capacity",
        );
        assert_ne!(broken, t, "ocaml/bqueue.ml changed: update this test's edit");
        broken
    });
    let (out, reports) = validate(&["--reference", &module, "--candidate", "rust-port", "--checks", "sequential"]);
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert!(has(&reports, Check::Sequential, Misbehaviour::ReferenceMismatch), "{}", out.show());
    assert!(out.stdout.contains("itself deviates from the model queue"), "{}", out.show());
}

/// Issue 20, 11: a reference that raises in push is the reference's failure: the correct
/// candidate is not named as failed, and the summary says the reference failed.
#[test]
fn a_crashing_reference_is_not_blamed_on_the_candidate() {
    let module = ocaml_module("raises", |t| {
        let broken = t.replace(
            "let push q x =\n  Mutex.protect q.mutex (fun () ->",
            "let push q x =\n  if true then failwith \"raises: push is broken\";\n  Mutex.protect q.mutex (fun () ->",
        );
        assert_ne!(broken, t, "ocaml/bqueue.ml changed: update this test's edit");
        broken
    });
    let (out, reports) =
        validate(&["--reference", &module, "--candidate", "rust-port", "--checks", "sequential,shutdown"]);
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert!(!out.stdout.contains("failed: rust-port"), "the candidate was blamed:\n{}", out.show());
    assert!(out.stdout.contains("1 of 1 candidate(s) passed every check; reference failed"), "{}", out.show());
    let kinds = [Misbehaviour::ReferenceCrash, Misbehaviour::ReferenceMismatch];
    assert!(reports.iter().flat_map(|r| &r.findings).all(|f| kinds.contains(&f.kind)), "{}", out.show());
    assert!(has(&reports, Check::Sequential, Misbehaviour::ReferenceCrash), "{}", out.show());
}

/// A module that does not match the signature: the compiler's message and what to change,
/// exit 2, before any check runs.
#[test]
fn an_ocaml_module_that_does_not_match_the_signature_is_an_input_error() {
    let module = ocaml_module("wrong_label", |t| {
        t.replace(
            "let pop_timeout q ~timeout_ns =\n  let deadline = deadline_after timeout_ns in",
            "let pop_timeout q ~timeout =\n  let deadline = deadline_after timeout in",
        )
    });
    // Issue 20, 14: a failed build leaves nothing in the temporary folder.
    let tmp = scratch().join("tmp-wrong-label");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let (out, _) =
        validate_env(&[("TMPDIR", tmp.to_str().unwrap())], &["--reference", &module, "--candidate", "rust-port"]);
    assert_eq!(out.code, Some(2), "{}", out.show());
    for needle in ["does not match the signature of ocaml/bqueue.mli", "timeout_ns", "Change your module", &module] {
        assert!(out.stderr.contains(needle), "no {needle:?} in the message:\n{}", out.show());
    }
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "a failed build left {left:?} in {}", tmp.display());
}

// ---------------------------------------------------------------------------------------------
// the timeline picture

/// A mutant's linearizability failure comes with an SVG of its history next to the JSON report,
/// the commands no order explains in red, linked from the report.
#[test]
fn a_linearizability_failure_has_a_timeline() {
    // The mutant may first fail in a sequential prefix (a mismatch, no history): try a few seeds.
    let lib = fixture("capacity_off_by_one");
    let (out, reports) = ["5", "1005", "2005"]
        .iter()
        .map(|seed| validate(&["--candidate", &lib, "--checks", "linearizability", "--seed", seed]))
        .find(|(_, r)| has(r, Check::Linearizability, Misbehaviour::NotLinearizable))
        .expect("capacity_off_by_one: no non-linearizable history in three runs");
    assert_eq!(out.code, Some(1), "{}", out.show());
    let r = &reports[0];
    let path = r.timeline.as_deref().unwrap_or_else(|| panic!("no timeline in the report:\n{}", out.show()));
    let svg = std::fs::read_to_string(path).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("#f4a0a0"), "{svg}");
    assert!(out.stdout.contains(&format!("timeline: {path}")), "{}", out.show());
}

// ---------------------------------------------------------------------------------------------
// what must be rejected, and why

/// Validates the mutant `name` with every check: it must fail, with every finding of `all`
/// and at least one of `any` (bugs that show under concurrency may be caught by either).
fn rejects(name: &str, all: &[(Check, Misbehaviour)], any: &[(Check, Misbehaviour)]) {
    let (out, reports) = validate(&["--candidate", &fixture(name)]);
    assert_eq!(out.code, Some(1), "{name} was not rejected:\n{}", out.show());
    for &(c, k) in all {
        assert!(has(&reports, c, k), "{name}: no {k:?} finding from the {c:?} check:\n{}", out.show());
    }
    if !any.is_empty() {
        assert!(any.iter().any(|&(c, k)| has(&reports, c, k)), "{name}: none of {any:?} found:\n{}", out.show());
    }
    // Every failed check comes with a command that replays it, with the failing case's seed
    // (the shutdown probes take none).
    for r in reports.iter().filter(|r| !r.passed()) {
        let replay = r.replay.as_deref().unwrap_or_else(|| panic!("{name}: {:?} has no replay command", r.check));
        assert!(replay.contains("--seed") || r.check == Check::Shutdown, "{name}: {replay}");
    }
}

const CLOSED_WHILE_OPEN: &[(Check, Misbehaviour)] =
    &[(Check::Wakeup, Misbehaviour::ClosedWhileOpen), (Check::Stress, Misbehaviour::ClosedWhileOpen)];
const NOT_WOKEN_BY_CLOSE: &[(Check, Misbehaviour)] =
    &[(Check::Wakeup, Misbehaviour::NotWokenByClose), (Check::Stress, Misbehaviour::NotWokenByClose)];

#[test]
fn rejects_c_if_instead_of_while() {
    rejects("if_not_while", &[], CLOSED_WHILE_OPEN);
}

#[test]
fn rejects_c_signal_instead_of_broadcast_on_close() {
    rejects("signal_on_close", &[(Check::Shutdown, Misbehaviour::ShutdownDiffers)], NOT_WOKEN_BY_CLOSE);
}

#[test]
fn rejects_c_shared_condvar_with_signal() {
    rejects("shared_condvar", &[(Check::Stress, Misbehaviour::Deadlock)], &[]);
}

#[test]
fn rejects_c_capacity_off_by_one() {
    rejects("capacity_off_by_one", &[(Check::Sequential, Misbehaviour::Mismatch)], &[]);
}

#[test]
fn rejects_c_close_that_drops_items() {
    rejects(
        "close_drops_items",
        &[(Check::Sequential, Misbehaviour::Mismatch), (Check::Shutdown, Misbehaviour::ShutdownDiffers)],
        &[],
    );
}

#[test]
fn rejects_c_lost_wakeup_on_timeout() {
    rejects("lost_wakeup_on_timeout", &[(Check::Wakeup, Misbehaviour::LostWakeup)], &[]);
}

#[test]
fn rejects_port_if_instead_of_while() {
    rejects("port_if_not_while", &[], CLOSED_WHILE_OPEN);
}

#[test]
fn rejects_port_notify_one_on_close() {
    rejects("port_notify_one_on_close", &[(Check::Shutdown, Misbehaviour::ShutdownDiffers)], NOT_WOKEN_BY_CLOSE);
}

#[test]
fn rejects_port_shared_condvar() {
    rejects("port_shared_condvar", &[(Check::Stress, Misbehaviour::Deadlock)], &[]);
}

/// The replay command of a finding reproduces it.
#[test]
fn a_finding_replays_from_its_seed() {
    let lib = fixture("capacity_off_by_one");
    let (out, reports) = validate(&["--candidate", &lib, "--checks", "sequential"]);
    assert_eq!(out.code, Some(1), "{}", out.show());
    let first = &reports[0];
    let replay = first.replay.clone().expect("a replay command");
    // Issue 20, 17: the line runs as shown, by a shell with no bqh on PATH.
    let json = scratch().join(format!("replay-{}.json", std::process::id()));
    let line = format!("{replay} --json '{}'", json.display());
    let again = run(Command::new("sh").args(["-c", &line]).env("PATH", "/usr/bin:/bin").current_dir(root()), DEADLINE);
    assert_eq!(again.code, Some(1), "{replay}:\n{}", again.show());
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let replayed: Vec<CheckReport> = serde_json::from_value(v["reports"].clone()).unwrap();
    assert_eq!(replayed[0].cases, 1);
    assert_eq!(replayed[0].findings[0].case, first.findings[0].case, "{replay}");
    // Shrunk to the smallest case: capacity 1, a push, and a second push that should fail.
    assert!(first.findings[0].case[0].starts_with("capacity 1; 2 command(s)"), "{:?}", first.findings[0].case);
}

// ---------------------------------------------------------------------------------------------
// bad input: a clear message and exit status 2, never a panic trace

fn bad_input(args: &[&str], message: &str) {
    let (out, _) = validate(args);
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(out.stderr.contains(message), "expected {message:?} in:\n{}", out.show());
    assert!(!out.stderr.contains("panicked"), "{}", out.show());
}

/// A timeline folder that bqh did not make, and an OCaml module that is not there: refused
/// before any check runs.
#[test]
fn a_foreign_timeline_folder_and_a_missing_module_are_errors() {
    let foreign = scratch().join("foreign-timelines");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    let (out, _) = validate(&["--candidate", "rust-port", "--timeline", foreign.to_str().unwrap()]);
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(out.stderr.contains("did not create"), "{}", out.show());
    assert_eq!(std::fs::read_to_string(foreign.join("notes.txt")).unwrap(), "mine");
    let (out, _) = validate(&["--reference", "no/such/queue.ml", "--candidate", "rust-port"]);
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(out.stderr.contains("no/such/queue.ml: no such file"), "{}", out.show());
}

#[test]
fn an_unknown_name_is_an_error() {
    bad_input(&["--candidate", "nope"], "unknown implementation 'nope': expected one of rust-sync-channel");
    bad_input(&["--reference", "nope"], "unknown implementation 'nope'");
}

#[test]
fn a_file_that_is_not_a_library_is_an_error() {
    let not_a_lib = root().join("tests/fixtures/mutants/if_not_while.c.patch");
    bad_input(&["--candidate", not_a_lib.to_str().unwrap()], "cannot be loaded as a shared library");
    bad_input(&["--candidate", "./no-such-lib.so"], "no such file");
    // Issue 20: with no case or no run, nothing is checked; that used to print "pass".
    bad_input(&["--cases", "0"], "--cases 0: choose between 1 and 1000000");
    bad_input(&["--reps", "0"], "--reps 0: choose between 1 and 10000");
    bad_input(&["--cases", "18446744073709551615"], "choose between 1 and 1000000");
}

#[test]
fn a_missing_symbol_is_an_error() {
    bad_input(&["--candidate", &fixture("missing")], "does not export bq_pop_timeout");
}

/// A plugin that segfaults is a finding naming the signal and the case; the harness goes on.
#[test]
fn a_crashing_plugin_is_a_finding() {
    let (out, reports) = validate(&["--candidate", &fixture("crash"), "--checks", "sequential,shutdown"]);
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert_eq!(reports.len(), 2, "both checks reported:\n{}", out.show());
    let f = &reports[0].findings[0];
    assert_eq!(f.kind, Misbehaviour::Crash, "{}", out.show());
    assert!(f.summary.contains("SIGSEGV") && f.summary.contains("sequential case"), "{}", f.summary);
}

/// Issue 20, 9: a status code c/bq.h lacks is a clear finding in every check, naming the code:
/// no lost wake-up made of a waiter's panic, no backtrace lines (even with RUST_BACKTRACE=1), no
/// Rust Debug output.
#[test]
fn a_foreign_status_code_is_a_clear_finding() {
    let (out, reports) = validate_env(
        &[("RUST_BACKTRACE", "1")],
        &["--candidate", &fixture("foreign"), "--checks", "wakeup,shutdown", "--cases", "20"],
    );
    assert_eq!(out.code, Some(1), "{}", out.show());
    let code = "returned 42, which is not a status code of c/bq.h";
    let wakeup = reports.iter().find(|r| r.check == Check::Wakeup).expect("a wakeup report");
    let f = &wakeup.findings[0];
    assert_eq!(f.kind, Misbehaviour::Panic, "{}", out.show());
    assert!(f.summary.contains(code), "{}", out.show());
    for r in &reports {
        for f in &r.findings {
            let text = format!("{}\n{}", f.summary, f.case.join("\n"));
            assert!(!text.contains("stack backtrace") && !text.contains("rust_begin_unwind"), "{text}");
            assert!(!text.contains("Panicked {"), "Debug output in a finding: {text}");
        }
    }
    assert!(!out.stdout.contains("stack backtrace") && !out.stdout.contains("Panicked {"), "{}", out.show());
}

/// Issue 20, 16: a lost wake-up on close shrinks to its fewest waiters (2: one woken, one not),
/// where it used to stop at the first hang (3 waiters), and says what was buffered.
#[test]
fn a_wakeup_finding_shrinks_to_two_waiters() {
    let (out, reports) = validate(&["--candidate", &fixture("signal_on_close"), "--checks", "wakeup"]);
    assert_eq!(out.code, Some(1), "{}", out.show());
    let f = &reports[0].findings[0];
    assert_eq!(f.kind, Misbehaviour::NotWokenByClose, "{}", out.show());
    assert!(
        f.case.iter().any(|l| l.starts_with("2 consumers parked") || l.starts_with("2 producers parked")),
        "{}",
        out.show()
    );
    assert!(f.summary.contains("1 of 2 blocked") && f.summary.contains("item(s) buffered)"), "{}", out.show());
}

/// A plugin that never returns is a hang finding, located at the command that hung.
#[test]
fn a_hanging_plugin_is_a_finding() {
    let (out, reports) = validate(&["--candidate", &fixture("hang"), "--checks", "sequential"]);
    assert_eq!(out.code, Some(1), "{}", out.show());
    let f = &reports[0].findings[0];
    assert_eq!(f.kind, Misbehaviour::Hang, "{}", out.show());
    assert!(f.summary.contains("try_push") && f.summary.contains("never returned"), "{}", f.summary);
}

// ---------------------------------------------------------------------------------------------
// sanitizers and model checking

/// c/bq.c, c/bq_vyukov.c, c/bq_swap.c and every C fixture, each linked into c/tests/bq_stress.c under
/// ThreadSanitizer and under AddressSanitizer. The C queues must pass clean; the fixtures must
/// show no sanitizer report either (their bugs are logic bugs, which is why validation exists),
/// though some deadlock or lose items in the driver.
#[test]
fn sanitizers_find_no_race_or_memory_error() {
    let dir = scratch().join("sanitizers");
    std::fs::create_dir_all(&dir).unwrap();
    let mut sources = vec![root().join("c/bq.c"), root().join("c/bq_vyukov.c"), root().join("c/bq_swap.c")];
    for e in std::fs::read_dir(fixtures().join("src")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|e| e == "c") {
            sources.push(p);
        }
    }
    let mut runs = Vec::new();
    for san in ["thread", "address"] {
        for src in &sources {
            let stem = src.file_stem().unwrap().to_str().unwrap().to_string();
            let bin = dir.join(format!("{stem}-{san}"));
            let o = run(
                Command::new("gcc")
                    .args(["-std=c11", "-g", "-O1", "-Wall", "-Wextra", "-Werror", &format!("-fsanitize={san}"), "-I"])
                    .arg(root().join("c"))
                    .arg(root().join("c/tests/bq_stress.c"))
                    .arg(src)
                    .arg("-o")
                    .arg(&bin)
                    .arg("-lpthread"),
                Duration::from_secs(120),
            );
            assert_eq!(o.code, Some(0), "{stem} under {san}:\n{}", o.show());
            // All at once, so that the waits overlap.
            // The driver's own deadline (its argument): generous for the C queues, which
            // finish in a second; the deadlocking fixtures each wait it out.
            let alarm = if is_queue(&stem) { "120" } else { "20" };
            runs.push((
                stem.clone(),
                san,
                thread::spawn(move || run(Command::new(&bin).arg(alarm), Duration::from_secs(300))),
            ));
        }
    }
    for (stem, san, h) in runs {
        let o = h.join().unwrap();
        let report = o.stderr.contains("ThreadSanitizer") || o.stderr.contains("AddressSanitizer");
        assert!(!report, "{stem} under {san}: sanitizer report:\n{}", o.show());
        if is_queue(&stem) {
            assert_eq!(o.code, Some(0), "c/{stem}.c under {san}:\n{}", o.show());
        }
    }
}

/// The real C queues, as opposed to the fixtures (a stem the fixtures never use).
fn is_queue(stem: &str) -> bool {
    stem == "bq" || stem == "bq_vyukov" || stem == "bq_swap"
}

/// rust/tests/model_check.rs: shuttle explores the port's interleavings (it needs the port
/// built with the `shuttle` feature, hence a separate cargo run with its own target dir).
#[test]
fn shuttle_model_checks_the_port() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("model-check");
    let o = run(
        Command::new(cargo)
            .args(["test", "--locked", "--release", "-p", "bq-port", "--features", "shuttle", "--test", "model_check"])
            .env("CARGO_TARGET_DIR", target)
            .current_dir(root()),
        Duration::from_secs(900),
    );
    assert_eq!(o.code, Some(0), "{}", o.show());
    assert!(o.stdout.contains("test result: ok. 5 passed"), "{}", o.show());
}

/// Issue 20, 15: make exits 2 whenever a recipe fails, so `make validate` gave 2 for a
/// difference and for bad input alike. Its last line now says which of bqh's codes it was.
/// The Makefile's `CARGO` is a stand-in here that exits as bqh would, so no build runs.
#[test]
fn make_validate_says_which_exit_code_bqh_gave() {
    let dir = scratch().join("make-exit");
    std::fs::create_dir_all(&dir).unwrap();
    for (code, says) in [(0, None), (1, Some("exited 1: a check found a difference")), (2, Some("exited 2: bad input"))]
    {
        let fake = dir.join(format!("cargo-exits-{code}"));
        std::fs::write(&fake, format!("#!/bin/sh\nexit {code}\n")).unwrap();
        std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let o = run(
            Command::new("make")
                .args(["-s", "--no-print-directory", "validate"])
                .arg(format!("CARGO={}", fake.display()))
                .current_dir(root()),
            Duration::from_secs(120),
        );
        match says {
            None => assert_eq!(o.code, Some(0), "{}", o.show()),
            Some(says) => {
                assert_eq!(o.code, Some(2), "make's own code for a failed recipe: {}", o.show());
                let last = o.stdout.lines().last().unwrap_or("");
                assert!(last.starts_with("make validate: bqh validate ") && last.contains(says), "{}", o.show());
            }
        }
    }
}
