//! Runs of a plugin (a user's shared library exporting `c/bq.h`) in a child process, so that a
//! library that crashes or hangs fails its own runs, named, and the comparison goes on. The
//! child is this same binary (`bqh isolated`, hidden): it loads the library, makes one run or
//! the shutdown probes, and prints the row as CSV (which, unlike JSON, keeps the NaN of a failed
//! run's figures) or the observations as one line of JSON.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};

use crate::driven::measure_driven;
use crate::impls::plugin::Plugin;
use crate::row::{Mode, Row};
use crate::shutdown::{self, Observation, Question, Verdict};
use crate::workloads::RunSpec;

/// Time a child gets beyond the run's own limit (start-up, loading, printing).
const GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shared library to load
    #[arg(long)]
    pub plugin: PathBuf,
    /// One run: the spec, as JSON
    #[arg(long)]
    pub spec: Option<String>,
    #[arg(long, default_value_t = 1)]
    pub repetition: u32,
    /// Seconds the run may take
    #[arg(long, default_value_t = 120)]
    pub limit: u64,
    /// The shutdown probes instead of a run
    #[arg(long)]
    pub probes: bool,
}

/// `bqh isolated`: the child's side.
pub fn child(args: &Args) -> anyhow::Result<ExitCode> {
    let plugin = Plugin::load_static(&args.plugin)?;
    let line = if args.probes {
        serde_json::to_string(&shutdown::probe_all(plugin))?
    } else {
        let spec: RunSpec = serde_json::from_str(args.spec.as_deref().context("--spec or --probes")?)?;
        let row = measure_driven(plugin, spec, args.repetition, Duration::from_secs(args.limit));
        let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
        w.serialize(&row)?;
        String::from_utf8(w.into_inner()?)?.trim_end().to_string()
    };
    println!("{line}");
    // Threads a hung run left behind may never end: do not wait for them.
    std::process::exit(0)
}

/// How a child ended, in words.
pub fn describe_exit(status: Option<ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    let Some(s) = status else { return "did not start".into() };
    if let Some(c) = s.code() {
        return format!("exited with status {c}");
    }
    let sig = s.signal().unwrap_or(0);
    let name = match sig {
        libc::SIGSEGV => " (SIGSEGV, segmentation fault)",
        libc::SIGABRT => " (SIGABRT, abort)",
        libc::SIGBUS => " (SIGBUS, bus error)",
        libc::SIGFPE => " (SIGFPE, arithmetic error)",
        libc::SIGILL => " (SIGILL, illegal instruction)",
        libc::SIGKILL => " (SIGKILL)",
        _ => "",
    };
    format!("was killed by signal {sig}{name}")
}

/// How a child of this binary ended (see [`run_self`]).
pub struct Finished {
    pub status: ExitStatus,
    /// It was killed at its deadline.
    pub killed: bool,
    /// Its last lines of standard error, oldest first.
    pub stderr_tail: Vec<String>,
}

/// Runs this binary with `args`, handing each line of its standard output to `on_line` as it
/// comes, and kills it once `limit` has passed. Standard error is read on its own thread, so a
/// child that writes much there cannot block on a full pipe. An error from `on_line` kills the
/// child and is returned. Shared by compare's plugin runs and validate's workers.
pub fn run_self(
    args: &[String],
    limit: Duration,
    on_line: impl FnMut(&str) -> anyhow::Result<()>,
) -> anyhow::Result<Finished> {
    run_self_with_env(args, &[], limit, on_line)
}

/// [`run_self`] with extra environment variables for the child (the memory study's
/// `LD_PRELOAD` of an allocator).
pub fn run_self_with_env(
    args: &[String],
    env: &[(String, String)],
    limit: Duration,
    mut on_line: impl FnMut(&str) -> anyhow::Result<()>,
) -> anyhow::Result<Finished> {
    let exe = std::env::current_exe().context("cannot find the bqh executable to run a child process")?;
    let mut child = Command::new(&exe)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {}", exe.display()))?;
    let (lines_tx, lines_rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("piped");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stderr = child.stderr.take().expect("piped");
    let stderr_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    });
    let deadline = Instant::now() + limit;
    let mut killed = false;
    loop {
        match lines_rx.recv_timeout(Duration::from_millis(20)) {
            Ok(line) => {
                if let Err(e) = on_line(&line) {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(e);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            killed = true;
            break;
        }
    }
    let status = child.wait()?;
    let err = stderr_reader.join().unwrap_or_default();
    let mut stderr_tail: Vec<String> = err.lines().rev().take(12).map(str::to_string).collect();
    stderr_tail.reverse();
    Ok(Finished { status, killed, stderr_tail })
}

/// Runs `bqh isolated ARGS` to its end, or kills it after `limit`: its last line of output, or
/// what went wrong.
fn supervise(args: &[String], limit: Duration) -> anyhow::Result<String> {
    let mut last = None;
    let args: Vec<String> = std::iter::once("isolated".to_string()).chain(args.iter().cloned()).collect();
    let out = run_self(&args, limit + GRACE, |line| {
        last = Some(line.to_string());
        Ok(())
    })?;
    match last {
        _ if out.killed => Err(anyhow!("no answer within {:?}: the library hangs", limit + GRACE)),
        Some(line) if out.status.success() => Ok(line),
        _ => {
            let tail = &out.stderr_tail[out.stderr_tail.len().saturating_sub(3)..];
            Err(anyhow!("the child process {}: {}", describe_exit(Some(out.status)), tail.join(" / ")))
        }
    }
}

/// One run of `spec` on the plugin at `path`, in a child process.
pub fn run(path: &Path, spec: RunSpec, repetition: u32, limit: Duration) -> Row {
    let args = vec![
        "--plugin".into(),
        path.display().to_string(),
        "--spec".into(),
        serde_json::to_string(&spec).expect("a spec serializes"),
        "--repetition".into(),
        repetition.to_string(),
        "--limit".into(),
        limit.as_secs().max(1).to_string(),
    ];
    let name = path.display().to_string();
    let parse = |line: String| -> anyhow::Result<Row> {
        let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(line.as_bytes());
        r.deserialize().next().context("the child printed no row")?.map_err(Into::into)
    };
    match supervise(&args, limit).and_then(parse) {
        Ok(row) => row,
        Err(e) => Row::new(&name, Mode::Driven, &spec, repetition, Err(e.context(format!("{name} {} (capacity {})", spec.workload, spec.capacity)))),
    }
}

/// The shutdown probes of the plugin at `path`, in a child process; every question failed
/// when the child crashed or hung.
pub fn probes(path: &Path, limit: Duration) -> Vec<Observation> {
    let args = vec!["--plugin".into(), path.display().to_string(), "--probes".into()];
    match supervise(&args, limit).and_then(|line| serde_json::from_str(&line).map_err(Into::into)) {
        Ok(obs) => obs,
        Err(e) => Question::ALL
            .iter()
            .map(|&question| Observation {
                implementation: path.display().to_string(),
                question,
                verdict: Verdict::Failed,
                detail: format!("{e:#}"),
                wake_us: None,
                via_adapter: false,
            })
            .collect(),
    }
}
