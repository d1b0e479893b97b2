//! Where `bqh` may write, and how it replaces what it wrote before.
//!
//! The rule: bqh deletes only what it created. A results folder goes into a path that does not
//! exist or is an empty folder, or replaces a folder that carries bqh's marker file
//! ([`MARKER`], written into every folder bqh makes). A single output file (`validate --json`)
//! goes where nothing is, or replaces a file whose first line says bqh wrote it. Anything else
//! is refused with a message that names the path and says what to do, and so are the root, the
//! home folder, the project's root, the current folder (and every folder holding one of them),
//! symbolic links, and paths with `..`.
//!
//! Two layers, so that a bug in the guard cannot harm the machine that tests it: [`decide`] is
//! a pure function of the path and of what [`look`] found there (unit-tested on `/`, the home
//! folder and so on without touching them); [`Claim`] does the writing, into a staging folder
//! beside the target that is swapped in only once complete, so an interrupted run leaves the
//! old results as they were.

use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context};

/// The file bqh writes into every results folder it makes: a folder holding it is bqh's own.
pub const MARKER: &str = ".bqh-results";
/// A results folder holding this file is a committed canonical run: never written over.
pub const CANONICAL_MARKER: &str = "CANONICAL";
/// The first line of every single file bqh writes (JSON has no comments: it is a field).
pub const FILE_SIGNATURE: &str = "{\"written_by\": \"bqh\"";

const MARKER_TEXT: &str = "This folder was written by bqh (crates/results/src/outdir.rs). bqh may delete and replace \
                           it as a whole; keep nothing else in it.\n";

/// What the output is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// A results folder.
    Dir,
    /// One file.
    File,
}

/// What is at a path now, as [`look`] saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    Nothing,
    EmptyDir,
    /// A folder holding [`MARKER`].
    OwnDir,
    /// A folder holding [`CANONICAL_MARKER`].
    CanonicalDir,
    /// A folder with something in it, but no marker.
    ForeignDir,
    /// A file that begins with [`FILE_SIGNATURE`].
    OwnFile,
    /// Any other file.
    ForeignFile,
    Symlink,
    /// A socket, a device, a pipe.
    Other,
}

/// Folders that are never written to, whatever they hold.
#[derive(Debug, Clone)]
pub struct Places {
    /// Relative paths are taken from here.
    pub cwd: PathBuf,
    pub home: Option<PathBuf>,
    pub project_root: PathBuf,
}

impl Places {
    pub fn of_this_process() -> anyhow::Result<Places> {
        Ok(Places {
            cwd: std::env::current_dir().context("cannot tell the current folder")?,
            home: std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from),
            project_root: lexical(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))),
        })
    }
}

/// What may be done at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing there (or an empty folder): write.
    Create,
    /// bqh's own output: replace it.
    Replace,
}

/// Why a path is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the output path is empty; give a folder such as results/mine")]
    Empty,
    #[error("{0} contains '..'; write the path without '..' (its meaning depends on symbolic links)")]
    DotDot(String),
    #[error("{path} is {what}, which bqh never writes into or replaces: choose a new folder, e.g. results/mine")]
    Protected { path: String, what: String },
    #[error(
        "{0} is a committed canonical run (it holds {CANONICAL_MARKER}) and is never overwritten; choose another \
         folder (the default is results/latest)"
    )]
    Canonical(String),
    #[error(
        "{0} is a folder that bqh did not create (it is not empty and has no {MARKER}); bqh replaces only its own \
         output. Choose a new or empty folder, or move this one away first"
    )]
    ForeignDir(String),
    #[error("{0} is a file that bqh did not write; choose another file name, or move this file away first")]
    ForeignFile(String),
    #[error("{0} is a file, not a folder; choose a folder for the results")]
    FileNotDir(String),
    #[error("{0} is a folder, not a file; give a file name")]
    DirNotFile(String),
    #[error("{0} is a symbolic link; bqh neither writes through links nor replaces them: give the real path")]
    Symlink(String),
    #[error("{0} is not a regular file or folder; choose another path")]
    Other(String),
}

/// `path` made absolute against `cwd`, with `.` components removed (no disk access; `..`
/// is refused before this matters).
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// May `path` be written, given what is there? A pure function: no disk access.
pub fn decide(path: &Path, output: Output, found: Found, places: &Places) -> Result<Action, Refusal> {
    let shown = path.display().to_string();
    if path.as_os_str().is_empty() {
        return Err(Refusal::Empty);
    }
    if path.components().any(|c| c == Component::ParentDir) {
        return Err(Refusal::DotDot(shown));
    }
    let abs = lexical(&places.cwd.join(path));
    let cwd = lexical(&places.cwd);
    let root = lexical(&places.project_root);
    let home = places.home.as_deref().map(lexical);
    let holds = |p: &Path| p.starts_with(&abs);
    let protected = if abs.parent().is_none() {
        Some("the root of the file system")
    } else if home.as_deref().is_some_and(holds) {
        Some(if home.as_deref() == Some(abs.as_path()) {
            "the home folder"
        } else {
            "a folder that holds the home folder"
        })
    } else if holds(&root) {
        Some(if root == abs { "the project's root folder" } else { "a folder that holds the project" })
    } else if holds(&cwd) {
        Some(if cwd == abs { "the current folder" } else { "a folder that holds the current folder" })
    } else {
        None
    };
    if let Some(what) = protected {
        return Err(Refusal::Protected { path: shown, what: what.into() });
    }
    match (output, found) {
        (_, Found::Nothing) => Ok(Action::Create),
        (_, Found::Symlink) => Err(Refusal::Symlink(shown)),
        (_, Found::Other) => Err(Refusal::Other(shown)),
        (Output::Dir, Found::EmptyDir) => Ok(Action::Create),
        (Output::Dir, Found::OwnDir) => Ok(Action::Replace),
        (Output::Dir, Found::CanonicalDir) => Err(Refusal::Canonical(shown)),
        (Output::Dir, Found::ForeignDir) => Err(Refusal::ForeignDir(shown)),
        (Output::Dir, Found::OwnFile | Found::ForeignFile) => Err(Refusal::FileNotDir(shown)),
        (Output::File, Found::OwnFile) => Ok(Action::Replace),
        (Output::File, Found::ForeignFile) => Err(Refusal::ForeignFile(shown)),
        (Output::File, Found::CanonicalDir) => Err(Refusal::Canonical(shown)),
        (Output::File, Found::EmptyDir | Found::OwnDir | Found::ForeignDir) => Err(Refusal::DirNotFile(shown)),
    }
}

/// Looks at what is at `path`, without following a symbolic link.
pub fn look(path: &Path) -> std::io::Result<Found> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::Nothing),
        Err(e) => return Err(e),
    };
    let t = meta.file_type();
    if t.is_symlink() {
        return Ok(Found::Symlink);
    }
    if t.is_file() {
        let mut head = vec![0; FILE_SIGNATURE.len()];
        let own =
            fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && head == FILE_SIGNATURE.as_bytes();
        return Ok(if own { Found::OwnFile } else { Found::ForeignFile });
    }
    if !t.is_dir() {
        return Ok(Found::Other);
    }
    let is_file = |name: &str| fs::symlink_metadata(path.join(name)).is_ok_and(|m| m.is_file());
    Ok(if fs::read_dir(path)?.next().is_none() {
        Found::EmptyDir
    } else if is_file(CANONICAL_MARKER) {
        Found::CanonicalDir
    } else if is_file(MARKER) {
        Found::OwnDir
    } else {
        Found::ForeignDir
    })
}

/// Checks `path` against the rule, as it is now.
pub fn check(path: &Path, output: Output) -> anyhow::Result<Action> {
    let found = look(path).with_context(|| format!("cannot look at {}", path.display()))?;
    Ok(decide(path, output, found, &Places::of_this_process()?)?)
}

/// A path bqh has checked and may write. Check early (before a long run), write at the end.
#[derive(Debug, Clone)]
pub struct Claim {
    path: PathBuf,
    output: Output,
    /// The target folder as it was when claimed: replaced only if it is still that folder.
    seen: Option<Identity>,
}

/// Which folder a path names, and when its list of files last changed: another bqh replacing
/// it, or anyone adding or removing a file in it, changes this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    mtime_ns: i128,
}

/// The folder holding `path` (`.` for a bare name).
fn parent_of(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

fn identity(path: &Path) -> Option<Identity> {
    use std::os::unix::fs::MetadataExt;
    let m = fs::symlink_metadata(path).ok()?;
    Some(Identity {
        dev: m.dev(),
        ino: m.ino(),
        mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
    })
}

impl Claim {
    /// Claims a results folder: fails now, with a message, if the rule refuses it.
    pub fn dir(path: &Path) -> anyhow::Result<Claim> {
        check(path, Output::Dir)?;
        let claim = Claim { path: path.to_path_buf(), output: Output::Dir, seen: identity(path) };
        claim.try_staging()?;
        Ok(claim)
    }

    /// Claims one output file.
    pub fn file(path: &Path) -> anyhow::Result<Claim> {
        check(path, Output::File)?;
        let claim = Claim { path: path.to_path_buf(), output: Output::File, seen: None };
        claim.try_staging()?;
        Ok(claim)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes and removes, now, the staging folder the results will be written into at the end,
    /// with a file in it: a path that cannot be written (a read-only file system, `/proc`, a
    /// name too long once the staging suffix is added, a path that is not UTF-8) is refused
    /// before a run, not after it.
    fn try_staging(&self) -> anyhow::Result<()> {
        if self.path.to_str().is_none() {
            bail!(
                "{}: bqh writes only to paths that are valid UTF-8 (env.json records the path); choose another name",
                self.path.display()
            );
        }
        let parent = parent_of(&self.path);
        // As long as the staging folder's name ("probing" and "staging" have the same length),
        // the longest name the end will need; not the same, which a failed write may have kept.
        let probe = self.sibling("probing", std::process::id())?;
        let cannot = |e: std::io::Error| {
            anyhow::anyhow!(
                "cannot write the results beside {} ({}: {e}); choose a folder where you can write, with a shorter name if \
                 the name is long",
                self.path.display(),
                probe.display()
            )
        };
        if !parent.exists() {
            // Made at the end, with the results; checked here as far as it exists.
            let mut up = parent;
            while !up.exists() {
                up = parent_of(up);
            }
            let meta = fs::metadata(up).map_err(cannot)?;
            if meta.permissions().readonly() {
                return Err(cannot(std::io::Error::from(std::io::ErrorKind::PermissionDenied)));
            }
            return Ok(());
        }
        fs::create_dir(&probe).map_err(cannot)?;
        let written = fs::write(probe.join(MARKER), MARKER_TEXT);
        // Ours: made just above, holding at most the marker.
        let _ = fs::remove_file(probe.join(MARKER));
        let _ = fs::remove_dir(&probe);
        written.map_err(cannot)
    }

    /// Siblings of the target: `.NAME.bqh-TAG-PID`.
    fn sibling(&self, tag: &str, pid: u32) -> anyhow::Result<PathBuf> {
        let name = self.path.file_name().with_context(|| format!("{} has no final name", self.path.display()))?;
        let mut s = OsString::from(".");
        s.push(name);
        s.push(format!(".bqh-{tag}-{pid}"));
        Ok(self.path.with_file_name(s))
    }

    /// Writes the results folder: `fill` writes into a new staging folder beside the target
    /// (the marker is already in it); once it returns Ok, the staging folder replaces the
    /// target, which is checked again first. On an error the staging folder is removed and
    /// the target is left as it was.
    pub fn write_dir<T>(&self, fill: impl FnOnce(&Path) -> anyhow::Result<T>) -> anyhow::Result<T> {
        assert_eq!(self.output, Output::Dir);
        let parent = parent_of(&self.path);
        fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        self.remove_stale_staging(parent);
        let staging = self.sibling("staging", std::process::id())?;
        fs::create_dir(&staging).with_context(|| format!("cannot create {}", staging.display()))?;
        let result = fs::write(staging.join(MARKER), MARKER_TEXT)
            .with_context(|| format!("cannot write into {}", staging.display()))
            .and_then(|()| fill(&staging));
        let value = match result {
            Ok(v) => v,
            // Kept, not removed: what was written is there to read (the next run of bqh for this
            // target removes it, since it carries the marker).
            Err(e) => return Err(e.context(format!("the results written so far are in {}", staging.display()))),
        };
        self.swap_in(&staging).map_err(|e| {
            e.context(format!("the new results are complete in {}; move them where you want them", staging.display()))
        })?;
        Ok(value)
    }

    fn swap_in(&self, staging: &Path) -> anyhow::Result<()> {
        // No lost update: a folder that another bqh (or anyone) changed since this command
        // claimed it is not replaced; the caller says where the new results are.
        if identity(&self.path) != self.seen {
            bail!(
                "{} changed while this command ran (another bqh wrote it, or a file in it was added or removed): \
                 it is left as it is",
                self.path.display()
            );
        }
        match check(&self.path, Output::Dir)? {
            Action::Create => {
                // Nothing there, or an empty folder: rename replaces an empty folder at once.
                fs::rename(staging, &self.path)
                    .with_context(|| format!("cannot move {} to {}", staging.display(), self.path.display()))
            }
            Action::Replace => {
                let old = self.sibling("old", std::process::id())?;
                let swapped = match exchange(staging, &self.path) {
                    // The old results now sit at the staging path.
                    Ok(()) => fs::rename(staging, &old),
                    // Two renames: for a moment the target is missing.
                    Err(_) => fs::rename(&self.path, &old).and_then(|()| fs::rename(staging, &self.path)),
                };
                swapped
                    .with_context(|| format!("cannot replace {} with {}", self.path.display(), staging.display()))?;
                // `old` is the folder `check` just found to hold the marker.
                fs::remove_dir_all(&old).with_context(|| format!("cannot remove the old results in {}", old.display()))
            }
        }
    }

    /// Staging and old folders left by an interrupted run that carry the marker: bqh made them.
    /// One whose process still runs (a concurrent bqh writing the same target) is left alone.
    fn remove_stale_staging(&self, parent: &Path) {
        let Some(name) = self.path.file_name().map(|n| n.to_string_lossy().into_owned()) else { return };
        let Ok(entries) = fs::read_dir(parent) else { return };
        for e in entries.flatten() {
            let file = e.file_name().to_string_lossy().into_owned();
            let rest = file.strip_prefix(&format!(".{name}")).unwrap_or("");
            let pid = [".bqh-staging-", ".bqh-old-"].iter().find_map(|tag| rest.strip_prefix(tag));
            let Some(pid) = pid.and_then(|p| p.parse::<u32>().ok()) else { continue };
            let running = pid != std::process::id() && Path::new("/proc").join(pid.to_string()).exists();
            if !running && look(&e.path()).is_ok_and(|f| f == Found::OwnDir) {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }

    /// Writes the output file: into a temporary file beside it, then renamed into place.
    /// `bytes` must begin with [`FILE_SIGNATURE`], so that the next run knows it as bqh's.
    pub fn write_file(&self, bytes: &[u8]) -> anyhow::Result<()> {
        assert_eq!(self.output, Output::File);
        if !bytes.starts_with(FILE_SIGNATURE.as_bytes()) {
            bail!("internal error: an output file must begin with {FILE_SIGNATURE}");
        }
        let tmp = self.sibling("staging", std::process::id())?;
        // create_new: never write over a file that happens to have the temporary's name.
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .and_then(|mut f| std::io::Write::write_all(&mut f, bytes))
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        check(&self.path, Output::File)
            .and_then(|_| {
                fs::rename(&tmp, &self.path)
                    .with_context(|| format!("cannot move {} to {}", tmp.display(), self.path.display()))
            })
            .inspect_err(|_| {
                let _ = fs::remove_file(&tmp);
            })
    }
}

/// Swaps two folders in one step (Linux `renameat2` with `RENAME_EXCHANGE`), so that readers
/// never see the target missing. Err where the file system cannot; the caller falls back.
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: two valid NUL-terminated paths; the call reads them and nothing else.
    let rc = unsafe { libc::renameat2(libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_EXCHANGE) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    //! The decision alone: nothing here touches the disk.
    use super::*;

    fn places() -> Places {
        Places { cwd: "/work/project".into(), home: Some("/home/ada".into()), project_root: "/work/project".into() }
    }

    fn dir(path: &str, found: Found) -> Result<Action, Refusal> {
        decide(Path::new(path), Output::Dir, found, &places())
    }

    #[test]
    fn the_root_home_project_and_current_folder_are_never_written() {
        for (path, what) in [
            ("/", "root"),
            ("/home/ada", "home folder"),
            ("/home/ada/", "home folder"),
            ("/home", "holds the home folder"),
            ("/work/project", "project's root"),
            ("/work", "holds the project"),
            (".", "project's root"), // the current folder is the project here
            ("./", "project's root"),
        ] {
            // Even with bqh's marker in them (someone may have dropped one there).
            for found in [Found::OwnDir, Found::EmptyDir, Found::Nothing, Found::ForeignDir] {
                match dir(path, found) {
                    Err(Refusal::Protected { what: w, .. }) => assert!(w.contains(what), "{path}: {w}"),
                    other => panic!("{path} with {found:?}: {other:?}"),
                }
            }
        }
        let elsewhere = Places { cwd: "/tmp/x".into(), ..places() };
        let r = decide(Path::new("."), Output::Dir, Found::OwnDir, &elsewhere);
        assert!(matches!(r, Err(Refusal::Protected { ref what, .. }) if what == "the current folder"), "{r:?}");
    }

    #[test]
    fn a_path_with_dot_dot_is_refused() {
        for p in ["../results", "latest/..", "/tmp/a/../b", "a/../../etc"] {
            assert!(matches!(dir(p, Found::Nothing), Err(Refusal::DotDot(_))), "{p}");
        }
        assert_eq!(dir("", Found::Nothing), Err(Refusal::Empty));
    }

    #[test]
    fn a_symlink_is_refused_whatever_it_points_to() {
        assert!(matches!(dir("latest", Found::Symlink), Err(Refusal::Symlink(_))));
        let r = decide(Path::new("out.json"), Output::File, Found::Symlink, &places());
        assert!(matches!(r, Err(Refusal::Symlink(_))));
    }

    #[test]
    fn only_missing_empty_or_own_folders_are_written() {
        assert_eq!(dir("latest", Found::Nothing), Ok(Action::Create));
        assert_eq!(dir("latest", Found::EmptyDir), Ok(Action::Create));
        assert_eq!(dir("./latest", Found::OwnDir), Ok(Action::Replace));
        assert_eq!(dir("/tmp/new/deep", Found::Nothing), Ok(Action::Create));
        assert!(matches!(dir("latest", Found::ForeignDir), Err(Refusal::ForeignDir(_))));
        assert!(matches!(dir("latest", Found::CanonicalDir), Err(Refusal::Canonical(_))));
        assert!(matches!(dir("latest", Found::ForeignFile), Err(Refusal::FileNotDir(_))));
        assert!(matches!(dir("latest", Found::OwnFile), Err(Refusal::FileNotDir(_))));
        assert!(matches!(dir("latest", Found::Other), Err(Refusal::Other(_))));
    }

    #[test]
    fn only_missing_or_own_files_are_written() {
        let file = |found| decide(Path::new("report.json"), Output::File, found, &places());
        assert_eq!(file(Found::Nothing), Ok(Action::Create));
        assert_eq!(file(Found::OwnFile), Ok(Action::Replace));
        assert!(matches!(file(Found::ForeignFile), Err(Refusal::ForeignFile(_))));
        for found in [Found::EmptyDir, Found::OwnDir, Found::ForeignDir] {
            assert!(matches!(file(found), Err(Refusal::DirNotFile(_))), "{found:?}");
        }
        let r = decide(Path::new("/home/ada"), Output::File, Found::Nothing, &places());
        assert!(matches!(r, Err(Refusal::Protected { .. })));
    }

    #[test]
    fn refusals_name_the_path_and_say_what_to_do() {
        let msg = dir("my-photos", Found::ForeignDir).unwrap_err().to_string();
        assert!(msg.contains("my-photos") && msg.contains("Choose a new or empty folder"), "{msg}");
        let msg = dir("/", Found::ForeignDir).unwrap_err().to_string();
        assert!(msg.contains("/ is the root") && msg.contains("choose a new folder"), "{msg}");
    }
}
