//! `bqh`: the harness command line. `make compare`, `make validate` and `make bench` call it.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use bq_engine::isolated;
use harness::{compare, diff, memory, r#async, report, scale, shutdown, strategies, validate};

fn long_about() -> String {
    format!(
        "Compares equivalent bounded producer/consumer queues in Rust, C and OCaml: throughput, blocking \
         behaviour (backpressure) and shutdown semantics.\n\n{}",
        harness::run_args::builtins_help()
    )
}

#[derive(Parser)]
#[command(
    name = "bqh",
    version,
    about = "Compares equivalent bounded producer/consumer queues in Rust, C and OCaml",
    long_about = long_about()
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the comparison (throughput, blocking, latency, shutdown) and write a results folder
    Compare(compare::Args),
    /// Thread scaling: cost per item against the number of threads, fan-in and mpmc
    Scale(scale::Args),
    /// Backpressure strategies (block, drop, timeout-drop, natural-batch, semaphore) and a pipeline
    Strategies(strategies::Args),
    /// Memory: live payload bytes and RSS over time, per capacity and allocator
    Memory(memory::Args),
    /// Fan-in with tokio tasks against threads (up to 10,000 producers), and what each costs to start
    #[command(name = "async")]
    Async(r#async::Args),
    /// Redraw summary.md and the plots of a results folder from its data files
    Report(report::Args),
    /// Compare two `bqh compare` runs: each ratio's change with its interval, and a threshold for CI
    Diff(diff::Args),
    /// Check that a candidate queue behaves like a reference (ports, plugins)
    Validate(validate::Args),
    /// Probe the shutdown semantics of each implementation and print the matrix
    Shutdown(shutdown::Args),
    /// Internal: one run (or the probes) of a plugin, for compare's child processes
    #[command(hide = true)]
    Isolated(isolated::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compare(args) => compare::run(&args),
        Command::Scale(args) => scale::run(&args),
        Command::Strategies(args) => strategies::run(&args),
        Command::Memory(args) => memory::run(&args),
        Command::Async(args) => r#async::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Validate(args) => validate::run(&args),
        Command::Shutdown(args) => shutdown::run(&args),
        Command::Isolated(args) => isolated::child(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
