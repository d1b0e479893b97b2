//! Runs of a plugin (a user's shared library exporting `c/bq.h`) in a child process, so that a
//! library that crashes or hangs fails its own runs, named, and the comparison goes on. The
//! child is this same binary (`bqh isolated`, hidden): it loads the library, makes one run or
//! the shutdown probes, and prints the row as CSV (which, unlike JSON, keeps the NaN of a failed
//! run's figures) or the observations as one line of JSON.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};

use crate::driven::measure_driven;
use crate::impls::plugin::Plugin;
use crate::native_runners::NativeKind;
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
    /// Only load the library and make a queue, then say so
    #[arg(long)]
    pub load: bool,
    /// The run on an OCaml module's own runner instead of driven: native-domains or
    /// native-systhreads
    #[arg(long)]
    pub native: Option<String>,
}

/// How long loading a plugin may take before it is said not to load: a constructor that never
/// returns must not stall a comparison.
pub const LOAD_LIMIT: Duration = Duration::from_secs(15);

/// Where a child process writes its answers: the standard output its parent reads, kept for
/// them alone. [`Answers::take`] moves it to a descriptor of its own and points descriptor 1 at
/// standard error, so that a library's `printf` shows as its output (in the parent's tail of
/// standard error) instead of landing among the results.
#[derive(Clone, Copy)]
pub struct Answers(std::os::fd::RawFd);

static TAKEN: std::sync::OnceLock<Answers> = std::sync::OnceLock::new();

impl Answers {
    /// Before any plugin is loaded (its constructor may print).
    pub fn take() -> anyhow::Result<Answers> {
        // SAFETY: plain descriptor calls on the process's own descriptors 1 and 2.
        unsafe {
            let saved = libc::fcntl(1, libc::F_DUPFD_CLOEXEC, 3);
            if saved < 0 || libc::dup2(2, 1) < 0 {
                bail!("cannot set aside standard output for the results: {}", std::io::Error::last_os_error());
            }
            let _ = TAKEN.set(Answers(saved));
            Ok(Answers(saved))
        }
    }

    /// Says `line` where answers go: the set-aside descriptor once [`take`](Answers::take)
    /// ran in this process, standard output otherwise (a check run in-process, in a test).
    pub fn say_anywhere(line: &str) -> std::io::Result<()> {
        match TAKEN.get() {
            Some(a) => a.say(line),
            None => {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                writeln!(out, "{line}")?;
                out.flush()
            }
        }
    }

    /// One line of answer, written at once.
    pub fn say(self, line: &str) -> std::io::Result<()> {
        use std::io::Write;
        use std::os::fd::FromRawFd;
        // SAFETY: the descriptor stays open for the process's life; ManuallyDrop never closes it.
        let mut out = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(self.0) });
        out.write_all(format!("{line}\n").as_bytes())
    }
}

/// `bqh isolated`: the child's side.
pub fn child(args: &Args) -> anyhow::Result<ExitCode> {
    let answers = Answers::take()?;
    let plugin = Plugin::load_static(&args.plugin)?;
    let line = if args.load {
        use crate::queue::Impl;
        plugin
            .bounded(1)
            .map_err(|e| anyhow!("{}: loads, but cannot make a queue of capacity 1: {e}", args.plugin.display()))?;
        "loaded".to_string()
    } else if args.probes {
        serde_json::to_string(&shutdown::probe_all(plugin))?
    } else {
        let spec: RunSpec = serde_json::from_str(args.spec.as_deref().context("--spec or --probes")?)?;
        let limit = Duration::from_secs(args.limit);
        let row = match args.native.as_deref() {
            None => measure_driven(plugin, spec, args.repetition, limit),
            Some(mode) => {
                let kind = [NativeKind::OcamlDomains, NativeKind::OcamlSysthreads]
                    .into_iter()
                    .find(|k| k.mode().name() == mode)
                    .with_context(|| {
                        format!("--native {mode}: an OCaml module runs native-domains or native-systhreads")
                    })?;
                let run = crate::native_runners::run_module(plugin, kind, spec, limit);
                Row::new(crate::queue::Impl::name(plugin), kind.mode(), &spec, args.repetition, run)
            }
        };
        let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
        w.serialize(&row)?;
        String::from_utf8(w.into_inner()?)?.trim_end().to_string()
    };
    answers.say(&line)?;
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
    /// Its last lines of standard error, oldest first; the first says how many earlier bytes
    /// were not kept, when some were cut ([`STDERR_KEPT`]).
    pub stderr_tail: Vec<String>,
    /// Its peak resident memory, KiB: a library that leaks is contained in its process, and
    /// this says how far it went.
    pub peak_rss_kib: u64,
}

impl Finished {
    /// ", peak RSS 12.3 MiB": for the message that says how a child ended.
    pub fn peak_rss(&self) -> String {
        format!("peak RSS {:.1} MiB", self.peak_rss_kib as f64 / 1024.0)
    }
}

/// Waits for the child `pid` (or only looks, unless `block`): how it ended and its peak
/// resident memory in KiB, once it has. `wait4`, not `Child::wait`: only it gives the child's
/// own resource use.
fn reap(pid: u32, block: bool) -> std::io::Result<Option<(ExitStatus, u64)>> {
    use std::os::unix::process::ExitStatusExt;
    let (mut status, mut usage) = (0, unsafe { std::mem::zeroed::<libc::rusage>() });
    loop {
        // SAFETY: both pointers are to locals of the right types; pid is our own child.
        let got =
            unsafe { libc::wait4(pid as libc::pid_t, &mut status, if block { 0 } else { libc::WNOHANG }, &mut usage) };
        match got {
            0 => return Ok(None),
            p if p > 0 => return Ok(Some((ExitStatus::from_raw(status), usage.ru_maxrss.max(0) as u64))),
            _ if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => continue,
            _ => return Err(std::io::Error::last_os_error()),
        }
    }
}

/// The most of a child's standard error the parent keeps: its tail. A plugin that logs in a
/// loop must not fill the parent's memory (it would lose the whole comparison).
pub const STDERR_KEPT: usize = 64 * 1024;
/// The longest line of a child's standard output passed on; the rest of a longer one is cut
/// (a row of `runs.csv` or the probes' JSON is a few KiB).
pub const LINE_MAX: usize = 1 << 20;
/// How long the parent waits, once the child has ended, for its pipes to close: a process the
/// child started may hold them open for ever, and must not hold the parent.
const DRAIN: Duration = Duration::from_millis(500);

/// The tail of a stream: at most `cap` bytes, and how many came before them.
struct Tail {
    kept: VecDeque<u8>,
    cut: u64,
    cap: usize,
    /// The stream has ended.
    done: bool,
}

impl Tail {
    fn push(&mut self, bytes: &[u8]) {
        self.kept.extend(bytes);
        let over = self.kept.len().saturating_sub(self.cap);
        self.kept.drain(..over);
        self.cut += over as u64;
    }

    /// The last `n` lines, oldest first, after a line that says what was cut.
    fn lines(&self, n: usize) -> Vec<String> {
        let bytes: Vec<u8> = self.kept.iter().copied().collect();
        let text = String::from_utf8_lossy(&bytes);
        let mut lines: Vec<String> = text.lines().rev().take(n).map(str::to_string).collect();
        if self.cut > 0 {
            lines.push(format!("[{} earlier bytes of standard error not kept]", self.cut));
        }
        lines.reverse();
        lines
    }
}

/// Reads `r` line by line into `to`, each line cut at [`LINE_MAX`] bytes, until the end or
/// until nobody listens.
fn read_lines(r: impl Read, to: mpsc::SyncSender<String>) {
    let mut r = BufReader::new(r);
    loop {
        let mut line = Vec::new();
        match r.by_ref().take(LINE_MAX as u64).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if line.last() != Some(&b'\n') && line.len() == LINE_MAX {
            // Skip the rest of an overlong line, without keeping it.
            let mut rest = Vec::new();
            while let Ok(n) = r.by_ref().take(64 * 1024).read_until(b'\n', &mut rest) {
                if n == 0 || rest.last() == Some(&b'\n') {
                    break;
                }
                rest.clear();
            }
        }
        let text = String::from_utf8_lossy(&line).trim_end_matches(['\n', '\r']).to_string();
        if to.send(text).is_err() {
            return;
        }
    }
}

/// Runs this binary with `args`, handing each line of its standard output to `on_line` as it
/// comes, and kills it once `limit` has passed. Standard error is read on its own thread, so a
/// child that writes much there cannot block on a full pipe, and only its tail is kept. An error
/// from `on_line` kills the child and is returned. Shared by compare's plugin runs, the memory
/// study and validate's workers.
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
    let mut cmd = Command::new(&exe);
    cmd.args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // The child dies with the thread that started it (every caller waits for it on that thread):
    // killing bqh must not leave a plugin running for ever.
    // SAFETY: prctl is async-signal-safe and touches no memory of ours.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut child = cmd.spawn().with_context(|| format!("cannot start {}", exe.display()))?;
    let (lines_tx, lines_rx) = mpsc::sync_channel(256);
    let stdout = child.stdout.take().expect("piped");
    std::thread::spawn(move || read_lines(stdout, lines_tx));
    let tail = Arc::new(Mutex::new(Tail { kept: VecDeque::new(), cut: 0, cap: STDERR_KEPT, done: false }));
    let mut stderr = child.stderr.take().expect("piped");
    let writer = tail.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n @ 1..) = stderr.read(&mut buf) {
            writer.lock().unwrap_or_else(PoisonError::into_inner).push(&buf[..n]);
        }
        writer.lock().unwrap_or_else(PoisonError::into_inner).done = true;
    });
    // A limit too large for the clock (checked arithmetic) is no limit.
    let deadline = Instant::now().checked_add(limit);
    let (mut killed, mut ended_at) = (false, None::<Instant>);
    // How the child ended, once it has; reaped by [`reap`] alone, never by `Child::wait`.
    let mut ended = None;
    loop {
        match lines_rx.recv_timeout(Duration::from_millis(20)) {
            Ok(line) => {
                if let Err(e) = on_line(&line) {
                    if ended.is_none() {
                        let _ = child.kill();
                        let _ = reap(child.id(), true);
                    }
                    return Err(e);
                }
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        // The child ended, but its output may still be held open by a process it started.
        if ended.is_none() {
            ended = reap(child.id(), false)?;
            if ended.is_some() {
                ended_at = Some(Instant::now());
            }
        }
        if ended_at.is_some_and(|t| t.elapsed() > DRAIN) {
            break;
        }
        if deadline.is_some_and(|d| Instant::now() > d) && ended_at.is_none() {
            let _ = child.kill();
            killed = true;
            break;
        }
    }
    let (status, peak_rss_kib) = match ended {
        Some(e) => e,
        None => reap(child.id(), true)?.expect("a blocking wait returns the child"),
    };
    // Standard error to its end, or for [`DRAIN`] at most: a process the child started may
    // hold it open, and what the reader has by then is what there is.
    let waited = Instant::now();
    while !tail.lock().unwrap_or_else(PoisonError::into_inner).done && waited.elapsed() < DRAIN {
        std::thread::sleep(Duration::from_millis(5));
    }
    let stderr_tail = tail.lock().unwrap_or_else(PoisonError::into_inner).lines(12);
    Ok(Finished { status, killed, stderr_tail, peak_rss_kib })
}

/// Runs `bqh isolated ARGS` to its end, or kills it after `limit`: its last line of output,
/// and how it ended.
fn last_line(args: &[String], limit: Duration) -> anyhow::Result<(Option<String>, Finished)> {
    let mut last = None;
    let args: Vec<String> = std::iter::once("isolated".to_string()).chain(args.iter().cloned()).collect();
    let out = run_self(&args, limit, |line| {
        last = Some(line.to_string());
        Ok(())
    })?;
    Ok((last, out))
}

/// [`last_line`] with [`GRACE`] beyond `limit`: the answer, or what went wrong; and the
/// child's peak resident memory in KiB, when it ran.
fn supervise(args: &[String], limit: Duration) -> (anyhow::Result<String>, Option<u64>) {
    let (last, out) = match last_line(args, limit.saturating_add(GRACE)) {
        Ok(x) => x,
        Err(e) => return (Err(e), None),
    };
    let answer = match last {
        _ if out.killed => {
            Err(anyhow!("no answer within {:?}: the library hangs ({})", limit.saturating_add(GRACE), out.peak_rss()))
        }
        Some(line) if out.status.success() => Ok(line),
        _ => Err(anyhow!("the child process {}", ended(&out))),
    };
    (answer, Some(out.peak_rss_kib))
}

/// How a child that gave no answer ended, in words: its exit and its last lines of standard
/// error, if any.
fn ended(out: &Finished) -> String {
    let mut how = format!("{} ({})", describe_exit(Some(out.status)), out.peak_rss());
    if out.status.success() {
        how += " without printing its result (did the library call exit?)";
    }
    let tail = &out.stderr_tail[out.stderr_tail.len().saturating_sub(3)..];
    if tail.is_empty() {
        how
    } else {
        format!("{how}: {}", tail.join(" / "))
    }
}

/// Checks, in a child process and within [`LOAD_LIMIT`], that the library at `path` loads and
/// makes a queue: a bad `--impl` is an input error, said before any run.
pub fn check_loads(path: &Path) -> anyhow::Result<()> {
    if !path.is_file() {
        return Err(anyhow!("{}: no such file (a plugin is a shared library exporting c/bq.h)", path.display()));
    }
    let (last, out) = last_line(&["--plugin".into(), path.display().to_string(), "--load".into()], LOAD_LIMIT)?;
    match last.as_deref() {
        _ if out.killed => Err(anyhow!("{}: did not finish loading within {LOAD_LIMIT:?}", path.display())),
        Some("loaded") if out.status.success() => Ok(()),
        _ => Err(anyhow!("{} does not load: the child process {}", path.display(), ended(&out))),
    }
}

/// One run of `spec` on the plugin at `path`, in a child process.
pub fn run(path: &Path, spec: RunSpec, repetition: u32, limit: Duration) -> Row {
    run_in_child(path, None, spec, repetition, limit)
}

/// One run of `spec` on the OCaml module at `path` on its own runner (`kind`: domains or
/// systhreads), in a child process.
pub fn run_native(path: &Path, kind: NativeKind, spec: RunSpec, repetition: u32, limit: Duration) -> Row {
    run_in_child(path, Some(kind), spec, repetition, limit)
}

fn run_in_child(path: &Path, native: Option<NativeKind>, spec: RunSpec, repetition: u32, limit: Duration) -> Row {
    let mut args = vec![
        "--plugin".into(),
        path.display().to_string(),
        "--spec".into(),
        serde_json::to_string(&spec).expect("a spec serializes"),
        "--repetition".into(),
        repetition.to_string(),
        "--limit".into(),
        limit.as_secs().max(1).to_string(),
    ];
    if let Some(k) = native {
        args.extend(["--native".to_string(), k.mode().name().to_string()]);
    }
    let mode = native.map_or(Mode::Driven, NativeKind::mode);
    let name = path.display().to_string();
    let parse = |line: String| -> anyhow::Result<Row> {
        let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(line.as_bytes());
        r.deserialize().next().context("the child printed no row")?.map_err(Into::into)
    };
    let (answer, peak_rss_kib) = supervise(&args, limit);
    let mut row = match answer.and_then(parse) {
        Ok(row) => row,
        Err(e) => Row::new(
            &name,
            mode,
            &spec,
            repetition,
            Err(e.context(format!("{name} {} (capacity {})", spec.workload, spec.capacity))),
        ),
    };
    row.child_peak_rss_kib = peak_rss_kib;
    row
}

/// The shutdown probes of the plugin at `path`, in a child process; every question failed
/// when the child crashed or hung.
pub fn probes(path: &Path, limit: Duration) -> Vec<Observation> {
    let args = vec!["--plugin".into(), path.display().to_string(), "--probes".into()];
    match supervise(&args, limit).0.and_then(|line| serde_json::from_str(&line).map_err(Into::into)) {
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
