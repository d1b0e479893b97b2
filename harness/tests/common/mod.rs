//! Helpers shared by the integration tests: each test file that needs them says `mod common;`.
#![allow(dead_code)] // every file uses a part

pub mod rigged;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A path for one test's output under cargo's temporary folder, named by the test file, the
/// test and this process (so parallel runs never share one); removed if a previous run left it,
/// not created.
pub fn scratch(file: &str, name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{file}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Every file of a folder, by name, with its bytes.
pub fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect()
}

/// Runs the `bqh` this crate built, and waits for it.
pub fn bqh(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bqh")).args(args).output().unwrap()
}
