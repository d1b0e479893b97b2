//! The flags every measuring study shares, declared once ([`RunArgs`], flattened into each
//! study's `Args`), with each study's defaults ([`Defaults`]) and the checks of their edges.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use serde::Serialize;

use bq_engine::{Builtin, Choice};

/// Which modes `--mode` selects: driven, or every native runner there is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModeChoice {
    Driven,
    Native,
}

/// The built-ins, for a help text: every name, from the engine's one table.
pub fn builtins_help() -> String {
    format!("Built-in implementations (--impl): {}.", Builtin::names())
}

/// The most a run may last before it is a hang, and a whole study's budget: a day, a week.
const MAX_RUN_LIMIT_S: u64 = 24 * 3600;
const MAX_BUDGET_S: u64 = 7 * 24 * 3600;

#[derive(Debug, Clone, clap::Args, Serialize)]
pub struct RunArgs {
    /// Implementations, comma-separated: built-in names (listed below), or for `bqh compare`
    /// paths to shared libraries exporting c/bq.h [default: the study's, below]
    #[arg(long = "impl", value_delimiter = ',', value_parser = Choice::parse, value_name = "NAME|PATH")]
    pub impls: Vec<Choice>,
    /// Target duration of one measured run, in milliseconds (1 to 60000); a pilot run measures
    /// each configuration's rate and sizes its runs to it [default: the study's, below]
    #[arg(long, value_name = "MS")]
    pub run_ms: Option<u64>,
    /// Measured repetitions of every configuration, after one discarded warm-up (1 to 1000)
    /// [default: the study's, below]
    #[arg(long)]
    pub reps: Option<u32>,
    /// Time the whole study may take, in seconds (1 to 604800); a plan that would not fit is
    /// shortened (shorter runs, then fewer repetitions) and says so before it starts [default:
    /// the study's, below]
    #[arg(long, value_name = "SECONDS")]
    pub budget: Option<u64>,
    /// Shorter runs and fewer repetitions: a first look
    #[arg(long)]
    pub quick: bool,
    /// Results folder: a new or empty folder, or one bqh wrote before (replaced only when the
    /// run is complete). Any other folder is refused: bqh deletes only what it created
    /// [default: the study's, below]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seconds one run may take before it is reported as a hang (1 to 86400)
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub run_limit: u64,
}

/// A study's defaults for the shared flags: `[full, --quick]` pairs.
pub struct Defaults {
    /// The implementations without `--impl` (empty: every built-in).
    pub impls: &'static [Builtin],
    /// Whether `--impl` takes plugins (paths).
    pub plugins: bool,
    pub run_ms: [u64; 2],
    /// `None`: the study runs each configuration once, and refuses `--reps` and `--budget`.
    pub reps: Option<[u32; 2]>,
    pub budget: Option<[u64; 2]>,
    pub out: &'static str,
}

impl Defaults {
    /// The defaults in words, for the study's `--help`.
    pub fn help(&self) -> String {
        let pair =
            |v: [u64; 2]| if v[0] == v[1] { v[0].to_string() } else { format!("{} ({} with --quick)", v[0], v[1]) };
        let impls = if self.impls.is_empty() {
            "every built-in".to_string()
        } else {
            self.impls.iter().map(|b| b.name()).collect::<Vec<_>>().join(",")
        };
        let mut out = format!("Defaults: --impl {impls}; --run-ms {}", pair(self.run_ms));
        if let (Some(r), Some(b)) = (self.reps, self.budget) {
            out += &format!("; --reps {}; --budget {}", pair([r[0].into(), r[1].into()]), pair(b));
        }
        out += &format!("; --out {}.\n{}", self.out, builtins_help());
        if !self.plugins {
            out += " This study runs built-ins only.";
        }
        out
    }
}

impl RunArgs {
    fn pick<T: Copy>(&self, v: [T; 2]) -> T {
        v[usize::from(self.quick)]
    }

    /// The built-ins `--impl` names, or the study's default; a plugin is refused where the
    /// study takes none.
    pub fn builtins(&self, d: &Defaults) -> anyhow::Result<Vec<Builtin>> {
        if self.impls.is_empty() {
            return Ok(if d.impls.is_empty() { Builtin::ALL.to_vec() } else { d.impls.to_vec() });
        }
        self.impls
            .iter()
            .map(|c| match c {
                Choice::Builtin(b) => Ok(*b),
                Choice::Plugin(p) => bail!(
                    "--impl {}: this study runs built-ins only ({}); plugins run in `bqh compare` and `bqh validate`",
                    p.display(),
                    Builtin::names()
                ),
            })
            .collect()
    }

    /// What `--impl` names, built-ins or plugins, or every built-in.
    pub fn choices(&self, d: &Defaults) -> anyhow::Result<Vec<Choice>> {
        if !d.plugins {
            return Ok(self.builtins(d)?.into_iter().map(Choice::Builtin).collect());
        }
        Ok(if self.impls.is_empty() {
            self.builtins(d)?.into_iter().map(Choice::Builtin).collect()
        } else {
            self.impls.clone()
        })
    }

    /// The target duration of one run, checked.
    pub fn run_ms(&self, d: &Defaults) -> anyhow::Result<u64> {
        let ms = self.run_ms.unwrap_or(self.pick(d.run_ms));
        if ms == 0 || ms > 60_000 {
            bail!("--run-ms {ms}: choose between 1 and 60000 (one minute)");
        }
        Ok(ms)
    }

    /// The repetitions, checked; refused for a study that runs each configuration once.
    pub fn reps(&self, d: &Defaults) -> anyhow::Result<u32> {
        let Some(default) = d.reps else {
            if self.reps.is_some() || self.budget.is_some() {
                bail!("--reps and --budget do not apply here: this study runs each configuration once, in its own process");
            }
            return Ok(1);
        };
        let reps = self.reps.unwrap_or(self.pick(default));
        if reps == 0 || reps > 1000 {
            bail!("--reps {reps}: choose between 1 and 1000");
        }
        Ok(reps)
    }

    /// The time budget, checked.
    pub fn budget(&self, d: &Defaults) -> anyhow::Result<Duration> {
        let s = self.budget.or(d.budget.map(|b| self.pick(b))).unwrap_or(MAX_BUDGET_S);
        if s == 0 || s > MAX_BUDGET_S {
            bail!("--budget {s}: choose between 1 and {MAX_BUDGET_S} seconds (a week)");
        }
        Ok(Duration::from_secs(s))
    }

    /// The results folder.
    pub fn out(&self, d: &Defaults) -> PathBuf {
        self.out.clone().unwrap_or_else(|| PathBuf::from(d.out))
    }

    /// How long one run may take, checked.
    pub fn limit(&self) -> anyhow::Result<Duration> {
        if self.run_limit == 0 || self.run_limit > MAX_RUN_LIMIT_S {
            bail!("--run-limit {}: choose between 1 and {MAX_RUN_LIMIT_S} seconds (a day)", self.run_limit);
        }
        Ok(Duration::from_secs(self.run_limit))
    }

    /// Every shared flag checked at once, before anything runs.
    pub fn check(&self, d: &Defaults) -> anyhow::Result<()> {
        self.choices(d)?;
        self.run_ms(d)?;
        self.reps(d)?;
        self.budget(d)?;
        self.limit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }

    const D: Defaults = Defaults {
        impls: &[Builtin::Tokio],
        plugins: false,
        run_ms: [80, 25],
        reps: Some([9, 5]),
        budget: Some([270, 50]),
        out: "results/latest-x",
    };
    const ONCE: Defaults = Defaults { reps: None, budget: None, ..D };

    fn parse(args: &[&str]) -> RunArgs {
        Cli::try_parse_from(std::iter::once("t").chain(args.iter().copied())).unwrap().run
    }

    #[test]
    fn defaults_follow_quick() {
        let a = parse(&[]);
        assert_eq!((a.run_ms(&D).unwrap(), a.reps(&D).unwrap(), a.budget(&D).unwrap().as_secs()), (80, 9, 270));
        assert_eq!(a.builtins(&D).unwrap(), [Builtin::Tokio]);
        assert_eq!(a.out(&D), PathBuf::from("results/latest-x"));
        let q = parse(&["--quick"]);
        assert_eq!((q.run_ms(&D).unwrap(), q.reps(&D).unwrap(), q.budget(&D).unwrap().as_secs()), (25, 5, 50));
    }

    #[test]
    fn the_edges_are_checked() {
        for (flags, ok) in [
            (&["--run-ms", "0"][..], false),
            (&["--run-ms", "1"], true),
            (&["--run-ms", "60000"], true),
            (&["--run-ms", "60001"], false),
            (&["--run-ms", "18446744073709551615"], false),
            (&["--reps", "0"], false),
            (&["--reps", "1"], true),
            (&["--reps", "1000"], true),
            (&["--reps", "4294967295"], false),
            (&["--budget", "0"], false),
            (&["--budget", "1"], true),
            (&["--budget", "604800"], true),
            (&["--budget", "18446744073709551615"], false),
            (&["--run-limit", "0"], false),
            (&["--run-limit", "1"], true),
            (&["--run-limit", "86401"], false),
            (&["--impl", "./libx.so"], false),
            (&["--impl", "crossbeam,ocaml"], true),
        ] {
            assert_eq!(parse(flags).check(&D).is_ok(), ok, "{flags:?}");
        }
        // Out of the type's range: clap refuses before any check.
        assert!(Cli::try_parse_from(["t", "--reps", "4294967296"]).is_err());
        assert!(Cli::try_parse_from(["t", "--run-ms", "-1"]).is_err());
    }

    #[test]
    fn a_study_that_runs_once_refuses_reps_and_budget() {
        assert!(parse(&[]).check(&ONCE).is_ok());
        let e = parse(&["--reps", "3"]).check(&ONCE).unwrap_err().to_string();
        assert!(e.contains("do not apply"), "{e}");
        assert!(parse(&["--budget", "3"]).check(&ONCE).is_err());
    }

    #[test]
    fn plugins_go_through_where_the_study_takes_them() {
        let d = Defaults { plugins: true, ..D };
        let a = parse(&["--impl", "crossbeam,./libx.so"]);
        assert_eq!(a.choices(&d).unwrap().len(), 2);
        assert!(a.builtins(&d).is_err());
        assert_eq!(parse(&[]).choices(&Defaults { impls: &[], ..d }).unwrap().len(), Builtin::ALL.len());
    }
}
