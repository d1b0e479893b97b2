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

/// Every row of a CSV file with a header, each checked against the row type `T`.
pub fn read_csv<T: DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    let mut r = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let header = r.headers().with_context(|| format!("cannot read the header of {}", path.display()))?.clone();
    r.deserialize()
        .enumerate()
        .map(|(i, x)| {
            x.map_err(|e| {
                // Name the column, counted from 1 as a spreadsheet does, where the error knows it.
                let column = match e.kind() {
                    csv::ErrorKind::Deserialize { err, .. } => err.field().map(|f| {
                        let name = header.get(f as usize).unwrap_or("?");
                        format!(", column {} ({name})", f + 1)
                    }),
                    _ => None,
                };
                anyhow::anyhow!("{}: row {}{} does not fit the results schema: {e}", path.display(), i + 1, column.unwrap_or_default())
            })
        })
        .collect()
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
