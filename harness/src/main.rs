//! `bqh`: the harness command line. `make compare`, `make validate` and `make bench` call it.

use std::process::ExitCode;

use clap::{FromArgMatches, Subcommand};

use bq_engine::isolated;
use harness::{diff, report, study, validate, STUDIES};

fn long_about() -> String {
    format!(
        "Compares equivalent bounded producer/consumer queues in Rust, C and OCaml: throughput, blocking \
         behaviour (backpressure) and shutdown semantics.\n\n{}",
        harness::shared_flags::builtins_help()
    )
}

// The commands that are not studies (those come from `STUDIES`). Not a doc comment: clap's derive
// would make it bqh's own about.
#[derive(Subcommand)]
enum Tool {
    /// Redraw summary.md and the plots of a results folder from its data files
    Report(report::Args),
    /// Compare two `bqh compare` runs: each ratio's change with its interval, and a threshold for CI
    Diff(diff::Args),
    /// Check that a candidate queue behaves like a reference (ports, plugins)
    Validate(validate::Args),
    /// Internal: one run (or the probes) of a plugin, for compare's child processes
    #[command(hide = true)]
    Isolated(isolated::Args),
}

/// `bqh`: each study's command, in the order of [`STUDIES`], then the other commands.
fn command() -> clap::Command {
    let bqh = clap::Command::new("bqh")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Compares equivalent bounded producer/consumer queues in Rust, C and OCaml")
        .long_about(long_about())
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommands(STUDIES.iter().map(|s| s.command()));
    Tool::augment_subcommands(bqh)
}

fn main() -> ExitCode {
    let matches = command().get_matches();
    let study = matches.subcommand().and_then(|(name, args)| Some((study::named(name)?, args)));
    let result = match study {
        Some((study, args)) => study.run(args),
        None => match Tool::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut command()).exit()) {
            Tool::Report(args) => report::run(&args),
            Tool::Diff(args) => diff::run(&args),
            Tool::Validate(args) => validate::run(&args),
            Tool::Isolated(args) => isolated::child(&args),
        },
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
