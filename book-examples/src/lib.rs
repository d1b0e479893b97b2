//! The programs of the book's chapter "Build it step by step" (`book/src/ch02-build-it.md`) are
//! the examples of this crate, one file each, with no shared code, so that each can be read on
//! its own:
//!
//! ```sh
//! cargo run --example step1_unbounded
//! cargo run --example step2_bounded
//! cargo run --example step2_one_condvar
//! cargo run --example step3_close -- no-close
//! cargo run --example step3_close
//! cargo run --example step4_timeouts
//! cargo run --example step4_timeouts -- restart-clock
//! cargo run --example step5_queue
//! cargo run --example exercise_one_condvar
//! ```
//!
//! The chapter's last exercise is `exercise/my_queue.rs`, step 5's queue with its bodies left
//! out; its check is the crate `check/` (`cargo run --release -p check-my-queue`).
//!
//! `tests/outputs.rs` runs each of them and compares what it prints with `expected/`, the files
//! the chapter shows; it also compiles `compile_fail/` and `c/`.
