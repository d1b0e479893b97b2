//! The files of a results folder: CSV with a header (one row per record, checked against its
//! type on reading) and pretty JSON. Every error names the file.

use std::path::Path;

use anyhow::Context;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::env::Env;

/// Every folder has these two: the machine and command, and what a person reads.
pub const ENV_JSON: &str = "env.json";
pub const SUMMARY_MD: &str = "summary.md";

/// Columns of free text (names, messages), where a number is only a word.
const TEXT_COLUMNS: [&str; 3] = ["implementation", "error", "detail"];

/// Every row of a CSV file with a header, each checked against the row type `T`. Every number
/// in a results file is a measure, a count or a setting: one that is infinite or negative is
/// refused, naming its row and column (an empty cell or NaN is a figure that was not measured).
pub fn read_csv<T: DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    let mut r = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let header = r.headers().with_context(|| format!("cannot read the header of {}", path.display()))?.clone();
    // Columns are counted from 1, as a spreadsheet does.
    let column = |f: usize| format!("column {} ({})", f + 1, header.get(f).unwrap_or("?"));
    let mut rows = Vec::new();
    for (i, record) in r.records().enumerate() {
        let record = record.map_err(|e| anyhow::anyhow!("{}: row {} cannot be read: {e}", path.display(), i + 1))?;
        for (f, value) in record.iter().enumerate() {
            if TEXT_COLUMNS.contains(&header.get(f).unwrap_or("")) {
                continue;
            }
            if let Ok(x) = value.trim().parse::<f64>() {
                if x.is_infinite() || x < 0.0 {
                    anyhow::bail!(
                        "{}: row {}, {}: {value} is not a value a run measures (infinite or negative). \
                         Fix or remove that row, or run the study again",
                        path.display(),
                        i + 1,
                        column(f)
                    );
                }
            }
        }
        rows.push(record.deserialize(Some(&header)).map_err(|e: csv::Error| {
            // Name the column where the error knows it.
            let at = match e.kind() {
                csv::ErrorKind::Deserialize { err, .. } => err.field().map(|f| format!(", {}", column(f as usize))),
                _ => None,
            };
            anyhow::anyhow!("{}: row {}{} does not fit the results schema: {e}", path.display(), i + 1, at.unwrap_or_default())
        })?);
    }
    Ok(rows)
}

/// [`read_csv`] where the file may be absent: no rows then.
pub fn read_csv_if_present<T: DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    if path.exists() { read_csv(path) } else { Ok(Vec::new()) }
}

/// Writes `rows` as a CSV file with a header.
pub fn write_csv<'a, T: Serialize + 'a>(path: &Path, rows: impl IntoIterator<Item = &'a T>) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    for r in rows {
        w.serialize(r).with_context(|| format!("cannot write a row of {}", path.display()))?;
    }
    w.flush().with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Writes a folder's `env.json`.
pub fn write_env(dir: &Path, env: &Env) -> anyhow::Result<()> {
    let path = dir.join(ENV_JSON);
    std::fs::write(&path, serde_json::to_string_pretty(env)? + "\n").with_context(|| format!("cannot write {}", path.display()))
}

/// Reads a results folder's `env.json` (which says which study it holds).
pub fn read_env(dir: &Path) -> anyhow::Result<Env> {
    let path = dir.join(ENV_JSON);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}: is {} a results folder?", path.display(), dir.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} does not fit the results schema", path.display()))
}
