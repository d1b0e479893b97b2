//! What every study is: a command that measures and writes a results folder, and a report that
//! `bqh report` redraws from that folder alone ([`Study`]); the `Env` it records; how its
//! command ends (what it wrote, what failed, the exit status). [`crate::STUDIES`] lists them.

use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;
use bq_results::{Env, Toolchain};
use clap::{Args as _, FromArgMatches as _};

/// A study, implemented in its folder's `mod.rs` on a type of its own and listed in
/// [`crate::STUDIES`]. Its command, its `env.json` and `bqh report` all come from here.
pub trait Study: 'static {
    /// Its command, its folder in `harness/src/` and the `study` of its `env.json`.
    const NAME: &'static str;
    /// What it does, in the one line `bqh --help` shows.
    const ABOUT: &'static str;
    /// The data files [`Study::read`] reads: `bqh report` puts them back byte for byte.
    const DATA_FILES: &'static [&'static str];
    /// Its command's flags.
    type Args: clap::Args;
    /// What its report is drawn from: what a run holds at its end, or [`Study::read`] reads.
    type Results: Report;

    /// Its command: measures, then writes its folder (or, for `shutdown`, prints).
    fn run(args: &Self::Args) -> anyhow::Result<ExitCode>;
    /// Reads one of its results folders.
    fn read(dir: &Path) -> anyhow::Result<Self::Results>;
}

/// Declares a study's type in its folder's `mod.rs`, by the convention every study follows: its
/// `Args` and `run` in `mod.rs`, its `DATA_FILES`, `Results` and `read` in `report.rs`. Only the
/// name and the line for `bqh --help` differ from one study to the next.
macro_rules! declare {
    ($(#[doc = $doc:expr])* $study:ident, $name:literal, $about:literal) => {
        $(#[doc = $doc])*
        pub struct $study;

        impl $crate::study::Study for $study {
            const NAME: &'static str = $name;
            const ABOUT: &'static str = $about;
            const DATA_FILES: &'static [&'static str] = report::DATA_FILES;
            type Args = Args;
            type Results = report::Results;

            fn run(args: &Args) -> anyhow::Result<std::process::ExitCode> {
                run(args)
            }

            fn read(dir: &std::path::Path) -> anyhow::Result<report::Results> {
                report::read(dir)
            }
        }
    };
}
pub(crate) use declare;

/// A study's results, ready to be drawn.
pub trait Report {
    /// Writes every file of the study's folder into `dir` (which exists).
    fn write(&self, dir: &Path) -> anyhow::Result<()>;
    /// What it holds, in words, for the line `bqh report` ends with.
    fn describe(&self) -> String;
    /// Rows in its data files: none means nothing to draw.
    fn rows(&self) -> usize;
}

/// A [`Study`] with its types hidden, as [`crate::STUDIES`] holds it: what `bqh` needs to offer
/// its command and `bqh report` to redraw its folders.
pub trait Entry {
    /// [`Study::NAME`].
    fn name(&self) -> &'static str;
    /// [`Study::ABOUT`].
    fn about(&self) -> &'static str;
    /// Its subcommand of `bqh`, with its flags.
    fn command(&self) -> clap::Command;
    /// Runs it with the flags clap matched for [`Entry::command`].
    fn run(&self, matches: &clap::ArgMatches) -> anyhow::Result<ExitCode>;
    /// [`Study::read`].
    fn read(&self, dir: &Path) -> anyhow::Result<Box<dyn Report>>;
    /// [`Study::DATA_FILES`].
    fn data_files(&self) -> &'static [&'static str];
}

impl<S: Study> Entry for S {
    fn name(&self) -> &'static str {
        S::NAME
    }

    fn about(&self) -> &'static str {
        S::ABOUT
    }

    fn command(&self) -> clap::Command {
        // What clap's derive makes of an enum variant: the flags, then the variant's one line.
        S::Args::augment_args(clap::Command::new(S::NAME)).about(S::ABOUT).long_about(None)
    }

    fn run(&self, matches: &clap::ArgMatches) -> anyhow::Result<ExitCode> {
        // clap checked the flags against `command()`: a failure here is clap's to report.
        let args = S::Args::from_arg_matches(matches).unwrap_or_else(|e| e.format(&mut self.command()).exit());
        S::run(&args)
    }

    fn read(&self, dir: &Path) -> anyhow::Result<Box<dyn Report>> {
        Ok(Box::new(S::read(dir)?))
    }

    fn data_files(&self) -> &'static [&'static str] {
        S::DATA_FILES
    }
}

/// The study named `name` (a command, or the `study` of an `env.json`).
pub fn named(name: &str) -> Option<&'static dyn Entry> {
    crate::STUDIES.iter().copied().find(|s| s.name() == name)
}

/// The study a folder's `env.json` names.
pub fn of(env: &Env) -> anyhow::Result<&'static dyn Entry> {
    match named(&env.study) {
        Some(s) => Ok(s),
        None => {
            let names: Vec<&str> = crate::STUDIES.iter().map(|s| s.name()).collect();
            bail!(
                "env.json names the study '{}', which this bqh does not know (it knows {})",
                env.study,
                names.join(", ")
            )
        }
    }
}

/// This machine, this build, this command, for study `S`'s `env.json`.
pub fn env<S: Study>(parameters: serde_json::Value) -> Env {
    use bq_engine::toolchain;
    Env::collect(
        S::NAME,
        &Toolchain { rustc: toolchain::RUSTC, ocamlopt: toolchain::OCAMLOPT, cc: toolchain::CC },
        parameters,
    )
}

/// How a study's command ends: what it wrote, then the failures, loudly, with exit status 1.
pub fn finish(out: &Path, files: &str, failed_runs: usize, failed_probes: usize) -> ExitCode {
    eprintln!("wrote {}/ ({files})", out.display());
    if failed_runs + failed_probes == 0 {
        return ExitCode::SUCCESS;
    }
    let probes = if failed_probes > 0 { format!(" and {failed_probes} shutdown probe(s)") } else { String::new() };
    eprintln!("error: {failed_runs} run(s){probes} FAILED; see the top of {}/summary.md", out.display());
    ExitCode::FAILURE
}
