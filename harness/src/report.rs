//! `bqh report DIR`: redraws a results folder from its data files alone. It reads the study
//! recorded in `env.json` and hands the folder to that study's `report::read` and
//! `report::write`, the same functions the study's run ends with.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bq_results::files::read_env;
use bq_results::Claim;

use crate::study::Study;
use crate::{compare, memory, scale, shutdown, strategies};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Redraws summary.md and the plots of a results folder from its data files (runs.csv, shutdown.csv,
memory-runs.csv, strategies.csv, ... and env.json, which says which study wrote it), for example
after a change to a report:

  bqh report results/latest                                  # in place (a folder bqh wrote)
  bqh report results/2026-11-21-xeon-2core --out /tmp/redrawn # a committed run: elsewhere")]
pub struct Args {
    /// The results folder to read
    pub dir: PathBuf,
    /// Where to write [default: DIR itself, replaced as a whole; refused for a committed
    /// canonical run or a folder bqh did not write]
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Reads `args.dir` with `read`, then writes it whole with `write` where `--out` says.
fn redraw<T>(
    args: &Args,
    read: fn(&Path) -> anyhow::Result<T>,
    write: fn(&Path, &T) -> anyhow::Result<()>,
    describe: fn(&T) -> String,
) -> anyhow::Result<ExitCode> {
    let results = read(&args.dir)?;
    let out = Claim::dir(args.out.as_deref().unwrap_or(&args.dir))?;
    out.write_dir(|dir| write(dir, &results))?;
    eprintln!("wrote {}/ ({})", out.path().display(), describe(&results));
    Ok(ExitCode::SUCCESS)
}

/// `bqh report`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let env = read_env(&args.dir)?;
    match Study::of(&env)? {
        Study::Compare => redraw(args, compare::report::read, compare::report::write, compare::report::Results::describe),
        Study::Scale => redraw(args, scale::report::read, scale::report::write, scale::report::Results::describe),
        Study::Shutdown => redraw(args, shutdown::report::read, shutdown::report::write, shutdown::report::Results::describe),
        Study::Strategies => {
            redraw(args, strategies::report::read, strategies::report::write, strategies::report::Results::describe)
        }
        Study::Memory => redraw(args, memory::report::read, memory::report::write, memory::report::Results::describe),
        Study::Async => redraw(args, crate::r#async::report::read, crate::r#async::report::write, crate::r#async::report::Results::describe),
    }
}
