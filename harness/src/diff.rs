//! `bqh diff OLD NEW`: two comparisons' figures side by side. Every figure of `bqh compare` is
//! a ratio to a reference measured in the same run, so two runs compare as a ratio of ratios:
//! how much an implementation moved against the same reference, with a 95% interval
//! (`stats::ratio_between`), even when the runs were made on two machines. A porter's CI runs
//! it on the run of the last release and the run of the change, with `--fail-above`.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use serde::Serialize;

use bq_engine::placement::Placement;
use bq_engine::row::Mode;
use bq_results::files::read_env;
use bq_results::outdir::FILE_SIGNATURE;
use bq_results::stats::{ratio_between, Ratio};
use bq_results::{Claim, Env};

use crate::compare::Compare;
use crate::ratios::{self, fmt_ratio, short_name, Cell};
use crate::runs_csv::{read_runs, RUNS_CSV};
use crate::study::Study;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Reads two folders of `bqh compare` (runs.csv and env.json) and, for every configuration both have,
says how much each implementation's ratio to its reference changed: NEW's ratio over OLD's, with a
95% interval. A change whose interval excludes 1.0 is marked. A plugin or OCaml module is matched by
its file name, so two builds of one port in two folders compare.

  bqh diff results/before results/after
  bqh diff results/before results/after --impl libport.so --fail-above 10   # exit 1 if surely >10% slower

The intervals count each run's own noise, not drift between runs: run the same code twice to see
your machine's (docs/usage.md gives this project's).

Exit status: 0, or 1 when --fail-above is given and some change's whole interval lies beyond it;
2 on bad input.")]
pub struct Args {
    /// The earlier results folder (a `bqh compare` run)
    pub old: PathBuf,
    /// The later results folder
    pub new: PathBuf,
    /// Only these implementations, comma-separated (names, or a plugin's file name)
    #[arg(long = "impl", value_delimiter = ',', value_name = "NAME")]
    pub impls: Vec<String>,
    /// Exit 1 when an implementation got slower by more than PERCENT in some configuration,
    /// its whole 95% interval below 1 - PERCENT/100 (0.1 to 100)
    #[arg(long, value_name = "PERCENT")]
    pub fail_above: Option<f64>,
    /// Also write the changes as JSON to FILE (a new file, or one bqh wrote)
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

/// One configuration both runs have, for one implementation.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub implementation: String,
    pub mode: String,
    pub workload: String,
    pub producers: u64,
    pub consumers: u64,
    pub capacity: usize,
    pub placement: Placement,
    pub consumer_work_ns: Option<u64>,
    pub reference: String,
    pub old: f64,
    pub new: f64,
    /// NEW's ratio over OLD's, and its 95% interval.
    pub change: f64,
    pub low: f64,
    pub high: f64,
}

impl Change {
    /// Slower or faster with its interval excluding 1.0.
    pub fn significant(&self) -> bool {
        self.high < 1.0 || self.low > 1.0
    }

    /// Slower by more than `percent` with 95% confidence: the whole interval lies below
    /// `1 - percent/100`. The point estimate alone would fail a run whose interval reaches
    /// 1.0, which two runs of the same code do (docs/usage.md).
    pub fn slower_than(&self, percent: f64) -> bool {
        self.high < 1.0 - percent / 100.0
    }
}

/// What identifies a cell across runs.
type Key = (String, Mode, String, u64, u64, usize, Placement, Option<u64>, String);

fn key(c: &Cell) -> Key {
    (
        short_name(c.implementation),
        c.mode,
        c.workload.to_string(),
        c.producers,
        c.consumers,
        c.capacity,
        c.placement,
        c.consumer_work_ns,
        ratios::label((&short_name(c.reference.0), c.reference.1)),
    )
}

/// The changes from `old` to `new`, for the cells both have (A/A cells left out: a reference
/// against itself is 1.0 in both).
pub fn changes(old: &[Cell], new: &[Cell], only: &[String]) -> Vec<Change> {
    let mut out = Vec::new();
    for n in new.iter().filter(|c| !c.aa) {
        let k = key(n);
        if !only.is_empty() && !only.contains(&k.0) {
            continue;
        }
        let Some(o) = old.iter().find(|o| !o.aa && key(o) == k) else { continue };
        let (Some(ro), Some(rn)) = (o.ratio, n.ratio) else { continue };
        let q: Ratio = ratio_between(rn, ro);
        out.push(Change {
            implementation: k.0,
            mode: n.mode.to_string(),
            workload: k.2,
            producers: n.producers,
            consumers: n.consumers,
            capacity: n.capacity,
            placement: n.placement,
            consumer_work_ns: n.consumer_work_ns,
            reference: k.8,
            old: ro.ratio,
            new: rn.ratio,
            change: q.ratio,
            low: q.low,
            high: q.high,
        });
    }
    out
}

/// The changes as a Markdown table, the significant ones marked.
pub fn markdown(old_env: &Env, new_env: &Env, changes: &[Change]) -> String {
    let mut out = String::new();
    let machine = |e: &Env| format!("{} ({} cores), {}, commit {}", e.cpu_model, e.cores, e.date_utc, e.git_commit);
    writeln!(out, "# Changes between two comparisons\n").unwrap();
    writeln!(out, "- old: {}", machine(old_env)).unwrap();
    writeln!(out, "- new: {}\n", machine(new_env)).unwrap();
    out.push_str(
        "Change: the new ratio to the reference over the old one, with its 95% interval; 0.90 is 10% slower against \
         the same reference. ↓ slower, ↑ faster: the interval excludes 1.0. The interval counts each run's own \
         noise, not drift between the runs: two runs of the same code differ too.\n\n",
    );
    out.push_str("| implementation | configuration | capacity | reference | old | new | change [95% interval] |\n|---|---|---|---|---|---|---|\n");
    for c in changes {
        let mark = if c.high < 1.0 {
            " ↓"
        } else if c.low > 1.0 {
            " ↑"
        } else {
            ""
        };
        let work = c.consumer_work_ns.map_or(String::new(), |ns| format!(" · consumer work {ns} ns"));
        let label =
            if c.mode == "driven" { c.implementation.clone() } else { format!("{} ({})", c.implementation, c.mode) };
        writeln!(
            out,
            "| {label} | {} ({} → {}) · {}{work} | {} | {} | {} | {} | {} [{}–{}]{mark} |",
            c.workload,
            c.producers,
            c.consumers,
            c.placement,
            c.capacity,
            c.reference,
            fmt_ratio(c.old),
            fmt_ratio(c.new),
            fmt_ratio(c.change),
            fmt_ratio(c.low),
            fmt_ratio(c.high)
        )
        .unwrap();
    }
    let slower = changes.iter().filter(|c| c.high < 1.0).count();
    let faster = changes.iter().filter(|c| c.low > 1.0).count();
    writeln!(
        out,
        "\n{} configurations in both runs: {slower} slower, {faster} faster, the rest within their intervals.",
        changes.len()
    )
    .unwrap();
    out
}

/// A comparison's folder: its machine and its cells' rows.
fn read(dir: &Path) -> anyhow::Result<(Env, Vec<bq_engine::row::Row>)> {
    let env = read_env(dir)?;
    if env.study != Compare::NAME {
        bail!("{} holds a `bqh {}` run; bqh diff compares two `bqh compare` runs", dir.display(), env.study);
    }
    let rows = read_runs(&dir.join(RUNS_CSV)).with_context(|| format!("reading {}", dir.display()))?;
    if !ratios::paired(&rows) {
        bail!(
            "{} has no paired slices (a run made before bqh measured in pairs): there are no ratios to compare",
            dir.display()
        );
    }
    Ok((env, rows))
}

/// `bqh diff`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if let Some(p) = args.fail_above {
        if !(0.1..=100.0).contains(&p) {
            bail!("--fail-above {p}: choose a percentage between 0.1 and 100");
        }
    }
    let json = args.json.as_deref().map(Claim::file).transpose()?;
    let (old_env, old_rows) = read(&args.old)?;
    let (new_env, new_rows) = read(&args.new)?;
    let (old, new) = (ratios::cells(&old_rows), ratios::cells(&new_rows));
    let found = changes(&old, &new, &args.impls);
    if found.is_empty() {
        let which = if args.impls.is_empty() { String::new() } else { format!(" for {}", args.impls.join(", ")) };
        bail!(
            "{} and {} have no configuration in common{which} (same implementation, workload, threads, capacity, \
             placement and reference): nothing to compare",
            args.old.display(),
            args.new.display()
        );
    }
    print!("{}", markdown(&old_env, &new_env, &found));
    if let Some(json) = json {
        let text = format!(
            "{FILE_SIGNATURE}, \"command\": \"diff\", \"changes\": {}}}\n",
            serde_json::to_string_pretty(&found)?
        );
        json.write_file(text.as_bytes())?;
    }
    let Some(p) = args.fail_above else { return Ok(ExitCode::SUCCESS) };
    let worse: Vec<&Change> = found.iter().filter(|c| c.slower_than(p)).collect();
    if worse.is_empty() {
        println!(
            "No configuration got slower by more than {p}% (its whole interval below {}).",
            fmt_ratio(1.0 - p / 100.0)
        );
        return Ok(ExitCode::SUCCESS);
    }
    for c in &worse {
        eprintln!(
            "slower: {} {} capacity {} {}: {}× [{}–{}] of before",
            c.implementation,
            c.workload,
            c.capacity,
            c.placement,
            fmt_ratio(c.change),
            fmt_ratio(c.low),
            fmt_ratio(c.high)
        );
    }
    eprintln!("error: {} configuration(s) got slower by more than {p}%", worse.len());
    Ok(ExitCode::FAILURE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(change: f64, low: f64, high: f64) -> Change {
        Change {
            implementation: "libport.so".into(),
            mode: "driven".into(),
            workload: "spsc".into(),
            producers: 1,
            consumers: 1,
            capacity: 16,
            placement: Placement::SameCore,
            consumer_work_ns: None,
            reference: "crossbeam".into(),
            old: 1.0,
            new: change,
            change,
            low,
            high,
        }
    }

    #[test]
    fn fail_above_needs_the_whole_interval_beyond_the_threshold() {
        // Two runs of the same code on the project's guest gave 0.88 [0.83–0.94]: marked ↓, and
        // more than 5% slower by its point, but not surely more than 10% slower.
        let drift = change(0.88, 0.83, 0.94);
        assert!(drift.significant());
        assert!(drift.slower_than(5.0));
        assert!(!drift.slower_than(10.0));
        // The edges: an interval ending exactly at the threshold does not fail; 100% never fails.
        assert!(!change(0.85, 0.80, 0.90).slower_than(10.0));
        assert!(change(0.85, 0.80, 0.8999).slower_than(10.0));
        assert!(change(0.001, 0.0005, 0.002).slower_than(99.0));
        assert!(!change(0.001, 0.0005, 0.002).slower_than(100.0));
        // Faster never fails.
        assert!(!change(1.5, 1.4, 1.6).slower_than(0.1));
    }
}
