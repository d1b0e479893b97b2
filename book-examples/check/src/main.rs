//! The check of the exercise at the end of the book's chapter 2: runs the contract tests, the
//! same with spurious wake-ups, and the shuttle model checker on the queue you wrote in
//! `book-examples/exercise/my_queue.rs`. From the repository's root:
//!
//!     cargo run --release -p check-my-queue
//!
//! Exit status 0 when every check passes, 1 when one fails (the first stage with a failure
//! says which and why; the later stages run once it passes). `src/check.rs` has the checks;
//! `tests/answers.rs` shows that they reject every wrong answer of `src/answers.rs`.
mod check;

include!(concat!(env!("OUT_DIR"), "/learner.rs"));

fn main() {
    let checks = check::checks::<learner_std::Queue<u64>, learner_shuttle::Queue<u64>>();
    let args: Vec<String> = std::env::args().collect();
    if let [_, one, stage, name] = &args[..] {
        if one == "--one" {
            check::run_one(&checks, stage, name, SOURCES);
        }
    }
    let exe = std::env::current_exe().unwrap();
    let right = check::report(
        &checks,
        "book-examples/exercise/my_queue.rs",
        |stage, name| check::run_child(&exe, &["--one", stage, name]),
        |line| println!("{line}"),
    );
    std::process::exit(if right { 0 } else { 1 });
}
