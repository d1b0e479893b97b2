//! The report writer: `env.json`, `runs.csv` (long format, one row per repetition),
//! `summary.md` (tables of medians with min-max spread, the shutdown matrix, a plain reading)
//! and SVG plots drawn from the same rows.

mod plots;
mod summary;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use anyhow::Context;
use serde::Serialize;

use crate::compare::{Args, Row};
use crate::shutdown::Observation;

pub use summary::summary_markdown;

/// Where and with what a run was made.
#[derive(Debug, Clone, Serialize)]
pub struct Env {
    pub date_utc: String,
    pub cpu_model: String,
    pub cores: usize,
    pub kernel: String,
    pub rustc: String,
    pub ocamlopt: String,
    pub cc: String,
    pub git_commit: String,
    pub command: String,
    pub parameters: Args,
}

fn first_line(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8_lossy(&o.stdout).lines().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

impl Env {
    pub fn collect(args: &Args) -> Env {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
            .unwrap_or_else(|| "unknown".into());
        let dirty = first_line("git", &["status", "--porcelain", "--untracked-files=no"]) != "unknown";
        let commit = first_line("git", &["rev-parse", "--short=12", "HEAD"]);
        Env {
            date_utc: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            cpu_model,
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease").map_or("unknown".into(), |s| s.trim().into()),
            rustc: env!("BQ_RUSTC_VERSION").into(),
            ocamlopt: crate::impls::ocaml::OCAML_VERSION.into(),
            cc: env!("BQ_CC_VERSION").into(),
            git_commit: if dirty { format!("{commit} (with uncommitted changes)") } else { commit },
            command: std::env::args().collect::<Vec<_>>().join(" "),
            parameters: args.clone(),
        }
    }
}

/// Medians and spread of one configuration's successful repetitions.
#[derive(Debug, Clone)]
pub struct Group<'a> {
    pub implementation: &'a str,
    pub mode: &'a str,
    pub workload: &'a str,
    pub capacity: usize,
    pub producers: u64,
    pub consumers: u64,
    pub ok: Vec<&'a Row>,
    pub failed: Vec<&'a Row>,
}

/// (median, min, max) of a column over the successful repetitions.
pub fn stat<'a>(rows: &[&'a Row], f: impl Fn(&Row) -> Option<f64>) -> Option<(f64, f64, f64)> {
    let mut v: Vec<f64> = rows.iter().filter_map(|r| f(r)).filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 };
    Some((median, v[0], v[n - 1]))
}

/// Groups rows by configuration, keeping the order in which configurations first appear.
pub fn groups(rows: &[Row]) -> Vec<Group<'_>> {
    let mut index: BTreeMap<(String, String, String, usize, u64, u64), usize> = BTreeMap::new();
    let mut out: Vec<Group> = Vec::new();
    for r in rows {
        let key = (r.implementation.clone(), r.mode.clone(), r.workload.clone(), r.capacity, r.producers, r.consumers);
        let i = *index.entry(key).or_insert_with(|| {
            out.push(Group {
                implementation: &r.implementation,
                mode: &r.mode,
                workload: &r.workload,
                capacity: r.capacity,
                producers: r.producers,
                consumers: r.consumers,
                ok: Vec::new(),
                failed: Vec::new(),
            });
            out.len() - 1
        });
        if r.ok() { out[i].ok.push(r) } else { out[i].failed.push(r) }
    }
    out
}

/// Writes every file of a results folder.
pub fn write_all(dir: &Path, env: &Env, rows: &[Row], shutdown: &[Vec<Observation>]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(dir.join("env.json"), serde_json::to_string_pretty(env)? + "\n")?;
    let mut w = csv::Writer::from_path(dir.join("runs.csv"))?;
    for r in rows {
        w.serialize(r)?;
    }
    w.flush()?;
    if !shutdown.is_empty() {
        let mut w = csv::Writer::from_path(dir.join("shutdown.csv"))?;
        for o in shutdown.iter().flatten() {
            w.write_record([
                o.implementation.as_str(),
                &format!("{:?}", o.question),
                &format!("{:?}", o.verdict),
                &o.detail,
                &o.wake_us.map_or(String::new(), |x| format!("{x:.1}")),
                &o.via_adapter.to_string(),
            ])?;
        }
        w.flush()?;
    }
    let plots = plots::write_plots(dir, rows).context("drawing the plots")?;
    std::fs::write(dir.join("summary.md"), summary_markdown(env, rows, shutdown, &plots))?;
    Ok(())
}

/// Reads a `runs.csv` back (used by tests and by anyone re-plotting).
pub fn read_runs(path: &Path) -> anyhow::Result<Vec<Row>> {
    let mut r = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    r.deserialize().map(|x| x.map_err(Into::into)).collect()
}
