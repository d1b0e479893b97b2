//! The shutdown study's report: the matrix through the harness interface (`shutdown.csv`) and
//! the native one (`shutdown-native.csv`), as Markdown. `bqh compare` adds both to its summary.

use std::fmt::Write as _;
use std::path::Path;

use bq_engine::shutdown::{NativeObservation, NativeQuestion, Observation, Question, Verdict};
use bq_results::files::{read_csv_if_present, read_env, write_csv, write_env, ENV_JSON, SUMMARY_MD};
use bq_results::markdown::{self, table_head};
use bq_results::Env;

use super::rows::{SHUTDOWN_CSV, SHUTDOWN_NATIVE_CSV};
use crate::study::Report;

/// A shutdown study's folder.
pub struct Results {
    pub env: Env,
    /// One column per implementation.
    pub matrix: Vec<Vec<Observation>>,
    pub native: Vec<NativeObservation>,
}

impl Report for Results {
    fn write(&self, dir: &Path) -> anyhow::Result<()> {
        write(dir, self)
    }

    fn rows(&self) -> usize {
        self.matrix.iter().flatten().count() + self.native.len()
    }

    fn describe(&self) -> String {
        format!("{} shutdown probes, {} native", self.matrix.iter().flatten().count(), self.native.len())
    }
}

/// The files [`read`] reads: `bqh report` puts them back byte for byte.
pub const DATA_FILES: &[&str] = &[ENV_JSON, SHUTDOWN_CSV, SHUTDOWN_NATIVE_CSV];

/// Reads a folder's probes: `shutdown.csv` and `shutdown-native.csv`, each where present.
pub fn read(dir: &Path) -> anyhow::Result<Results> {
    Ok(Results { env: read_env(dir)?, matrix: read_matrix(dir)?, native: read_native(dir)? })
}

/// Writes every file of a shutdown study's folder into `dir` (which exists).
pub fn write(dir: &Path, r: &Results) -> anyhow::Result<()> {
    write_env(dir, &r.env)?;
    write_matrix(dir, &r.matrix)?;
    let mut out = String::new();
    markdown::header(&mut out, "Shutdown semantics", &r.env);
    writeln!(out, "Command: `{}`.\n\n## Through the harness interface\n", r.env.command).unwrap();
    std::fs::write(dir.join(SUMMARY_MD), out + &matrix_markdown(&r.matrix))?;
    write_native(dir, &r.native)
}

/// `shutdown.csv`, where the probes ran.
pub fn write_matrix(dir: &Path, matrix: &[Vec<Observation>]) -> anyhow::Result<()> {
    if matrix.is_empty() {
        Ok(())
    } else {
        write_csv(&dir.join(SHUTDOWN_CSV), matrix.iter().flatten())
    }
}

/// A folder's `shutdown.csv` as columns, or nothing where the run made no probes.
pub fn read_matrix(dir: &Path) -> anyhow::Result<Vec<Vec<Observation>>> {
    Ok(columns(&read_csv_if_present::<Observation>(&dir.join(SHUTDOWN_CSV))?))
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

/// Writes the native probes' `shutdown-native.csv` into `dir`, a folder whose `summary.md` is
/// written, and adds their table to its `summary.md` (before the plots).
pub fn write_native(dir: &Path, native: &[NativeObservation]) -> anyhow::Result<()> {
    if native.is_empty() {
        return Ok(());
    }
    write_csv(&dir.join(SHUTDOWN_NATIVE_CSV), native)?;
    let path = dir.join(SUMMARY_MD);
    let summary = std::fs::read_to_string(&path)?;
    let section = format!(
        "## Shutdown in each language's own terms\n\nThe shutdown matrix through the harness interface (in this \
         folder's summary or observations) goes through the adapter, which closes an explicit-close queue when \
         either side's last handle drops. These probes use each implementation's own API instead, without the adapter (`bqh shutdown --native` prints the same table; \
         the rows are in `{SHUTDOWN_NATIVE_CSV}`).\n\n{}\n",
        native_matrix_markdown(native)
    );
    let at = summary.find("\n## Plots\n").map_or(summary.len(), |i| i + 1);
    std::fs::write(&path, format!("{}{section}{}", &summary[..at], &summary[at..]))?;
    Ok(())
}

/// A folder's `shutdown-native.csv`, or nothing where the run made no native probes.
pub fn read_native(dir: &Path) -> anyhow::Result<Vec<NativeObservation>> {
    read_csv_if_present(&dir.join(SHUTDOWN_NATIVE_CSV))
}

/// The native probes as Markdown: one row per question, one column per implementation, its
/// API named in the first row.
pub fn native_matrix_markdown(native: &[NativeObservation]) -> String {
    let mut names: Vec<&str> = Vec::new();
    native.iter().for_each(|o| {
        if !names.contains(&o.implementation.as_str()) {
            names.push(&o.implementation)
        }
    });
    let find = |name: &str, q: Option<NativeQuestion>| {
        native.iter().find(|o| o.implementation == name && q.is_none_or(|q| o.question == q))
    };
    let mut out = String::new();
    table_head(&mut out, "question", &names, |n| n.to_string());
    out += "| API |";
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
    let mut out = String::new();
    table_head(&mut out, "question", observations, |col| {
        col.first().map_or("?", |o| o.implementation.as_str()).to_string()
    });
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
