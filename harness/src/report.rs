//! `bqh report DIR`: redraws a results folder from its data files alone. It reads the study
//! recorded in `env.json`, finds it in [`crate::STUDIES`], and hands the folder to that study's
//! [`study::Study::read`] and [`Report::write`], the same write the study's run ends with. The
//! data files it read are then put back byte for byte over the ones `write` serialised again: a
//! redraw writes only what it draws, whatever the line ends, byte order mark or last newline of
//! the data.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use bq_results::files::{present, read_env, read_input};
use bq_results::outdir::CANONICAL_MARKER;
use bq_results::Claim;

use crate::study::{self, Entry, Report};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Redraws summary.md and the plots of a results folder from its data files (runs.csv, shutdown.csv,
memory-runs.csv, strategies.csv, ... and env.json, which says which study wrote it), for example
after a change to a report:

  bqh report results/latest                                  # in place (a folder bqh wrote)
  bqh report results/2026-12-07-xeon-2core --out /tmp/redrawn # a committed run: elsewhere")]
pub struct Args {
    /// The results folder to read
    pub dir: PathBuf,
    /// Where to write [default: DIR itself, replaced as a whole; refused for a committed
    /// canonical run or a folder bqh did not write]
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The names of the files of `dir`, but bqh's markers (dot files) and the canonical marker.
fn names(dir: &Path) -> anyhow::Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let name = e?.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && name != CANONICAL_MARKER {
            out.insert(name);
        }
    }
    Ok(out)
}

/// The columns of a CSV file's header (its first line), read through [`read_input`].
fn header(path: &Path) -> anyhow::Result<Vec<String>> {
    let bytes = read_input(path)?;
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    Ok(String::from_utf8_lossy(first).trim_end().split(',').filter(|c| !c.is_empty()).map(str::to_string).collect())
}

/// Refuses to redraw `dir` in place when the new folder would lose what it holds: a file its
/// report does not write, or a column of a data file that its rows do not have. `drawn` is the
/// same report written elsewhere.
fn nothing_lost(dir: &Path, drawn: &Path) -> anyhow::Result<()> {
    let (old, new) = (names(dir)?, names(drawn)?);
    let extra: Vec<&String> = old.difference(&new).collect();
    if !extra.is_empty() {
        let list: Vec<&str> = extra.iter().map(|s| s.as_str()).collect();
        bail!(
            "{} holds files that its report does not write ({}): redrawing it in place would delete them. \
             Move them away, or redraw elsewhere with --out",
            dir.display(),
            list.join(", ")
        );
    }
    // The data files come back byte for byte ([`draw`]); this guards any other table.
    for name in old.iter().filter(|n| n.ends_with(".csv")) {
        let kept = header(&drawn.join(name))?;
        let lost: Vec<String> = header(&dir.join(name))?.into_iter().filter(|c| !kept.contains(c)).collect();
        if !lost.is_empty() {
            bail!(
                "{}: its columns {} are not in the results schema, and redrawing in place would drop them. \
                 Redraw elsewhere with --out",
                dir.join(name).display(),
                lost.join(", ")
            );
        }
    }
    Ok(())
}

/// A new folder in the system's temporary folder, made here (so that removing it removes only
/// what bqh made).
fn fresh_temp_dir() -> anyhow::Result<PathBuf> {
    let base = std::env::temp_dir();
    for i in 0..100u32 {
        let p = base.join(format!("bqh-redraw-{}-{i}", std::process::id()));
        match std::fs::create_dir(&p) {
            Ok(()) => return Ok(p),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot make a folder in {}", base.display())),
        }
    }
    bail!("cannot make a new folder in {}: 100 names taken", base.display())
}

/// Writes the report of `results` into `into`, then copies each data file that `from` holds, byte
/// for byte through [`read_input`], over the one the report wrote: the folder comes out with the
/// data it was drawn from, not a new serialisation of it. A data file the report did not write
/// (a part without rows) is not copied: [`nothing_lost`] names it.
fn draw(study: &dyn Entry, results: &dyn Report, from: &Path, into: &Path) -> anyhow::Result<()> {
    results.write(into)?;
    for name in study.data_files() {
        let (source, written) = (from.join(name), into.join(name));
        if present(&source) && written.is_file() {
            let bytes = read_input(&source)?;
            std::fs::write(&written, bytes).with_context(|| format!("cannot write {}", written.display()))?;
        }
    }
    Ok(())
}

/// Reads `args.dir`, then writes it whole where `--out` says. A folder without rows is refused
/// (its summary and plots are kept); so is, in place, a folder that would lose a file or a
/// column: `bqh report` never deletes what it did not write.
fn redraw(args: &Args, study: &dyn Entry) -> anyhow::Result<ExitCode> {
    let results = study.read(&args.dir)?;
    if results.rows() == 0 {
        bail!(
            "{} has no rows in its data files: there is nothing to redraw, and its summary and plots are kept",
            args.dir.display()
        );
    }
    let out = Claim::dir(args.out.as_deref().unwrap_or(&args.dir))?;
    if args.out.is_none() {
        let drawn = fresh_temp_dir()?;
        let checked = draw(study, &*results, &args.dir, &drawn).and_then(|()| nothing_lost(&args.dir, &drawn));
        let _ = std::fs::remove_dir_all(&drawn);
        checked?;
    }
    out.write_dir(|dir| draw(study, &*results, &args.dir, dir))?;
    eprintln!("wrote {}/ ({})", out.path().display(), results.describe());
    Ok(ExitCode::SUCCESS)
}

/// `bqh report`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    redraw(args, study::of(&read_env(&args.dir)?)?)
}
