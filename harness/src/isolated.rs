//! Runs of a plugin (a user's shared library exporting `c/bq.h`) in a child process, so that a
//! library that crashes or hangs fails its own runs, named, and the comparison goes on. The
//! child is this same binary (`bqh isolated`, hidden): it loads the library, makes one run or
//! the shutdown probes, and prints the row as CSV (which, unlike JSON, keeps the NaN of a failed
//! run's figures) or the observations as one line of JSON.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};

use crate::compare::measure_driven;
use crate::impls::plugin::Plugin;
use crate::schema::{Mode, Observation, Question, Row, Verdict};
use crate::shutdown;
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

/// Runs `bqh isolated ARGS` to its end, or kills it after `limit`: its last line of output, or
/// what went wrong.
fn supervise(args: &[String], limit: Duration) -> anyhow::Result<String> {
    let exe = std::env::current_exe().context("cannot find the bqh executable")?;
    let mut child = Command::new(exe)
        .arg("isolated")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start a child process")?;
    let mut pipes = (child.stdout.take().expect("piped"), child.stderr.take().expect("piped"));
    let out = std::thread::spawn(move || {
        let (mut o, mut e) = (String::new(), String::new());
        let _ = pipes.0.read_to_string(&mut o);
        let _ = pipes.1.read_to_string(&mut e);
        (o, e)
    });
    let deadline = Instant::now() + limit + GRACE;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(anyhow!("no answer within {:?}: the library hangs", limit + GRACE));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let (stdout, stderr) = out.join().unwrap_or_default();
    match stdout.lines().last() {
        Some(line) if status.success() => Ok(line.to_string()),
        _ => {
            let tail: Vec<&str> = stderr.lines().rev().take(3).collect::<Vec<_>>().into_iter().rev().collect();
            Err(anyhow!("the child process {}: {}", describe_exit(Some(status)), tail.join(" / ")))
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
