//! The files of a results folder: CSV with a header (one row per record, checked against its
//! type on reading) and pretty JSON. Every error names the file.
//!
//! Every file bqh reads from a results folder goes through [`read_input`]: a folder is input a
//! person may have edited, copied from another machine or damaged, so a report reads regular
//! files of a bounded size only, and never waits on a pipe or reads a device without end.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use anyhow::{bail, Context};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::env::Env;

/// Every folder has these two: the machine and command, and what a person reads.
pub const ENV_JSON: &str = "env.json";
pub const SUMMARY_MD: &str = "summary.md";

/// The most bqh reads from one file of a results folder: 256 MiB. The largest data file a
/// study has written is 3.9 MB (`runs.csv` of results/2026-12-07-xeon-2core, a full `make
/// compare`), so a real file has 68 times room; a larger one is not a file bqh wrote, and
/// reading it would take the memory a report needs (its rows take more than its bytes).
pub const INPUT_LIMIT: u64 = 256 << 20;
/// [`INPUT_LIMIT`] as the messages say it.
pub const INPUT_LIMIT_SHOWN: &str = "256 MiB";

/// What a spreadsheet may put before the first byte of a UTF-8 file: not part of the data.
const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// Columns of free text (names, messages), where a number is only a word.
const TEXT_COLUMNS: [&str; 3] = ["implementation", "error", "detail"];

/// The bytes of one input file of a results folder. Read only if it is a regular file (a
/// symbolic link to one is followed) of at most [`INPUT_LIMIT`] bytes: a named pipe would block
/// the report until a writer comes, a device (`/dev/zero`) never ends, a folder or a socket is
/// no data. The kind is checked before opening (opening a device may do something) and again on
/// the opened handle, opened with `O_NONBLOCK` so that a pipe swapped in meanwhile cannot block;
/// the read stops one byte past the limit, so a file that grows while it is read is refused too.
pub fn read_input(path: &Path) -> anyhow::Result<Vec<u8>> {
    let cannot = || format!("cannot read {}", path.display());
    check_input(path, &fs::metadata(path).with_context(cannot)?)?;
    let file = fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).with_context(cannot)?;
    let meta = file.metadata().with_context(cannot)?;
    check_input(path, &meta)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
    file.take(INPUT_LIMIT + 1).read_to_end(&mut bytes).with_context(cannot)?;
    if bytes.len() as u64 > INPUT_LIMIT {
        bail!(too_large(path, None));
    }
    Ok(bytes)
}

/// Refuses, naming the file and what to do, what [`read_input`] does not read.
fn check_input(path: &Path, meta: &fs::Metadata) -> anyhow::Result<()> {
    let t = meta.file_type();
    let kind = if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a folder")
    } else if t.is_fifo() {
        Some("a named pipe (FIFO)")
    } else if t.is_char_device() || t.is_block_device() {
        Some("a device")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        Some("of an unknown kind")
    };
    if let Some(kind) = kind {
        bail!(
            "{} is {kind}, not a regular file: bqh reads a results folder's data only from regular files of at most \
             {INPUT_LIMIT_SHOWN}, never from a pipe or a device (which may block or never end). Put the data file \
             itself in its place",
            path.display()
        );
    }
    if meta.len() > INPUT_LIMIT {
        bail!(too_large(path, Some(meta.len())));
    }
    Ok(())
}

fn too_large(path: &Path, bytes: Option<u64>) -> String {
    format!(
        "{} is larger than the {INPUT_LIMIT_SHOWN} bqh reads from one results file{}: the studies write a few MiB, \
         so it is not a file bqh wrote. Check that it is the right file, or cut it down",
        path.display(),
        bytes.map_or_else(String::new, |b| format!(" ({b} bytes)"))
    )
}

/// `bytes` without a UTF-8 byte order mark in front.
fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes)
}

/// Is there anything at `path` (a broken symbolic link counts: reading it says what is wrong)?
pub fn present(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// Every row of a CSV file with a header, each checked against the row type `T`. Every number
/// in a results file is a measure, a count or a setting: one that is infinite or negative is
/// refused, naming its row and column (an empty cell or NaN is a figure that was not measured).
/// Read through [`read_input`]; what a spreadsheet or a hand edit may add is accepted (a byte
/// order mark, CRLF line ends, blank lines, spaces around a cell). An empty file has no rows.
pub fn read_csv<T: DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    let bytes = read_input(path)?;
    let mut r = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(without_bom(&bytes));
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
                    bail!(
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
            anyhow::anyhow!(
                "{}: row {}{} does not fit the results schema: {e}",
                path.display(),
                i + 1,
                at.unwrap_or_default()
            )
        })?);
    }
    Ok(rows)
}

/// [`read_csv`] where the file may be absent: no rows then.
pub fn read_csv_if_present<T: DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    if present(path) {
        read_csv(path)
    } else {
        Ok(Vec::new())
    }
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
    fs::write(&path, serde_json::to_string_pretty(env)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Reads a results folder's `env.json` (which says which study it holds), through
/// [`read_input`]; a byte order mark in front is accepted.
pub fn read_env(dir: &Path) -> anyhow::Result<Env> {
    let path = dir.join(ENV_JSON);
    if let Err(e) = fs::symlink_metadata(&path) {
        return Err(e)
            .with_context(|| format!("cannot read {}: is {} a results folder?", path.display(), dir.display()));
    }
    let bytes = read_input(&path)?;
    serde_json::from_slice(without_bom(&bytes))
        .with_context(|| format!("{} does not fit the results schema", path.display()))
}

#[cfg(test)]
mod tests {
    //! [`read_input`] and the readers on it, on files made in a folder of their own.
    use super::*;
    use std::path::PathBuf;

    /// A new, empty folder for one test (this process's, removed first if a run left it).
    fn folder(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("bq-results-files-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn refusal(path: &Path) -> String {
        format!("{:#}", read_input(path).unwrap_err())
    }

    #[test]
    fn a_pipe_a_device_a_socket_and_a_folder_are_refused_without_blocking() {
        let d = folder("kinds");
        let fifo = d.join("runs.csv");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo makes a pipe there and reads nothing else.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // No writer ever comes: opened without O_NONBLOCK, this would wait for ever.
        let msg = refusal(&fifo);
        assert!(msg.contains(&format!("{} is a named pipe (FIFO), not a regular file", fifo.display())), "{msg}");
        assert!(msg.contains("at most 256 MiB") && msg.contains("Put the data file itself in its place"), "{msg}");

        let zero = d.join("zero.csv");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(refusal(&zero).contains("zero.csv is a device, not a regular file"), "{}", refusal(&zero));
        let socket = std::os::unix::net::UnixListener::bind(d.join("env.json")).unwrap();
        assert!(refusal(&d.join("env.json")).contains("env.json is a socket"), "{}", refusal(&d.join("env.json")));
        drop(socket);
        fs::create_dir(d.join("memory.csv")).unwrap();
        assert!(refusal(&d.join("memory.csv")).contains("memory.csv is a folder, not a regular file"));
        assert!(refusal(&d.join("absent.csv")).contains("cannot read"));
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn a_file_past_the_limit_is_refused_before_a_byte_is_read() {
        let d = folder("large");
        let big = d.join("memory.csv");
        // Sparse: no disk block is written, and no byte is read before the refusal.
        fs::File::create(&big).unwrap().set_len(INPUT_LIMIT + 1).unwrap();
        let msg = refusal(&big);
        assert!(
            msg.contains(&format!("{} is larger than the 256 MiB", big.display())) && msg.contains("268435457 bytes"),
            "{msg}"
        );
        assert_eq!(INPUT_LIMIT, 256 << 20, "INPUT_LIMIT_SHOWN says 256 MiB");
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn a_regular_file_is_read_byte_for_byte_also_through_a_symbolic_link() {
        let d = folder("regular");
        let bytes = b"\xef\xbb\xbfa,b\r\n1,2\r\n3,4".to_vec();
        fs::write(d.join("data.csv"), &bytes).unwrap();
        std::os::unix::fs::symlink(d.join("data.csv"), d.join("runs.csv")).unwrap();
        assert_eq!(read_input(&d.join("runs.csv")).unwrap(), bytes);
        fs::write(d.join("empty.csv"), "").unwrap();
        assert_eq!(read_input(&d.join("empty.csv")).unwrap(), b"");
        let _ = fs::remove_dir_all(&d);
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Pair {
        implementation: String,
        items: u64,
    }

    /// A spreadsheet's save of a CSV file (CRLF, a byte order mark, no last newline) or a hand
    /// edit (blank lines, spaces) reads as the same rows; an empty file has none.
    #[test]
    fn a_csv_file_reads_the_same_however_its_lines_end() {
        let d = folder("csv");
        let rows =
            vec![Pair { implementation: "c".into(), items: 1 }, Pair { implementation: "ocaml".into(), items: 20 }];
        for (name, text) in [
            ("lf", "implementation,items\nc,1\nocaml,20\n"),
            ("crlf", "implementation,items\r\nc,1\r\nocaml,20\r\n"),
            ("bom", "\u{feff}implementation,items\nc,1\nocaml,20\n"),
            ("no-last-newline", "implementation,items\nc,1\nocaml,20"),
            ("blank-lines", "implementation,items\n\nc,1\nocaml,20\n\n\n"),
            ("spaces", "implementation , items\n c , 1 \nocaml,\t20\n"),
        ] {
            let p = d.join(format!("{name}.csv"));
            fs::write(&p, text).unwrap();
            assert_eq!(read_csv::<Pair>(&p).unwrap(), rows, "{name}");
        }
        fs::write(d.join("empty.csv"), "").unwrap();
        assert!(read_csv::<Pair>(&d.join("empty.csv")).unwrap().is_empty());
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn an_env_json_reads_the_same_with_a_byte_order_mark_or_crlf() {
        let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results/2026-12-07-xeon-2core-scale");
        let want = read_env(&committed).unwrap();
        let text = fs::read_to_string(committed.join(ENV_JSON)).unwrap();
        let d = folder("env");
        for saved in [format!("\u{feff}{text}"), text.replace('\n', "\r\n"), text.trim_end().to_string()] {
            fs::write(d.join(ENV_JSON), saved).unwrap();
            assert_eq!(read_env(&d).unwrap(), want);
        }
        let _ = fs::remove_dir_all(&d);
    }
}
