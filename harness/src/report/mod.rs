//! The report: a pure function of a results folder's data. From the rows of `runs.csv`, the
//! observations of `shutdown.csv` and the machine of `env.json` ([`crate::schema`]) it writes
//! those files, `summary.md` (tables of medians with min-max spread, the shutdown matrix, a
//! plain reading) and SVG plots. `bqh compare` calls [`write_all`] with the rows it measured;
//! `bqh report DIR` reads the three files back and calls the same function, so a committed run
//! can be redrawn after a change to the report.

pub mod async_study;
pub mod memory;
mod plots;
pub mod scale;
pub mod strategies;
mod summary;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::outdir::Claim;
use crate::schema::{Env, Mode, NativeObservation, NativeQuestion, Observation, Question, Row, SpawnCost, Study, Verdict};
use crate::workloads::Workload;

pub use summary::summary_markdown;

/// The data files of a results folder, which everything else is drawn from.
pub const RUNS_CSV: &str = "runs.csv";
pub const ENV_JSON: &str = "env.json";
pub const SHUTDOWN_CSV: &str = "shutdown.csv";
/// The native shutdown probes (`shutdown_native.rs`), where a run made them.
pub const SHUTDOWN_NATIVE_CSV: &str = "shutdown-native.csv";
pub const SUMMARY_MD: &str = "summary.md";
/// `bqh async`: what starting idle tasks and threads cost.
pub const SPAWN_CSV: &str = "spawn.csv";

/// Medians and spread of one configuration's successful repetitions.
#[derive(Debug, Clone)]
pub struct Group<'a> {
    pub implementation: &'a str,
    pub mode: Mode,
    pub workload: Workload,
    pub capacity: usize,
    pub producers: u64,
    pub consumers: u64,
    pub ok: Vec<&'a Row>,
    pub failed: Vec<&'a Row>,
}

impl Group<'_> {
    /// "ocaml" for driven runs, "ocaml (native-domains)" for the others.
    pub fn label(&self) -> String {
        if self.mode == Mode::Driven { self.implementation.to_string() } else { format!("{} ({})", self.implementation, self.mode) }
    }
}

/// (median, min, max) of a column over the successful repetitions.
pub fn stat(rows: &[&Row], f: impl Fn(&Row) -> Option<f64>) -> Option<(f64, f64, f64)> {
    let mut v: Vec<f64> = rows.iter().filter_map(|r| f(r)).filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 };
    Some((median, v[0], v[n - 1]))
}

/// Million items per second.
pub fn mips(r: &Row) -> Option<f64> {
    Some(r.items_per_second / 1e6)
}

/// Groups rows by configuration, keeping the order in which configurations first appear.
pub fn groups(rows: &[Row]) -> Vec<Group<'_>> {
    let mut index: BTreeMap<(&str, Mode, Workload, usize, u64, u64), usize> = BTreeMap::new();
    let mut out: Vec<Group> = Vec::new();
    for r in rows {
        let key = (r.implementation.as_str(), r.mode, r.workload, r.capacity, r.producers, r.consumers);
        let i = *index.entry(key).or_insert_with(|| {
            out.push(Group {
                implementation: &r.implementation,
                mode: r.mode,
                workload: r.workload,
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

/// Workloads in first-seen order.
pub fn workloads(gs: &[Group]) -> Vec<Workload> {
    let mut w: Vec<Workload> = Vec::new();
    gs.iter().for_each(|g| if !w.contains(&g.workload) { w.push(g.workload) });
    w
}

/// The shutdown observations as columns, one per implementation, in first-seen order.
pub fn columns(observations: &[Observation]) -> Vec<Vec<Observation>> {
    let mut cols: Vec<Vec<Observation>> = Vec::new();
    for o in observations {
        match cols.iter_mut().find(|c| c[0].implementation == o.implementation) {
            Some(c) => c.push(o.clone()),
            None => cols.push(vec![o.clone()]),
        }
    }
    cols
}

/// Writes every file of a results folder into `dir` (which exists).
pub fn write_all(dir: &Path, env: &Env, rows: &[Row], shutdown: &[Vec<Observation>]) -> anyhow::Result<()> {
    std::fs::write(dir.join(ENV_JSON), serde_json::to_string_pretty(env)? + "\n")?;
    let mut w = csv::Writer::from_path(dir.join(RUNS_CSV))?;
    for r in rows {
        w.serialize(r)?;
    }
    w.flush()?;
    if !shutdown.is_empty() {
        let mut w = csv::Writer::from_path(dir.join(SHUTDOWN_CSV))?;
        for o in shutdown.iter().flatten() {
            w.serialize(o)?;
        }
        w.flush()?;
    }
    let summary = match env.study {
        Study::Compare => {
            let plots = plots::write_plots(dir, rows).context("drawing the plots")?;
            summary_markdown(env, rows, shutdown, &plots)
        }
        Study::Scale => {
            let plots = scale::write_plots(dir, rows).context("drawing the plots")?;
            scale::summary_markdown(env, rows, &plots)
        }
        Study::Shutdown => {
            let mut out = String::new();
            summary::header(&mut out, "Shutdown semantics", env);
            writeln!(out, "Command: `{}`.\n\n## Through the harness interface\n", env.command).unwrap();
            out + &matrix_markdown(shutdown)
        }
        Study::Strategies => anyhow::bail!("a strategies study has its own rows: report::strategies::write_all writes it"),
        Study::Memory => anyhow::bail!("a memory study's folder is written by report::memory::write_all"),
        Study::Async => {
            // Written beside runs.csv before this call (`write_spawn`), by the run or by `run`.
            let path = dir.join(SPAWN_CSV);
            let spawned = if path.exists() { read_csv::<SpawnCost>(&path)? } else { Vec::new() };
            let plots = async_study::write_plots(dir, rows).context("drawing the plots")?;
            async_study::summary_markdown(env, rows, &spawned, &plots)
        }
    };
    std::fs::write(dir.join(SUMMARY_MD), summary)?;
    Ok(())
}

/// Writes `spawn.csv` (`bqh async`) into `dir`.
pub fn write_spawn(dir: &Path, spawned: &[SpawnCost]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(dir.join(SPAWN_CSV))?;
    for s in spawned {
        w.serialize(s)?;
    }
    w.flush()?;
    Ok(())
}

/// Reads a `runs.csv` back.
pub fn read_runs(path: &Path) -> anyhow::Result<Vec<Row>> {
    read_csv(path)
}

/// Every row of a CSV file with a header, each checked against the schema type `T`.
fn read_csv<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    let mut r = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    r.deserialize()
        .enumerate()
        .map(|(i, x)| x.with_context(|| format!("{}: row {} does not fit the results schema", path.display(), i + 1)))
        .collect()
}

/// Reads a results folder's env.json (which says which study it holds).
pub fn read_env(dir: &Path) -> anyhow::Result<Env> {
    let path = dir.join(ENV_JSON);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}: is {} a results folder?", path.display(), dir.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} does not fit the results schema", path.display()))
}

/// Reads a results folder's data: env.json, runs.csv, and shutdown.csv where there is one.
pub fn read_dir(dir: &Path) -> anyhow::Result<(Env, Vec<Row>, Vec<Vec<Observation>>)> {
    let env = read_env(dir)?;
    let rows = read_runs(&dir.join(RUNS_CSV))?;
    let path = dir.join(SHUTDOWN_CSV);
    let shutdown = if path.exists() { columns(&read_csv::<Observation>(&path)?) } else { Vec::new() };
    Ok((env, rows, shutdown))
}

/// Writes the native probes' `shutdown-native.csv` into `dir`, a folder [`write_all`] has just
/// written, and adds their table to its `summary.md` (before the plots).
pub fn write_native(dir: &Path, native: &[NativeObservation]) -> anyhow::Result<()> {
    if native.is_empty() {
        return Ok(());
    }
    let mut w = csv::Writer::from_path(dir.join(SHUTDOWN_NATIVE_CSV))?;
    for o in native {
        w.serialize(o)?;
    }
    w.flush()?;
    let path = dir.join(SUMMARY_MD);
    let summary = std::fs::read_to_string(&path)?;
    let section = format!(
        "## Shutdown in each language's own terms\n\nThe matrix above goes through the harness interface, whose \
         adapter closes an explicit-close queue when either side's last handle drops. These probes use each \
         implementation's own API instead, without the adapter (`bqh shutdown --native` prints the same table; \
         the rows are in `{SHUTDOWN_NATIVE_CSV}`).\n\n{}\n",
        native_matrix_markdown(native)
    );
    let at = summary.find("\n## Plots\n").map_or(summary.len(), |i| i + 1);
    std::fs::write(&path, format!("{}{section}{}", &summary[..at], &summary[at..]))?;
    Ok(())
}

/// A folder's `shutdown-native.csv`, or nothing where the run made no native probes.
pub fn read_native(dir: &Path) -> anyhow::Result<Vec<NativeObservation>> {
    let path = dir.join(SHUTDOWN_NATIVE_CSV);
    if path.exists() { read_csv(&path) } else { Ok(Vec::new()) }
}

/// The native probes as Markdown: one row per question, one column per implementation, its
/// API named in the first row.
pub fn native_matrix_markdown(native: &[NativeObservation]) -> String {
    let mut names: Vec<&str> = Vec::new();
    native.iter().for_each(|o| if !names.contains(&o.implementation.as_str()) { names.push(&o.implementation) });
    let find = |name: &str, q: Option<NativeQuestion>| {
        native.iter().find(|o| o.implementation == name && q.is_none_or(|q| o.question == q))
    };
    let mut out = String::from("| question |");
    names.iter().for_each(|n| write!(out, " {n} |").unwrap());
    out += "\n|---|";
    out += &"---|".repeat(names.len());
    out += "\n| API |";
    names.iter().for_each(|n| write!(out, " `{}` |", find(n, None).map_or("?", |o| o.api.as_str())).unwrap());
    out += "\n";
    for q in NativeQuestion::ALL {
        write!(out, "| {} |", q.text()).unwrap();
        for n in &names {
            let cell = find(n, Some(q)).map_or("–".into(), |o| {
                let verdict = match o.verdict {
                    Verdict::Yes => "yes",
                    Verdict::No => "no",
                    Verdict::NotApplicable => "n/a",
                    Verdict::Failed => "**FAILED**",
                };
                format!("{verdict}: {}", o.detail.replace('|', "/"))
            });
            write!(out, " {cell} |").unwrap();
        }
        out += "\n";
    }
    out += "\nCells: the answer, then what the probe saw. \"no\" is not a failure here: it is how that API \
            behaves; **FAILED** means the probe itself hung or panicked.\n";
    out
}

/// The shutdown matrix as Markdown: one row per question, one column per implementation.
pub fn matrix_markdown(observations: &[Vec<Observation>]) -> String {
    let mut out = String::from("| question |");
    for col in observations {
        write!(out, " {} |", col.first().map_or("?", |o| o.implementation.as_str())).unwrap();
    }
    out += "\n|---|";
    out += &"---|".repeat(observations.len());
    out += "\n";
    for q in Question::ALL {
        write!(out, "| {} |", q.text()).unwrap();
        for col in observations {
            let cell = col.iter().find(|o| o.question == q).map_or("–".into(), cell);
            write!(out, " {cell} |").unwrap();
        }
        out += "\n";
    }
    out += "\nCells: the verdict, then what the probe saw; wake-up times are the median over the probe's \
            repetitions of the time until the slowest waiter returned. † marks behaviour that the harness \
            adapter adds (explicit-close queues are closed when either side's last handle drops; tokio's explicit \
            close is its receiver's, brought there from a producer or a waiting consumer by the adapter); n/a means the \
            implementation's API has no such operation.\n";
    out
}

fn cell(o: &Observation) -> String {
    let verdict = match o.verdict {
        Verdict::Yes => "yes",
        Verdict::No => "**NO**",
        Verdict::NotApplicable => "n/a",
        Verdict::Failed => "**FAILED**",
    };
    let dagger = if o.via_adapter { " †" } else { "" };
    let wake = o.wake_us.map_or(String::new(), |us| format!(", {us:.0} µs"));
    format!("{verdict}{dagger}: {}{wake}", o.detail.replace('|', "/"))
}

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Redraws summary.md and the plots of a results folder from its runs.csv, env.json and shutdown.csv
(a memory study: memory-runs.csv, memory.csv and env.json) alone, for example after a change to the report:

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

/// `bqh report`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let env = read_env(&args.dir)?;
    if env.study == Study::Strategies {
        let (rows, pipeline) = strategies::read_dir(&args.dir)?;
        let out = Claim::dir(args.out.as_deref().unwrap_or(&args.dir))?;
        out.write_dir(|dir| strategies::write_all(dir, &env, &rows, &pipeline))?;
        eprintln!("wrote {}/ ({} policy runs, {} pipeline runs)", out.path().display(), rows.len(), pipeline.len());
        return Ok(ExitCode::SUCCESS);
    }
    if env.study == Study::Memory {
        let (runs, samples) = memory::read(&args.dir)?;
        let out = Claim::dir(args.out.as_deref().unwrap_or(&args.dir))?;
        out.write_dir(|dir| memory::write_all(dir, &env, &runs, &samples))?;
        eprintln!("wrote {}/ ({} memory runs, {} samples)", out.path().display(), runs.len(), samples.len());
        return Ok(ExitCode::SUCCESS);
    }
    let (env, rows, shutdown) = read_dir(&args.dir)?;
    let native = read_native(&args.dir)?;
    // A comparison's short memory section, where it has one.
    let (memory_runs, memory_samples) =
        if args.dir.join(memory::RUNS_CSV).exists() { memory::read(&args.dir)? } else { (Vec::new(), Vec::new()) };
    let spawn = args.dir.join(SPAWN_CSV);
    let spawned = if spawn.exists() { read_csv::<SpawnCost>(&spawn)? } else { Vec::new() };
    let out = Claim::dir(args.out.as_deref().unwrap_or(&args.dir))?;
    out.write_dir(|dir| {
        if env.study == Study::Async {
            write_spawn(dir, &spawned)?;
        }
        write_all(dir, &env, &rows, &shutdown)?;
        write_native(dir, &native)?;
        memory::append_section(dir, &memory_runs, &memory_samples)
    })?;
    eprintln!("wrote {}/ ({} runs, {} shutdown probes)", out.path().display(), rows.len(), shutdown.iter().flatten().count());
    Ok(ExitCode::SUCCESS)
}
