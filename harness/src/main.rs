//! `bqh`: the harness command line. `make compare`, `make validate` and `make bench` call it.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use harness::schema::Verdict;
use harness::{async_study, compare, isolated, memory, report, scale, shutdown, shutdown_native, strategies, validate};

#[derive(Parser)]
#[command(
    name = "bqh",
    version,
    about = "Compares equivalent bounded producer/consumer queues in Rust, C and OCaml",
    long_about = "Compares equivalent bounded producer/consumer queues in Rust, C and OCaml: \
                  throughput, blocking behaviour (backpressure) and shutdown semantics.\n\n\
                  Implementations: rust-sync-channel, crossbeam, c-pthread, c-vyukov, ocaml, rust-port, tokio."
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
    Memory(memory::study::Args),
    /// Fan-in with tokio tasks against threads (up to 10,000 producers), and what each costs to start
    #[command(name = "async")]
    Async(async_study::Args),
    /// Redraw summary.md and the plots of a results folder from its data files
    Report(report::Args),
    /// Check that a candidate queue behaves like a reference (ports, plugins)
    Validate(validate::Args),
    /// Probe the shutdown semantics of each implementation and print the matrix
    Shutdown(ShutdownArgs),
    /// Internal: one run (or the probes) of a plugin, for compare's child processes
    #[command(hide = true)]
    Isolated(isolated::Args),
}

#[derive(clap::Args)]
struct ShutdownArgs {
    #[command(flatten)]
    probes: shutdown::Args,
    #[command(flatten)]
    native: shutdown_native::Args,
}

/// `bqh shutdown`: probes, prints the matrix; exit 1 when a probe failed.
fn shutdown(args: &ShutdownArgs) -> anyhow::Result<ExitCode> {
    if args.native.native || args.native.out.is_some() {
        return shutdown_native::command(&args.probes, &args.native);
    }
    let matrix = shutdown::probe_matrix(&args.probes);
    print!("{}", report::matrix_markdown(&matrix));
    let failed = matrix.iter().flatten().any(|o| o.verdict == Verdict::Failed);
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compare(args) => compare::run(&args),
        Command::Scale(args) => scale::run(&args),
        Command::Strategies(args) => strategies::run(&args),
        Command::Memory(args) => memory::study::run(&args),
        Command::Async(args) => async_study::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Validate(args) => validate::run(&args),
        Command::Shutdown(args) => shutdown(&args),
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
