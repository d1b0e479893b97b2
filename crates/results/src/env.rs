//! `env.json`: where and with what a results folder was made.

use std::process::Command;

use serde::{Deserialize, Serialize};

/// The compilers of the build that made the figures (the engine's build script records them).
#[derive(Debug, Clone, Copy)]
pub struct Toolchain {
    pub rustc: &'static str,
    pub ocamlopt: &'static str,
    pub cc: &'static str,
}

fn compare() -> String {
    "compare".into()
}

/// Where and with what a run was made: `env.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Env {
    /// The study that wrote the folder (`compare`, `scale`, ...). Absent in folders written
    /// before there was more than one study: a comparison.
    #[serde(default = "compare")]
    pub study: String,
    pub date_utc: String,
    pub cpu_model: String,
    pub cores: usize,
    pub kernel: String,
    pub rustc: String,
    pub ocamlopt: String,
    pub cc: String,
    pub git_commit: String,
    pub command: String,
    /// The command's parameters as it parsed them (for `compare`: its `Args`).
    pub parameters: serde_json::Value,
}

fn first_line(cmd: &str, args: &[&str]) -> Option<String> {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8_lossy(&o.stdout).lines().next().map(str::to_string))
}

impl Env {
    /// This machine, this build (`toolchain`), this command.
    pub fn collect(study: &str, toolchain: &Toolchain, parameters: serde_json::Value) -> Env {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        let dirty = first_line("git", &["status", "--porcelain", "--untracked-files=no"]).is_some();
        let commit = first_line("git", &["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
        Env {
            study: study.into(),
            date_utc: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            cpu_model,
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease").map_or("unknown".into(), |s| s.trim().into()),
            rustc: toolchain.rustc.into(),
            ocamlopt: toolchain.ocamlopt.into(),
            cc: toolchain.cc.into(),
            git_commit: if dirty { format!("{commit} (with uncommitted changes)") } else { commit },
            command: std::env::args().collect::<Vec<_>>().join(" "),
            parameters,
        }
    }
}
