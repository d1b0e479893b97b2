//! The rows of `runs.csv` (the engine's [`Row`]) as the reports of compare, scale and async
//! read them: grouped by configuration, with medians, intervals, stability and failures, and
//! one colour per implementation and mode.

use std::collections::BTreeMap;
use std::fmt::Write;

use plotters::style::RGBColor;

use bq_engine::placement::Placement;
use bq_engine::row::{Mode, Row};
use bq_engine::sizing::MIN_RUN;
use bq_engine::workloads::Workload;
use bq_engine::Builtin;
use bq_results::plot::Series;
use bq_results::stats;

/// The file of the engine's rows.
pub const RUNS_CSV: &str = "runs.csv";

/// Writes `runs.csv`. Rows from before paired measurement keep the columns they were written
/// with, and columns no row uses stay out ([`Row::unused_columns`]), so a committed folder
/// redraws to its own bytes.
pub fn write_runs(path: &std::path::Path, rows: &[Row]) -> anyhow::Result<()> {
    use anyhow::Context;
    let unused = Row::unused_columns(rows);
    if unused == 0 {
        return bq_results::files::write_csv(path, rows);
    }
    // Serialised whole in memory, then cut to the columns used: the file is written once.
    let mut full = csv::Writer::from_writer(Vec::new());
    for r in rows {
        full.serialize(r)?;
    }
    let full = full.into_inner()?;
    let mut w = csv::Writer::from_writer(Vec::with_capacity(full.len()));
    for record in csv::ReaderBuilder::new().has_headers(false).from_reader(&full[..]).records() {
        let record = record?;
        w.write_record(record.iter().take(record.len() - unused))?;
    }
    std::fs::write(path, w.into_inner()?).with_context(|| format!("cannot write {}", path.display()))
}

/// The rows of a `runs.csv`, each successful one checked for figures a run can have
/// ([`Row::implausible`]): a report must not draw what no run measured.
pub fn read_runs(path: &std::path::Path) -> anyhow::Result<Vec<Row>> {
    let rows: Vec<Row> = bq_results::files::read_csv(path)?;
    for (i, r) in rows.iter().enumerate() {
        if let Some(why) = r.implausible() {
            anyhow::bail!("{}: row {}: {why}. Fix or remove that row, or run the study again", path.display(), i + 1);
        }
    }
    Ok(rows)
}

/// Medians and spread of one configuration's successful repetitions.
#[derive(Debug, Clone)]
pub struct Group<'a> {
    pub implementation: &'a str,
    pub mode: Mode,
    pub workload: Workload,
    pub capacity: usize,
    pub producers: u64,
    pub consumers: u64,
    pub placement: Placement,
    pub ok: Vec<&'a Row>,
    pub failed: Vec<&'a Row>,
}

impl Group<'_> {
    /// "ocaml" for driven runs, "ocaml (native-domains)" for the others; the placement after
    /// a dot where threads were pinned.
    pub fn label(&self) -> String {
        let base = if self.mode == Mode::Driven {
            self.implementation.to_string()
        } else {
            format!("{} ({})", self.implementation, self.mode)
        };
        if self.placement == Placement::Unpinned {
            base
        } else {
            format!("{base} · {}", self.placement)
        }
    }
}

/// (median, min, max) of a column over the successful repetitions.
pub fn stat(rows: &[&Row], f: impl Fn(&Row) -> Option<f64>) -> Option<(f64, f64, f64)> {
    stats::median_min_max(rows.iter().filter_map(|r| f(r)))
}

/// Million items per second.
pub fn mips(r: &Row) -> Option<f64> {
    Some(r.items_per_second / 1e6)
}

/// What makes a configuration: implementation, mode, workload, capacity, producers, consumers,
/// placement, and the consumer's work per item when the run set it.
pub type ConfigKey<'a> = (&'a str, Mode, Workload, usize, u64, u64, Placement, Option<u64>);

/// A row's configuration.
pub fn config_key(r: &Row) -> ConfigKey<'_> {
    (
        r.implementation.as_str(),
        r.mode,
        r.workload,
        r.capacity,
        r.producers,
        r.consumers,
        r.placement,
        r.consumer_work_ns,
    )
}

/// `items` grouped by `key`, the groups in the order their first item appears and each group's
/// items in theirs.
pub fn group_first_seen<K: Ord, T>(items: impl IntoIterator<Item = T>, key: impl Fn(&T) -> K) -> Vec<Vec<T>> {
    let mut index: BTreeMap<K, usize> = BTreeMap::new();
    let mut out: Vec<Vec<T>> = Vec::new();
    for x in items {
        let i = *index.entry(key(&x)).or_insert_with(|| {
            out.push(Vec::new());
            out.len() - 1
        });
        out[i].push(x);
    }
    out
}

/// Groups rows by configuration, keeping the order in which configurations first appear.
pub fn groups(rows: &[Row]) -> Vec<Group<'_>> {
    group_first_seen(rows, |r| config_key(r))
        .into_iter()
        .map(|rs| {
            let r = rs[0];
            let (ok, failed) = rs.into_iter().partition(|r| r.ok());
            Group {
                implementation: &r.implementation,
                mode: r.mode,
                workload: r.workload,
                capacity: r.capacity,
                producers: r.producers,
                consumers: r.consumers,
                placement: r.placement,
                ok,
                failed,
            }
        })
        .collect()
}

/// Each distinct value once, in the order it first appears: the rows and columns of a
/// report's tables keep the order the runs were planned in.
pub fn first_seen<T: PartialEq>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for x in items {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

/// Workloads in first-seen order.
pub fn workloads(gs: &[Group]) -> Vec<Workload> {
    first_seen(gs.iter().map(|g| g.workload))
}

/// Row labels in first-seen order.
pub fn labels(gs: &[&Group]) -> Vec<String> {
    first_seen(gs.iter().map(|g| g.label()))
}

/// The implementation's own colour (`Builtin::colour`; grey for anything else, such as a
/// plugin), lighter for a native mode on separate threads, darker for OCaml systhreads.
pub fn color(implementation: &str, mode: Mode) -> RGBColor {
    let (r, g, b) = Builtin::from_name(implementation).map_or((90, 90, 90), Builtin::colour);
    match mode {
        Mode::Driven => RGBColor(r, g, b),
        Mode::NativeSysthreads => RGBColor(r / 2, g / 2, b / 2),
        Mode::Native | Mode::NativeDomains | Mode::NativeTasks => RGBColor(r / 2 + 100, g / 2 + 100, b / 2 + 100),
    }
}

/// One series per implementation and mode of `gs`, x being the index of `x(g)` in `xs`.
pub fn series_by_label<X: PartialEq>(
    gs: &[&Group],
    xs: &[X],
    x: impl Fn(&Group) -> X,
    y: impl Fn(&Row) -> Option<f64> + Copy,
) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for g in gs {
        let Some(i) = xs.iter().position(|v| *v == x(g)) else { continue };
        let Some(v) = stat(&g.ok, y) else { continue };
        match out.iter_mut().find(|s| s.0 == g.label()) {
            Some(s) => s.2.push((i, v)),
            None => out.push((g.label(), color(g.implementation, g.mode), vec![(i, v)])),
        }
    }
    out
}

/// The median throughput with its 95% interval, (median, lo, hi, coverage).
pub fn interval(g: &Group) -> Option<(f64, f64, f64, f64)> {
    stats::median_with_interval(g.ok.iter().filter_map(|r| mips(r)))
}

/// An interval wider than ±10% of the median.
const UNSTABLE: f64 = 0.10;

fn wide(m: f64, lo: f64, hi: f64) -> bool {
    (m - lo).max(hi - m) > UNSTABLE * m
}

/// Why a configuration's interval is wide, when the rows say: more threads than cores, or a
/// design that keeps the cores busy (spins) while it waits.
fn unstable(g: &Group, cores: usize) -> Option<String> {
    let (m, lo, hi, _) = interval(g)?;
    if !wide(m, lo, hi) {
        return None;
    }
    let threads = if g.workload == Workload::Seq {
        1
    } else if g.mode == Mode::NativeTasks {
        cores as u64 // tasks run on one worker thread per core
    } else {
        g.producers + g.consumers
    };
    let cpu = stat(&g.ok, |r| Some(r.cpu_per_wall)).map_or(0.0, |s| s.0);
    // The larger of the two shares: each is a share of its own side's operations.
    let waits = stat(&g.ok, |r| Some(r.push_wait_share.max(r.pop_wait_share))).map_or(0.0, |s| s.0);
    let mut why = Vec::new();
    if cores > 0 && threads as usize > cores {
        why.push(format!("oversubscribed: {threads} threads on {cores} cores"));
    }
    // Cores busy while the threads wait: they spin instead of sleeping.
    if cores > 0 && threads > 1 && waits > 0.01 && cpu >= 0.9 * cores.min(threads as usize) as f64 {
        why.push(format!(
            "busy waiting: {cpu:.1} CPU-seconds per second while {:.0}% of one side's operations waited",
            waits * 100.0
        ));
    }
    if why.is_empty() && threads as usize == cores && cores > 1 {
        why.push(format!(
            "{threads} threads on {cores} cores: they run in parallel or take turns, and that flips between runs"
        ));
    }
    Some(if why.is_empty() { "no cause in the rows (machine noise?)".into() } else { why.join("; ") })
}

/// "1.23 [1.10–1.30]", with ⚠ when the interval is wider than ±10%; "–" when nothing succeeded.
pub fn throughput_cell(g: &Group) -> String {
    match interval(g) {
        Some((m, lo, hi, _)) => {
            let mark = if wide(m, lo, hi) { " ⚠" } else { "" };
            format!("{m:.2} [{lo:.2}–{hi:.2}]{mark}")
        }
        None => "–".into(),
    }
}

/// Median over configurations of max/min across repetitions: the spread the goal is about.
fn spread_of_reps(gs: &[Group]) -> Option<f64> {
    stats::upper_median(gs.iter().filter_map(|g| stat(&g.ok, mips)).filter(|s| s.1 > 0.0).map(|(_, lo, hi)| hi / lo))
}

/// How long the runs were, how many items they moved, and how stable the figures are.
pub fn stability(gs: &[Group], rows: &[Row], cores: usize) -> String {
    let mut out = String::new();
    let ok: Vec<&Row> = rows.iter().filter(|r| r.ok() && r.repetition > 0).collect();
    if let (Some(secs), Some(items)) = (stat(&ok, |r| Some(r.seconds * 1e3)), stat(&ok, |r| Some(r.items as f64))) {
        let short = ok.iter().filter(|r| r.seconds < MIN_RUN.as_secs_f64()).count();
        writeln!(
            out,
            "Runs lasted {:.0} ms at the median ({:.1}–{:.0} ms; {short} of {} shorter than {} ms) and moved {:.0} to \
             {:.0} items (sized per configuration by a pilot run; the `items` column of `runs.csv`).\n",
            secs.0,
            secs.1,
            secs.2,
            ok.len(),
            MIN_RUN.as_millis(),
            items.1,
            items.2
        )
        .unwrap();
    }
    if let Some(spread) = spread_of_reps(gs) {
        writeln!(
            out,
            "Median over configurations of max/min throughput across repetitions: **{spread:.2}**.
"
        )
        .unwrap();
    }
    let flagged: Vec<(&Group, String)> = gs.iter().filter_map(|g| unstable(g, cores).map(|why| (g, why))).collect();
    let measured = gs.iter().filter(|g| !g.ok.is_empty()).count();
    writeln!(
        out,
        "{} of {measured} configurations are marked ⚠ unstable: their 95% interval is wider than ±{:.0}% of the \
         median. Compare them with care.\n",
        flagged.len(),
        UNSTABLE * 100.0
    )
    .unwrap();
    if !flagged.is_empty() {
        out.push_str("| implementation | workload | capacity | median [95% interval] | why |\n|---|---|---|---|---|\n");
        for (g, why) in flagged {
            writeln!(out, "| {} | {} | {} | {} | {why} |", g.label(), g.workload, g.capacity, throughput_cell(g))
                .unwrap();
        }
        out.push('\n');
    }
    out
}

/// Failed runs first, loudly: they are excluded from every median.
pub fn failures(rows: &[Row]) -> String {
    let mut out = String::new();
    let failed: Vec<&Row> = rows.iter().filter(|r| !r.ok()).collect();
    if !failed.is_empty() {
        writeln!(out, "## ⚠ FAILED RUNS ({})\n", failed.len()).unwrap();
        writeln!(
            out,
            "These runs lost, duplicated or reordered items, overfilled the queue, hung or panicked (repetition \
                       0 is a pilot or the warm-up). They are not averaged into any figure below.\n"
        )
        .unwrap();
        out.push_str("| implementation | mode | workload | threads | capacity | repetition | what went wrong |\n|---|---|---|---|---|---|---|\n");
        for r in &failed {
            writeln!(
                out,
                "| {} | {} | {} | {}+{} | {} | {} | {} |",
                r.implementation,
                r.mode,
                r.workload,
                r.producers,
                r.consumers,
                r.capacity,
                r.repetition,
                r.error.replace('|', "/")
            )
            .unwrap();
        }
        out.push('\n');
    }
    out
}

/// Per implementation that ran in child processes (a plugin), how much memory its children
/// reached: a library that leaks is contained in its process, and this says it leaked.
pub fn children(rows: &[Row]) -> String {
    let mut out = String::new();
    let names = first_seen(rows.iter().filter(|r| r.child_peak_rss_kib.is_some()).map(|r| r.implementation.as_str()));
    if names.is_empty() {
        return out;
    }
    out.push_str("## Child processes\n\nEach run of a plugin is made in a child process of its own, so that a crash, a hang or a \
                  leak stays there. Its peak resident memory (RSS), KiB:\n\n");
    out.push_str("| implementation | runs | median | highest | in |\n|---|---|---|---|---|\n");
    for name in names {
        let mine: Vec<&Row> =
            rows.iter().filter(|r| r.implementation == name && r.child_peak_rss_kib.is_some()).collect();
        let kib = |r: &Row| r.child_peak_rss_kib.unwrap_or(0);
        let top = *mine.iter().max_by_key(|r| kib(r)).expect("at least one row");
        let median = stats::median(mine.iter().map(|r| kib(r) as f64)).unwrap_or(f64::NAN);
        writeln!(
            out,
            "| {name} | {} | {median:.0} | {} | {} {}+{} capacity {} repetition {} |",
            mine.len(),
            kib(top),
            top.workload,
            top.producers,
            top.consumers,
            top.capacity,
            top.repetition
        )
        .unwrap();
    }
    out.push('\n');
    out
}
